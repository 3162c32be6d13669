//! Participant portal: magic links, portal sessions and the run log.

use sqlx::FromRow;

use super::{Conn, hash_token, new_id};

/// Active trajectories of a participant's e-mail address (newest first).
/// The latest active trajectory of the participant with this address, with the language of
/// their mails.
pub async fn active_trajectory_for_email(
    c: &mut Conn,
    email: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, r.client_lang FROM trajectories t JOIN referrals r ON r.id = t.referral_id \
         WHERE r.client_email = $1 AND t.status = 'active' ORDER BY t.created_at DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(c)
    .await
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

// ---------------------------------------------------------------------------------------
// The participant's own data download (SPEC C12, ASVS 8.3.2): what `app::portal::export`
// puts in the file. Token hashes, submission keys and reminder bookkeeping are not read.

/// The referral as it concerns the participant.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportReferral {
    pub id: String,
    pub status: String,
    pub source: String,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: String,
    pub client_postcode: String,
    /// Comma-separated indication codes.
    pub indications: String,
    pub medication: String,
    pub physical_limits: String,
    pub motivation: String,
    pub funding_route: String,
    pub consent_by: String,
    pub consent_at: i64,
    pub consent_text: String,
    pub note: String,
    pub referrer_name: Option<String>,
    pub referrer_org_name: Option<String>,
    pub offering_title: Option<String>,
    pub provider_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the participant objected to research use of their data (none: no objection).
    pub research_objection_at: Option<i64>,
}

pub async fn export_referral(
    c: &mut Conn,
    referral_id: &str,
) -> Result<Option<ExportReferral>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.status, r.source, r.client_name, r.client_email, r.client_phone, \
         r.client_postcode, r.indications, r.medication, r.physical_limits, r.motivation, \
         r.funding_route, r.consent_by, r.consent_at, r.consent_text, r.note, \
         u.name AS referrer_name, ro.name AS referrer_org_name, o.title AS offering_title, \
         po.name AS provider_name, r.created_at, r.updated_at, r.research_objection_at \
         FROM referrals r LEFT JOIN users u ON u.id = r.referrer_user_id \
         LEFT JOIN organisations ro ON ro.id = r.referrer_org_id \
         LEFT JOIN offerings o ON o.id = r.offering_id \
         LEFT JOIN organisations po ON po.id = o.org_id WHERE r.id = $1",
    )
    .bind(referral_id)
    .fetch_optional(c)
    .await
}

/// One step in the referral's timeline.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportReferralEvent {
    pub at: i64,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
    pub actor_name: Option<String>,
}

pub async fn export_referral_events(
    c: &mut Conn,
    referral_id: &str,
) -> Result<Vec<ExportReferralEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.at, e.kind, e.from_status, e.to_status, e.note, u.name AS actor_name \
         FROM referral_events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.referral_id = $1 ORDER BY e.at, e.id",
    )
    .bind(referral_id)
    .fetch_all(c)
    .await
}

/// An invitation to the intake and trial session (without its link).
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportInvitation {
    pub intake_at: String,
    pub trial_at: String,
    pub message: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

pub async fn export_invitations(
    c: &mut Conn,
    referral_id: &str,
) -> Result<Vec<ExportInvitation>, sqlx::Error> {
    sqlx::query_as(
        "SELECT intake_at, trial_at, message, created_at, confirmed_at FROM client_invitations \
         WHERE referral_id = $1 ORDER BY created_at",
    )
    .bind(referral_id)
    .fetch_all(c)
    .await
}

/// A group session of the participant's offering, with their attendance when recorded.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportSession {
    pub session_date: String,
    pub start_time: String,
    pub duration_min: i64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: String,
    pub attendance: Option<String>,
    pub attendance_note: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<i64>,
}

