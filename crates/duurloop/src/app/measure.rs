//! Measurement (SPEC C7): questionnaires as data, the measurement schedule of each
//! trajectory, answering by single-use link or in the portal with partial saving, scoring
//! with bands and reliable change, and safety alerts.
//!
//! A measurement is one point of a trajectory (baseline, week 5, …) with the offering's
//! instruments on one page and one link. The link is single-use: it stops when the answers
//! are sent, when a reminder replaces it, or after [`LINK_TTL_MS`].

use std::collections::BTreeMap;

use duurloop_domain::{
    Role,
    measure::{self, Change, Instrument, Point},
};
use serde::{Deserialize, Serialize};

use super::{
    Actor, AppError, AppResult, FieldError, RequestCtx,
    audit::{Event, record, record_anonymous},
    portal::Participant,
};
use crate::{
    mail,
    state::AppState,
    store::{
        self, Conn,
        measure::{AlertRow, MeasurementRow, ScoreRow},
        trajectories::TrajectoryRow,
    },
};

/// How long a questionnaire link works.
pub const LINK_TTL_MS: i64 = 14 * DAY_MS;
/// A reminder goes out this long after the link (and after the previous reminder)…
pub const REMIND_AFTER_MS: i64 = 3 * DAY_MS;
/// …at most this many times…
pub const MAX_REMINDERS: i64 = 2;
/// …and the therapist hears when it stays unanswered this long.
pub const ESCALATE_AFTER_MS: i64 = 7 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

/// The built-in instruments every offering measures unless it chooses otherwise.
pub const DEFAULT_INSTRUMENTS: &str = "phq9,gad7,who5";

/// A built-in instrument or an organisation's own questionnaire.
pub async fn instrument(c: &mut Conn, code: &str) -> AppResult<Option<Instrument>> {
    if let Some(i) = measure::builtin_by_code(code) {
        return Ok(Some(i));
    }
    match store::measure::questionnaire(c, code).await? {
        Some(row) => Ok(Some(
            serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?,
        )),
        None => Ok(None),
    }
}

fn add_days(date: &str, days: i64) -> Option<String> {
    let d: jiff::civil::Date = date.parse().ok()?;
    d.checked_add(jiff::Span::new().days(days))
        .ok()
        .map(|d| d.to_string())
}

/// The points and instruments an offering measures.
async fn settings_of(
    c: &mut Conn,
    offering_id: &str,
    weeks: u16,
) -> AppResult<(Vec<Point>, String)> {
    let (points, instruments) = store::measure::offering_settings(c, offering_id)
        .await?
        .unwrap_or_default();
    let points = if points.is_empty() {
        measure::default_schedule(weeks)
    } else {
        measure::parse_schedule(&points, weeks).unwrap_or_else(|_| measure::default_schedule(weeks))
    };
    let instruments = if instruments.is_empty() {
        DEFAULT_INSTRUMENTS.to_string()
    } else {
        instruments
    };
    Ok((points, instruments))
}

/// Plans the measurements of a new trajectory (in the transaction that starts it). The
/// baseline is due at once (it belongs to the intake), the others on their day.
pub async fn schedule(
    c: &mut Conn,
    trajectory_id: &str,
    offering_id: &str,
    start_date: &str,
    weeks: u16,
    now: i64,
) -> AppResult<()> {
    let (points, instruments) = settings_of(c, offering_id, weeks).await?;
    let today = crate::clock::local_date(now);
    for p in points {
        let due = if p.offset_days == 0 {
            today.clone().min(start_date.to_string())
        } else {
            add_days(start_date, p.offset_days).unwrap_or_else(|| today.clone())
        };
        store::measure::insert_measurement(c, trajectory_id, &p.code, &due, &instruments, now)
            .await?;
    }
    Ok(())
}

fn link(state: &AppState, token: &str) -> String {
    format!("{}/vragenlijst/{token}", state.config.base_url)
}

