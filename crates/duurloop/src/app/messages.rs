//! Guidance at a distance (SPEC §2a, Beweeghuis/Stadspoli Maastricht): secure messages between
//! a trajectory's therapist and its participant, in the app (the trajectory page) and in the
//! portal (`/portal/berichten`), and over the API for both.
//!
//! Who: on the care side, whoever may see and change the trajectory (its therapist and the
//! coordinators of the offering's organisation, `trajectories::open`; everyone else gets 404,
//! referrers and funders included: messages are therapy content; the refusal is audit-logged
//! as `denied`); on the other side, the participant of the portal session, who sees only
//! their own trajectory.
//!
//! Reading: opening the conversation marks what the other side wrote as read. On the care
//! side only the trajectory's therapist does that (a coordinator looking on does not take the
//! therapist's unread messages away), unless the trajectory has no therapist account.
//!
//! Mail: the reader hears by e-mail that there is a new message, in their own language (staff
//! `users.lang`, participant `referrals.client_lang`), with a link to the trajectory page or
//! the portal, and never the text (health data does not go by mail). Not one mail per message:
//! only for the first message of an unread streak, that is when the recipient had no unread
//! message from this side yet; once they open the conversation, the next message mails again.
//!
//! Audit: every view (`read`/`messages`, the trajectory as record) and every message sent
//! (`create`/`message`) is logged; never the text.

use serde::Deserialize;

use super::{
    Actor, AppError, AppResult, RequestCtx,
    audit::{Event, record, record_anonymous},
    portal::Participant,
};
use crate::{
    mail,
    state::AppState,
    store::{
        self, Conn,
        messages::{MessageRow, Side},
        trajectories::TrajectoryRow,
    },
};

/// The longest message, in characters.
pub const MAX_CHARS: usize = 4000;

/// Messages one side may send in one trajectory in 24 hours: far more than a conversation
/// needs, few enough that a script cannot fill the database or the therapist's inbox.
pub const MAX_PER_DAY: i64 = 50;

/// A message as a form or API call sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MessageInput {
    /// The text: not empty, at most 4000 characters.
    pub body: String,
}

/// The text to store: trimmed, not empty, not too long, no control characters but line breaks
/// and tabs.
pub fn parse_body(raw: &str) -> AppResult<String> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "message-empty"));
    }
    if body.chars().count() > MAX_CHARS {
        return Err(AppError::invalid("body", "message-too-long"));
    }
    // Control characters are no text anyone types, and PostgreSQL cannot store NUL in TEXT
    // (it would be a 500 there and fine on SQLite).
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::invalid("body", "message-control-characters"));
    }
    Ok(body.to_string())
}

/// The conversation of a trajectory as its therapist (or coordinator) sees it.
pub async fn for_staff(state: &AppState, actor: &Actor, id: &str) -> AppResult<Vec<MessageRow>> {
    let now = state.now();
    let attempt = Event::new("read", "messages");
    let (mut tx, t, _) = super::trajectories::open(state, actor, id, attempt).await?;
    if reads_for_therapist(actor, &t) {
        store::messages::mark_read_from(&mut tx, id, Side::Participant, now).await?;
    }
    let messages = store::messages::of_trajectory(&mut tx, id).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "messages").record(id).org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(messages)
}

/// Whether this person's look counts as the therapist having read the participant's messages.
fn reads_for_therapist(actor: &Actor, t: &TrajectoryRow) -> bool {
    match &t.therapist_user_id {
        Some(uid) => *uid == actor.identity.user_id,
        None => true,
    }
}