/// The sessions of the offering from the trajectory's start, and every session with
/// attendance recorded for the trajectory.
pub async fn export_sessions(
    c: &mut Conn,
    trajectory_id: &str,
    offering_id: &str,
    start_date: &str,
) -> Result<Vec<ExportSession>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.session_date, s.start_time, s.duration_min, s.cancelled_at, s.cancel_reason, \
         a.status AS attendance, a.note AS attendance_note, u.name AS recorded_by, a.recorded_at \
         FROM group_sessions s \
         LEFT JOIN attendance a ON a.session_id = s.id AND a.trajectory_id = $1 \
         LEFT JOIN users u ON u.id = a.recorded_by \
         WHERE (s.offering_id = $2 AND s.session_date >= $3) OR a.trajectory_id IS NOT NULL \
         ORDER BY s.session_date, s.start_time",
    )
    .bind(trajectory_id)
    .bind(offering_id)
    .bind(start_date)
    .fetch_all(c)
    .await
}

/// A measurement point with the answers given (without its link).
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportMeasurement {
    pub id: String,
    pub point: String,
    pub due_date: String,
    pub instruments: String,
    pub status: String,
    pub sent_at: Option<i64>,
    /// The answers as JSON text.
    pub answers: String,
    pub completed_at: Option<i64>,
}

pub async fn export_measurements(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<ExportMeasurement>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, point, due_date, instruments, status, sent_at, answers, completed_at \
         FROM measurements WHERE trajectory_id = $1 ORDER BY due_date, point",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportScore {
    pub measurement_id: String,
    pub instrument: String,
    pub point: String,
    pub total: f64,
    pub raw: i64,
    pub band: Option<String>,
    pub prorated: i64,
    pub scored_at: i64,
}

pub async fn export_scores(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<ExportScore>, sqlx::Error> {
    sqlx::query_as(
        "SELECT measurement_id, instrument, point, total, raw, band, prorated, scored_at \
         FROM measurement_scores WHERE trajectory_id = $1 ORDER BY scored_at, instrument",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportSafetyAlert {
    pub instrument: String,
    pub item: String,
    pub answer: i64,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
}

pub async fn export_safety_alerts(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<ExportSafetyAlert>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.instrument, a.item, a.answer, a.created_at, a.acknowledged_at, \
         u.name AS acknowledged_by FROM safety_alerts a \
         LEFT JOIN users u ON u.id = a.acknowledged_by \
         WHERE a.trajectory_id = $1 ORDER BY a.created_at",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// A feedback report to the referrer about the trajectory.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportFeedback {
    pub kind: String,
    pub status: String,
    pub summary: String,
    pub advice: String,
    pub next_steps: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

pub async fn export_feedback(
    c: &mut Conn,
    trajectory_id: &str,
) -> Result<Vec<ExportFeedback>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.kind, f.status, f.summary, f.advice, f.next_steps, u.name AS created_by, \
         f.created_at, f.updated_at, f.sent_at FROM feedback_reports f \
         LEFT JOIN users u ON u.id = f.created_by \
         WHERE f.trajectory_id = $1 ORDER BY f.created_at",
    )
    .bind(trajectory_id)
    .fetch_all(c)
    .await
}

/// One audit entry about the participant's record: who (name and role), when, what. The
/// address and browser of the person who acted are not included (they are that person's data,
/// not the participant's).
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExportAuditEntry {
    pub at: i64,
    /// The staff member's name; empty for the participant themselves and for the system.
    pub actor_name: Option<String>,
    /// The role they acted in (`therapist`, `coordinator`, `system`, …); empty for the
    /// participant themselves.
    pub actor_role: Option<String>,
    pub action: String,
    pub record_type: String,
    pub outcome: String,
}

/// The audit entries whose record is the trajectory, its referral (and intake) or one of its
/// runs, measurements, feedback reports or messages, oldest first.
pub async fn export_audit(
    c: &mut Conn,
    trajectory_id: &str,
    referral_id: &str,
) -> Result<Vec<ExportAuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.at, u.name AS actor_name, a.actor_role, a.action, a.record_type, a.outcome \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
         WHERE a.record_id = $1 OR a.record_id = $2 \
         OR a.record_id IN (SELECT id FROM runs WHERE trajectory_id = $1) \
         OR a.record_id IN (SELECT id FROM measurements WHERE trajectory_id = $1) \
         OR a.record_id IN (SELECT id FROM feedback_reports WHERE trajectory_id = $1) \
         OR a.record_id IN (SELECT id FROM messages WHERE trajectory_id = $1) \
         ORDER BY a.at, a.id",
    )
    .bind(trajectory_id)
    .bind(referral_id)
    .fetch_all(c)
    .await
}