/// The trajectory and its participant's address and mail language, when they have an address.
async fn client_email(
    c: &mut Conn,
    trajectory_id: &str,
) -> AppResult<Option<(TrajectoryRow, String, String)>> {
    let Some(t) = store::trajectories::by_id(c, trajectory_id).await? else {
        return Ok(None);
    };
    let r = store::referrals::by_id(c, &t.referral_id).await?;
    Ok(r.filter(|r| !r.client_email.is_empty())
        .map(|r| (t, r.client_email, r.client_lang)))
}

/// Gives the measurement a fresh link and mails it to the participant (the previous link
/// stops: single use, never two live links); how many mails (0 without an address).
async fn send_link(
    c: &mut Conn,
    state: &AppState,
    m: &MeasurementRow,
    reminder: bool,
    now: i64,
) -> AppResult<usize> {
    let Some((_, email, lang)) = client_email(c, &m.trajectory_id).await? else {
        return Ok(0);
    };
    let token = store::new_token();
    store::measure::set_token(c, &m.id, &token, now + LINK_TTL_MS).await?;
    let link = link(state, &token);
    mail::queue(
        c,
        state,
        mail::Mail::Questionnaire {
            link: &link,
            reminder,
        },
        &email,
        &lang,
    )
    .await?;
    Ok(1)
}

/// The scheduler's round (run by the worker): sends the questionnaires that are due, reminds
/// participants of open ones, tells the therapist when one stays unanswered, and lets old
/// links lapse. Idempotent: running it twice in a row sends nothing twice.
pub async fn run_schedule(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let mut sent = 0;
    let mut c = state.db.conn().await?;
    let due = store::measure::due_to_send(&mut c, &crate::clock::local_date(now)).await?;
    drop(c);
    for m in due {
        let mut tx = state.db.begin().await?;
        sent += send_link(&mut tx, state, &m, false, now).await?;
        store::measure::mark_sent(&mut tx, &m.id, now).await?;
        super::audit::record_system(
            &mut tx,
            now,
            super::audit::WORKER,
            Event::new("send", "measurement").record(&m.id),
        )
        .await?;
        tx.commit().await?;
    }
    let mut c = state.db.conn().await?;
    let open = store::measure::open_sent(&mut c).await?;
    drop(c);
    for m in open {
        let Some(sent_at) = m.sent_at else { continue };
        let mut tx = state.db.begin().await?;
        let system = |action| Event::new(action, "measurement").record(&m.id);
        if m.token_expires_at.is_some_and(|e| e <= now) {
            store::measure::mark_expired(&mut tx, &m.id).await?;
            super::audit::record_system(&mut tx, now, super::audit::WORKER, system("expire"))
                .await?;
        } else if m.reminders < MAX_REMINDERS
            && now - sent_at >= REMIND_AFTER_MS * (m.reminders + 1)
        {
            sent += send_link(&mut tx, state, &m, true, now).await?;
            store::measure::count_reminder(&mut tx, &m.id).await?;
            super::audit::record_system(&mut tx, now, super::audit::WORKER, system("remind"))
                .await?;
        }
        if m.escalated_at.is_none()
            && now - sent_at >= ESCALATE_AFTER_MS
            && store::measure::mark_escalated(&mut tx, &m.id, now).await?
        {
            sent += tell_team(&mut tx, state, &m.trajectory_id, Notice::Unanswered).await?;
            super::audit::record_system(&mut tx, now, super::audit::WORKER, system("escalate"))
                .await?;
        }
        tx.commit().await?;
    }
    if sent > 0 {
        state.mail_wakeup.notify_one();
    }
    Ok(sent)
}

/// What the team hears about a trajectory (never with client details).
enum Notice {
    Unanswered,
    Safety,
}

