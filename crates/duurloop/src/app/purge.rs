//! Purging what has expired (ASVS 8.1.2): sessions past their idle or absolute timeout, links
//! and invitations used or expired for more than a day, throttling records once no limit
//! looks at them any more, and outbox mails sent or given up on more than
//! [`SENT_MAIL_KEEP_MS`] ago. Run by the background worker at most once an hour
//! ([`when_due`]); tests call [`expired`]. Audit entries, participant data (see
//! `app::retention`), mails still queued, the `.eml` files in `outbox_dir` and questionnaire
//! links are not touched here.

use crate::{state::AppState, store::purge};

/// How often the worker purges.
pub const EVERY_MS: i64 = 3_600_000;

/// Links and invitations are kept this long after they were used or expired. Nothing tells an
/// "already used" link from an unknown one today; the day only helps someone looking into a
/// complaint ("my link did not work").
pub const SPENT_LINK_GRACE_MS: i64 = 24 * 3_600_000;

/// Throttling records are kept this long beyond the longest window that counts them.
pub const THROTTLE_MARGIN_MS: i64 = 24 * 3_600_000;

/// Sent mails stay in the outbox this long: long enough to answer "did you send me that?"
/// and to look into a bounce, as a mail server's logs are commonly kept; after that the
/// stored text (with its links, some still valid for a while) is only a copy nobody needs.
/// The `.eml` files written without SMTP are left alone: they are the operator's delivery
/// (another program picks them up, or they are the only copy in a test setup), so the
/// operator cleans `outbox_dir` up. Mails the outbox gave up on (`failed_at`, after the last
/// attempt) go the same time after they failed: the administrator sees them at
/// `/admin/outbox` meanwhile, and after that their text is as useless and as personal.
pub const SENT_MAIL_KEEP_MS: i64 = 90 * 24 * 3_600_000;

/// How many rows each purge deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub portal_sessions: u64,
    pub portal_links: u64,
    pub password_resets: u64,
    pub invitations: u64,
    pub login_failures: u64,
    pub mail_requests: u64,
    pub sent_mails: u64,
    pub failed_mails: u64,
}

/// Deletes everything that has expired as of now, and logs the counts (counts only).
pub async fn expired(state: &AppState) -> anyhow::Result<Purged> {
    let now = state.now();
    let idle_before = now - state.session_policy.idle_ms;
    let created_before = now - state.session_policy.absolute_ms;
    let spent_before = now - SPENT_LINK_GRACE_MS;
    let mut c = state.db.conn().await?;
    let purged = Purged {
        sessions: purge::sessions(&mut c, idle_before, created_before).await?,
        portal_sessions: purge::portal_sessions(&mut c, idle_before, created_before).await?,
        portal_links: purge::portal_links(&mut c, spent_before).await?,
        password_resets: purge::password_resets(&mut c, spent_before).await?,
        invitations: purge::invitations(&mut c, spent_before).await?,
        login_failures: purge::login_failures(
            &mut c,
            now - state.throttle.window_ms - THROTTLE_MARGIN_MS,
        )
        .await?,
        mail_requests: purge::mail_requests(
            &mut c,
            now - state.mail_throttle.longest_window_ms() - THROTTLE_MARGIN_MS,
        )
        .await?,
        sent_mails: purge::sent_mails(&mut c, now - SENT_MAIL_KEEP_MS).await?,
        failed_mails: purge::failed_mails(&mut c, now - SENT_MAIL_KEEP_MS).await?,
    };
    tracing::info!(
        sessions = purged.sessions,
        portal_sessions = purged.portal_sessions,
        portal_links = purged.portal_links,
        password_resets = purged.password_resets,
        invitations = purged.invitations,
        login_failures = purged.login_failures,
        mail_requests = purged.mail_requests,
        sent_mails = purged.sent_mails,
        failed_mails = purged.failed_mails,
        "expired rows purged"
    );
    Ok(purged)
}

/// Purges when the last purge (by this worker) is an hour ago or there was none yet. A failed
/// purge is logged and tried again an hour later.
pub async fn when_due(state: &AppState, last: &mut Option<i64>) {
    let now = state.now();
    if last.is_some_and(|at| now - at < EVERY_MS) {
        return;
    }
    *last = Some(now);
    if let Err(e) = expired(state).await {
        tracing::error!(error = %e, "purge of expired rows failed");
    }
}
