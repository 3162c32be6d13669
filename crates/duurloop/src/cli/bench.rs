//! `duurloop bench-impact --responses N [--keep DB] [--csv DIR]` (hidden): the speed benchmark
//! of the impact report (BENCHMARKS.md, `bench/impact_vs_duckdb.sh`).
//!
//! It makes a fresh SQLite database through the app's own migrations, fills it with a
//! generated region (one care group coordinating 20 running-therapy practices, referrals from
//! 40 GP practices, and at least N questionnaire scores), times `app::reports::impact` for the
//! care group's coordinator (one warm-up, then the median of `--runs`), optionally exports the
//! columns the report reads as CSV for `bench/impact_duckdb.py`, and prints the timings and
//! the report as JSON.
//!
//! The generator writes multi-row INSERTs in large transactions, as SQL of its own rather than
//! through the store's one-row functions: a few million rows one by one would take minutes.
//! Scores are the exception: they go through `store::measure::insert_score`, as the app's, so
//! what it keeps with every score (`score_pairs`) is kept here the same way. The generator is
//! deterministic (a fixed-seed generator), so every run measures the same data.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;
use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};

use super::generate::{Batch, Rng};
use crate::{
    app::{self, Actor, AuthVia, RequestCtx},
    clock::{SystemClock, parse_local_date},
    config::Config,
    db::Db,
    state::AppState,
    store::new_id,
};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// How many questionnaire scores (responses per instrument) to generate, at least.
    #[arg(long, default_value_t = 1_000_000)]
    responses: u64,
    /// Keep the SQLite database at this path (a new file) instead of a deleted temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Export the tables the report reads as CSV files into this folder.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Time an existing database made with `--keep` instead of generating one (migrations
    /// newer than it are applied first).
    #[arg(long, conflicts_with = "keep")]
    reuse: Option<PathBuf>,
    /// Timed runs after the warm-up; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// The report period: every generated referral falls in it.
const FROM: &str = "2025-01-01";
const TO: &str = "2025-12-31";
const DAY: i64 = 86_400_000;
const WEEK: i64 = 7 * DAY;
const PRACTICES: usize = 20;
const OFFERINGS_PER_PRACTICE: usize = 3;
const REFERRERS: usize = 40;
/// Weekly group sessions per offering, from the Monday before `FROM`.
const SESSION_WEEKS: i64 = 80;
/// Referrals generated per transaction.
const CHUNK: usize = 5_000;

