//! Referrals, their timeline, client invitations and intakes.

use sqlx::FromRow;

use super::{Conn, hash_token, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ReferralRow {
    pub id: String,
    pub status: String,
    pub source: String,
    pub offering_id: Option<String>,
    pub offering_title: Option<String>,
    pub offering_org_id: Option<String>,
    pub therapist_user_id: Option<String>,
    pub region_org_id: Option<String>,
    pub referrer_user_id: Option<String>,
    pub referrer_name: Option<String>,
    pub referrer_org_id: Option<String>,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: String,
    pub client_postcode: String,
    pub indications: String,
    pub medication: String,
    pub physical_limits: String,
    pub motivation: String,
    pub funding_route: String,
    pub consent_by: String,
    pub consent_at: i64,
    pub consent_text: String,
    pub note: String,
    pub respond_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the participant's personal data was erased (`app::referrals::erase`).
    pub erased_at: Option<i64>,
    /// The language of the mails to the participant: `nl` or `en`.
    pub client_lang: String,
    /// When the participant objected to the use of their data for research (`None`: they
    /// did not); research exports leave the referral out (`app::research`).
    pub research_objection_at: Option<i64>,
}

macro_rules! referral_select {
    () => {
        "SELECT r.id, r.status, r.source, r.offering_id, o.title AS offering_title, o.org_id AS offering_org_id, \
         t.user_id AS therapist_user_id, r.region_org_id, r.referrer_user_id, u.name AS referrer_name, \
         r.referrer_org_id, r.client_name, r.client_email, r.client_phone, r.client_postcode, r.indications, \
         r.medication, r.physical_limits, r.motivation, r.funding_route, r.consent_by, r.consent_at, \
         r.consent_text, r.note, r.respond_by, r.created_at, r.updated_at, r.erased_at, r.client_lang, \
         r.research_objection_at \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id \
         LEFT JOIN therapists t ON t.id = o.therapist_id LEFT JOIN users u ON u.id = r.referrer_user_id "
    };
}

pub struct NewReferral<'a> {
    pub status: &'a str,
    pub source: &'a str,
    pub offering_id: Option<&'a str>,
    pub region_org_id: Option<&'a str>,
    pub referrer_user_id: Option<&'a str>,
    pub referrer_org_id: Option<&'a str>,
    pub client_name: &'a str,
    pub client_email: &'a str,
    pub client_phone: &'a str,
    pub client_postcode: &'a str,
    /// `nl` or `en`: the language of the mails to the participant.
    pub client_lang: &'a str,
    pub indications: &'a str,
    pub medication: &'a str,
    pub physical_limits: &'a str,
    pub motivation: &'a str,
    pub funding_route: &'a str,
    pub consent_by: &'a str,
    pub consent_text: &'a str,
    pub note: &'a str,
    pub submission_key: &'a str,
    pub respond_by: i64,
    pub now: i64,
}

