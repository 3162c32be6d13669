//! Measurement: own questionnaires, measurement points with their answers and scores, and
//! safety alerts.

use sqlx::FromRow;

use super::{Conn, hash_token, new_id};

#[derive(Debug, Clone, FromRow)]
pub struct QuestionnaireRow {
    pub code: String,
    pub org_id: String,
    /// JSON, `duurloop_domain::measure::Instrument`.
    pub definition: String,
    pub active: i64,
}

pub async fn insert_questionnaire(
    c: &mut Conn,
    code: &str,
    org_id: &str,
    definition: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO questionnaires (code, org_id, definition, active, created_by, created_at) VALUES ($1, $2, $3, 1, $4, $5)")
        .bind(code)
        .bind(org_id)
        .bind(definition)
        .bind(by)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn questionnaire(
    c: &mut Conn,
    code: &str,
) -> Result<Option<QuestionnaireRow>, sqlx::Error> {
    sqlx::query_as("SELECT code, org_id, definition, active FROM questionnaires WHERE code = $1")
        .bind(code)
        .fetch_optional(c)
        .await
}

pub async fn questionnaires_of(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<QuestionnaireRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, org_id, definition, active FROM questionnaires WHERE org_id = $1 ORDER BY created_at",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

pub async fn set_questionnaire_active(
    c: &mut Conn,
    code: &str,
    active: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE questionnaires SET active = $1 WHERE code = $2")
        .bind(i64::from(active))
        .bind(code)
        .execute(c)
        .await
        .map(|_| ())
}

/// An offering's measurement settings ("" = the default).
pub async fn offering_settings(
    c: &mut Conn,
    offering_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT measure_points, measure_instruments FROM offerings WHERE id = $1")
        .bind(offering_id)
        .fetch_optional(c)
        .await
}

pub async fn set_offering_settings(
    c: &mut Conn,
    offering_id: &str,
    points: &str,
    instruments: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE offerings SET measure_points = $1, measure_instruments = $2 WHERE id = $3")
        .bind(points)
        .bind(instruments)
        .bind(offering_id)
        .execute(c)
        .await
        .map(|_| ())
}

#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct MeasurementRow {
    pub id: String,
    pub trajectory_id: String,
    /// baseline, week5, week10, end, followup3, followup6, …
    pub point: String,
    pub due_date: String,
    /// Instrument codes, comma-separated.
    pub instruments: String,
    /// scheduled, sent, partial, completed or expired
    pub status: String,
    #[serde(skip)]
    pub token_expires_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub reminders: i64,
    pub escalated_at: Option<i64>,
    /// Answers so far: `{instrument: {item: value}}`.
    #[schema(value_type = Object)]
    #[serde(serialize_with = "super::json_text")]
    pub answers: String,
    pub completed_at: Option<i64>,
}

macro_rules! measurement_select {
    () => {
        "SELECT id, trajectory_id, point, due_date, instruments, status, token_expires_at, sent_at, reminders, \
         escalated_at, answers, completed_at FROM measurements "
    };
}

pub async fn insert_measurement(
    c: &mut Conn,
    trajectory_id: &str,
    point: &str,
    due_date: &str,
    instruments: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO measurements (id, trajectory_id, point, due_date, instruments, status, reminders, answers, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'scheduled', 0, '{}', $6)",
    )
    .bind(&id)
    .bind(trajectory_id)
    .bind(point)
    .bind(due_date)
    .bind(instruments)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn measurement(c: &mut Conn, id: &str) -> Result<Option<MeasurementRow>, sqlx::Error> {
    sqlx::query_as(concat!(measurement_select!(), "WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// The measurement behind a link token, if the token is current and not expired.
pub async fn by_token(
    c: &mut Conn,
    token: &str,
    now: i64,
) -> Result<Option<MeasurementRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        measurement_select!(),
        "WHERE token_hash = $1 AND token_expires_at > $2 AND status IN ('sent', 'partial')"
    ))
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(c)
    .await
}

pub async fn of_trajectory(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<MeasurementRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        measurement_select!(),
        "WHERE trajectory_id = $1 ORDER BY due_date, created_at"
    ))
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// Scheduled measurements whose day has come, of trajectories that are running or (for the
/// end and follow-up points) completed.
pub async fn due_to_send(c: &mut Conn, today: &str) -> Result<Vec<MeasurementRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.trajectory_id, m.point, m.due_date, m.instruments, m.status, m.token_expires_at, m.sent_at, \
         m.reminders, m.escalated_at, m.answers, m.completed_at FROM measurements m \
         JOIN trajectories t ON t.id = m.trajectory_id \
         WHERE m.status = 'scheduled' AND m.due_date <= $1 AND t.status IN ('active', 'completed') \
         ORDER BY m.due_date LIMIT 500",
    )
    .bind(today)
    .fetch_all(c)
    .await
}

/// Sent and not yet completed.
pub async fn open_sent(c: &mut Conn) -> Result<Vec<MeasurementRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        measurement_select!(),
        "WHERE status IN ('sent', 'partial') ORDER BY sent_at LIMIT 2000"
    ))
    .fetch_all(c)
    .await
}