/// Mails a trajectory's therapist (or else its organisation's coordinators); how many mails.
async fn tell_team(
    c: &mut Conn,
    state: &AppState,
    trajectory_id: &str,
    notice: Notice,
) -> AppResult<usize> {
    let Some(t) = store::trajectories::by_id(c, trajectory_id).await? else {
        return Ok(0);
    };
    let link = format!("{}/trajectories/{}", state.config.base_url, t.id);
    let to = therapist_addresses(c, &t).await?;
    for (addr, lang) in &to {
        let mail = match notice {
            Notice::Unanswered => mail::Mail::QuestionnaireUnanswered { link: &link },
            Notice::Safety => mail::Mail::SafetyAlert { link: &link },
        };
        mail::queue(c, state, mail, addr, lang).await?;
    }
    Ok(to.len())
}

/// Who hears about a trajectory: its therapist, or else the organisation's coordinators.
/// The therapist's address and language, or else those of the organisation's coordinators.
async fn therapist_addresses(c: &mut Conn, t: &TrajectoryRow) -> AppResult<Vec<(String, String)>> {
    if let Some(u) = &t.therapist_user_id
        && let Some(user) = store::users::by_id(c, u).await?
    {
        return Ok(vec![(user.email, user.lang)]);
    }
    Ok(store::orgs::members(c, &t.org_id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Coordinator.as_str())
        .map(|m| (m.email, m.lang))
        .collect())
}

/// One instrument on the questionnaire page.
pub struct FormPart {
    pub instrument: Instrument,
    pub answers: BTreeMap<String, i64>,
}

/// A questionnaire to fill in, with what was saved so far.
pub struct Form {
    pub measurement: MeasurementRow,
    pub parts: Vec<FormPart>,
    /// Safety messages to show now (an answer met a safety rule).
    pub help: Vec<measure::Text>,
}

type Answers = BTreeMap<String, BTreeMap<String, i64>>;

fn parse_answers(json: &str) -> Answers {
    serde_json::from_str(json).unwrap_or_default()
}

async fn form_of(c: &mut Conn, m: MeasurementRow) -> AppResult<Form> {
    let answers = parse_answers(&m.answers);
    let mut parts = Vec::new();
    let mut help = Vec::new();
    for code in m.instruments.split(',').filter(|s| !s.is_empty()) {
        let Some(instrument) = instrument(c, code).await? else {
            continue;
        };
        let a = answers.get(code).cloned().unwrap_or_default();
        help.extend(
            instrument
                .safety_hits(&a)
                .into_iter()
                .map(|r| r.message.clone()),
        );
        parts.push(FormPart {
            instrument,
            answers: a,
        });
    }
    Ok(Form {
        measurement: m,
        parts,
        help,
    })
}

/// How a participant reaches a questionnaire: by the link in the e-mail, or signed in to
/// the portal.
#[derive(Clone, Copy)]
pub enum Access<'a> {
    Link(&'a str),
    Portal(&'a Participant, &'a str),
}

async fn find(c: &mut Conn, access: &Access<'_>, now: i64) -> AppResult<MeasurementRow> {
    match access {
        Access::Link(token) => store::measure::by_token(c, token, now)
            .await?
            .ok_or(AppError::NotFound),
        Access::Portal(p, id) => store::measure::measurement(c, id)
            .await?
            .filter(|m| {
                m.trajectory_id == p.trajectory.id
                    && matches!(m.status.as_str(), "sent" | "partial")
            })
            .ok_or(AppError::NotFound),
    }
}

/// The questionnaire page (audit-logged: it shows saved answers).
pub async fn form(state: &AppState, access: Access<'_>, ctx: &RequestCtx) -> AppResult<Form> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let m = find(&mut tx, &access, now).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("read", "measurement").record(&m.id),
    )
    .await?;
    let f = form_of(&mut tx, m).await?;
    tx.commit().await?;
    Ok(f)
}

/// Answers as a form or API call sends them: `{instrument: {item: value}}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AnswersInput {
    #[schema(value_type = Object)]
    pub answers: Answers,
    /// true to hand in (every instrument must then be complete); false saves what is there.
    #[serde(default)]
    pub submit: bool,
}

