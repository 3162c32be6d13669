//! What the impact reports read, aggregated in the database: per group of referrals the
//! funnel with attendance and the days to start, per group and instrument the people with each
//! pair of first and latest score, and the dropout reasons.
//!
//! The database does the counting because moving rows is the expensive part: through sqlx's
//! `Any` driver every row and value costs about a microsecond, so a region's million scores
//! or even its hundred thousand referrals should not travel one by one (BENCHMARKS.md, impact
//! report). What does travel is small: a row per group and status, a row per group,
//! instrument and pair of scores (scores are whole numbers on short scales, so pairs repeat),
//! and the days to start as one list per row. The statistics themselves (medians, means,
//! reliable change) stay in `duurloop_domain::report`.

use sqlx::{FromRow, Row, any::AnyRow};

use super::Conn;

/// What the rows of a report are grouped by. The label of a group is a name (`None` for
/// referrals without one), except for [`GroupKey::Indications`].
pub enum GroupKey<'a> {
    /// The name of the organisation of the referral's offering.
    Practice,
    /// The name of the therapist of the referral's offering.
    Therapist,
    /// The title of the referral's offering.
    Offering,
    /// The name of the referring organisation.
    Referrer,
    /// The referral's indications as stored, a comma-separated list: the caller splits it.
    Indications,
    /// The 4-digit postcode area (PC4) of the location of the referral's offering: the caller
    /// names its place (`geo::pc4`, an embedded table SQL cannot join) and merges the areas of
    /// one place. `None` for a referral without an offering (sent to a region).
    LocationPc4,
    /// The month a referral was made in: `(first instant of the month, label)`, ascending,
    /// covering the period (the first may start before it).
    Months(&'a [(i64, String)]),
}

