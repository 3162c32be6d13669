//! Accounts, memberships, sessions, invitations, password resets and API tokens.

use duurloop_domain::{
    Role,
    access::{Membership, TokenScope},
};
use sqlx::FromRow;

use super::{Conn, hash_token, new_id};
use crate::secrets::Sealed;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub is_admin: i64,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub lang: String,
    pub created_at: i64,
}

macro_rules! user_cols {
    () => {
        "id, email, name, password_hash, is_admin, totp_secret, totp_pending_secret, \
         totp_last_step, lang, created_at"
    };
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

pub async fn by_email(c: &mut Conn, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(c)
    .await
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
    pub now: i64,
}

pub async fn insert(c: &mut Conn, u: NewUser<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, is_admin, lang, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'nl', $6)",
    )
    .bind(&id)
    .bind(u.email)
    .bind(u.name)
    .bind(u.password_hash)
    .bind(i64::from(u.is_admin))
    .bind(u.now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn set_password(c: &mut Conn, user_id: &str, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn set_admin(c: &mut Conn, user_id: &str, admin: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
        .bind(i64::from(admin))
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn set_lang(c: &mut Conn, user_id: &str, lang: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
        .bind(lang)
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn set_totp_pending(
    c: &mut Conn,
    user_id: &str,
    secret: &Sealed,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
        .bind(secret.as_str())
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ())
}

/// Makes the pending secret the active one (enrolment confirmed with a valid code).
pub async fn activate_totp(
    c: &mut Conn,
    user_id: &str,
    secret: &Sealed,
    step: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 \
         WHERE id = $3",
    )
    .bind(secret.as_str())
    .bind(step)
    .bind(user_id)
    .execute(c)
    .await
    .map(|_| ())
}

/// Removes an account's second factor, active and pending (`duurloop user
/// reset-second-factor`); false when there is no such account.
pub async fn clear_totp(c: &mut Conn, user_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL \
         WHERE id = $1",
    )
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The stored second-factor secrets of an account, as `secrets::seal_plain_rows` reads them.
#[derive(Debug, Clone, FromRow)]
pub struct TotpSecretsRow {
    pub id: String,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
}

/// Every account with a second-factor secret, active or pending.
pub async fn totp_secrets(c: &mut Conn) -> Result<Vec<TotpSecretsRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, totp_secret, totp_pending_secret FROM users \
         WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id",
    )
    .fetch_all(c)
    .await
}

/// Replaces a stored secret (the pending one if `pending`) by its sealed form, unless it
/// changed since it was read.
pub async fn replace_totp_secret(
    c: &mut Conn,
    user_id: &str,
    pending: bool,
    old: &str,
    new: &Sealed,
) -> Result<(), sqlx::Error> {
    let sql = if pending {
        "UPDATE users SET totp_pending_secret = $1 WHERE id = $2 AND totp_pending_secret = $3"
    } else {
        "UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3"
    };
    sqlx::query(sql)
        .bind(new.as_str())
        .bind(user_id)
        .bind(old)
        .execute(c)
        .await
        .map(|_| ())
}

/// Records the step of a used code; returns false if a concurrent login already used it.
pub async fn use_totp_step(c: &mut Conn, user_id: &str, step: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
         AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

// ---- memberships ----

#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub org_id: String,
    pub org_name: String,
    pub org_kind: String,
    pub role: String,
}

impl MembershipRow {
    pub fn to_domain(&self) -> Option<Membership> {
        Some(Membership {
            org_id: self.org_id.clone(),
            role: Role::parse(&self.role).ok()?,
        })
    }
}

pub async fn memberships_of(
    c: &mut Conn,
    user_id: &str,
) -> Result<Vec<MembershipRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.org_id, o.name AS org_name, o.kind AS org_kind, m.role FROM memberships m \
         JOIN organisations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}

/// Adds a membership, or changes the role if the person is already a member.
pub async fn upsert_membership(
    c: &mut Conn,
    user_id: &str,
    org_id: &str,
    role: Role,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
    )
    .bind(user_id)
    .bind(org_id)
    .bind(role.as_str())
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

