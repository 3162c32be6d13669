//! `duurloop demo --scale national`: a realistic country-sized data set (SPEC §4) on top of the
//! small demo, for benchmarks and load tests. At the default of 100,000 participants: 25
//! regions, 1,000 running-therapy practices with 2,000 therapists (accounts, profiles, one group
//! each, weekly sessions for twenty months back and a quarter ahead), 1,000 GP practices with 5,000 referrers,
//! 100,000 referrals with their timelines and intakes, trajectories with real training plans,
//! attendance, at least 1,000,000 runs and 1,000,000 questionnaire scores.
//!
//! Every count scales with `--participants` (one practice and one GP practice per hundred), so
//! `--participants 1000` makes the small end of the cost-growth benchmark. The rows are written
//! in batches of multi-row INSERTs in large transactions (as `bench-impact` does); scores go
//! through `store::measure::insert_score`, like the app's, so `score_pairs` is kept the same
//! way; the counts the store keeps per trajectory and referral are computed once at the end,
//! as migration 11 does. Fixed seed: the same data on every run. A progress bar goes to stderr.
//! People made here have no password: they exist to be counted and looked up, not to sign in
//! (the small demo's accounts do that).

use std::{io::Write, time::Instant};

use duurloop_domain::plan::{self, StartLevel};

use super::generate::{Batch, Rng};
use crate::{clock::local_date, db::Db, store::new_id};

const DAY: i64 = 86_400_000;
const WEEK: i64 = 7 * DAY;
/// Weeks of sessions per group: referrals go back twenty months, and a quarter ahead.
const PAST_WEEKS: i64 = 90;
const FUTURE_WEEKS: i64 = 13;
/// Referrals per transaction.
const CHUNK: usize = 2_000;

/// How big the generated country is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub participants: u64,
    pub practices: u64,
    pub gp_practices: u64,
    pub regions: u64,
    /// At least this many runs and questionnaire scores in all.
    pub runs: u64,
    pub responses: u64,
}

impl Shape {
    /// One running-therapy practice (2 therapists) and one GP practice (5 referrers) per
    /// hundred participants; ten runs and ten questionnaire scores per participant; a region
    /// per forty practices.
    pub fn for_participants(participants: u64) -> Self {
        let practices = participants.div_ceil(100).max(1);
        Shape {
            participants,
            practices,
            gp_practices: practices,
            regions: practices.div_ceil(40),
            runs: participants * 10,
            responses: participants * 10,
        }
    }
}

/// What was written, per table.
#[derive(Debug, Default, serde::Serialize)]
pub struct Counts {
    pub organisations: u64,
    pub therapists: u64,
    pub referrers: u64,
    pub offerings: u64,
    pub sessions: u64,
    pub referrals: u64,
    pub trajectories: u64,
    pub attendance: u64,
    pub runs: u64,
    pub measurements: u64,
    pub scores: u64,
}

/// A progress bar on stderr: `[#####.....]  45% referrals 45,000 / 100,000`.
struct Progress {
    total: u64,
    started: Instant,
    last_percent: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        Progress {
            total: total.max(1),
            started: Instant::now(),
            last_percent: u64::MAX,
        }
    }

    fn show(&mut self, done: u64, what: &str) {
        let percent = (done * 100 / self.total).min(100);
        if percent == self.last_percent {
            return;
        }
        self.last_percent = percent;
        let filled = (percent / 5) as usize;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {what} {done} / {}  {:.0} s ",
            "#".repeat(filled),
            ".".repeat(20 - filled),
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        eprintln!();
    }
}

struct Offering {
    id: String,
    practice: String,
    /// Session ids, one per week from `sessions_from`.
    sessions: Vec<String>,
}

struct Country {
    offerings: Vec<Offering>,
    /// (GP practice, referrer user) pairs.
    referrers: Vec<(String, String)>,
    /// Region of each practice, by practice index (offerings come in pairs per practice).
    regions: Vec<String>,
    sessions_from: i64,
    /// The plan JSON per start level (the same plan for everyone starting at that level).
    plans: Vec<(StartLevel, String)>,
}