/// Gives the measurement a new link token (the previous link stops working).
pub async fn set_token(
    c: &mut Conn,
    id: &str,
    token: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE measurements SET token_hash = $1, token_expires_at = $2 WHERE id = $3")
        .bind(hash_token(token))
        .bind(expires_at)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn mark_sent(c: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE measurements SET status = 'sent', sent_at = $1 WHERE id = $2 AND status = 'scheduled'")
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn count_reminder(c: &mut Conn, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE measurements SET reminders = reminders + 1 WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn mark_escalated(c: &mut Conn, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE measurements SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_expired(c: &mut Conn, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE measurements SET status = 'expired', token_hash = NULL WHERE id = $1 AND status IN ('sent', 'partial')")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

/// Saves the answers so far (a partial save keeps the link working).
pub async fn save_answers(
    c: &mut Conn,
    id: &str,
    answers: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE measurements SET answers = $1, status = $2 WHERE id = $3")
        .bind(answers)
        .bind(status)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

/// Completes the measurement; the link is used up.
pub async fn complete(
    c: &mut Conn,
    id: &str,
    answers: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE measurements SET answers = $1, status = 'completed', completed_at = $2, token_hash = NULL \
         WHERE id = $3 AND status <> 'completed'",
    )
    .bind(answers)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ScoreRow {
    pub measurement_id: String,
    pub instrument: String,
    pub point: String,
    pub total: f64,
    pub raw: i64,
    pub band: Option<String>,
    pub prorated: i64,
    pub scored_at: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_score(
    c: &mut Conn,
    measurement_id: &str,
    trajectory_id: &str,
    instrument: &str,
    point: &str,
    total: f64,
    raw: i64,
    band: Option<&str>,
    prorated: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO measurement_scores (measurement_id, trajectory_id, instrument, point, total, raw, band, prorated, scored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(measurement_id)
    .bind(trajectory_id)
    .bind(instrument)
    .bind(point)
    .bind(total)
    .bind(raw)
    .bind(band)
    .bind(i64::from(prorated))
    .bind(now)
    .execute(&mut *c)
    .await?;
    // The first and latest score per trajectory and instrument, for reports (migration 10).
    sqlx::query(
        "INSERT INTO score_pairs (trajectory_id, instrument, scores, first_total, first_at, last_total, last_at) \
         VALUES ($1, $2, 1, $3, $4, $3, $4) ON CONFLICT (trajectory_id, instrument) DO UPDATE SET \
         scores = score_pairs.scores + 1, \
         first_total = CASE WHEN excluded.first_at < score_pairs.first_at THEN excluded.first_total ELSE score_pairs.first_total END, \
         first_at = CASE WHEN excluded.first_at < score_pairs.first_at THEN excluded.first_at ELSE score_pairs.first_at END, \
         last_total = CASE WHEN excluded.last_at >= score_pairs.last_at THEN excluded.last_total ELSE score_pairs.last_total END, \
         last_at = CASE WHEN excluded.last_at >= score_pairs.last_at THEN excluded.last_at ELSE score_pairs.last_at END",
    )
    .bind(trajectory_id)
    .bind(instrument)
    .bind(total)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

/// Every score of a trajectory, in the order they were given.
pub async fn scores(c: &mut Conn, trajectory_id: &str) -> Result<Vec<ScoreRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT measurement_id, instrument, point, total, raw, band, prorated, scored_at FROM measurement_scores \
         WHERE trajectory_id = $1 ORDER BY scored_at, instrument",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AlertRow {
    pub id: String,
    pub trajectory_id: String,
    pub client_name: String,
    pub instrument: String,
    pub item: String,
    pub answer: i64,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// Records an alert once per measurement, instrument and item; true when it is new.
#[allow(clippy::too_many_arguments)]
pub async fn insert_alert(
    c: &mut Conn,
    measurement_id: &str,
    trajectory_id: &str,
    instrument: &str,
    item: &str,
    answer: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let exists: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM safety_alerts WHERE measurement_id = $1 AND instrument = $2 AND item = $3",
    )
    .bind(measurement_id)
    .bind(instrument)
    .bind(item)
    .fetch_optional(&mut *c)
    .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO safety_alerts (id, measurement_id, trajectory_id, instrument, item, answer, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(measurement_id)
    .bind(trajectory_id)
    .bind(instrument)
    .bind(item)
    .bind(answer)
    .bind(now)
    .execute(c)
    .await?;
    Ok(true)
}

macro_rules! alert_select {
    () => {
        "SELECT a.id, a.trajectory_id, r.client_name, a.instrument, a.item, a.answer, a.created_at, a.acknowledged_at \
         FROM safety_alerts a JOIN trajectories t ON t.id = a.trajectory_id JOIN referrals r ON r.id = t.referral_id "
    };
}

/// Unacknowledged alerts of the trajectories a person treats, or of an organisation they
/// coordinate.
pub async fn open_alerts(
    c: &mut Conn,
    user_id: &str,
    coordinated_orgs: &[String],
) -> Result<Vec<AlertRow>, sqlx::Error> {
    let mut out: Vec<AlertRow> = sqlx::query_as(concat!(
        alert_select!(),
        "WHERE a.acknowledged_at IS NULL AND t.therapist_user_id = $1 ORDER BY a.created_at"
    ))
    .bind(user_id)
    .fetch_all(&mut *c)
    .await?;
    for org in coordinated_orgs {
        let more: Vec<AlertRow> = sqlx::query_as(concat!(
            alert_select!(),
            "WHERE a.acknowledged_at IS NULL AND t.org_id = $1 ORDER BY a.created_at"
        ))
        .bind(org)
        .fetch_all(&mut *c)
        .await?;
        for a in more {
            if !out.iter().any(|o| o.id == a.id) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

pub async fn alerts_of(c: &mut Conn, trajectory_id: &str) -> Result<Vec<AlertRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        alert_select!(),
        "WHERE a.trajectory_id = $1 ORDER BY a.created_at"
    ))
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

pub async fn alert(c: &mut Conn, id: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    sqlx::query_as(concat!(alert_select!(), "WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn acknowledge_alert(
    c: &mut Conn,
    id: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE safety_alerts SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL")
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}
