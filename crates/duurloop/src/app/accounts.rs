//! A person's own account: language, API tokens; and the administrator's outbox view.

use super::{
    Actor, AppError, AppResult, AuthVia,
    audit::{Event, record},
};
use crate::{
    state::AppState,
    store::{
        self, new_token,
        outbox::MailRow,
        users::{self, ApiTokenRow},
    },
};

pub async fn set_language(state: &AppState, actor: &Actor, lang: &str) -> AppResult<()> {
    if !matches!(lang, "nl" | "en") {
        return Err(AppError::invalid("lang", "invalid-language"));
    }
    let mut c = state.db.conn().await?;
    users::set_lang(&mut c, &actor.identity.user_id, lang).await?;
    Ok(())
}

/// A created token: shown once, stored only as a hash.
pub struct CreatedToken {
    pub id: String,
    pub token: String,
}

/// Creates a personal API token. Only from a browser session that passed the second factor:
/// a token cannot mint another token.
pub async fn create_api_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
) -> AppResult<CreatedToken> {
    if actor.identity.via == AuthVia::ApiToken {
        return Err(AppError::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "invalid-token-name"));
    }
    let token = format!("dl_{}", new_token());
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = users::insert_api_token(&mut tx, &actor.identity.user_id, name, &token, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "api_token")
            .record(&id)
            .subject(&actor.identity.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { id, token })
}

pub async fn api_tokens(state: &AppState, actor: &Actor) -> AppResult<Vec<ApiTokenRow>> {
    let mut c = state.db.conn().await?;
    Ok(users::api_tokens_of(&mut c, &actor.identity.user_id).await?)
}

pub async fn revoke_api_token(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !users::revoke_api_token(&mut tx, &actor.identity.user_id, id, now).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("revoke", "api_token")
            .record(id)
            .subject(&actor.identity.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The outbox: every e-mail the instance sent or will send (administrator only).
pub async fn outbox(state: &AppState, actor: &Actor) -> AppResult<Vec<MailRow>> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    // Recipients are participants' and professionals' addresses, bodies carry names and
    // links: reading them is logged like any other personal data.
    let mut tx = state.db.begin().await?;
    let rows = store::outbox::recent(&mut tx, 200).await?;
    record(&mut tx, state.now(), actor, Event::new("search", "mail")).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(redacted).collect())
}

/// The administrator sees who got which mail, never the links' tokens: they would open a
/// participant's portal or questionnaire, or someone's account.
fn redacted(mut m: MailRow) -> MailRow {
    m.body_text = crate::mail::redact_tokens(&m.body_text);
    m.body_html = crate::mail::redact_tokens(&m.body_html);
    m
}

pub async fn outbox_message(state: &AppState, actor: &Actor, id: &str) -> AppResult<MailRow> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    let mail = store::outbox::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        state.now(),
        actor,
        Event::new("read", "mail").record(&mail.id),
    )
    .await?;
    tx.commit().await?;
    Ok(redacted(mail))
}