pub async fn run(config: Config, args: BenchArgs) -> anyhow::Result<()> {
    let (path, temp_dir) = match &args.reuse {
        Some(path) => (path.clone(), None),
        None => database_path(args.keep.as_deref())?,
    };
    let db = Db::connect(&format!("sqlite://{}", path.display())).await?;
    let started = Instant::now();
    let (region, counts) = if args.reuse.is_some() {
        existing(&db).await?
    } else {
        let region = setup(&db).await?;
        let counts = generate(&db, &region, args.responses).await?;
        (region, counts)
    };
    let generate_s = started.elapsed().as_secs_f64();
    eprintln!("data {counts:?}, made in {generate_s:.1} s");
    // No second factors here: a key that is kept nowhere will do.
    let key = crate::secrets::SecretKey::random()?;
    let state = AppState::new(db.clone(), config, key, Arc::new(SystemClock))?;
    let (runs_ms, report) = time_report(&state, &region, args.runs.max(1)).await?;
    if let Some(dir) = &args.csv {
        export_csv(&db, dir).await?;
    }
    let out = serde_json::json!({
        "database": path.display().to_string(),
        "csv_dir": args.csv.as_ref().map(|d| d.display().to_string()),
        "counts": counts.json(),
        "generate_s": generate_s,
        "org_id": region.care_group,
        "from": FROM,
        "to": TO,
        "from_ms": period().0,
        "to_ms": period().1,
        "runs_ms": runs_ms,
        "median_ms": median(&runs_ms),
        "report": report,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    db.pool.close().await;
    if let Some(dir) = temp_dir {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}

/// The database file, and the temporary folder to delete afterwards (unless kept).
fn database_path(keep: Option<&Path>) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    if let Some(path) = keep {
        anyhow::ensure!(
            !path.exists(),
            "{} exists already; choose a new file",
            path.display()
        );
        return Ok((path.to_path_buf(), None));
    }
    let dir = std::env::temp_dir().join(format!(
        "duurloop-bench-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok((dir.join("impact.db"), Some(dir)))
}

/// `[from, to)` in Unix ms, as the report computes it.
fn period() -> (i64, i64) {
    let from = parse_local_date(FROM).unwrap_or_default();
    let to = parse_local_date(TO).unwrap_or_default() + DAY;
    (from, to)
}

fn median(values: &[f64]) -> Option<f64> {
    duurloop_domain::report::median(&mut values.to_vec())
}

/// One warm-up run, then `runs` timed runs of the report as the coordinator asks for it.
async fn time_report(
    state: &AppState,
    region: &Region,
    runs: usize,
) -> anyhow::Result<(Vec<f64>, serde_json::Value)> {
    let identity = app::auth::identity(state, &region.coordinator, AuthVia::ApiToken)
        .await?
        .context("coordinator")?;
    let actor = Actor {
        identity,
        ctx: RequestCtx::default(),
    };
    let query = app::reports::ReportQuery {
        org: region.care_group.clone(),
        by: "practice".into(),
        from: FROM.into(),
        to: TO.into(),
    };
    let report = app::reports::impact(state, &actor, &query).await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let r = app::reports::impact(state, &actor, &query).await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(r);
    }
    eprintln!("impact report runs (ms): {times:?}");
    Ok((times, serde_json::to_value(report)?))
}

struct Offering {
    id: String,
    practice: String,
    sessions: Vec<String>,
}

/// The fixed part of the region: organisations, people, offerings and their sessions.
struct Region {
    care_group: String,
    coordinator: String,
    referrers: Vec<String>,
    offerings: Vec<Offering>,
    /// Monday of the first session week, Unix ms.
    sessions_from: i64,
}

async fn setup(db: &Db) -> anyhow::Result<Region> {
    let now = period().0 - 30 * DAY;
    let mut orgs = Batch::organisations();
    let mut users = Batch::new(
        "users",
        &["id", "email", "name", "is_admin", "lang", "created_at"],
    );
    let mut members = Batch::new("memberships", &["user_id", "org_id", "role", "created_at"]);
    let care_group = new_id();
    let coordinator = new_id();
    orgs.row([
        care_group.as_str().into(),
        "Zorggroep Regio Benchmark".into(),
        "care_group".into(),
        now.into(),
    ]);
    users.row([
        coordinator.as_str().into(),
        "coordinator@bench.invalid".into(),
        "Coördinator Benchmark".into(),
        0i64.into(),
        "nl".into(),
        now.into(),
    ]);
    members.row([
        coordinator.as_str().into(),
        care_group.as_str().into(),
        "coordinator".into(),
        now.into(),
    ]);
    let referrers: Vec<String> = (1..=REFERRERS)
        .map(|i| {
            let id = new_id();
            orgs.row([
                id.as_str().into(),
                format!("Huisartsenpraktijk {i:02}").into(),
                "gp_practice".into(),
                now.into(),
            ]);
            id
        })
        .collect();
    let mut c = db.begin().await?;
    orgs.flush(&mut c).await?;
    users.flush(&mut c).await?;
    members.flush(&mut c).await?;
    let (offerings, sessions_from) = practices(&mut c, now).await?;
    c.commit().await?;
    Ok(Region {
        care_group,
        coordinator,
        referrers,
        offerings,
        sessions_from,
    })
}

/// The region of a database generated before: its care group and coordinator, and the counts.
async fn existing(db: &Db) -> anyhow::Result<(Region, Counts)> {
    let mut c = db.conn().await?;
    let (care_group, coordinator): (String, String) = sqlx::query_as(
        "SELECT o.id, m.user_id FROM organisations o JOIN memberships m ON m.org_id = o.id \
         WHERE o.kind = 'care_group' AND m.role = 'coordinator'",
    )
    .fetch_one(&mut *c)
    .await
    .context("not a database made by bench-impact")?;
    let mut count = async |table: &str| -> anyhow::Result<u64> {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *c)
            .await?;
        Ok(n as u64)
    };
    let counts = Counts {
        referrals: count("referrals").await?,
        referral_events: count("referral_events").await?,
        intakes: count("intakes").await?,
        trajectories: count("trajectories").await?,
        attendance: count("attendance").await?,
        measurements: count("measurements").await?,
        scores: count("measurement_scores").await?,
    };
    let region = Region {
        care_group,
        coordinator,
        referrers: Vec::new(),
        offerings: Vec::new(),
        sessions_from: 0,
    };
    Ok((region, counts))
}

/// The practices with their therapists, location, offerings and weekly sessions.
async fn practices(c: &mut AnyConnection, now: i64) -> anyhow::Result<(Vec<Offering>, i64)> {
    let mut orgs = Batch::organisations();
    let mut therapists = Batch::new(
        "therapists",
        &[
            "id",
            "org_id",
            "name",
            "profession",
            "brtn_status",
            "created_at",
            "updated_at",
        ],
    );
    let mut locations = Batch::locations();
    let mut offers = Batch::offerings();
    let mut sessions = Batch::group_sessions();
    let first: jiff::civil::Date = "2024-12-30".parse()?;
    let sessions_from = parse_local_date("2024-12-30").unwrap_or_default();
    let dates: Vec<String> = (0..SESSION_WEEKS)
        .map(|w| first.checked_add(jiff::Span::new().days(7 * w)))
        .map(|d| d.map(|d| d.to_string()))
        .collect::<Result<_, _>>()?;
    let mut offerings = Vec::new();
    for p in 1..=PRACTICES {
        let practice = new_id();
        orgs.row([
            practice.as_str().into(),
            format!("Runningtherapie Praktijk {p:02}").into(),
            "therapist_practice".into(),
            now.into(),
        ]);
        let team: Vec<String> = (1..=2)
            .map(|t| {
                let id = new_id();
                therapists.row([
                    id.as_str().into(),
                    practice.as_str().into(),
                    format!("Therapeut {p:02}-{t}").into(),
                    "physiotherapist".into(),
                    "registered".into(),
                    now.into(),
                    now.into(),
                ]);
                id
            })
            .collect();
        let location = new_id();
        locations.row([
            location.as_str().into(),
            practice.as_str().into(),
            "Park".into(),
            format!("Parklaan {p}").into(),
            "1234AB".into(),
            "Regiostad".into(),
            52_000_000i64.into(),
            5_000_000i64.into(),
            now.into(),
        ]);
        for o in 0..OFFERINGS_PER_PRACTICE {
            let id = new_id();
            offers.row([
                id.as_str().into(),
                practice.as_str().into(),
                team[o % team.len()].as_str().into(),
                location.as_str().into(),
                format!("Praktijk {p:02} groep {}", o + 1).into(),
                "group".into(),
                "".into(),
                "".into(),
                "mon".into(),
                "2025-01-06".into(),
                10i64.into(),
                12i64.into(),
                "insurer,gp_module,municipality".into(),
                "stress,depression".into(),
                0i64.into(),
                1i64.into(),
                now.into(),
                now.into(),
            ]);
            let ids: Vec<String> = dates
                .iter()
                .map(|d| {
                    let s = new_id();
                    sessions.row([
                        s.as_str().into(),
                        id.as_str().into(),
                        d.as_str().into(),
                        "18:00".into(),
                        60i64.into(),
                        "".into(),
                        now.into(),
                    ]);
                    s
                })
                .collect();
            offerings.push(Offering {
                id,
                practice: practice.clone(),
                sessions: ids,
            });
        }
    }
    for b in [
        &mut orgs,
        &mut therapists,
        &mut locations,
        &mut offers,
        &mut sessions,
    ] {
        b.flush(c).await?;
    }
    Ok((offerings, sessions_from))
}

/// The generated rows, per table in foreign-key order.
pub(super) struct Tables {
    referrals: Batch,
    pub(super) events: Batch,
    pub(super) intakes: Batch,
    trajectories: Batch,
    pub(super) attendance: Batch,
    pub(super) measurements: Batch,
    /// Scores go through the store, like the app's (it keeps `score_pairs` with them).
    scores: Vec<Score>,
    scores_written: u64,
}

pub(super) struct Score {
    measurement: String,
    trajectory: String,
    instrument: &'static str,
    point: &'static str,
    total: f64,
    raw: i64,
    at: i64,
}

#[derive(Debug)]
struct Counts {
    referrals: u64,
    referral_events: u64,
    intakes: u64,
    trajectories: u64,
    attendance: u64,
    measurements: u64,
    scores: u64,
}

impl Counts {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "referrals": self.referrals,
            "referral_events": self.referral_events,
            "intakes": self.intakes,
            "trajectories": self.trajectories,
            "attendance": self.attendance,
            "measurements": self.measurements,
            "measurement_scores": self.scores,
        })
    }
}