/// What saving did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Saved {
    pub completed: bool,
    /// Per instrument, the items still open (when handing in was refused).
    pub missing: BTreeMap<String, Vec<String>>,
    /// Where to get help now, in the participant's language, when an answer calls for it.
    pub help: Vec<String>,
}

/// Saves answers (merged into what was saved before) and, when asked and complete, scores
/// them and ends the link. Any answer that meets a safety rule alerts the therapist at once,
/// whether or not the questionnaire is handed in.
pub async fn save(
    state: &AppState,
    access: Access<'_>,
    input: &AnswersInput,
    lang: &str,
    ctx: &RequestCtx,
) -> AppResult<Saved> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let m = find(&mut tx, &access, now).await?;
    let mut answers = parse_answers(&m.answers);
    let codes: Vec<String> = m
        .instruments
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let mut instruments = Vec::new();
    for code in &codes {
        if let Some(i) = instrument(&mut tx, code).await? {
            instruments.push(i);
        }
    }
    for (code, items) in &input.answers {
        let i = instruments
            .iter()
            .find(|i| &i.code == code)
            .ok_or(AppError::invalid("answers", "questionnaire-unknown-item"))?;
        for (item, value) in items {
            i.check_answer(item, *value).map_err(|e| {
                AppError::Invalid(vec![FieldError {
                    field: "answers",
                    key: e.key,
                }])
            })?;
            answers
                .entry(code.clone())
                .or_default()
                .insert(item.clone(), *value);
        }
    }
    let json = serde_json::to_string(&answers).map_err(|e| AppError::Internal(e.into()))?;
    // Safety first: on every save, complete or not.
    let mut help = Vec::new();
    let mut alerted = false;
    for i in &instruments {
        let a = answers.get(&i.code).cloned().unwrap_or_default();
        for rule in i.safety_hits(&a) {
            help.push(rule.message.get(lang).to_string());
            let value = a.get(&rule.item).copied().unwrap_or_default();
            if store::measure::insert_alert(
                &mut tx,
                &m.id,
                &m.trajectory_id,
                &i.code,
                &rule.item,
                value,
                now,
            )
            .await?
            {
                alerted = true;
            }
        }
    }
    if alerted {
        tell_team(&mut tx, state, &m.trajectory_id, Notice::Safety).await?;
    }
    let mut missing = BTreeMap::new();
    let mut scores = Vec::new();
    for i in &instruments {
        match i.score(&answers.get(&i.code).cloned().unwrap_or_default()) {
            Ok(s) => scores.push((i.code.clone(), s)),
            Err(inc) => {
                missing.insert(i.code.clone(), inc.missing);
            }
        }
    }
    let completed = input.submit && missing.is_empty();
    if completed {
        if !store::measure::complete(&mut tx, &m.id, &json, now).await? {
            return Err(AppError::NotFound);
        }
        for (code, s) in &scores {
            store::measure::insert_score(
                &mut tx,
                &m.id,
                &m.trajectory_id,
                code,
                &m.point,
                s.total,
                s.raw,
                s.band.as_deref(),
                s.prorated,
                now,
            )
            .await?;
        }
    } else {
        store::measure::save_answers(&mut tx, &m.id, &json, "partial").await?;
    }
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new(if completed { "submit" } else { "update" }, "measurement").record(&m.id),
    )
    .await?;
    tx.commit().await?;
    if alerted {
        state.mail_wakeup.notify_one();
    }
    if input.submit && !missing.is_empty() {
        return Err(AppError::Invalid(vec![FieldError {
            field: "answers",
            key: "questionnaire-incomplete",
        }]));
    }
    Ok(Saved {
        completed,
        missing: if input.submit {
            missing
        } else {
            BTreeMap::new()
        },
        help,
    })
}

