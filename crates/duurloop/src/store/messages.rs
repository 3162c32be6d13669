//! Messages between a trajectory's therapist and its participant (guidance at a distance).

use sqlx::FromRow;

use super::{Conn, new_id};

/// Who wrote a message: the care side (therapist or coordinator) or the participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Therapist,
    Participant,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Therapist => "therapist",
            Side::Participant => "participant",
        }
    }

    /// The side that reads what this side writes.
    pub fn other(self) -> Side {
        match self {
            Side::Therapist => Side::Participant,
            Side::Participant => Side::Therapist,
        }
    }
}

/// One message as both sides (and the participant's download) see it.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MessageRow {
    pub id: String,
    /// `therapist` or `participant`.
    pub author_side: String,
    /// The staff member's name; empty for the participant.
    pub author_name: Option<String>,
    pub body: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When the other side first opened the conversation after it came; empty while unread.
    pub read_at: Option<i64>,
}

pub async fn insert(
    c: &mut Conn,
    trajectory_id: &str,
    side: Side,
    author_user_id: Option<&str>,
    body: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO messages (id, trajectory_id, author_side, author_user_id, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(trajectory_id)
    .bind(side.as_str())
    .bind(author_user_id)
    .bind(body)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

/// The conversation of a trajectory, oldest first (newest last, as a chat reads). At most the
/// latest 500 (a literal `LIMIT`; twelve weeks of guidance stay far below it).
pub async fn of_trajectory(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let mut rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.id, m.author_side, u.name AS author_name, m.body, m.created_at, m.read_at \
         FROM messages m LEFT JOIN users u ON u.id = m.author_user_id \
         WHERE m.trajectory_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT 500",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Every message of a trajectory, oldest first (the participant's download).
pub async fn all_of_trajectory(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.author_side, u.name AS author_name, m.body, m.created_at, m.read_at \
         FROM messages m LEFT JOIN users u ON u.id = m.author_user_id \
         WHERE m.trajectory_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// Messages written by `side` that the other side has not opened yet.
pub async fn unread_from(
    c: &mut Conn,
    trajectory_id: &str,
    side: Side,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM messages \
         WHERE trajectory_id = $1 AND author_side = $2 AND read_at IS NULL",
    )
    .bind(trajectory_id)
    .bind(side.as_str())
    .fetch_one(c)
    .await
}

/// Marks what `side` wrote as read (the other side opened the conversation); how many.
pub async fn mark_read_from(
    c: &mut Conn,
    trajectory_id: &str,
    side: Side,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE messages SET read_at = $1 \
         WHERE trajectory_id = $2 AND author_side = $3 AND read_at IS NULL",
    )
    .bind(now)
    .bind(trajectory_id)
    .bind(side.as_str())
    .execute(c)
    .await?
    .rows_affected())
}

/// Messages `side` wrote in this trajectory since `since` (the daily limit).
pub async fn written_since(
    c: &mut Conn,
    trajectory_id: &str,
    side: Side,
    since: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM messages \
         WHERE trajectory_id = $1 AND author_side = $2 AND created_at > $3",
    )
    .bind(trajectory_id)
    .bind(side.as_str())
    .bind(since)
    .fetch_one(c)
    .await
}

/// A conversation with messages from the participant that its therapist has not read.
#[derive(Debug, Clone, FromRow)]
pub struct UnreadConversation {
    pub trajectory_id: String,
    pub org_id: String,
    pub client_name: String,
    pub unread: i64,
}

/// The conversations of the trajectories `therapist_user_id` treats that wait for them,
/// longest waiting first.
pub async fn unread_for_therapist(
    c: &mut Conn,
    therapist_user_id: &str,
) -> Result<Vec<UnreadConversation>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS trajectory_id, t.org_id, r.client_name, CAST(COUNT(*) AS BIGINT) AS unread \
         FROM messages m JOIN trajectories t ON t.id = m.trajectory_id \
         JOIN referrals r ON r.id = t.referral_id \
         WHERE t.therapist_user_id = $1 AND m.author_side = 'participant' AND m.read_at IS NULL \
         GROUP BY t.id, t.org_id, r.client_name ORDER BY MIN(m.created_at) LIMIT 100",
    )
    .bind(therapist_user_id)
    .fetch_all(c)
    .await
}