impl Tables {
    pub(super) fn new() -> Self {
        Tables {
            referrals: Batch::new(
                "referrals",
                &[
                    "id",
                    "status",
                    "source",
                    "offering_id",
                    "region_org_id",
                    "referrer_org_id",
                    "client_name",
                    "client_email",
                    "client_phone",
                    "client_postcode",
                    "indications",
                    "medication",
                    "physical_limits",
                    "motivation",
                    "funding_route",
                    "consent_by",
                    "consent_at",
                    "consent_text",
                    "note",
                    "submission_key",
                    "respond_by",
                    "created_at",
                    "updated_at",
                ],
            ),
            events: Batch::new(
                "referral_events",
                &[
                    "id",
                    "referral_id",
                    "at",
                    "kind",
                    "from_status",
                    "to_status",
                    "note",
                ],
            ),
            intakes: Batch::new(
                "intakes",
                &[
                    "referral_id",
                    "planned_for",
                    "screen",
                    "flagged",
                    "current_activity",
                    "running_history",
                    "injuries",
                    "goals",
                    "preferences",
                    "recorded_at",
                    "decision_reason",
                    "updated_at",
                ],
            ),
            trajectories: Batch::new(
                "trajectories",
                &[
                    "id",
                    "referral_id",
                    "offering_id",
                    "org_id",
                    "status",
                    "start_date",
                    "weeks",
                    "start_level",
                    "plan",
                    "current_week",
                    "created_at",
                    "updated_at",
                ],
            ),
            attendance: Batch::new(
                "attendance",
                &[
                    "session_id",
                    "trajectory_id",
                    "status",
                    "note",
                    "recorded_at",
                ],
            ),
            measurements: Batch::new(
                "measurements",
                &[
                    "id",
                    "trajectory_id",
                    "point",
                    "due_date",
                    "instruments",
                    "status",
                    "reminders",
                    "answers",
                    "completed_at",
                    "created_at",
                ],
            ),
            scores: Vec::new(),
            scores_written: 0,
        }
    }

