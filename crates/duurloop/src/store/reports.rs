//! What the impact reports read: one row per referral with its dimensions and stages, the
//! attendance per trajectory, and the questionnaire scores in order.

use futures_util::TryStreamExt;
use sqlx::FromRow;

use super::Conn;

/// A referral as the reports see it: no names of participants, only dimensions and stages.
#[derive(Debug, Clone, FromRow)]
pub struct ReferralFact {
    pub id: String,
    pub status: String,
    pub created_at: i64,
    pub indications: String,
    pub funding_route: String,
    pub region_org_id: Option<String>,
    pub referrer_org_id: Option<String>,
    pub referrer_org: Option<String>,
    pub offering_id: Option<String>,
    pub offering_title: Option<String>,
    pub practice_id: Option<String>,
    pub practice: Option<String>,
    pub therapist: Option<String>,
    pub trajectory_id: Option<String>,
    pub intake: i64,
    pub started_at: Option<i64>,
    pub dropout_reason: Option<String>,
}

/// Every referral made in `[from, to)` (Unix ms).
pub async fn referral_facts(
    c: &mut Conn,
    from: i64,
    to: i64,
) -> Result<Vec<ReferralFact>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.status, r.created_at, r.indications, r.funding_route, r.region_org_id, r.referrer_org_id, \
         ro.name AS referrer_org, o.id AS offering_id, o.title AS offering_title, o.org_id AS practice_id, \
         po.name AS practice, th.name AS therapist, t.id AS trajectory_id, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM intakes i WHERE i.referral_id = r.id AND i.recorded_at IS NOT NULL) AS intake, \
         (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = r.id AND e.to_status = 'started') AS started_at, \
         (SELECT MAX(e.note) FROM referral_events e WHERE e.referral_id = r.id AND e.to_status = 'dropped_out') AS dropout_reason \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id LEFT JOIN organisations po ON po.id = o.org_id \
         LEFT JOIN therapists th ON th.id = o.therapist_id LEFT JOIN organisations ro ON ro.id = r.referrer_org_id \
         LEFT JOIN trajectories t ON t.referral_id = r.id \
         WHERE r.created_at >= $1 AND r.created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await
}

/// Sessions attended and sessions recorded, per trajectory.
pub async fn attendance_counts(c: &mut Conn) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT trajectory_id, CAST(SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COUNT(*) AS BIGINT) FROM attendance GROUP BY trajectory_id",
    )
    .fetch_all(c)
    .await
}

/// Calls `each(trajectory, instrument, total)` for every score, per trajectory and instrument
/// in the order given: streamed, so a million scores are never held at once.
pub async fn each_score(
    c: &mut Conn,
    mut each: impl FnMut(&str, &str, f64),
) -> Result<(), sqlx::Error> {
    let mut rows = sqlx::query_as::<_, (String, String, f64)>(
        "SELECT trajectory_id, instrument, total FROM measurement_scores \
         ORDER BY trajectory_id, instrument, scored_at",
    )
    .fetch(c);
    while let Some((t, i, total)) = rows.try_next().await? {
        each(&t, &i, total);
    }
    Ok(())
}