pub async fn insert(c: &mut Conn, r: &NewReferral<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO referrals (id, status, source, offering_id, region_org_id, referrer_user_id, referrer_org_id, \
         client_name, client_email, client_phone, client_postcode, indications, medication, physical_limits, \
         motivation, funding_route, consent_by, consent_at, consent_text, note, submission_key, respond_by, \
         created_at, updated_at, client_lang) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $18, $18, $23)",
    )
    .bind(&id)
    .bind(r.status)
    .bind(r.source)
    .bind(r.offering_id)
    .bind(r.region_org_id)
    .bind(r.referrer_user_id)
    .bind(r.referrer_org_id)
    .bind(r.client_name)
    .bind(r.client_email)
    .bind(r.client_phone)
    .bind(r.client_postcode)
    .bind(r.indications)
    .bind(r.medication)
    .bind(r.physical_limits)
    .bind(r.motivation)
    .bind(r.funding_route)
    .bind(r.consent_by)
    .bind(r.now)
    .bind(r.consent_text)
    .bind(r.note)
    .bind(r.submission_key)
    .bind(r.respond_by)
    .bind(r.client_lang)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn by_submission_key(c: &mut Conn, key: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM referrals WHERE submission_key = $1")
            .bind(key)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Records (`Some(when)`) or withdraws (`None`) the participant's objection to research use.
pub async fn set_research_objection(
    c: &mut Conn,
    id: &str,
    at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE referrals SET research_objection_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}

/// When the referral's participant objected to research use (`None`: no objection).
pub async fn research_objection(c: &mut Conn, id: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT research_objection_at FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?;
    Ok(row.and_then(|(at,)| at))
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<ReferralRow>, sqlx::Error> {
    sqlx::query_as(concat!(referral_select!(), "WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// Referrals a person may see: their own (as referrer), their practice's when the practice
/// shares them, those to offerings they run (as therapist), those to their organisation's
/// offerings or their region (as coordinator). Ids of orgs passed in by the caller, who
/// knows the person's roles.
pub struct Visibility<'a> {
    pub user_id: &'a str,
    /// Organisations whose referrals (made by any member) the person sees as referrer.
    pub shared_referrer_orgs: &'a [String],
    /// Organisations whose offerings' and region's referrals the person sees as coordinator.
    pub coordinated_orgs: &'a [String],
    pub all: bool,
}

pub async fn visible(c: &mut Conn, v: &Visibility<'_>) -> Result<Vec<ReferralRow>, sqlx::Error> {
    let shared = format!(",{},", v.shared_referrer_orgs.join(","));
    let coordinated = format!(",{},", v.coordinated_orgs.join(","));
    sqlx::query_as(concat!(
        referral_select!(),
        "WHERE $1 = 1 OR r.referrer_user_id = $2 OR t.user_id = $2 \
         OR (r.referrer_org_id IS NOT NULL AND $3 LIKE '%,' || r.referrer_org_id || ',%') \
         OR (o.org_id IS NOT NULL AND $4 LIKE '%,' || o.org_id || ',%') \
         OR (r.region_org_id IS NOT NULL AND $4 LIKE '%,' || r.region_org_id || ',%') \
         ORDER BY r.created_at DESC LIMIT 500"
    ))
    .bind(i64::from(v.all))
    .bind(v.user_id)
    .bind(shared)
    .bind(coordinated)
    .fetch_all(c)
    .await
}

/// Changes the status only if it is still `from` (a concurrent change makes this a no-op).
pub async fn set_status(
    c: &mut Conn,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE referrals SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(to)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn reassign(
    c: &mut Conn,
    id: &str,
    offering_id: &str,
    respond_by: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE referrals SET offering_id = $1, respond_by = $2, reminded_therapist_at = NULL, \
         reminded_coordinator_at = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(offering_id)
    .bind(respond_by)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    pub id: String,
    pub at: i64,
    pub actor_name: Option<String>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
}

pub struct NewEvent<'a> {
    pub referral_id: &'a str,
    pub actor_user_id: Option<&'a str>,
    pub kind: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub note: &'a str,
    pub now: i64,
}

pub async fn add_event(c: &mut Conn, e: &NewEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO referral_events (id, referral_id, at, actor_user_id, kind, from_status, to_status, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(e.referral_id)
    .bind(e.now)
    .bind(e.actor_user_id)
    .bind(e.kind)
    .bind(e.from_status)
    .bind(e.to_status)
    .bind(e.note)
    .execute(&mut *c)
    .await?;
    if e.to_status == Some("started") {
        // The first start, kept for reports (migration 11).
        sqlx::query(
            "UPDATE referrals SET started_at = $1 \
             WHERE id = $2 AND (started_at IS NULL OR started_at > $1)",
        )
        .bind(e.now)
        .bind(e.referral_id)
        .execute(c)
        .await?;
    }
    Ok(())
}

pub async fn timeline(c: &mut Conn, referral_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.at, u.name AS actor_name, e.kind, e.from_status, e.to_status, e.note \
         FROM referral_events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.referral_id = $1 ORDER BY e.at, e.id",
    )
    .bind(referral_id)
    .fetch_all(c)
    .await
}

// ---- client invitations ----

pub struct NewClientInvitation<'a> {
    pub token: &'a str,
    pub referral_id: &'a str,
    pub intake_at: &'a str,
    pub trial_at: &'a str,
    pub message: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_client_invitation(
    c: &mut Conn,
    i: &NewClientInvitation<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO client_invitations (token_hash, referral_id, intake_at, trial_at, message, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash_token(i.token))
    .bind(i.referral_id)
    .bind(i.intake_at)
    .bind(i.trial_at)
    .bind(i.message)
    .bind(i.now)
    .bind(i.expires_at)
    .execute(c)
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, FromRow)]
pub struct ClientInvitationRow {
    pub token_hash: String,
    pub referral_id: String,
    pub intake_at: String,
    pub trial_at: String,
    pub message: String,
    pub expires_at: i64,
    pub confirmed_at: Option<i64>,
}

pub async fn client_invitation(
    c: &mut Conn,
    token: &str,
) -> Result<Option<ClientInvitationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT token_hash, referral_id, intake_at, trial_at, message, expires_at, confirmed_at \
         FROM client_invitations WHERE token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(c)
    .await
}

pub async fn confirm_client_invitation(
    c: &mut Conn,
    token_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE client_invitations SET confirmed_at = $1 WHERE token_hash = $2 AND confirmed_at IS NULL")
        .bind(now)
        .bind(token_hash)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---- intakes ----

#[derive(Debug, Clone, Default, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct IntakeRow {
    pub referral_id: String,
    pub planned_for: String,
    /// Comma-separated `question=yes|no` pairs.
    pub screen: String,
    /// Comma-separated flagged questions.
    pub flagged: String,
    pub resting_hr: Option<i64>,
    pub age: Option<i64>,
    pub height_cm: Option<i64>,
    pub weight_kg: Option<i64>,
    pub current_activity: String,
    pub running_history: String,
    pub injuries: String,
    pub goals: String,
    pub preferences: String,
    pub clearance_by: Option<String>,
    pub clearance_date: Option<String>,
    pub clearance_note: Option<String>,
    pub recorded_at: Option<i64>,
    pub decision: Option<String>,
    pub decision_reason: String,
}

pub async fn intake(c: &mut Conn, referral_id: &str) -> Result<Option<IntakeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT referral_id, planned_for, screen, flagged, resting_hr, age, height_cm, weight_kg, current_activity, \
         running_history, injuries, goals, preferences, clearance_by, clearance_date, clearance_note, recorded_at, \
         decision, decision_reason FROM intakes WHERE referral_id = $1",
    )
    .bind(referral_id)
    .fetch_optional(c)
    .await
}

