//! Recurring schedules, group sessions and attendance.

use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SlotRow {
    pub id: String,
    pub weekday: i64,
    pub start_time: String,
    pub duration_min: i64,
}

pub async fn insert_slot(
    c: &mut Conn,
    offering_id: &str,
    weekday: i64,
    start_time: &str,
    duration_min: i64,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query("INSERT INTO schedule_slots (id, offering_id, weekday, start_time, duration_min, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(offering_id)
        .bind(weekday)
        .bind(start_time)
        .bind(duration_min)
        .bind(now)
        .execute(c)
        .await?;
    Ok(id)
}

pub async fn slots(c: &mut Conn, offering_id: &str) -> Result<Vec<SlotRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, weekday, start_time, duration_min FROM schedule_slots WHERE offering_id = $1 ORDER BY weekday, start_time")
        .bind(offering_id)
        .fetch_all(c)
        .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SessionRow {
    pub id: String,
    pub offering_id: String,
    pub session_date: String,
    pub start_time: String,
    pub duration_min: i64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: String,
}

/// Adds a session unless one exists at that date and time (schedules may overlap).
pub async fn insert_session_once(
    c: &mut Conn,
    offering_id: &str,
    date: &str,
    start_time: &str,
    duration_min: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO group_sessions (id, offering_id, session_date, start_time, duration_min, cancel_reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, '', $6) ON CONFLICT (offering_id, session_date, start_time) DO NOTHING",
    )
    .bind(new_id())
    .bind(offering_id)
    .bind(date)
    .bind(start_time)
    .bind(duration_min)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn sessions(c: &mut Conn, offering_id: &str) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, offering_id, session_date, start_time, duration_min, cancelled_at, cancel_reason FROM group_sessions \
         WHERE offering_id = $1 ORDER BY session_date, start_time",
    )
    .bind(offering_id)
    .fetch_all(c)
    .await
}

/// The next `limit` sessions of an offering from `today` on that are not cancelled (from the
/// index, without reading the offering's whole calendar).
/// The next three sessions of a group from `today`, cancelled ones left out. The `LIMIT` is a
/// literal: SQLite compiles a statement again each time a parameter in its `LIMIT` is bound.
pub async fn upcoming_sessions(
    c: &mut Conn,
    offering_id: &str,
    today: &str,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, offering_id, session_date, start_time, duration_min, cancelled_at, cancel_reason FROM group_sessions \
         WHERE offering_id = $1 AND session_date >= $2 \
         ORDER BY session_date, start_time LIMIT 3",
    )
    .bind(offering_id)
    .bind(today)
    .fetch_all(c)
    .await
}

pub async fn session(c: &mut Conn, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, offering_id, session_date, start_time, duration_min, cancelled_at, cancel_reason FROM group_sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn cancel(c: &mut Conn, id: &str, reason: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE group_sessions SET cancelled_at = $1, cancel_reason = $2 WHERE id = $3 AND cancelled_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A participant of a group with their attendance at one session (if recorded).
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ParticipantRow {
    pub trajectory_id: String,
    pub client_name: String,
    pub client_email: String,
    /// The language of the participant's mails.
    pub client_lang: String,
    /// Metres covered in all the participant's logged runs and walks (those with a distance).
    pub distance_m: i64,
    pub status: Option<String>,
    pub note: Option<String>,
}

pub async fn participants(
    c: &mut Conn,
    offering_id: &str,
    session_id: &str,
) -> Result<Vec<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS trajectory_id, r.client_name, r.client_email, r.client_lang, \
         CAST(COALESCE((SELECT SUM(x.distance_m) FROM runs x WHERE x.trajectory_id = t.id), 0) AS BIGINT) \
         AS distance_m, a.status, a.note FROM trajectories t \
         JOIN referrals r ON r.id = t.referral_id \
         LEFT JOIN attendance a ON a.trajectory_id = t.id AND a.session_id = $2 \
         WHERE t.offering_id = $1 AND t.status = 'active' ORDER BY r.client_name",
    )
    .bind(offering_id)
    .bind(session_id)
    .fetch_all(c)
    .await
}

pub async fn record_attendance(
    c: &mut Conn,
    session_id: &str,
    trajectory_id: &str,
    status: &str,
    note: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attendance (session_id, trajectory_id, status, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id, trajectory_id) DO UPDATE SET status = excluded.status, note = excluded.note, \
         recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(session_id)
    .bind(trajectory_id)
    .bind(status)
    .bind(note)
    .bind(by)
    .bind(now)
    .execute(&mut *c)
    .await?;
    // The trajectory's counts for reports (migration 11): recounted from the index, which is
    // right whether this row was new or a correction.
    sqlx::query(
        "UPDATE trajectories SET \
         sessions_recorded = (SELECT COUNT(*) FROM attendance a WHERE a.trajectory_id = $1), \
         sessions_attended = (SELECT COUNT(*) FROM attendance a \
             WHERE a.trajectory_id = $1 AND a.status = 'present') \
         WHERE id = $1",
    )
    .bind(trajectory_id)
    .execute(c)
    .await
    .map(|_| ())
}

/// Replaces a person's calendar feed token (the old link stops working).
pub async fn set_feed_token(
    c: &mut Conn,
    user_id: &str,
    token: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
    )
    .bind(user_id)
    .bind(super::hash_token(token))
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn feed_user(c: &mut Conn, token: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(super::hash_token(token))
            .fetch_optional(c)
            .await?;
    Ok(row.map(|r| r.0))
}

/// A session in a therapist's calendar.
#[derive(Debug, Clone, FromRow)]
pub struct CalendarRow {
    pub id: String,
    pub session_date: String,
    pub start_time: String,
    pub duration_min: i64,
    pub cancelled_at: Option<i64>,
    pub title: String,
    pub address: String,
    pub place: String,
}

/// Sessions of one offering, for a participant's calendar.
pub async fn offering_calendar(
    c: &mut Conn,
    offering_id: &str,
) -> Result<Vec<CalendarRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.session_date, s.start_time, s.duration_min, s.cancelled_at, o.title, l.address, l.place \
         FROM group_sessions s JOIN offerings o ON o.id = s.offering_id \
         JOIN locations l ON l.id = o.location_id WHERE s.offering_id = $1 ORDER BY s.session_date, s.start_time LIMIT 2000",
    )
    .bind(offering_id)
    .fetch_all(c)
    .await
}

/// Sessions of the offerings a person runs as therapist.
pub async fn therapist_calendar(
    c: &mut Conn,
    user_id: &str,
) -> Result<Vec<CalendarRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.session_date, s.start_time, s.duration_min, s.cancelled_at, o.title, l.address, l.place \
         FROM group_sessions s JOIN offerings o ON o.id = s.offering_id JOIN therapists t ON t.id = o.therapist_id \
         JOIN locations l ON l.id = o.location_id WHERE t.user_id = $1 ORDER BY s.session_date, s.start_time LIMIT 2000",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}

/// One participant's attendance at a session, with the therapist's note.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AttendanceLine {
    pub session_date: String,
    pub start_time: String,
    /// present, absent_notice or absent
    pub status: String,
    pub note: String,
}

/// Everything recorded about one trajectory's attendance, oldest session first.
pub async fn attendance_of(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<AttendanceLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.session_date, s.start_time, a.status, a.note FROM attendance a \
         JOIN group_sessions s ON s.id = a.session_id WHERE a.trajectory_id = $1 \
         ORDER BY s.session_date, s.start_time",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}