    async fn flush(&mut self, c: &mut AnyConnection) -> Result<(), sqlx::Error> {
        for b in [
            &mut self.referrals,
            &mut self.events,
            &mut self.intakes,
            &mut self.trajectories,
            &mut self.attendance,
            &mut self.measurements,
        ] {
            b.flush(c).await?;
        }
        self.scores_written += write_scores(c, &mut self.scores).await?;
        Ok(())
    }

    fn counts(&self) -> Counts {
        Counts {
            referrals: self.referrals.written,
            referral_events: self.events.written,
            intakes: self.intakes.written,
            trajectories: self.trajectories.written,
            attendance: self.attendance.written,
            measurements: self.measurements.written,
            scores: self.scores_written,
        }
    }
}

/// Writes the scores through the store, as the app does (it keeps `score_pairs` with them),
/// and returns how many.
pub(super) async fn write_scores(
    c: &mut AnyConnection,
    scores: &mut Vec<Score>,
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    for s in scores.drain(..) {
        crate::store::measure::insert_score(
            c,
            &s.measurement,
            &s.trajectory,
            s.instrument,
            s.point,
            s.total,
            s.raw,
            None,
            false,
            s.at,
        )
        .await?;
        written += 1;
    }
    Ok(written)
}

/// Referrals in chunks of [`CHUNK`] per transaction, until there are `responses` scores.
async fn generate(db: &Db, region: &Region, responses: u64) -> anyhow::Result<Counts> {
    let mut rng = Rng(0xD00D_100B);
    let mut t = Tables::new();
    while t.scores_written < responses {
        for _ in 0..CHUNK {
            referral(&mut rng, region, &mut t);
        }
        let mut tx = db.begin().await?;
        t.flush(&mut tx).await?;
        tx.commit().await?;
    }
    // The store keeps each trajectory's attendance counts and each referral's first start as
    // it writes them; the batches above bypass it, so count once here as migration 11 does.
    let mut c = db.conn().await?;
    for sql in RECOUNT {
        sqlx::query(sql).execute(&mut *c).await?;
    }
    Ok(t.counts())
}