/// One instrument's course over a trajectory.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Course {
    pub instrument: String,
    pub title: String,
    pub min: f64,
    pub max: f64,
    pub higher_is_better: bool,
    pub scores: Vec<ScoreRow>,
    /// Band labels per score, in the reader's language.
    pub bands: Vec<String>,
    /// First score against the latest (Jacobson–Truax), when there are two and the
    /// instrument has norms.
    pub change: Option<ChangeOut>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeOut {
    pub difference: f64,
    pub rci: f64,
    pub reliable: bool,
    /// recovered, improved, unchanged or deteriorated
    pub outcome: String,
}

impl From<Change> for ChangeOut {
    fn from(c: Change) -> Self {
        ChangeOut {
            difference: (c.difference * 10.0).round() / 10.0,
            rci: (c.rci * 100.0).round() / 100.0,
            reliable: c.reliable,
            outcome: c.outcome.as_str().to_string(),
        }
    }
}

pub(crate) async fn courses(
    c: &mut Conn,
    trajectory_id: &str,
    lang: &str,
) -> AppResult<Vec<Course>> {
    let scores = store::measure::scores(c, trajectory_id).await?;
    courses_of(c, scores, lang).await
}

/// The courses of these scores (in the order they were scored), one per questionnaire.
pub(crate) async fn courses_of(
    c: &mut Conn,
    scores: Vec<ScoreRow>,
    lang: &str,
) -> AppResult<Vec<Course>> {
    let mut codes: Vec<String> = Vec::new();
    for s in &scores {
        if !codes.contains(&s.instrument) {
            codes.push(s.instrument.clone());
        }
    }
    let mut out = Vec::new();
    for code in codes {
        let custom;
        let i: &Instrument = match measure::builtin_ref(&code) {
            Some(i) => i,
            None => match instrument(c, &code).await? {
                Some(found) => {
                    custom = found;
                    &custom
                }
                None => continue,
            },
        };
        let mine: Vec<ScoreRow> = scores
            .iter()
            .filter(|s| s.instrument == code)
            .cloned()
            .collect();
        let change = match (mine.first(), mine.last()) {
            (Some(a), Some(b)) if mine.len() > 1 => {
                measure::change(i, a.total, b.total).map(ChangeOut::from)
            }
            _ => None,
        };
        let bands = mine
            .iter()
            .map(|s| {
                i.band(s.total)
                    .map(|b| b.label.get(lang).to_string())
                    .unwrap_or_default()
            })
            .collect();
        out.push(Course {
            instrument: code,
            title: i.title.get(lang).to_string(),
            min: i.min_total(),
            max: i.max_total(),
            higher_is_better: i.higher_is_better,
            scores: mine,
            bands,
            change,
        });
    }
    Ok(out)
}

/// A trajectory's measurements as its therapist sees them.
pub struct Results {
    pub measurements: Vec<MeasurementRow>,
    pub courses: Vec<Course>,
    pub alerts: Vec<AlertRow>,
}

/// The measurements, scores and alerts of a trajectory (its therapist and the organisation's
/// coordinators; audit-logged).
pub async fn results(
    state: &AppState,
    actor: &Actor,
    trajectory_id: &str,
    lang: &str,
) -> AppResult<Results> {
    let now = state.now();
    let attempt = Event::new("read", "measurement");
    let (mut tx, t, _) = super::trajectories::open(state, actor, trajectory_id, attempt).await?;
    let measurements = store::measure::of_trajectory(&mut tx, &t.id).await?;
    let courses = courses(&mut tx, &t.id, lang).await?;
    let alerts = store::measure::alerts_of(&mut tx, &t.id).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "measurement")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Results {
        measurements,
        courses,
        alerts,
    })
}

/// For the participant's portal: what is open now and their own course.
pub struct Mine {
    pub open: Vec<MeasurementRow>,
    pub courses: Vec<Course>,
}

pub async fn mine(state: &AppState, p: &Participant, lang: &str) -> AppResult<Mine> {
    let mut c = state.db.conn().await?;
    let open = store::measure::of_trajectory(&mut c, &p.trajectory.id)
        .await?
        .into_iter()
        .filter(|m| matches!(m.status.as_str(), "sent" | "partial"))
        .collect();
    let courses = courses(&mut c, &p.trajectory.id, lang).await?;
    Ok(Mine { open, courses })
}