const FIRST_NAMES: [&str; 24] = [
    "Anouk", "Bram", "Chantal", "Dirk", "Esra", "Fleur", "Gijs", "Hanna", "Ilse", "Jeroen", "Kim",
    "Lars", "Mila", "Noah", "Olga", "Pieter", "Quinten", "Romy", "Sanne", "Tim", "Umut", "Vera",
    "Wouter", "Yara",
];
const LAST_NAMES: [&str; 20] = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Yilmaz",
];
const PLACES: [(&str, &str, i64, i64); 10] = [
    ("Lelystad", "8232", 52_507_600, 5_469_400),
    ("Groningen", "9711", 53_219_400, 6_566_500),
    ("Deventer", "7411", 52_255_000, 6_163_000),
    ("Noordwijk", "2202", 52_240_000, 4_447_000),
    ("Utrecht", "3511", 52_090_700, 5_121_400),
    ("Eindhoven", "5611", 51_441_600, 5_469_700),
    ("Zwolle", "8011", 52_516_800, 6_083_000),
    ("Leeuwarden", "8911", 53_201_200, 5_799_900),
    ("Maastricht", "6211", 50_851_400, 5_690_900),
    ("Rotterdam", "3011", 51_924_400, 4_477_700),
];

/// The national data set is generated once per database: its people have fixed addresses.
pub async fn refuse_twice(db: &Db) -> anyhow::Result<()> {
    let mut c = db.conn().await?;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE email = 'therapeut1@national.invalid'",
    )
    .fetch_one(&mut *c)
    .await?;
    anyhow::ensure!(n == 0, "this database has the national data set already");
    Ok(())
}

/// Generates the country into `db` (which has the small demo already), showing progress.
pub async fn generate(db: &Db, shape: Shape, now: i64) -> anyhow::Result<Counts> {
    let started = Instant::now();
    let mut counts = Counts::default();
    let country = setup(db, shape, now, &mut counts).await?;
    eprintln!(
        "{} practices, {} therapists, {} referrers, {} group sessions in {:.1} s",
        shape.practices,
        counts.therapists,
        counts.referrers,
        counts.sessions,
        started.elapsed().as_secs_f64()
    );
    let mut rng = Rng(0x4E41_7449_4F4E_414C);
    let mut t = Tables::new();
    let mut progress = Progress::new(shape.participants);
    let mut made = 0u64;
    while made < shape.participants {
        let n = CHUNK.min((shape.participants - made) as usize);
        for _ in 0..n {
            participant(&mut rng, &country, &mut t, shape, made, now);
            made += 1;
        }
        let mut tx = db.begin().await?;
        t.flush(&mut tx).await?;
        tx.commit().await?;
        progress.show(made, "participants");
    }
    progress.finish();
    let mut c = db.conn().await?;
    for sql in super::bench::RECOUNT {
        sqlx::query(sql).execute(&mut *c).await?;
    }
    counts.referrals = t.referrals.written;
    counts.trajectories = t.trajectories.written;
    counts.attendance = t.attendance.written;
    counts.runs = t.runs.written;
    counts.measurements = t.measurements.written;
    counts.scores = t.scores_written;
    eprintln!("made in {:.1} s", started.elapsed().as_secs_f64());
    if counts.runs < shape.runs || counts.scores < shape.responses {
        eprintln!(
            "note: fewer runs or scores than aimed for ({} / {}, {} / {})",
            counts.runs, shape.runs, counts.scores, shape.responses
        );
    }
    Ok(counts)
}

