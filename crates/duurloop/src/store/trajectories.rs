//! Trajectories: a participant's programme after acceptance, with its plan (JSON).

use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct TrajectoryRow {
    pub id: String,
    pub referral_id: String,
    pub offering_id: String,
    pub offering_title: String,
    pub offering_kind: String,
    pub org_id: String,
    pub therapist_user_id: Option<String>,
    pub client_name: String,
    pub status: String,
    pub start_date: String,
    pub weeks: i64,
    pub start_level: String,
    /// The plan as JSON (`duurloop_domain::plan::Plan`).
    pub plan: String,
    pub current_week: i64,
    pub hr_low: Option<i64>,
    pub hr_high: Option<i64>,
    pub created_at: i64,
}

macro_rules! trajectory_select {
    () => {
        "SELECT t.id, t.referral_id, t.offering_id, o.title AS offering_title, o.kind AS offering_kind, t.org_id, \
         t.therapist_user_id, r.client_name, t.status, t.start_date, t.weeks, t.start_level, t.plan, \
         t.current_week, t.hr_low, t.hr_high, t.created_at FROM trajectories t \
         JOIN offerings o ON o.id = t.offering_id JOIN referrals r ON r.id = t.referral_id "
    };
}

pub struct NewTrajectory<'a> {
    pub referral_id: &'a str,
    pub offering_id: &'a str,
    pub org_id: &'a str,
    pub therapist_user_id: Option<&'a str>,
    pub start_date: &'a str,
    pub weeks: i64,
    pub start_level: &'a str,
    pub plan: &'a str,
    pub hr_low: Option<i64>,
    pub hr_high: Option<i64>,
    pub now: i64,
}

pub async fn insert(c: &mut Conn, t: &NewTrajectory<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO trajectories (id, referral_id, offering_id, org_id, therapist_user_id, status, start_date, weeks, \
         start_level, plan, current_week, hr_low, hr_high, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, 1, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(t.referral_id)
    .bind(t.offering_id)
    .bind(t.org_id)
    .bind(t.therapist_user_id)
    .bind(t.start_date)
    .bind(t.weeks)
    .bind(t.start_level)
    .bind(t.plan)
    .bind(t.hr_low)
    .bind(t.hr_high)
    .bind(t.now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<TrajectoryRow>, sqlx::Error> {
    sqlx::query_as(concat!(trajectory_select!(), "WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn for_referral(
    c: &mut Conn,
    referral_id: &str,
) -> Result<Option<TrajectoryRow>, sqlx::Error> {
    sqlx::query_as(concat!(trajectory_select!(), "WHERE t.referral_id = $1"))
        .bind(referral_id)
        .fetch_optional(c)
        .await
}

pub async fn set_plan(
    c: &mut Conn,
    id: &str,
    plan: &str,
    weeks: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE trajectories SET plan = $1, weeks = $2, updated_at = $3 WHERE id = $4")
        .bind(plan)
        .bind(weeks)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn set_status(c: &mut Conn, id: &str, status: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE trajectories SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

/// Active trajectories whose evaluated week has ended by `today` (ISO date text comparisons
/// are done by the caller; this returns every active trajectory, which stays small per run).
pub async fn active(c: &mut Conn) -> Result<Vec<TrajectoryRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        trajectory_select!(),
        "WHERE t.status = 'active' ORDER BY t.id LIMIT 5000"
    ))
    .fetch_all(c)
    .await
}

/// Moves the evaluated week on and stores the (possibly lengthened) plan, only if nobody else
/// did it meanwhile (the worker may run on several instances).
pub async fn advance_week(
    c: &mut Conn,
    id: &str,
    from_week: i64,
    plan: &str,
    weeks: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE trajectories SET current_week = $1, plan = $2, weeks = $3, updated_at = $4 WHERE id = $5 AND current_week = $6",
    )
    .bind(from_week + 1)
    .bind(plan)
    .bind(weeks)
    .bind(now)
    .bind(id)
    .bind(from_week)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sessions a participant attended (present) between two dates, inclusive.
pub async fn attended_between(
    c: &mut Conn,
    id: &str,
    from: &str,
    to: &str,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM attendance a JOIN group_sessions s ON s.id = a.session_id \
         WHERE a.trajectory_id = $1 AND a.status = 'present' AND s.session_date >= $2 AND s.session_date <= $3",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .fetch_one(c)
    .await?;
    Ok(n)
}

/// The running trajectories a person treats, by start date.
pub async fn caseload(c: &mut Conn, user_id: &str) -> Result<Vec<TrajectoryRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        trajectory_select!(),
        "WHERE t.therapist_user_id = $1 AND t.status = 'active' ORDER BY t.start_date, r.client_name LIMIT 500"
    ))
    .bind(user_id)
    .fetch_all(c)
    .await
}
