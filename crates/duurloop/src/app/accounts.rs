//! A person's own account: language, API tokens; and the administrator's outbox view.

use duurloop_domain::access::TokenScope;

use super::{
    Actor, AppError, AppResult, AuthVia,
    audit::{Event, record, record_with_reason},
};
use crate::{
    state::AppState,
    store::{
        self, new_token,
        outbox::MailRow,
        users::{self, ApiTokenRow},
    },
};

/// How every personal API token starts: it tells one from a portal session's bearer token
/// (and a leaked one is easy to search for).
pub const API_TOKEN_PREFIX: &str = "dl_";

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
    pub scope: TokenScope,
}

/// How long a new API token may work, in days: the account page offers these, 90 unless
/// chosen otherwise. A year at most, so a forgotten token stops by itself (ASVS 3.5.2).
pub const TOKEN_DAYS: [i64; 3] = [30, 90, 365];
pub const DEFAULT_TOKEN_DAYS: i64 = 90;

/// The scope a new API token gets unless its maker chooses otherwise: read-only. Most
/// integrations only fetch (a practice system reading referral statuses and reports, a
/// dashboard), and a token kept in another system can leak from it; a read token that leaks
/// cannot change, send or erase anything. Writing is a choice made knowingly, with the
/// password given again (least privilege, ASVS 1.4.3 and 3.5.2).
pub const DEFAULT_TOKEN_SCOPE: TokenScope = TokenScope::Read;

/// What the account page's form asks for a new API token.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewToken {
    pub name: String,
    /// `30`, `90` or `365`; empty means 90.
    #[serde(default)]
    pub days: String,
    /// `read` or `read-write`; empty means [`DEFAULT_TOKEN_SCOPE`].
    #[serde(default)]
    pub scope: String,
    /// The person's current password (re-authentication, ASVS 3.7.1).
    #[serde(default)]
    pub password: String,
}

/// Creates a personal API token. Only from a browser session that passed the second factor
/// (a token cannot mint another token), and only after the password is given again: a token
/// outlives the session, so a session left open must not be enough to make one.
pub async fn create_api_token(
    state: &AppState,
    actor: &Actor,
    input: &NewToken,
) -> AppResult<CreatedToken> {
    if actor.identity.via == AuthVia::ApiToken {
        return Err(AppError::Forbidden);
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "invalid-token-name"));
    }
    let days = match input.days.trim() {
        "" => DEFAULT_TOKEN_DAYS,
        d => d
            .parse()
            .ok()
            .filter(|d| TOKEN_DAYS.contains(d))
            .ok_or(AppError::invalid("days", "invalid-token-days"))?,
    };
    let scope = match input.scope.trim() {
        "" => DEFAULT_TOKEN_SCOPE,
        s => TokenScope::parse(s).map_err(|e| AppError::field("scope", e))?,
    };
    super::auth::confirm_password(state, actor, &input.password).await?;
    let token = format!("{API_TOKEN_PREFIX}{}", new_token());
    let now = state.now();
    let expires_at = now + days * 86_400_000;
    let mut tx = state.db.begin().await?;
    let id = users::insert_api_token(
        &mut tx,
        &actor.identity.user_id,
        name,
        &token,
        scope,
        now,
        expires_at,
    )
    .await?;
    // The scope goes into the entry's `reason`, so the log says what the token may do.
    record_with_reason(
        &mut tx,
        now,
        actor,
        Event::new("create", "api_token")
            .record(&id)
            .subject(&actor.identity.user_id),
        &format!("scope: {}", scope.as_str()),
    )
    .await?;
    if let Some(user) = users::by_id(&mut tx, &actor.identity.user_id).await? {
        crate::mail::notify_account_change(
            &mut tx,
            state,
            &user,
            crate::mail::AccountChange::ApiToken(name, scope),
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(CreatedToken { id, token, scope })
}

/// How long before its end a token's owner is reminded.
pub const TOKEN_REMINDER_MS: i64 = 7 * 86_400_000;

/// The worker's round: mails the owner of each token in use that expires within a week, once
/// (so an integration does not stop by surprise). How many were sent.
pub async fn remind_expiring_tokens(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due = {
        let mut c = state.db.conn().await?;
        users::tokens_to_remind(&mut c, now, now + TOKEN_REMINDER_MS).await?
    };
    let mut sent = 0;
    for (id, name, user_id, expires_at) in due {
        let mut tx = state.db.begin().await?;
        if !users::mark_token_reminded(&mut tx, &id, now).await? {
            continue;
        }
        if let Some(user) = users::by_id(&mut tx, &user_id).await? {
            let date = crate::clock::local_date(expires_at);
            crate::mail::notify_account_change(
                &mut tx,
                state,
                &user,
                crate::mail::AccountChange::TokenExpires(&name, &date),
            )
            .await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    if sent > 0 {
        state.mail_wakeup.notify_one();
    }
    Ok(sent)
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

/// One of a person's signed-in sessions, as the account page and `GET /api/v1/me/sessions`
/// show it (ASVS 3.3.4).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// Opaque: what ending it takes.
    pub id: String,
    /// Browser and system, e.g. "Firefox, Android" (from the User-Agent at sign-in).
    pub device: String,
    pub signed_in_at: i64,
    pub last_active_at: i64,
    /// The session this request came with.
    pub current: bool,
    /// False while the second factor is still to be given.
    pub complete: bool,
}

/// "Browser, system" from a User-Agent header; empty when neither is recognised.
pub fn device_label(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, system) {
        ("", "") => String::new(),
        (b, "") => b.to_string(),
        ("", o) => o.to_string(),
        (b, o) => format!("{b}, {o}"),
    }
}

/// The person's sessions; `current` marks the one of this request (none over the API).
pub async fn sessions(
    state: &AppState,
    actor: &Actor,
    current: Option<&str>,
) -> AppResult<Vec<SessionInfo>> {
    let mut c = state.db.conn().await?;
    let rows = users::sessions_of(&mut c, &actor.identity.user_id).await?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            !state
                .session_policy
                .is_expired(r.created_at, r.last_seen_at, state.now())
        })
        .map(|r| SessionInfo {
            current: current == Some(r.id_hash.as_str()),
            device: device_label(&r.user_agent),
            signed_in_at: r.created_at,
            last_active_at: r.last_seen_at,
            complete: r.stage == super::auth::STAGE_FULL,
            id: r.id_hash,
        })
        .collect())
}

/// Ends one of the person's own sessions (another device's, or this one). Audit-logged.
pub async fn end_session(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !users::delete_session_of(&mut tx, &actor.identity.user_id, id).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("end_session", "user")
            .record(&actor.identity.user_id)
            .subject(&actor.identity.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the person but `keep` (this device). Audit-logged; how many ended.
pub async fn end_other_sessions(state: &AppState, actor: &Actor, keep: &str) -> AppResult<u64> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let n = users::delete_other_sessions(&mut tx, &actor.identity.user_id, keep).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("end_other_sessions", "user")
            .record(&actor.identity.user_id)
            .subject(&actor.identity.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
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

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let firefox_android =
            "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0";
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        let edge_windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
        let chrome_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(device_label(firefox_android), "Firefox, Android");
        assert_eq!(device_label(safari_iphone), "Safari, iOS");
        assert_eq!(device_label(edge_windows), "Edge, Windows");
        assert_eq!(device_label(chrome_mac), "Chrome, macOS");
        assert_eq!(device_label("curl/8.5.0"), "");
    }
}
