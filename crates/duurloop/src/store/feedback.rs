//! Feedback reports to the referrer.

use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct FeedbackRow {
    pub id: String,
    pub trajectory_id: String,
    /// end or followup
    pub kind: String,
    /// draft or sent
    pub status: String,
    pub summary: String,
    pub advice: String,
    pub next_steps: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

macro_rules! feedback_select {
    () => {
        "SELECT id, trajectory_id, kind, status, summary, advice, next_steps, created_at, updated_at, sent_at \
         FROM feedback_reports "
    };
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<FeedbackRow>, sqlx::Error> {
    sqlx::query_as(concat!(feedback_select!(), "WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn of_trajectory(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<FeedbackRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        feedback_select!(),
        "WHERE trajectory_id = $1 ORDER BY created_at"
    ))
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// The report of this kind for the trajectory, made as an empty draft when there is none.
pub async fn get_or_create(
    c: &mut Conn,
    trajectory_id: &str,
    kind: &str,
    by: &str,
    now: i64,
) -> Result<FeedbackRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO feedback_reports (id, trajectory_id, kind, status, summary, advice, next_steps, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', '', '', '', $4, $5, $5) ON CONFLICT (trajectory_id, kind) DO NOTHING",
    )
    .bind(new_id())
    .bind(trajectory_id)
    .bind(kind)
    .bind(by)
    .bind(now)
    .execute(&mut *c)
    .await?;
    sqlx::query_as(concat!(
        feedback_select!(),
        "WHERE trajectory_id = $1 AND kind = $2"
    ))
    .bind(trajectory_id)
    .bind(kind)
    .fetch_one(c)
    .await
}

/// Changes the therapist's texts of a draft; false when it was already sent.
pub async fn update_texts(
    c: &mut Conn,
    id: &str,
    summary: &str,
    advice: &str,
    next_steps: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE feedback_reports SET summary = $1, advice = $2, next_steps = $3, updated_at = $4 \
         WHERE id = $5 AND status = 'draft'",
    )
    .bind(summary)
    .bind(advice)
    .bind(next_steps)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a draft as sent; false when it was already sent.
pub async fn mark_sent(c: &mut Conn, id: &str, by: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE feedback_reports SET status = 'sent', sent_at = $1, sent_by = $2, updated_at = $1 \
         WHERE id = $3 AND status = 'draft'",
    )
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}