/// Which referrals a report covers.
pub enum Scope<'a> {
    /// Of this organisation: its offerings', those sent to it as a region, and its referrers'.
    Organisation(&'a str),
    /// Handled by this organisation: its offerings' and those sent to it as a region (not
    /// those its referrers sent elsewhere), as its coordinators see them one by one
    /// (`app::referrals::relations`).
    HandledBy(&'a str),
    /// Funded by this (funder) organisation: a contract of a payer that stands for it
    /// (`payers.funder_org_id`) is one of the funding sources of the referral's trajectory,
    /// the same link that addresses invoices to it.
    FundedBy(&'a str),
}

/// The referrals of one group with one status, and whether their intake was recorded.
#[derive(Debug, Clone)]
pub struct FunnelRow {
    pub label: Option<String>,
    pub status: String,
    pub intake_recorded: bool,
    pub referrals: u64,
    /// Group sessions attended and recorded, over these referrals' trajectories.
    pub attended: i64,
    pub recorded: i64,
    /// For each of these referrals that started: ms from referral to the first `started`.
    pub started_after_ms: Vec<i64>,
}

/// How many people of one group had this first and latest score on this instrument (only
/// trajectories with two scores or more).
#[derive(Debug, Clone, FromRow)]
pub struct PairRow {
    pub label: Option<String>,
    pub instrument: String,
    pub first: f64,
    pub last: f64,
    pub people: i64,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// A query's text and its parameters, in order (`$1, $2, …`).
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    /// A placeholder for `value`.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// `WHERE` conditions for referrals (`r`, with offering `o`) made in `[from, to)` (Unix ms)
    /// that `scope` covers.
    fn covered(&mut self, from: i64, to: i64, scope: &Scope) -> String {
        let (from, to) = (self.bind(Bind::Int(from)), self.bind(Bind::Int(to)));
        let scope = match scope {
            Scope::Organisation(org) => {
                let org = self.bind(Bind::Text(org.to_string()));
                format!(
                    "(o.org_id = {org} OR r.region_org_id = {org} OR r.referrer_org_id = {org})"
                )
            }
            Scope::HandledBy(org) => {
                let org = self.bind(Bind::Text(org.to_string()));
                format!("(o.org_id = {org} OR r.region_org_id = {org})")
            }
            // A trajectory funded twice by the funder (two of its contracts) counts once: the
            // funder's referrals are a set, read through the indexes from its payers
            // (`payers_funder`, `contracts_payer`, `trajectory_funding_contract`, primary keys).
            Scope::FundedBy(funder) => {
                let funder = self.bind(Bind::Text(funder.to_string()));
                format!(
                    "r.id IN (SELECT ft.referral_id FROM payers fp \
                     JOIN contracts fc ON fc.payer_id = fp.id \
                     JOIN trajectory_funding ff ON ff.contract_id = fc.id \
                     JOIN trajectories ft ON ft.id = ff.trajectory_id \
                     WHERE fp.funder_org_id = {funder})"
                )
            }
        };
        format!("r.created_at >= {from} AND r.created_at < {to} AND {scope}")
    }

    /// The label expression of `key` and the join it needs.
    fn label(&mut self, key: &GroupKey) -> (String, &'static str) {
        match key {
            GroupKey::Practice => (
                "po.name".into(),
                "LEFT JOIN organisations po ON po.id = o.org_id",
            ),
            GroupKey::Therapist => (
                "th.name".into(),
                "LEFT JOIN therapists th ON th.id = o.therapist_id",
            ),
            GroupKey::Offering => ("o.title".into(), ""),
            GroupKey::Referrer => (
                "ro.name".into(),
                "LEFT JOIN organisations ro ON ro.id = r.referrer_org_id",
            ),
            GroupKey::Indications => ("r.indications".into(), ""),
            // `substr` on both databases; postcodes are stored as `1234 AB` (or `1234`).
            GroupKey::LocationPc4 => (
                "substr(rl.postcode, 1, 4)".into(),
                "LEFT JOIN locations rl ON rl.id = o.location_id",
            ),
            GroupKey::Months(months) => (self.month(months), ""),
        }
    }

    /// `CASE WHEN r.created_at < (start of the 2nd month) THEN (1st label) … ELSE (last) END`.
    fn month(&mut self, months: &[(i64, String)]) -> String {
        let Some((_, last)) = months.last() else {
            return "CAST(NULL AS TEXT)".into();
        };
        let mut case = String::from("CASE");
        for pair in months.windows(2) {
            let [(_, label), (next, _)] = pair else {
                continue;
            };
            let (next, label) = (
                self.bind(Bind::Int(*next)),
                self.bind(Bind::Text(label.clone())),
            );
            case.push_str(&format!(
                " WHEN r.created_at < {next} THEN CAST({label} AS TEXT)"
            ));
        }
        let last = self.bind(Bind::Text(last.clone()));
        format!("{case} ELSE CAST({last} AS TEXT) END")
    }

    async fn fetch_all(self, c: &mut Conn) -> Result<Vec<AnyRow>, sqlx::Error> {
        // The text is built here from fixed fragments and numbered placeholders only.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for b in self.binds {
            q = match b {
                Bind::Int(v) => q.bind(v),
                Bind::Text(v) => q.bind(v),
            };
        }
        q.fetch_all(c).await
    }
}

fn sql() -> Sql {
    Sql {
        text: String::new(),
        binds: Vec::new(),
    }
}

/// The funnel of the referrals made in `[from, to)` that `scope` covers, per group, status and
/// whether the intake was recorded. Attendance per trajectory and the first `started` time per
/// referral are read from the counts the store keeps as they are written (migration 11).
pub async fn funnel(
    c: &mut Conn,
    from: i64,
    to: i64,
    scope: &Scope<'_>,
    key: &GroupKey<'_>,
) -> Result<Vec<FunnelRow>, sqlx::Error> {
    let mut q = sql();
    let covered = q.covered(from, to, scope);
    let (label, join) = q.label(key);
    q.text = format!(
        "SELECT {label} AS label, r.status AS status, \
         CAST(CASE WHEN i.referral_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS intake, \
         CAST(COUNT(*) AS BIGINT) AS referrals, \
         CAST(COALESCE(SUM(t.sessions_attended), 0) AS BIGINT) AS attended, \
         CAST(COALESCE(SUM(t.sessions_recorded), 0) AS BIGINT) AS recorded, \
         string_agg(CAST(r.started_at - r.created_at AS TEXT), ',') AS started_after \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id {join} \
         LEFT JOIN intakes i ON i.referral_id = r.id AND i.recorded_at IS NOT NULL \
         LEFT JOIN trajectories t ON t.referral_id = r.id \
         WHERE {covered} GROUP BY 1, 2, 3"
    );
    q.fetch_all(c).await?.iter().map(funnel_row).collect()
}

fn funnel_row(row: &AnyRow) -> Result<FunnelRow, sqlx::Error> {
    let started: Option<String> = row.try_get("started_after")?;
    let started_after_ms = started
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(FunnelRow {
        label: row.try_get("label")?,
        status: row.try_get("status")?,
        intake_recorded: row.try_get::<i64, _>("intake")? > 0,
        referrals: row.try_get::<i64, _>("referrals")?.max(0) as u64,
        attended: row.try_get("attended")?,
        recorded: row.try_get("recorded")?,
        started_after_ms,
    })
}

/// Per group and instrument, the people of the covered referrals with each pair of first and
/// latest score (from `score_pairs`, kept by `measure::insert_score`). `CROSS JOIN` keeps
/// SQLite's join order (referrals of the period first, then their trajectories' pairs) rather
/// than reading every pair; PostgreSQL plans it as the inner join it is.
pub async fn outcome_pairs(
    c: &mut Conn,
    from: i64,
    to: i64,
    scope: &Scope<'_>,
    key: &GroupKey<'_>,
) -> Result<Vec<PairRow>, sqlx::Error> {
    let mut q = sql();
    let covered = q.covered(from, to, scope);
    let (label, join) = q.label(key);
    q.text = format!(
        "SELECT {label} AS label, p.instrument, p.first_total AS first, p.last_total AS last, \
         CAST(COUNT(*) AS BIGINT) AS people \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id {join} \
         CROSS JOIN trajectories t CROSS JOIN score_pairs p \
         WHERE t.referral_id = r.id AND p.trajectory_id = t.id AND p.scores > 1 AND {covered} \
         GROUP BY 1, 2, 3, 4"
    );
    q.fetch_all(c)
        .await?
        .iter()
        .map(PairRow::from_row)
        .collect()
}

/// The reasons given when the covered referrals dropped out (the latest note of their
/// `dropped_out` event), with how many referrals gave each; untrimmed, empty ones included.
pub async fn dropout_reasons(
    c: &mut Conn,
    from: i64,
    to: i64,
    scope: &Scope<'_>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut q = sql();
    let covered = q.covered(from, to, scope);
    q.text = format!(
        "SELECT d.reason, CAST(COUNT(*) AS BIGINT) AS n FROM ( \
         SELECT MAX(e.note) AS reason FROM referral_events e \
         JOIN referrals r ON r.id = e.referral_id LEFT JOIN offerings o ON o.id = r.offering_id \
         WHERE e.to_status = 'dropped_out' AND {covered} GROUP BY e.referral_id) d \
         GROUP BY d.reason"
    );
    q.fetch_all(c)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("reason")?, row.try_get("n")?)))
        .collect()
}

