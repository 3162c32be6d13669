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

macro_rules! trajectory_columns {
    () => {
        "t.id, t.referral_id, t.offering_id, o.title AS offering_title, o.kind AS offering_kind, t.org_id, \
         t.therapist_user_id, r.client_name, t.status, t.start_date, t.weeks, t.start_level, t.plan, \
         t.current_week, t.hr_low, t.hr_high, t.created_at FROM trajectories t \
         JOIN offerings o ON o.id = t.offering_id JOIN referrals r ON r.id = t.referral_id "
    };
}

macro_rules! trajectory_select {
    () => {
        concat!("SELECT ", trajectory_columns!())
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

/// A portal session (by its token's hash) with its trajectory: the participant behind every
/// portal request, in one query.
#[derive(Debug, Clone, FromRow)]
pub struct PortalSessionTrajectory {
    pub session_id_hash: String,
    pub session_created_at: i64,
    pub session_last_seen_at: i64,
    #[sqlx(flatten)]
    pub trajectory: TrajectoryRow,
}

pub async fn by_portal_session(
    c: &mut Conn,
    id_hash: &str,
) -> Result<Option<PortalSessionTrajectory>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ps.id_hash AS session_id_hash, ps.created_at AS session_created_at, \
         ps.last_seen_at AS session_last_seen_at, ",
        trajectory_columns!(),
        "JOIN portal_sessions ps ON ps.trajectory_id = t.id WHERE ps.id_hash = $1"
    ))
    .bind(id_hash)
    .fetch_optional(c)
    .await
}

/// The participant's home in one statement: the portal session, its trajectory, the next
/// group sessions, the runs, the open measurements, the scores and the unread messages. The lists come as JSON
/// arrays built by the database, so a portal request costs one round trip to the database
/// instead of six (on SQLite every round trip is two thread switches to the connection's
/// worker; under load those switches were most of a participant page's time). The SQL is the
/// same on both databases but for the names of the JSON functions.
macro_rules! portal_home_sql {
    ($object:literal, $array:literal) => {
        concat!(
            "SELECT ps.id_hash AS session_id_hash, ps.created_at AS session_created_at, \
             ps.last_seen_at AS session_last_seen_at, \
             CAST(COALESCE((SELECT ", $array, "(", $object, "('id', g.id, 'offering_id', g.offering_id, \
             'session_date', g.session_date, 'start_time', g.start_time, 'duration_min', g.duration_min, \
             'cancelled_at', g.cancelled_at, 'cancel_reason', g.cancel_reason) ORDER BY g.session_date, g.start_time) \
             FROM (SELECT id, offering_id, session_date, start_time, duration_min, cancelled_at, cancel_reason \
             FROM group_sessions WHERE offering_id = t.offering_id AND session_date >= $2 \
             ORDER BY session_date, start_time LIMIT 3) g), '[]') AS TEXT) AS next_sessions, \
             CAST(COALESCE((SELECT ", $array, "(", $object, "('id', x.id, 'run_date', x.run_date, \
             'duration_s', x.duration_s, 'moving_s', x.moving_s, 'distance_m', x.distance_m, \
             'elevation_gain_m', x.elevation_gain_m, 'avg_hr', x.avg_hr, 'max_hr', x.max_hr, \
             'in_zone_s', x.in_zone_s, 'exertion', x.exertion, 'mood_before', x.mood_before, \
             'mood_after', x.mood_after, 'pain', x.pain, 'pain_where', x.pain_where, 'note', x.note, \
             'source', x.source) ORDER BY x.run_date DESC, x.created_at DESC) \
             FROM runs x WHERE x.trajectory_id = t.id), '[]') AS TEXT) AS runs, \
             CAST(COALESCE((SELECT ", $array, "(", $object, "('id', m.id, 'trajectory_id', m.trajectory_id, \
             'point', m.point, 'due_date', m.due_date, 'instruments', m.instruments, 'status', m.status, \
             'sent_at', m.sent_at, 'reminders', m.reminders, 'escalated_at', m.escalated_at, \
             'answers', m.answers, 'completed_at', m.completed_at) ORDER BY m.due_date, m.created_at) \
             FROM measurements m WHERE m.trajectory_id = t.id AND m.status IN ('sent', 'partial')), '[]') \
             AS TEXT) AS open_measurements, \
             CAST(COALESCE((SELECT ", $array, "(", $object, "('measurement_id', s.measurement_id, \
             'instrument', s.instrument, 'point', s.point, 'total', s.total, 'raw', s.raw, 'band', s.band, \
             'prorated', s.prorated, 'scored_at', s.scored_at) ORDER BY s.scored_at, s.instrument) \
             FROM measurement_scores s WHERE s.trajectory_id = t.id), '[]') AS TEXT) AS scores, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM messages mm WHERE mm.trajectory_id = t.id \
             AND mm.author_side = 'therapist' AND mm.read_at IS NULL) AS unread_messages, ",
            trajectory_columns!(),
            "JOIN portal_sessions ps ON ps.trajectory_id = t.id WHERE ps.id_hash = $1"
        )
    };
}