pub async fn plan_intake(
    c: &mut Conn,
    referral_id: &str,
    planned_for: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO intakes (referral_id, planned_for, screen, flagged, current_activity, running_history, injuries, \
         goals, preferences, decision_reason, updated_at) VALUES ($1, $2, '', '', '', '', '', '', '', '', $3) \
         ON CONFLICT (referral_id) DO UPDATE SET planned_for = excluded.planned_for, updated_at = excluded.updated_at",
    )
    .bind(referral_id)
    .bind(planned_for)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn record_intake(c: &mut Conn, i: &IntakeRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE intakes SET screen = $1, flagged = $2, resting_hr = $3, age = $4, height_cm = $5, weight_kg = $6, \
         current_activity = $7, running_history = $8, injuries = $9, goals = $10, preferences = $11, \
         recorded_at = $12, updated_at = $12 WHERE referral_id = $13",
    )
    .bind(&i.screen)
    .bind(&i.flagged)
    .bind(i.resting_hr)
    .bind(i.age)
    .bind(i.height_cm)
    .bind(i.weight_kg)
    .bind(&i.current_activity)
    .bind(&i.running_history)
    .bind(&i.injuries)
    .bind(&i.goals)
    .bind(&i.preferences)
    .bind(now)
    .bind(&i.referral_id)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn record_clearance(
    c: &mut Conn,
    referral_id: &str,
    by: &str,
    date: &str,
    note: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE intakes SET clearance_by = $1, clearance_date = $2, clearance_note = $3, updated_at = $4 WHERE referral_id = $5",
    )
    .bind(by)
    .bind(date)
    .bind(note)
    .bind(now)
    .bind(referral_id)
    .execute(c)
    .await
    .map(|_| ())
}

