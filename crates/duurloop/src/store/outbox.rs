//! The e-mail outbox. Messages are written in the same transaction as the change that causes
//! them; the worker claims due messages with a lease (an UPDATE that only one instance can win,
//! on both databases), sends them and stamps `sent_at`.

use sqlx::FromRow;

use super::{Conn, new_id};

pub struct NewMail<'a> {
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub now: i64,
}

pub async fn enqueue(c: &mut Conn, m: NewMail<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO outbox (id, kind, to_addr, subject, body_text, body_html, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(m.kind)
    .bind(m.to)
    .bind(m.subject)
    .bind(m.text)
    .bind(m.html)
    .bind(m.now)
    .execute(c)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

macro_rules! mail_cols {
    () => {
        "id, kind, to_addr, subject, body_text, body_html, created_at, attempts, sent_at, \
         failed_at, last_error"
    };
}

pub async fn recent(c: &mut Conn, limit: i64) -> Result<Vec<MailRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        mail_cols!(),
        " FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(c)
    .await
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<MailRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        mail_cols!(),
        " FROM outbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

/// Ids of messages that are due and not leased by another worker.
pub async fn due(c: &mut Conn, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Claims a message for `lease_ms`; false when another worker got it first.
pub async fn claim(c: &mut Conn, id: &str, now: i64, lease_ms: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 WHERE id = $2 \
         AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
         AND (lease_until IS NULL OR lease_until < $3)",
    )
    .bind(now + lease_ms)
    .bind(id)
    .bind(now)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_sent(c: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, lease_until = NULL, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())
}

/// Schedules another attempt, or gives up (`failed_at`) after the last one.
pub async fn mark_failed(
    c: &mut Conn,
    id: &str,
    error: &str,
    next_attempt_at: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET lease_until = NULL, last_error = $1, \
         next_attempt_at = COALESCE($2, next_attempt_at), failed_at = $3 WHERE id = $4",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(if next_attempt_at.is_none() {
        Some(now)
    } else {
        None
    })
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn pending_count(c: &mut Conn) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(c)
    .await?;
    Ok(n)
}