/// What `migrations/0011_report_counts.sql` computes for rows written before it.
pub(super) const RECOUNT: [&str; 2] = [
    "UPDATE trajectories SET \
     sessions_recorded = (SELECT COUNT(*) FROM attendance a WHERE a.trajectory_id = trajectories.id), \
     sessions_attended = (SELECT COUNT(*) FROM attendance a \
         WHERE a.trajectory_id = trajectories.id AND a.status = 'present')",
    "UPDATE referrals SET started_at = (SELECT MIN(e.at) FROM referral_events e \
     WHERE e.referral_id = referrals.id AND e.to_status = 'started')",
];

/// Statuses with their share of referrals.
const STATUSES: [(&str, f64); 11] = [
    ("sent", 0.04),
    ("received", 0.03),
    ("invited", 0.03),
    ("intake_planned", 0.04),
    ("accepted", 0.02),
    ("waitlisted", 0.03),
    ("not_suitable", 0.06),
    ("started", 0.15),
    ("completed", 0.30),
    ("dropped_out", 0.12),
    ("follow_up_done", 0.18),
];
pub(super) const FUNDING: [&str; 7] = [
    "insurer",
    "gp_module",
    "municipality",
    "employer",
    "uwv",
    "subsidy",
    "self_pay",
];
pub(super) const INDICATIONS: [&str; 6] = [
    "stress",
    "depression",
    "burnout",
    "anxiety_panic",
    "sleep",
    "fatigue",
];
const REASONS: [&str; 6] = [
    "Blessure",
    "Geen tijd meer",
    "Verhuisd",
    "Motivatie",
    "Werk hervat, te druk",
    "",
];

pub(super) fn status(rng: &mut Rng) -> &'static str {
    let mut u = rng.unit();
    for (s, share) in STATUSES {
        if u < share {
            return s;
        }
        u -= share;
    }
    "completed"
}

/// One referral with its timeline, intake and, once accepted, its trajectory.
fn referral(rng: &mut Rng, region: &Region, t: &mut Tables) {
    let (from, to) = period();
    let id = new_id();
    let created = from + (rng.unit() * (to - from) as f64) as i64;
    let status = status(rng);
    // A few self-registrations reach the region without an offering.
    let offering = (!rng.chance(0.03)).then(|| rng.pick(&region.offerings));
    let status = if offering.is_none() && is_accepted(status) {
        "received"
    } else {
        status
    };
    let mut indications = rng.pick(&INDICATIONS).to_string();
    if rng.chance(0.4) {
        indications = format!("{indications},{}", rng.pick(&INDICATIONS));
    }
    t.referrals.row([
        id.as_str().into(),
        status.into(),
        "referrer".into(),
        offering.map(|o| o.id.as_str()).into(),
        region.care_group.as_str().into(),
        rng.pick(&region.referrers).as_str().into(),
        "Deelnemer".into(),
        "deelnemer@bench.invalid".into(),
        "".into(),
        "1234AB".into(),
        indications.into(),
        "".into(),
        "".into(),
        "".into(),
        (*rng.pick(&FUNDING)).into(),
        "referrer".into(),
        created.into(),
        "".into(),
        "".into(),
        id.as_str().into(),
        (created + 5 * DAY).into(),
        created.into(),
        created.into(),
    ]);
    timeline(rng, &mut t.events, &mut t.intakes, &id, status, created);
    if let Some(o) = offering.filter(|_| is_accepted(status)) {
        trajectory(rng, region, t, o, &id, status, created);
    }
}

pub(super) fn is_accepted(status: &str) -> bool {
    matches!(
        status,
        "accepted" | "started" | "completed" | "dropped_out" | "follow_up_done"
    )
}

