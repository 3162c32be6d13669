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