/// Changes a member's role; false when the person is not a member.
pub async fn set_role(
    c: &mut Conn,
    user_id: &str,
    org_id: &str,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE memberships SET role = $1 WHERE user_id = $2 AND org_id = $3")
        .bind(role.as_str())
        .bind(user_id)
        .bind(org_id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn remove_membership(
    c: &mut Conn,
    user_id: &str,
    org_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND org_id = $2")
        .bind(user_id)
        .bind(org_id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---- sessions ----

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub stage: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Opens a session; `user_agent` is the browser's, to name the device on the account page.
pub async fn create_session(
    c: &mut Conn,
    token: &str,
    user_id: &str,
    stage: &str,
    now: i64,
    user_agent: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(hash_token(token))
    .bind(user_id)
    .bind(stage)
    .bind(now)
    .bind(user_agent)
    .execute(c)
    .await
    .map(|_| ())
}

/// A session as its owner sees it in the list of their sessions.
#[derive(Debug, Clone, FromRow)]
pub struct SessionListRow {
    pub id_hash: String,
    pub stage: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
}

/// A person's sessions, the most recently used first.
pub async fn sessions_of(c: &mut Conn, user_id: &str) -> Result<Vec<SessionListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_hash, stage, created_at, last_seen_at, user_agent FROM sessions \
         WHERE user_id = $1 ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}

/// Ends one session of a person (only their own); whether there was one.
pub async fn delete_session_of(
    c: &mut Conn,
    user_id: &str,
    id_hash: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2")
        .bind(user_id)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn session(c: &mut Conn, token: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_hash, user_id, stage, created_at, last_seen_at FROM sessions WHERE id_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(c)
    .await
}

pub async fn touch_session(c: &mut Conn, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn delete_session(c: &mut Conn, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map(|_| ())
}

/// Ends every session of a person but one (after a password change, the one that made it).
pub async fn delete_other_sessions(
    c: &mut Conn,
    user_id: &str,
    keep_hash: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
}

pub async fn delete_sessions_of(c: &mut Conn, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|_| ())
}

// ---- invitations ----

#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub org_id: String,
    pub org_name: String,
    pub role: String,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

pub struct NewInvitation<'a> {
    pub token: &'a str,
    pub email: &'a str,
    pub org_id: &'a str,
    pub role: Role,
    pub invited_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_invitation(c: &mut Conn, i: NewInvitation<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, email, org_id, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(hash_token(i.token))
    .bind(i.email)
    .bind(i.org_id)
    .bind(i.role.as_str())
    .bind(i.invited_by)
    .bind(i.now)
    .bind(i.expires_at)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn invitation_by_token(
    c: &mut Conn,
    token: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.email, i.org_id, o.name AS org_name, i.role, i.expires_at, i.accepted_at \
         FROM invitations i JOIN organisations o ON o.id = i.org_id WHERE i.token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(c)
    .await
}

/// Marks an invitation accepted; false if it already was (double submit, replay).
pub async fn accept_invitation(c: &mut Conn, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PendingInvitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn pending_invitations(
    c: &mut Conn,
    org_id: &str,
    now: i64,
) -> Result<Vec<PendingInvitation>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, role, created_at, expires_at FROM invitations \
         WHERE org_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(org_id)
    .bind(now)
    .fetch_all(c)
    .await
}

// ---- password resets ----

pub async fn insert_password_reset(
    c: &mut Conn,
    token: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_token(token))
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await
    .map(|_| ())
}

/// The user a valid, unused, unexpired reset token belongs to.
pub async fn password_reset_user(
    c: &mut Conn,
    token: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(c)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Uses a reset token once; false if it was used meanwhile.
pub async fn use_password_reset(c: &mut Conn, token: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(hash_token(token))
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

// ---- API tokens ----

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// After this moment (Unix ms) the token no longer works.
    pub expires_at: i64,
    /// `read` (GET and HEAD only) or `read-write`.
    #[schema(example = "read")]
    pub scope: String,
}

pub async fn insert_api_token(
    c: &mut Conn,
    user_id: &str,
    name: &str,
    token: &str,
    scope: TokenScope,
    now: i64,
    expires_at: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(hash_token(token))
    .bind(scope.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn api_tokens_of(c: &mut Conn, user_id: &str) -> Result<Vec<ApiTokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, revoked_at, expires_at, scope FROM api_tokens \
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}

/// A token that expires soon: (token id, name, owner id, expires at).
pub type ExpiringToken = (String, String, String, i64);

/// Tokens in use that expire before `before` and whose owner was not reminded yet.
pub async fn tokens_to_remind(
    c: &mut Conn,
    now: i64,
    before: i64,
) -> Result<Vec<ExpiringToken>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, user_id, expires_at FROM api_tokens WHERE expires_at > $1 \
         AND expires_at <= $2 AND revoked_at IS NULL AND reminded_at IS NULL ORDER BY expires_at",
    )
    .bind(now)
    .bind(before)
    .fetch_all(c)
    .await
}

/// Marks a token's reminder as sent; false when another worker did it first.
pub async fn mark_token_reminded(c: &mut Conn, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The user an API token belongs to, with the token's scope, while it is neither revoked nor
/// expired; stamps its last use, at most once a minute (a write per API call would queue every
/// call behind SQLite's write lock). A scope this version does not know counts as `read`.
pub async fn api_token_user(
    c: &mut Conn,
    token: &str,
    now: i64,
) -> Result<Option<(String, TokenScope)>, sqlx::Error> {
    let hash = hash_token(token);
    let row: Option<(String, Option<i64>, String)> = sqlx::query_as(
        "SELECT user_id, last_used_at, scope FROM api_tokens WHERE token_hash = $1 \
         AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(&hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    if let Some((_, last, _)) = &row
        && last.is_none_or(|at| now - at > 60_000)
    {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(c)
            .await?;
    }
    Ok(row.map(|(user, _, scope)| (user, TokenScope::parse(&scope).unwrap_or(TokenScope::Read))))
}

pub async fn revoke_api_token(
    c: &mut Conn,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Accounts whose address is not under a domain reserved for examples (`.example`, `.invalid`):
/// real people's accounts (the demo refuses a database that has any).
pub async fn count_outside_reserved_domains(c: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM users \
         WHERE email NOT LIKE '%.example' AND email NOT LIKE '%.invalid'",
    )
    .fetch_one(c)
    .await
}