/// The therapist (or a coordinator) writes to the participant; returns the message's id.
pub async fn send_as_staff(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &MessageInput,
) -> AppResult<String> {
    let now = state.now();
    let attempt = Event::new("create", "message");
    let (mut tx, t, _) = super::trajectories::open(state, actor, id, attempt).await?;
    let body = parse_body(&input.body)?;
    let referral = store::referrals::by_id(&mut tx, &t.referral_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if referral.erased_at.is_some() {
        return Err(AppError::Conflict("already-erased"));
    }
    let message = insert(
        &mut tx,
        &t,
        Side::Therapist,
        Some(&actor.identity.user_id),
        &body,
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "message")
            .record(&message.id)
            .org(&t.org_id),
    )
    .await?;
    if message.first_unread && !referral.client_email.trim().is_empty() {
        let link = format!("{}/portal/berichten", state.config.base_url);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::NewMessage {
                link: &link,
                to_participant: true,
            },
            referral.client_email.trim(),
            &referral.client_lang,
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(message.id)
}

/// The participant's conversation with their therapist; opening it marks the therapist's
/// messages read.
pub async fn for_participant(
    state: &AppState,
    p: &Participant,
    ctx: &RequestCtx,
) -> AppResult<Vec<MessageRow>> {
    let t = &p.trajectory;
    let now = state.now();
    let event = || Event::new("read", "messages").record(&t.id).org(&t.org_id);
    // Only a conversation with something new needs a transaction (on SQLite the write lock);
    // otherwise the read is logged through the group writer, as the portal's other reads.
    let mut c = state.db.conn().await?;
    let unread = store::messages::unread_from(&mut c, &t.id, Side::Therapist).await?;
    if unread == 0 {
        let messages = store::messages::of_trajectory(&mut c, &t.id).await?;
        drop(c);
        super::audit::log_anonymous_read(state, now, ctx, event()).await?;
        return Ok(messages);
    }
    drop(c);
    let mut tx = state.db.begin().await?;
    store::messages::mark_read_from(&mut tx, &t.id, Side::Therapist, now).await?;
    let messages = store::messages::of_trajectory(&mut tx, &t.id).await?;
    record_anonymous(&mut tx, now, ctx, event()).await?;
    tx.commit().await?;
    Ok(messages)
}

/// The participant writes to their therapist; returns the message's id.
pub async fn send_as_participant(
    state: &AppState,
    p: &Participant,
    input: &MessageInput,
    ctx: &RequestCtx,
) -> AppResult<String> {
    let t = &p.trajectory;
    let body = parse_body(&input.body)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let message = insert(&mut tx, t, Side::Participant, None, &body, now).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("create", "message")
            .record(&message.id)
            .org(&t.org_id),
    )
    .await?;
    if message.first_unread
        && let Some(uid) = &t.therapist_user_id
        && let Some(u) = store::users::by_id(&mut tx, uid).await?
    {
        let link = format!("{}/trajectories/{}#messages", state.config.base_url, t.id);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::NewMessage {
                link: &link,
                to_participant: false,
            },
            &u.email,
            &u.lang,
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(message.id)
}

struct Inserted {
    id: String,
    /// Whether the reader had nothing unread from this side before (then they get a mail).
    first_unread: bool,
}

/// Stores a message within the daily limit, in the caller's transaction.
async fn insert(
    c: &mut Conn,
    t: &TrajectoryRow,
    side: Side,
    author_user_id: Option<&str>,
    body: &str,
    now: i64,
) -> AppResult<Inserted> {
    if store::messages::written_since(c, &t.id, side, now - 86_400_000).await? >= MAX_PER_DAY {
        return Err(AppError::invalid("body", "too-many-messages"));
    }
    let first_unread = store::messages::unread_from(c, &t.id, side).await? == 0;
    let id = store::messages::insert(c, &t.id, side, author_user_id, body, now).await?;
    Ok(Inserted { id, first_unread })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_trimmed_and_must_have_text_within_the_limit() {
        assert_eq!(
            parse_body("  Hallo Anouk \n").ok().as_deref(),
            Some("Hallo Anouk")
        );
        let key = |r: AppResult<String>| match r {
            Err(AppError::Invalid(f)) => f[0].key,
            _ => "ok",
        };
        assert_eq!(key(parse_body(" \n\t ")), "message-empty");
        assert_eq!(key(parse_body(&"é".repeat(MAX_CHARS))), "ok");
        assert_eq!(
            key(parse_body(&"é".repeat(MAX_CHARS + 1))),
            "message-too-long"
        );
        assert_eq!(key(parse_body("Regel een\r\n\tregel twee")), "ok");
        assert_eq!(
            key(parse_body("nul\u{0}teken")),
            "message-control-characters"
        );
        assert_eq!(key(parse_body("bel\u{7}")), "message-control-characters");
    }
}
