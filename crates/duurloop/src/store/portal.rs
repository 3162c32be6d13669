//! Participant portal: magic links, portal sessions and the run log.

use sqlx::FromRow;

use super::{Conn, hash_token, new_id};

/// Active trajectories of a participant's e-mail address (newest first).
pub async fn active_trajectory_for_email(
    c: &mut Conn,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id \
         WHERE r.client_email = $1 AND t.status = 'active' ORDER BY t.created_at DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(c)
    .await?;
    Ok(row.map(|r| r.0))
}

pub async fn insert_link(
    c: &mut Conn,
    token: &str,
    trajectory_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO portal_links (token_hash, trajectory_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_token(token))
        .bind(trajectory_id)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|_| ())
}

/// Uses a magic link once; the trajectory it opens.
pub async fn use_link(c: &mut Conn, token: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
    let hash = hash_token(token);
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT trajectory_id FROM portal_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(&hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    let Some((trajectory,)) = row else {
        return Ok(None);
    };
    let r = sqlx::query(
        "UPDATE portal_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(&hash)
    .execute(c)
    .await?;
    Ok((r.rows_affected() == 1).then_some(trajectory))
}

pub async fn link_valid(c: &mut Conn, token: &str, now: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT trajectory_id FROM portal_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(c)
    .await?;
    Ok(row.is_some())
}

pub async fn create_session(
    c: &mut Conn,
    token: &str,
    trajectory_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO portal_sessions (id_hash, trajectory_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
        .bind(hash_token(token))
        .bind(trajectory_id)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn touch_session(c: &mut Conn, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE portal_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn delete_session(c: &mut Conn, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map(|_| ())
}

#[derive(
    Debug, Clone, Default, FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct RunRow {
    pub id: String,
    pub run_date: String,
    pub duration_s: i64,
    pub moving_s: Option<i64>,
    pub distance_m: Option<i64>,
    pub elevation_gain_m: Option<i64>,
    pub avg_hr: Option<i64>,
    pub max_hr: Option<i64>,
    pub in_zone_s: Option<i64>,
    pub exertion: Option<i64>,
    pub mood_before: Option<i64>,
    pub mood_after: Option<i64>,
    pub pain: i64,
    pub pain_where: String,
    pub note: String,
    pub source: String,
}

/// Runs logged for a trajectory since `since` (by hand or upload), for the daily limit.
pub async fn runs_created_since(
    c: &mut Conn,
    trajectory_id: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM runs WHERE trajectory_id = $1 AND created_at >= $2",
    )
    .bind(trajectory_id)
    .bind(since)
    .fetch_one(c)
    .await?;
    Ok(n)
}

pub async fn insert_run(
    c: &mut Conn,
    trajectory_id: &str,
    r: &RunRow,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO runs (id, trajectory_id, run_date, duration_s, moving_s, distance_m, elevation_gain_m, avg_hr, max_hr, \
         in_zone_s, exertion, mood_before, mood_after, pain, pain_where, note, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&id)
    .bind(trajectory_id)
    .bind(&r.run_date)
    .bind(r.duration_s)
    .bind(r.moving_s)
    .bind(r.distance_m)
    .bind(r.elevation_gain_m)
    .bind(r.avg_hr)
    .bind(r.max_hr)
    .bind(r.in_zone_s)
    .bind(r.exertion)
    .bind(r.mood_before)
    .bind(r.mood_after)
    .bind(r.pain)
    .bind(&r.pain_where)
    .bind(&r.note)
    .bind(&r.source)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn runs(c: &mut Conn, trajectory_id: &str) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, run_date, duration_s, moving_s, distance_m, elevation_gain_m, avg_hr, max_hr, in_zone_s, exertion, \
         mood_before, mood_after, pain, pain_where, note, source FROM runs WHERE trajectory_id = $1 ORDER BY run_date DESC, created_at DESC",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// Replaces a participant's calendar feed token (the old link stops working).
pub async fn set_feed_token(
    c: &mut Conn,
    trajectory_id: &str,
    token: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO participant_calendar_feeds (trajectory_id, token_hash, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (trajectory_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
    )
    .bind(trajectory_id)
    .bind(hash_token(token))
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

/// The trajectory behind a participant's calendar link.
pub async fn feed_trajectory(c: &mut Conn, token: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT trajectory_id FROM participant_calendar_feeds WHERE token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(c)
    .await?;
    Ok(row.map(|r| r.0))
}