pub async fn record_decision(
    c: &mut Conn,
    referral_id: &str,
    decision: &str,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE intakes SET decision = $1, decision_reason = $2, updated_at = $3 WHERE referral_id = $4")
        .bind(decision)
        .bind(reason)
        .bind(now)
        .bind(referral_id)
        .execute(c)
        .await
        .map(|_| ())
}

// ---- response targets ----

/// Whether a waiting referral has been offered a freed place (and still waits for the
/// therapist to take it in): a `place_offered` step on its timeline since it was put on the
/// waiting list.
macro_rules! offered_since_waitlisted {
    () => {
        "EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id AND e.kind = 'place_offered' \
         AND e.at >= COALESCE((SELECT MAX(w.at) FROM referral_events w WHERE w.referral_id = r.id \
         AND w.kind = 'status' AND w.to_status = 'waitlisted'), 0))"
    };
}

#[derive(Debug, Clone, FromRow)]
pub struct OverdueRow {
    pub id: String,
    pub respond_by: i64,
    pub offering_org_id: Option<String>,
    pub region_org_id: Option<String>,
    pub therapist_user_id: Option<String>,
    pub reminded_therapist_at: Option<i64>,
    /// 1 when it is a waiting referral offered a place (the therapist has to take them in),
    /// 0 for a referral waiting for its first response.
    pub place_offered: i64,
}

/// Referrals still waiting for the therapist's first action, or waiting on the list with a
/// place offered that the therapist has not taken up, whose target has passed and for
/// which a reminder is still due (the therapist's, or the coordinator's after that).
pub async fn overdue(c: &mut Conn, now: i64) -> Result<Vec<OverdueRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT r.id, r.respond_by, o.org_id AS offering_org_id, r.region_org_id, t.user_id AS therapist_user_id, \
         r.reminded_therapist_at, CAST(CASE WHEN r.status = 'waitlisted' THEN 1 ELSE 0 END AS BIGINT) AS place_offered \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id \
         LEFT JOIN therapists t ON t.id = o.therapist_id \
         WHERE r.respond_by <= $1 AND r.reminded_coordinator_at IS NULL \
         AND (r.status IN ('sent', 'received') OR (r.status = 'waitlisted' AND ",
        offered_since_waitlisted!(),
        ")) ORDER BY r.respond_by LIMIT 200"
    ))
    .bind(now)
    .fetch_all(c)
    .await
}

pub async fn stamp_reminder(
    c: &mut Conn,
    id: &str,
    coordinator: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = if coordinator {
        "UPDATE referrals SET reminded_coordinator_at = $1 WHERE id = $2 AND reminded_coordinator_at IS NULL"
    } else {
        "UPDATE referrals SET reminded_therapist_at = $1 WHERE id = $2 AND reminded_therapist_at IS NULL"
    };
    let r = sqlx::query(sql).bind(now).bind(id).execute(c).await?;
    Ok(r.rows_affected() == 1)
}

/// E-mail addresses of an organisation's coordinators.
pub async fn coordinator_emails(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.email, u.lang FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND m.role = 'coordinator' ORDER BY u.email",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// The referral that has waited longest on an offering's waiting list.
/// The participant of a trajectory switched the portal's language: their mails follow.
pub async fn set_client_lang_of_trajectory(
    c: &mut Conn,
    trajectory_id: &str,
    lang: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE referrals SET client_lang = $1 \
         WHERE id = (SELECT referral_id FROM trajectories WHERE id = $2)",
    )
    .bind(lang)
    .bind(trajectory_id)
    .execute(c)
    .await
    .map(|_| ())
}