/// A referral that reached intake, as a research export reads it: coded values only, no
/// names, contact details, free text or dates (the caller coarsens what it shows). The ids
/// are for the pseudonym and the audit log, never for the file.
#[derive(Debug, Clone, FromRow)]
pub struct ResearchRow {
    pub referral_id: String,
    /// The organisation of the referral's offering (for the audit entry).
    pub offering_org_id: Option<String>,
    pub practice: Option<String>,
    pub offering_kind: Option<String>,
    pub source: String,
    pub funding_route: String,
    /// Comma-separated indication codes, as stored (`,stress,fatigue,`).
    pub indications: String,
    pub status: String,
    pub referred_at: i64,
    pub started_at: Option<i64>,
    /// Age in years at intake, when recorded.
    pub age: Option<i64>,
    pub trajectory_id: Option<String>,
    /// The trajectory's first day (`jjjj-mm-dd`).
    pub start_date: Option<String>,
    pub sessions_recorded: Option<i64>,
    pub sessions_attended: Option<i64>,
}

/// One score of a trajectory in a research export.
#[derive(Debug, Clone, FromRow)]
pub struct ResearchScore {
    pub trajectory_id: String,
    pub instrument: String,
    pub point: String,
    pub total: f64,
    pub scored_at: i64,
}