#[derive(FromRow)]
struct PortalHomeRow {
    next_sessions: String,
    runs: String,
    open_measurements: String,
    scores: String,
    unread_messages: i64,
    #[sqlx(flatten)]
    session: PortalSessionTrajectory,
}

/// What [`portal_home`] reads.
#[derive(Debug, Clone)]
pub struct PortalHome {
    pub session: PortalSessionTrajectory,
    /// The next three sessions of the group from `today`, cancelled ones included (with their
    /// reason, so a participant sees that Thursday's training is off rather than missing it;
    /// a literal `LIMIT`: SQLite compiles a statement again whenever a bound `LIMIT` is bound
    /// again).
    pub next_sessions: Vec<super::groups::SessionRow>,
    /// Newest first.
    pub runs: Vec<super::portal::RunRow>,
    /// Measurements sent and not yet (fully) answered.
    pub open_measurements: Vec<super::measure::MeasurementRow>,
    /// In the order they were scored.
    pub scores: Vec<super::measure::ScoreRow>,
    /// Messages from the therapist the participant has not opened yet.
    pub unread_messages: i64,
}

pub async fn portal_home(
    c: &mut Conn,
    session_hash: &str,
    today: &str,
) -> Result<Option<PortalHome>, sqlx::Error> {
    let sql = if c.backend_name() == "PostgreSQL" {
        portal_home_sql!("json_build_object", "json_agg")
    } else {
        portal_home_sql!("json_object", "json_group_array")
    };
    let row: Option<PortalHomeRow> = sqlx::query_as(sql)
        .bind(session_hash)
        .bind(today)
        .fetch_optional(c)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    fn list<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>, sqlx::Error> {
        serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
    Ok(Some(PortalHome {
        next_sessions: list(&row.next_sessions)?,
        runs: list(&row.runs)?,
        open_measurements: list(&row.open_measurements)?,
        scores: list(&row.scores)?,
        unread_messages: row.unread_messages,
        session: row.session,
    }))
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
/// The active trajectories of one group (offering).
pub async fn active_in_offering(
    c: &mut Conn,
    offering_id: &str,
) -> Result<Vec<TrajectoryRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        trajectory_select!(),
        "WHERE t.status = 'active' AND t.offering_id = $1 ORDER BY t.id"
    ))
    .bind(offering_id)
    .fetch_all(c)
    .await
}

/// Every active trajectory's week clock: `(id, start_date, current_week)`. Small rows, so
/// the worker can find the few whose week has ended among a country's without reading plans.
pub async fn active_weeks(c: &mut Conn) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, start_date, current_week FROM trajectories WHERE status = 'active' ORDER BY id",
    )
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