/// When referral `r` entered its current status: the latest step of its timeline into that
/// status, or its last update for a referral without one (rows loaded without a timeline).
/// For a closed referral this is its closing moment, from which the retention period runs;
/// `referral_events_status` (migration 10) finds the step.
macro_rules! status_since {
    () => {
        "COALESCE((SELECT MAX(e.at) FROM referral_events e WHERE e.to_status = r.status \
         AND e.referral_id = r.id AND e.kind = 'status'), r.updated_at)"
    };
}

/// A place was offered to a waiting referral: the therapist's response target starts again
/// (`respond_by`, with both reminders due anew), so [`overdue`] reminds them to take the
/// person in as it reminds them of a new referral.
pub async fn restart_response_target(
    c: &mut Conn,
    id: &str,
    respond_by: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE referrals SET respond_by = $1, reminded_therapist_at = NULL, \
         reminded_coordinator_at = NULL WHERE id = $2",
    )
    .bind(respond_by)
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())
}

/// How many of the offering's waiting referrals hold an offered place.
pub async fn offered_places(c: &mut Conn, offering_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals r WHERE r.offering_id = $1 \
         AND r.status = 'waitlisted' AND ",
        offered_since_waitlisted!()
    ))
    .bind(offering_id)
    .fetch_one(c)
    .await
}

/// The offering's waiting referrals not yet offered a place, longest waiting first (by when
/// they were put on the list), at most `limit`.
pub async fn waiting_not_offered(
    c: &mut Conn,
    offering_id: &str,
    limit: i64,
) -> Result<Vec<ReferralRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        referral_select!(),
        "WHERE r.offering_id = $1 AND r.status = 'waitlisted' AND NOT ",
        offered_since_waitlisted!(),
        " ORDER BY ",
        status_since!(),
        ", r.id LIMIT $2"
    ))
    .bind(offering_id)
    .bind(limit)
    .fetch_all(c)
    .await
}

/// When the referral entered its current status (see `status_since!`); `None` when there is
/// no such referral.
pub async fn status_since(c: &mut Conn, id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT ",
        status_since!(),
        " FROM referrals r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

/// Up to `limit` referrals with an id above `after`, by id, that are in one of the `closed`
/// statuses, not erased, and entered that status before `before` (the retention period's
/// start). The statuses are passed in so the domain's list (`ReferralStatus::CLOSED`) stays
/// the only one; `after` lets the caller page through them.
pub async fn closed_before(
    c: &mut Conn,
    closed: [&str; 4],
    before: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT r.id FROM referrals r WHERE r.status IN ($1, $2, $3, $4) \
         AND r.erased_at IS NULL AND r.id > $5 AND ",
        status_since!(),
        " < $6 ORDER BY r.id LIMIT $7"
    ))
    .bind(closed[0])
    .bind(closed[1])
    .bind(closed[2])
    .bind(closed[3])
    .bind(after)
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await
}

/// When a referral last changed and whether its trajectory is running. The last change is
/// the latest of the referral's own `updated_at`, its timeline's events (status changes,
/// reminders, reassignments), its intake's and its trajectory's `updated_at`; running means
/// a trajectory in status `active`. `None` for an unknown referral.
pub async fn last_change(c: &mut Conn, id: &str) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT r.updated_at, \
         COALESCE((SELECT MAX(e.at) FROM referral_events e WHERE e.referral_id = r.id), 0), \
         COALESCE((SELECT MAX(i.updated_at) FROM intakes i WHERE i.referral_id = r.id), 0), \
         COALESCE((SELECT MAX(t.updated_at) FROM trajectories t WHERE t.referral_id = r.id), 0), \
         CAST((SELECT COUNT(*) FROM trajectories t WHERE t.referral_id = r.id \
         AND t.status = 'active') AS BIGINT) \
         FROM referrals r WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(row.map(|(own, event, intake, trajectory, running)| {
        (own.max(event).max(intake).max(trajectory), running > 0)
    }))
}