/// The referrals that reached intake: an intake was recorded, or a decision or later status
/// was reached (as the impact report's intake stage counts them). Erased referrals are left
/// out: their participant asked for their data to go.
const REACHED_INTAKE: &str = "r.erased_at IS NULL AND (i.referral_id IS NOT NULL OR r.status IN \
     ('accepted', 'waitlisted', 'not_suitable', 'started', 'completed', 'dropped_out', \
     'follow_up_done'))";

/// The referrals made in `[from, to)` that `scope` covers and that reached intake, with their
/// intake age and trajectory (the caller orders them).
pub async fn research_rows(
    c: &mut Conn,
    from: i64,
    to: i64,
    scope: &Scope<'_>,
) -> Result<Vec<ResearchRow>, sqlx::Error> {
    let mut q = sql();
    let covered = q.covered(from, to, scope);
    q.text = format!(
        "SELECT r.id AS referral_id, o.org_id AS offering_org_id, po.name AS practice, \
         o.kind AS offering_kind, r.source, r.funding_route, r.indications, r.status, \
         r.created_at AS referred_at, r.started_at, i.age, t.id AS trajectory_id, t.start_date, \
         t.sessions_recorded, t.sessions_attended \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id \
         LEFT JOIN organisations po ON po.id = o.org_id \
         LEFT JOIN intakes i ON i.referral_id = r.id AND i.recorded_at IS NOT NULL \
         LEFT JOIN trajectories t ON t.referral_id = r.id \
         WHERE {covered} AND {REACHED_INTAKE} AND r.research_objection_at IS NULL"
    );
    q.fetch_all(c)
        .await?
        .iter()
        .map(ResearchRow::from_row)
        .collect()
}

/// Every score of the trajectories of [`research_rows`] (same period and scope).
pub async fn research_scores(
    c: &mut Conn,
    from: i64,
    to: i64,
    scope: &Scope<'_>,
) -> Result<Vec<ResearchScore>, sqlx::Error> {
    let mut q = sql();
    let covered = q.covered(from, to, scope);
    q.text = format!(
        "SELECT s.trajectory_id, s.instrument, s.point, s.total, s.scored_at \
         FROM referrals r LEFT JOIN offerings o ON o.id = r.offering_id \
         LEFT JOIN intakes i ON i.referral_id = r.id AND i.recorded_at IS NOT NULL \
         JOIN trajectories t ON t.referral_id = r.id \
         JOIN measurement_scores s ON s.trajectory_id = t.id \
         WHERE {covered} AND {REACHED_INTAKE} AND r.research_objection_at IS NULL \
         ORDER BY s.scored_at, s.measurement_id"
    );
    q.fetch_all(c)
        .await?
        .iter()
        .map(ResearchScore::from_row)
        .collect()
}

/// How many contracts the payers that stand for `funder_org_id` hold, at every billing
/// organisation: with none, nothing can be funded by it.
pub async fn funder_contracts(c: &mut Conn, funder_org_id: &str) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM contracts k JOIN payers p ON p.id = k.payer_id \
         WHERE p.funder_org_id = $1",
    )
    .bind(funder_org_id)
    .fetch_one(c)
    .await?;
    Ok(n)
}