/// Regions, practices (therapists with accounts, a location, a group each with its weekly
/// sessions), and GP practices with their referrers.
async fn setup(db: &Db, shape: Shape, now: i64, counts: &mut Counts) -> anyhow::Result<Country> {
    let mut orgs = Batch::organisations();
    let mut users = Batch::new(
        "users",
        &["id", "email", "name", "is_admin", "lang", "created_at"],
    );
    let mut members = Batch::new("memberships", &["user_id", "org_id", "role", "created_at"]);
    let mut therapists = Batch::new(
        "therapists",
        &[
            "id",
            "org_id",
            "user_id",
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
    // Sessions on the weekday of `sessions_from`, every week.
    let sessions_from = now - PAST_WEEKS * WEEK;
    let dates: Vec<String> = (0..PAST_WEEKS + FUTURE_WEEKS)
        .map(|w| local_date(sessions_from + w * WEEK))
        .collect();
    let person = |users: &mut Batch,
                  members: &mut Batch,
                  email: String,
                  name: String,
                  org: &str,
                  role: &str| {
        let id = new_id();
        users.row([
            id.as_str().into(),
            email.into(),
            name.into(),
            0i64.into(),
            "nl".into(),
            now.into(),
        ]);
        members.row([id.as_str().into(), org.into(), role.into(), now.into()]);
        id
    };
    let region_ids: Vec<String> = (1..=shape.regions)
        .map(|r| {
            let id = new_id();
            orgs.row([
                id.as_str().into(),
                format!("Zorggroep Regio {r:02}").into(),
                "care_group".into(),
                now.into(),
            ]);
            person(
                &mut users,
                &mut members,
                format!("coordinator{r}@national.invalid"),
                format!("Coördinator Regio {r:02}"),
                &id,
                "coordinator",
            );
            id
        })
        .collect();
    let mut offerings = Vec::new();
    let mut regions = Vec::new();
    for p in 0..shape.practices {
        let practice = new_id();
        let (place, pc4, lat, lon) = PLACES[(p % PLACES.len() as u64) as usize];
        orgs.row([
            practice.as_str().into(),
            format!("Runningtherapie {place} {:04}", p + 1).into(),
            "therapist_practice".into(),
            now.into(),
        ]);
        regions.push(region_ids[(p / 40) as usize % region_ids.len()].clone());
        let location = new_id();
        locations.row([
            location.as_str().into(),
            practice.as_str().into(),
            "Park".into(),
            format!("Parklaan {}", p + 1).into(),
            format!("{pc4} AB").into(),
            place.into(),
            (lat + (p as i64 % 97) * 300).into(),
            (lon + (p as i64 % 89) * 300).into(),
            now.into(),
        ]);
        for k in 0..2 {
            let n = p * 2 + k + 1;
            let name = format!("Therapeut {n:04}");
            let user = person(
                &mut users,
                &mut members,
                format!("therapeut{n}@national.invalid"),
                name.clone(),
                &practice,
                "therapist",
            );
            let therapist = new_id();
            therapists.row([
                therapist.as_str().into(),
                practice.as_str().into(),
                user.as_str().into(),
                name.into(),
                "physiotherapist".into(),
                "registered".into(),
                now.into(),
                now.into(),
            ]);
            let id = new_id();
            offers.row([
                id.as_str().into(),
                practice.as_str().into(),
                therapist.as_str().into(),
                location.as_str().into(),
                format!("Runninggroep {place} {n:04}").into(),
                "running_group".into(),
                "".into(),
                "wekelijks 18:30".into(),
                ",1,".into(),
                dates[0].as_str().into(),
                12i64.into(),
                12i64.into(),
                ",insurer,gp_module,municipality,".into(),
                ",stress,depression,burnout,".into(),
                0i64.into(),
                1i64.into(),
                now.into(),
                now.into(),
            ]);
            let ids = dates
                .iter()
                .map(|d| {
                    let s = new_id();
                    sessions.row([
                        s.as_str().into(),
                        id.as_str().into(),
                        d.as_str().into(),
                        "18:30".into(),
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
            counts.therapists += 1;
        }
    }
    let mut referrers = Vec::new();
    for g in 0..shape.gp_practices {
        let gp = new_id();
        orgs.row([
            gp.as_str().into(),
            format!("Huisartsenpraktijk {:04}", g + 1).into(),
            "gp_practice".into(),
            now.into(),
        ]);
        for k in 0..5 {
            let n = g * 5 + k + 1;
            let user = person(
                &mut users,
                &mut members,
                format!("verwijzer{n}@national.invalid"),
                format!("Verwijzer {n:05}"),
                &gp,
                "referrer",
            );
            referrers.push((gp.clone(), user));
        }
    }
    counts.referrers = referrers.len() as u64;
    counts.organisations = orgs.pending() as u64;
    counts.offerings = offerings.len() as u64;
    counts.sessions = sessions.pending() as u64;
    let mut tx = db.begin().await?;
    for b in [
        &mut orgs,
        &mut users,
        &mut members,
        &mut therapists,
        &mut locations,
        &mut offers,
        &mut sessions,
    ] {
        b.flush(&mut tx).await?;
    }
    tx.commit().await?;
    let plans = StartLevel::ALL
        .iter()
        .map(|l| Ok((*l, serde_json::to_string(&plan::generate(*l, 12))?)))
        .collect::<anyhow::Result<_>>()?;
    Ok(Country {
        offerings,
        referrers,
        regions,
        sessions_from,
        plans,
    })
}

struct Tables {
    referrals: Batch,
    events: Batch,
    intakes: Batch,
    trajectories: Batch,
    attendance: Batch,
    runs: Batch,
    measurements: Batch,
    scores: Vec<super::bench::Score>,
    scores_written: u64,
}

impl Tables {
    fn new() -> Self {
        let b = super::bench::Tables::new();
        Tables {
            referrals: Batch::new(
                "referrals",
                &[
                    "id",
                    "status",
                    "source",
                    "offering_id",
                    "region_org_id",
                    "referrer_user_id",
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
            events: b.events,
            intakes: b.intakes,
            trajectories: Batch::new(
                "trajectories",
                &[
                    "id",
                    "referral_id",
                    "offering_id",
                    "org_id",
                    "therapist_user_id",
                    "status",
                    "start_date",
                    "weeks",
                    "start_level",
                    "plan",
                    "current_week",
                    "hr_low",
                    "hr_high",
                    "created_at",
                    "updated_at",
                ],
            ),
            attendance: b.attendance,
            runs: Batch::new(
                "runs",
                &[
                    "id",
                    "trajectory_id",
                    "run_date",
                    "duration_s",
                    "distance_m",
                    "exertion",
                    "mood_before",
                    "mood_after",
                    "pain",
                    "pain_where",
                    "note",
                    "source",
                    "created_at",
                ],
            ),
            measurements: b.measurements,
            scores: Vec::new(),
            scores_written: 0,
        }
    }

    async fn flush(&mut self, c: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        for b in [
            &mut self.referrals,
            &mut self.events,
            &mut self.intakes,
            &mut self.trajectories,
            &mut self.attendance,
            &mut self.runs,
            &mut self.measurements,
        ] {
            b.flush(c).await?;
        }
        self.scores_written += super::bench::write_scores(c, &mut self.scores).await?;
        Ok(())
    }
}

/// One participant: a referral with its timeline and intake, and once accepted a trajectory
/// with a real plan, attendance, runs and questionnaire scores. `n` numbers the participant;
/// runs and scores per trajectory are steered so the totals reach the shape's.
fn participant(rng: &mut Rng, country: &Country, t: &mut Tables, shape: Shape, n: u64, now: i64) {
    let id = new_id();
    let created = now - (10 + rng.below(600) as i64) * DAY - rng.below(36_000_000) as i64;
    let status = super::bench::status(rng);
    // Someone accepted more than eighteen weeks ago has finished their twelve weeks by now:
    // the country is generated in its steady state, not with a year of weekly reviews waiting
    // for the worker (which would still be catching up during any measurement on it).
    let status = match status {
        "accepted" | "started" if now - created > 18 * WEEK => "completed",
        s => s,
    };
    let offering_index = rng.below(country.offerings.len());
    let offering = &country.offerings[offering_index];
    let region = &country.regions[offering_index / 2];
    let (gp, referrer) = rng.pick(&country.referrers);
    let name = format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&LAST_NAMES));
    let indications = rng.pick(&super::bench::INDICATIONS).to_string();
    t.referrals.row([
        id.as_str().into(),
        status.into(),
        "professional".into(),
        offering.id.as_str().into(),
        region.as_str().into(),
        referrer.as_str().into(),
        gp.as_str().into(),
        name.into(),
        format!("deelnemer{}@national.invalid", n + 1).into(),
        "".into(),
        "1234 AB".into(),
        format!(",{indications},").into(),
        "".into(),
        "".into(),
        "high".into(),
        (*rng.pick(&super::bench::FUNDING)).into(),
        "referrer".into(),
        created.into(),
        "".into(),
        "".into(),
        id.as_str().into(),
        (created + 5 * DAY).into(),
        created.into(),
        created.into(),
    ]);
    super::bench::timeline(rng, &mut t.events, &mut t.intakes, &id, status, created);
    if !super::bench::is_accepted(status) {
        return;
    }
    let trajectory = new_id();
    let start = created + (10 + rng.below(30) as i64) * DAY;
    let (level, plan) = rng.pick(&country.plans);
    let week = ((now - start) / WEEK + 1).clamp(1, 12);
    let traj_status = match status {
        "accepted" | "started" => "active",
        "dropped_out" => "dropped_out",
        _ => "completed",
    };
    t.trajectories.row([
        trajectory.as_str().into(),
        id.as_str().into(),
        offering.id.as_str().into(),
        offering.practice.as_str().into(),
        Option::<String>::None.into(),
        traj_status.into(),
        local_date(start).into(),
        12i64.into(),
        level.as_str().into(),
        plan.as_str().into(),
        week.into(),
        120i64.into(),
        140i64.into(),
        created.into(),
        created.into(),
    ]);
    // Weekly group sessions from the start until now (or the twelve weeks' end).
    let end = (start + 12 * WEEK).min(now);
    let first = ((start - country.sessions_from + WEEK - 1) / WEEK).max(0) as usize;
    let weeks = ((end - start).max(0) / WEEK) as usize;
    for s in offering.sessions.iter().skip(first).take(weeks) {
        let u = rng.unit();
        let att = if u < 0.82 {
            "present"
        } else if u < 0.94 {
            "absent"
        } else {
            "absent_notice"
        };
        t.attendance.row([
            s.as_str().into(),
            trajectory.as_str().into(),
            att.into(),
            "".into(),
            start.into(),
        ]);
    }
    // Runs between the start and now: as many as keep the total on course for the shape,
    // aiming a little high (later trajectories have less time behind them) so the totals
    // end at or above the shape's.
    let made = t.trajectories.written + t.trajectories.pending() as u64;
    let rate = (made as f64 / (n + 1) as f64).clamp(0.3, 1.0) * 0.8;
    let remaining_people = (shape.participants - n).max(1);
    let want_runs =
        (shape.runs + shape.runs / 100).saturating_sub(t.runs.written + t.runs.pending() as u64);
    let per = (want_runs as f64 / (remaining_people as f64 * rate)).ceil() as usize;
    let span_days = ((now - start) / DAY).clamp(1, 120);
    for k in 0..per.clamp(1, 60) {
        let day = (k as i64 * span_days) / per.max(1) as i64;
        let at = start + day * DAY + 7 * 3_600_000;
        if at > now {
            break;
        }
        let minutes = 20 + rng.below(30) as i64;
        t.runs.row([
            new_id().into(),
            trajectory.as_str().into(),
            local_date(at).into(),
            (minutes * 60).into(),
            (minutes * 130).into(),
            (2 + rng.below(5) as i64).into(),
            (2 + rng.below(3) as i64).into(),
            (3 + rng.below(3) as i64).into(),
            i64::from(rng.chance(0.04)).into(),
            "".into(),
            "".into(),
            "manual".into(),
            at.into(),
        ]);
    }
    // Every measurement point that has come: with referrals over the past twenty months that
    // is about 15 scores per trajectory, over the shape's 10 per participant.
    let person = super::bench::Person::new(rng);
    for (point, day) in POINTS {
        if start + day * DAY + DAY > now {
            break;
        }
        super::bench::measurement(
            rng,
            &mut t.measurements,
            &mut t.scores,
            &trajectory,
            (point, day),
            start,
            person,
        );
    }
}

/// Measurement points and the day after the start each is handed in.
const POINTS: [(&str, i64); 6] = [
    ("baseline", -3),
    ("week5", 35),
    ("week10", 70),
    ("end", 84),
    ("followup3", 175),
    ("followup6", 266),
];