/// Unacknowledged safety alerts for the person's dashboard: their own participants', and
/// for coordinators their organisation's.
pub async fn open_alerts(state: &AppState, actor: &Actor) -> AppResult<Vec<AlertRow>> {
    let orgs: Vec<String> = actor
        .identity
        .coordinated_orgs()
        .into_iter()
        .map(|m| m.org_id.clone())
        .collect();
    let now = state.now();
    let mut c = state.db.conn().await?;
    let alerts = store::measure::open_alerts(&mut c, &actor.identity.user_id, &orgs).await?;
    drop(c);
    // The list names clients and what they answered: one entry per alert shown, as when the
    // alert is acknowledged (record: the trajectory). Through the group writer, so the start
    // page takes no write lock.
    super::audit::log_reads(
        state,
        now,
        actor,
        alerts
            .iter()
            .map(|a| Event::new("read", "safety_alert").record(&a.trajectory_id)),
    )
    .await?;
    Ok(alerts)
}

/// Marks an alert as seen and acted on (the trajectory's team only).
pub async fn acknowledge(state: &AppState, actor: &Actor, id: &str) -> AppResult<String> {
    let now = state.now();
    let a = {
        let mut c = state.db.conn().await?;
        store::measure::alert(&mut c, id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let attempt = Event::new("acknowledge", "safety_alert");
    let (mut tx, t, _) = super::trajectories::open(state, actor, &a.trajectory_id, attempt).await?;
    store::measure::acknowledge_alert(&mut tx, id, &actor.identity.user_id, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("acknowledge", "safety_alert")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(t.id)
}

/// An organisation's questionnaires: the built-ins and its own.
pub struct Catalogue {
    pub builtin: Vec<Instrument>,
    pub own: Vec<(Instrument, bool)>,
}

fn require_coordinator(actor: &Actor, org_id: &str) -> AppResult<()> {
    if actor.identity.role_in(org_id) == Some(Role::Coordinator) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn catalogue(state: &AppState, actor: &Actor, org_id: &str) -> AppResult<Catalogue> {
    super::groups::require_team(actor, org_id)?;
    let mut c = state.db.conn().await?;
    let mut own = Vec::new();
    for row in store::measure::questionnaires_of(&mut c, org_id).await? {
        let i: Instrument =
            serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
        own.push((i, row.active == 1));
    }
    Ok(Catalogue {
        builtin: measure::builtin(),
        own,
    })
}

/// A short questionnaire as the coordinator types it: items one per line (a line starting
/// with `(-)` is scored in reverse), answer options one per line as `value text`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct QuestionnaireInput {
    pub title: String,
    /// One item per line; start a line with `(-)` to score it in reverse.
    pub items: String,
    /// One answer option per line: `0 Nooit`, `1 Soms`, …
    pub scale: String,
    /// "yes" when a higher total is better (as with well-being).
    #[serde(default)]
    pub higher_is_better: String,
    /// Optional clinical cutoff on the total.
    #[serde(default)]
    pub cutoff: String,
}

/// Makes an organisation's own questionnaire; returns its code.
pub async fn create_questionnaire(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: &QuestionnaireInput,
) -> AppResult<String> {
    require_coordinator(actor, org_id)?;
    let items: Vec<(String, bool)> = input
        .items
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix("(-)") {
            Some(rest) => (rest.trim().to_string(), true),
            None => (l.to_string(), false),
        })
        .collect();
    let mut scale = Vec::new();
    for line in input.scale.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (value, text) = line.split_once(' ').unwrap_or((line, ""));
        let value = value
            .parse::<i64>()
            .map_err(|_| AppError::invalid("scale", "questionnaire-invalid-scale"))?;
        scale.push((value, text.trim().to_string()));
    }
    let cutoff = match input.cutoff.trim() {
        "" => None,
        s => Some(
            s.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| AppError::invalid("cutoff", "questionnaire-invalid-cutoff"))?,
        ),
    };
    // The random tail of a new id (its head is a timestamp, shared by ids made together).
    let id: Vec<char> = store::new_id()
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let suffix: String = id[id.len().saturating_sub(12)..].iter().collect();
    let code = format!("eigen_{suffix}");
    let higher = matches!(input.higher_is_better.trim(), "yes" | "ja" | "on" | "true");
    let i = measure::custom(&code, input.title.trim(), &items, &scale, higher, cutoff).map_err(
        |e| {
            let field = match e.key {
                "questionnaire-missing-title" => "title",
                k if k.contains("option") || k.contains("scale") => "scale",
                k if k.contains("cutoff") => "cutoff",
                _ => "items",
            };
            AppError::Invalid(vec![FieldError { field, key: e.key }])
        },
    )?;
    let json = serde_json::to_string(&i).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::measure::insert_questionnaire(
        &mut tx,
        &code,
        org_id,
        &json,
        &actor.identity.user_id,
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "questionnaire")
            .record(&code)
            .org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// Retires (or brings back) an own questionnaire; answers given stay.
pub async fn set_questionnaire_active(
    state: &AppState,
    actor: &Actor,
    code: &str,
    active: bool,
) -> AppResult<String> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let row = store::measure::questionnaire(&mut tx, code)
        .await?
        .ok_or(AppError::NotFound)?;
    require_coordinator(actor, &row.org_id)?;
    store::measure::set_questionnaire_active(&mut tx, code, active).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "questionnaire")
            .record(code)
            .org(&row.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(row.org_id)
}