fn event(events: &mut Batch, referral: &str, at: i64, from: Option<&str>, to: &str, note: &str) {
    events.row([
        new_id().into(),
        referral.into(),
        at.into(),
        "status".into(),
        from.into(),
        to.into(),
        note.into(),
    ]);
}

/// The referral's events and intake: sent, then started, completed or dropped out.
pub(super) fn timeline(
    rng: &mut Rng,
    events: &mut Batch,
    intakes: &mut Batch,
    id: &str,
    status: &str,
    created: i64,
) {
    event(events, id, created, None, "sent", "");
    let intake_at = created + (5 + rng.below(15) as i64) * DAY;
    let planned = status == "intake_planned" || (status == "invited" && rng.chance(0.5));
    let recorded = !matches!(status, "sent" | "received" | "invited" | "intake_planned");
    if planned || recorded {
        intakes.row([
            id.into(),
            "2025-01-01".into(),
            "{}".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            recorded.then_some(intake_at).into(),
            "".into(),
            intake_at.into(),
        ]);
    }
    if matches!(
        status,
        "started" | "completed" | "dropped_out" | "follow_up_done"
    ) {
        let start = intake_at + (2 + rng.below(40) as i64) * DAY;
        event(events, id, start, Some("accepted"), "started", "");
        match status {
            "dropped_out" => {
                let reason = *rng.pick(&REASONS);
                event(
                    events,
                    id,
                    start + 21 * DAY,
                    Some("started"),
                    status,
                    reason,
                );
            }
            "completed" | "follow_up_done" => {
                event(
                    events,
                    id,
                    start + 70 * DAY,
                    Some("started"),
                    "completed",
                    "",
                );
            }
            _ => {}
        }
    }
}

/// A started trajectory: weekly attendance and the measurement points with their scores.
fn trajectory(
    rng: &mut Rng,
    region: &Region,
    t: &mut Tables,
    offering: &Offering,
    referral: &str,
    status: &str,
    created: i64,
) {
    let id = new_id();
    let start = created + (10 + rng.below(50) as i64) * DAY;
    t.trajectories.row([
        id.as_str().into(),
        referral.into(),
        offering.id.as_str().into(),
        offering.practice.as_str().into(),
        "active".into(),
        crate::clock::local_date(start).into(),
        10i64.into(),
        "walk_run".into(),
        "{}".into(),
        1i64.into(),
        created.into(),
        created.into(),
    ]);
    let sessions = match status {
        "accepted" => 0,
        "started" => 1 + rng.below(10),
        "dropped_out" => 2 + rng.below(5),
        _ => 10,
    };
    let first = ((start - region.sessions_from + WEEK - 1) / WEEK) as usize;
    for s in offering.sessions.iter().skip(first).take(sessions) {
        let u = rng.unit();
        let att = if u < 0.82 {
            "present"
        } else if u < 0.94 {
            "absent"
        } else {
            "excused"
        };
        t.attendance.row([
            s.as_str().into(),
            id.as_str().into(),
            att.into(),
            "".into(),
            start.into(),
        ]);
    }
    measurements(rng, t, &id, status, start);
}