/// Up to `limit` referrals with an id above `after`, by id, that are in one of the
/// `not_started` statuses, not erased, have no running (`active`) trajectory and have not
/// changed since before `before` (see [`last_change`]). The statuses are passed in so the
/// domain's list (`ReferralStatus::NOT_STARTED`) stays the only one.
pub async fn unchanged_before(
    c: &mut Conn,
    not_started: [&str; 6],
    before: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT r.id FROM referrals r WHERE r.status IN ($1, $2, $3, $4, $5, $6) \
         AND r.erased_at IS NULL AND r.id > $7 AND r.updated_at < $8 \
         AND NOT EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id AND e.at >= $9) \
         AND NOT EXISTS (SELECT 1 FROM intakes i WHERE i.referral_id = r.id AND i.updated_at >= $10) \
         AND NOT EXISTS (SELECT 1 FROM trajectories t WHERE t.referral_id = r.id \
         AND (t.status = 'active' OR t.updated_at >= $11)) \
         ORDER BY r.id LIMIT $12",
    )
    .bind(not_started[0])
    .bind(not_started[1])
    .bind(not_started[2])
    .bind(not_started[3])
    .bind(not_started[4])
    .bind(not_started[5])
    .bind(after)
    .bind(before)
    .bind(before)
    .bind(before)
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await
}

/// Erases the participant's personal data of one referral and its trajectory (see
/// `app::referrals::erase` for what goes and what stays, and why). Returns false when the
/// referral was already erased (then nothing is changed). Runs in the caller's transaction.
pub async fn erase(
    c: &mut Conn,
    id: &str,
    placeholder: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let email: Option<String> = sqlx::query_scalar(
        "SELECT client_email FROM referrals WHERE id = $1 AND erased_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(email) = email else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE referrals SET client_name = $1, client_email = '', client_phone = '', \
         client_postcode = '', medication = '', physical_limits = '', motivation = '', note = '', \
         consent_by = CASE WHEN consent_by = client_name THEN $1 ELSE consent_by END, \
         erased_at = $2, updated_at = $2 WHERE id = $3 AND erased_at IS NULL",
    )
    .bind(placeholder)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    let by_referral = [
        "UPDATE referral_events SET note = '' WHERE referral_id = $1",
        "DELETE FROM client_invitations WHERE referral_id = $1",
        "UPDATE intakes SET screen = '', flagged = '', resting_hr = NULL, age = NULL, \
         height_cm = NULL, weight_kg = NULL, current_activity = '', running_history = '', \
         injuries = '', goals = '', preferences = '', clearance_by = NULL, clearance_date = NULL, \
         clearance_note = NULL, decision_reason = '' WHERE referral_id = $1",
    ];
    for sql in by_referral {
        sqlx::query(sql).bind(id).execute(&mut *c).await?;
    }
    let by_trajectory = [
        "UPDATE runs SET pain_where = '', note = '' WHERE trajectory_id IN",
        "UPDATE attendance SET note = '' WHERE trajectory_id IN",
        "UPDATE measurements SET answers = '{}', token_hash = NULL, token_expires_at = NULL \
         WHERE trajectory_id IN",
        "DELETE FROM safety_alerts WHERE trajectory_id IN",
        "UPDATE feedback_reports SET summary = '', advice = '', next_steps = '' WHERE trajectory_id IN",
        "DELETE FROM portal_sessions WHERE trajectory_id IN",
        "DELETE FROM portal_links WHERE trajectory_id IN",
        "DELETE FROM participant_calendar_feeds WHERE trajectory_id IN",
        "DELETE FROM messages WHERE trajectory_id IN",
    ];
    for sql in by_trajectory {
        // Only the constant statements above, never input, go into the text.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{sql} (SELECT id FROM trajectories WHERE referral_id = $1)"
        )))
        .bind(id)
        .execute(&mut *c)
        .await?;
    }
    if !email.trim().is_empty() {
        sqlx::query("DELETE FROM outbox WHERE LOWER(to_addr) = LOWER($1)")
            .bind(email.trim())
            .execute(&mut *c)
            .await?;
    }
    Ok(true)
}