/// An offering's measurement settings, as shown and as sent back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeasureSettings {
    /// Comma-separated points, e.g. `baseline,week5,week10,end,followup3,followup6`.
    pub points: String,
    /// Comma-separated instrument codes, e.g. `phq9,gad7,who5`.
    pub instruments: String,
}

pub async fn offering_settings(
    state: &AppState,
    actor: &Actor,
    offering_id: &str,
) -> AppResult<(store::directory::OfferingRow, MeasureSettings)> {
    let mut c = state.db.conn().await?;
    let o = store::directory::offering(&mut c, offering_id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::groups::require_team(actor, &o.org_id)?;
    let weeks = u16::try_from(o.weeks).unwrap_or(12);
    let (points, instruments) = settings_of(&mut c, offering_id, weeks).await?;
    Ok((
        o,
        MeasureSettings {
            points: measure::format_schedule(&points),
            instruments,
        },
    ))
}

/// Sets which points and instruments an offering measures (for trajectories started from
/// now on). Instruments must be built in or the organisation's own, active questionnaires.
pub async fn set_offering_settings(
    state: &AppState,
    actor: &Actor,
    offering_id: &str,
    input: &MeasureSettings,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let o = store::directory::offering(&mut tx, offering_id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::groups::require_team(actor, &o.org_id)?;
    let weeks = u16::try_from(o.weeks).unwrap_or(12);
    let points =
        measure::parse_schedule(&input.points, weeks).map_err(|e| AppError::field("points", e))?;
    let mut codes: Vec<String> = Vec::new();
    for code in input
        .instruments
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let ok = measure::builtin_by_code(code).is_some()
            || store::measure::questionnaire(&mut tx, code)
                .await?
                .is_some_and(|q| q.org_id == o.org_id && q.active == 1);
        if !ok {
            return Err(AppError::invalid("instruments", "questionnaire-unknown"));
        }
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_string());
        }
    }
    if codes.is_empty() {
        return Err(AppError::invalid(
            "instruments",
            "questionnaire-none-chosen",
        ));
    }
    store::measure::set_offering_settings(
        &mut tx,
        offering_id,
        &measure::format_schedule(&points),
        &codes.join(","),
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "offering")
            .record(offering_id)
            .org(&o.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