/// Measurement points (with the chance each is handed in, by status) and when they fall.
fn points(status: &str) -> [(&'static str, f64, i64); 4] {
    let (week5, week10, end) = match status {
        "accepted" => (0.0, 0.0, 0.0),
        "started" => (0.5, 0.0, 0.0),
        "dropped_out" => (0.4, 0.0, 0.0),
        _ => (0.85, 0.75, 0.65),
    };
    [
        ("baseline", 0.95, -3),
        ("week5", week5, 35),
        ("week10", week10, 70),
        ("end", end, 84),
    ]
}

/// PHQ-9, GAD-7 and WHO-5 at each point handed in: a person's severity, improving with
/// progress through the programme, plus noise, clamped to each scale.
fn measurements(rng: &mut Rng, t: &mut Tables, trajectory: &str, status: &str, start: i64) {
    let person = Person::new(rng);
    for (point, p, day) in points(status) {
        if rng.chance(p) {
            measurement(
                rng,
                &mut t.measurements,
                &mut t.scores,
                trajectory,
                (point, day),
                start,
                person,
            );
        }
    }
}

/// How a generated person scores: their severity and how much they improve.
#[derive(Clone, Copy)]
pub(super) struct Person {
    severity: f64,
    improvement: f64,
}

impl Person {
    pub(super) fn new(rng: &mut Rng) -> Self {
        Person {
            severity: rng.normal(),
            improvement: 0.35 + 0.3 * rng.normal(),
        }
    }
}

/// One measurement point handed in `day` days after the start, with its three scores.
pub(super) fn measurement(
    rng: &mut Rng,
    measurements: &mut Batch,
    scores: &mut Vec<Score>,
    trajectory: &str,
    (point, day): (&'static str, i64),
    start: i64,
    person: Person,
) {
    let at = start + day * DAY + 19 * 3_600_000;
    let id = new_id();
    measurements.row([
        id.as_str().into(),
        trajectory.into(),
        point.into(),
        crate::clock::local_date(at).into(),
        "phq9,gad7,who5".into(),
        "completed".into(),
        0i64.into(),
        "{}".into(),
        at.into(),
        at.into(),
    ]);
    let progress = (day.max(0) as f64 / 70.0).min(1.1);
    let change = person.improvement * progress;
    let severity = person.severity;
    let phq9 = (14.0 + 5.0 * severity - 8.0 * change + 2.5 * rng.normal()).round();
    let gad7 = (11.0 + 4.0 * severity - 6.0 * change + 2.0 * rng.normal()).round();
    let who5 = (9.0 - 4.0 * severity + 6.0 * change + 2.0 * rng.normal()).round();
    for (code, raw, factor) in [
        ("phq9", phq9.clamp(0.0, 27.0), 1.0),
        ("gad7", gad7.clamp(0.0, 21.0), 1.0),
        ("who5", who5.clamp(0.0, 25.0), 4.0),
    ] {
        scores.push(Score {
            measurement: id.clone(),
            trajectory: trajectory.to_string(),
            instrument: code,
            point,
            total: raw * factor,
            raw: raw as i64,
            at,
        });
    }
}

/// The columns the report reads, as CSV with a header, `\N` for NULL (text, quoted as needed).
const EXPORTS: [(&str, &str); 9] = [
    ("organisations", "SELECT id, name, kind FROM organisations"),
    ("therapists", "SELECT id, org_id, name FROM therapists"),
    (
        "offerings",
        "SELECT id, org_id, therapist_id, title FROM offerings",
    ),
    (
        "referrals",
        "SELECT id, status, CAST(created_at AS TEXT) AS created_at, indications, funding_route, \
         offering_id, region_org_id, referrer_org_id FROM referrals",
    ),
    (
        "intakes",
        "SELECT referral_id, CAST(recorded_at AS TEXT) AS recorded_at FROM intakes",
    ),
    (
        "referral_events",
        "SELECT referral_id, CAST(at AS TEXT) AS at, to_status, note FROM referral_events",
    ),
    ("trajectories", "SELECT id, referral_id FROM trajectories"),
    ("attendance", "SELECT trajectory_id, status FROM attendance"),
    (
        "measurement_scores",
        "SELECT trajectory_id, instrument, CAST(total AS TEXT) AS total, \
         CAST(scored_at AS TEXT) AS scored_at FROM measurement_scores",
    ),
];

async fn export_csv(db: &Db, dir: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut c = db.conn().await?;
    for (table, sql) in EXPORTS {
        let file = std::fs::File::create(dir.join(format!("{table}.csv")))?;
        let mut out = std::io::BufWriter::new(file);
        let mut rows = sqlx::query(sql).fetch(&mut *c);
        let mut header = false;
        while let Some(row) = rows.try_next().await? {
            if !header {
                let names: Vec<&str> = row.columns().iter().map(sqlx::Column::name).collect();
                writeln!(out, "{}", names.join(","))?;
                header = true;
            }
            let fields = (0..row.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .map(|v| csv_field(v.as_deref()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            writeln!(out, "{}", fields.join(","))?;
        }
        out.flush()?;
    }
    Ok(())
}

fn csv_field(v: Option<&str>) -> String {
    match v {
        None => "\\N".to_string(),
        Some(s) if s.contains([',', '"', '\n', '\r']) || s.is_empty() => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        Some(s) => s.to_string(),
    }
}
