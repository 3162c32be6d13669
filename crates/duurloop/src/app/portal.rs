//! The participant portal (SPEC C11): sign in with a magic link sent to the address on the
//! referral, see this week's plan and the next sessions, log runs, and follow minutes run per
//! week against the plan. Friendly and never about speed: no pace is shown or asked for.

use duurloop_domain::{EmailAddress, plan::Plan};
use serde::Deserialize;

use super::{
    AppError, AppResult, FieldError, RequestCtx,
    audit::{Event, record_anonymous},
};
use crate::{
    i18n::Lang,
    mail,
    state::AppState,
    store::{self, groups::SessionRow, new_token, portal::RunRow, trajectories::TrajectoryRow},
};

/// Runs a participant may log in 24 hours, by hand and by upload together (ASVS 12.1.3):
/// far above what anyone runs, low enough that a script cannot fill the database.
pub const MAX_RUNS_PER_DAY: i64 = 20;

/// Refuses one more run when the day's limit is reached.
async fn within_daily_runs(
    c: &mut store::Conn,
    trajectory_id: &str,
    now: i64,
    field: &'static str,
) -> AppResult<()> {
    if store::portal::runs_created_since(c, trajectory_id, now - 86_400_000).await?
        >= MAX_RUNS_PER_DAY
    {
        return Err(AppError::invalid(field, "too-many-runs"));
    }
    Ok(())
}

/// How long a magic link works: ten minutes, the most OWASP ASVS 2.7.2 allows for a code sent
/// out of band. The mail leaves at once (the worker is woken when it is queued), so a
/// participant who asks on the page reads it well within that; one who is too late asks again
/// (three a hour per address, [`super::auth::mail_request_allowed`]).
pub const LINK_TTL_MS: i64 = 10 * 60_000;

/// Sends a sign-in link when the address belongs to someone in an active trajectory. The
/// answer is the same either way, and also over the mail limits
/// ([`super::auth::mail_request_allowed`]): then nothing is sent and the audit entry says
/// `throttled`.
///
/// The mail is in `lang` when given (the language the participant chose on the page they asked
/// on: they read that page, so they can read the mail), else in the language stored on their
/// referral.
/// Asking does not change the stored language: anyone can ask for anyone's address, and only
/// the signed-in participant changes their own language (`set_language`).
pub async fn request_link(
    state: &AppState,
    email: &str,
    lang: Option<Lang>,
    ctx: &RequestCtx,
) -> AppResult<()> {
    let email = EmailAddress::parse(email).map_err(|e| AppError::field("email", e))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let trajectory = store::portal::active_trajectory_for_email(&mut tx, email.as_str()).await?;
    if !super::auth::mail_request_allowed(&mut tx, state, email.as_str(), ctx, now).await? {
        let mut e = Event::new("request_portal_link", "trajectory").outcome("throttled");
        if let Some((t, _)) = &trajectory {
            e = e.record(t);
        }
        record_anonymous(&mut tx, now, ctx, e).await?;
    } else if let Some((trajectory, stored)) = trajectory {
        let lang = lang.map_or(stored, |l| l.code().to_string());
        let token = new_token();
        store::portal::insert_link(&mut tx, &token, &trajectory, now, now + LINK_TTL_MS).await?;
        let link = format!("{}/portal/magic/{token}", state.config.base_url);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::PortalLink { link: &link },
            email.as_str(),
            &lang,
        )
        .await?;
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("request_portal_link", "trajectory").record(&trajectory),
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

pub async fn link_valid(state: &AppState, token: &str) -> AppResult<bool> {
    let mut c = state.db.conn().await?;
    Ok(store::portal::link_valid(&mut c, token, state.now()).await?)
}

/// Uses a magic link (once) and opens a portal session; returns the session token.
pub async fn open_link(state: &AppState, token: &str, ctx: &RequestCtx) -> AppResult<String> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let trajectory = store::portal::use_link(&mut tx, token, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let session = new_token();
    store::portal::create_session(&mut tx, &session, &trajectory, now).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("login", "portal").record(&trajectory),
    )
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// The participant behind a portal session cookie, if the session is still valid.
pub struct Participant {
    pub session_hash: String,
    pub trajectory: TrajectoryRow,
}

pub async fn participant(state: &AppState, token: &str) -> AppResult<Option<Participant>> {
    let now = state.now();
    let mut c = state.db.conn().await?;
    let Some(s) = store::trajectories::by_portal_session(&mut c, &store::hash_token(token)).await?
    else {
        return Ok(None);
    };
    Ok(keep_session(state, &mut c, s, now).await?)
}

/// The participant of a session found by its token, unless it has expired (then it is ended);
/// marks it as seen at most once a minute.
async fn keep_session(
    state: &AppState,
    c: &mut store::Conn,
    s: store::trajectories::PortalSessionTrajectory,
    now: i64,
) -> Result<Option<Participant>, sqlx::Error> {
    if state
        .session_policy
        .is_expired(s.session_created_at, s.session_last_seen_at, now)
    {
        store::portal::delete_session(c, &s.session_id_hash).await?;
        return Ok(None);
    }
    if now - s.session_last_seen_at > 60_000 {
        store::portal::touch_session(c, &s.session_id_hash, now).await?;
    }
    Ok(Some(Participant {
        session_hash: s.session_id_hash,
        trajectory: s.trajectory,
    }))
}

pub async fn logout(state: &AppState, p: &Participant, ctx: &RequestCtx) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    store::portal::delete_session(&mut tx, &p.session_hash).await?;
    record_anonymous(
        &mut tx,
        state.now(),
        ctx,
        Event::new("logout", "portal").record(&p.trajectory.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One week in the participant's chart: planned minutes and minutes run.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WeekBar {
    pub number: u16,
    pub planned: u16,
    pub done: i64,
}

pub struct PortalView {
    pub week: u16,
    /// What this week asks for.
    pub this_week: Option<duurloop_domain::plan::Week>,
    pub plan: Plan,
    pub next_sessions: Vec<SessionRow>,
    pub runs: Vec<RunRow>,
    pub bars: Vec<WeekBar>,
    /// Messages from the therapist not opened yet.
    pub unread_messages: i64,
}

fn days_between(a: &str, b: &str) -> Option<i64> {
    let a: jiff::civil::Date = a.parse().ok()?;
    let b: jiff::civil::Date = b.parse().ok()?;
    Some(i64::from((b - a).get_days()))
}

fn today(state: &AppState) -> String {
    crate::clock::local_date(state.now())
}

/// The week (1-based) a date falls in, counted from the trajectory's start.
fn week_of(start: &str, date: &str) -> Option<i64> {
    days_between(start, date).map(|d| d.div_euclid(7) + 1)
}

pub async fn home(state: &AppState, p: &Participant, ctx: &RequestCtx) -> AppResult<PortalView> {
    let t = &p.trajectory;
    let today = today(state);
    let now = state.now();
    // Reads only: no transaction (which on SQLite would hold the write lock); the audit entry
    // goes through the group writer and is committed before the page is shown.
    let mut c = state.db.conn().await?;
    let next_sessions = store::groups::upcoming_sessions(&mut c, &t.offering_id, &today).await?;
    let runs = store::portal::runs(&mut c, &t.id).await?;
    let unread =
        store::messages::unread_from(&mut c, &t.id, store::messages::Side::Therapist).await?;
    drop(c);
    let view = view(t, &today, next_sessions, runs, unread)?;
    super::audit::log_anonymous_read(state, now, ctx, Event::new("read", "portal").record(&t.id))
        .await?;
    Ok(view)
}

/// The participant's home as `GET /portal` and `GET /api/v1/portal` show it: the session, the
/// trajectory and everything on the page read with one statement
/// ([`store::trajectories::portal_home`]). With a language, also the open measurements and
/// the course of the scores (the page shows them; the API has its own routes for them).
pub struct Home {
    pub participant: Participant,
    pub view: PortalView,
    pub mine: Option<super::measure::Mine>,
}

pub async fn home_by_token(
    state: &AppState,
    token: &str,
    lang: Option<&str>,
    ctx: &RequestCtx,
) -> AppResult<Option<Home>> {
    let now = state.now();
    let today = today(state);
    let mut c = state.db.conn().await?;
    let Some(h) =
        store::trajectories::portal_home(&mut c, &store::hash_token(token), &today).await?
    else {
        return Ok(None);
    };
    let Some(participant) = keep_session(state, &mut c, h.session, now).await? else {
        return Ok(None);
    };
    let mine = match lang {
        Some(lang) => Some(super::measure::Mine {
            open: h.open_measurements,
            courses: super::measure::courses_of(&mut c, h.scores, lang).await?,
        }),
        None => None,
    };
    drop(c);
    let t = &participant.trajectory;
    let view = view(t, &today, h.next_sessions, h.runs, h.unread_messages)?;
    super::audit::log_anonymous_read(state, now, ctx, Event::new("read", "portal").record(&t.id))
        .await?;
    Ok(Some(Home {
        participant,
        view,
        mine,
    }))
}

/// The week, this week's plan and the minutes run per week against the plan.
fn view(
    t: &TrajectoryRow,
    today: &str,
    next_sessions: Vec<SessionRow>,
    runs: Vec<RunRow>,
    unread_messages: i64,
) -> AppResult<PortalView> {
    let plan: Plan = serde_json::from_str(&t.plan).map_err(|e| AppError::Internal(e.into()))?;
    let week = week_of(&t.start_date, today)
        .unwrap_or(1)
        .clamp(1, plan.weeks.len().max(1) as i64) as u16;
    // Each run's week once (dates parsed once per run, not once per run per week).
    let mut minutes_in_week = std::collections::HashMap::<i64, i64>::new();
    for r in &runs {
        if let Some(w) = week_of(&t.start_date, &r.run_date) {
            *minutes_in_week.entry(w).or_default() += r.duration_s / 60;
        }
    }
    let bars = plan
        .weeks
        .iter()
        .map(|w| WeekBar {
            number: w.number,
            planned: w.session.total_minutes().saturating_mul(w.sessions),
            done: minutes_in_week
                .get(&i64::from(w.number))
                .copied()
                .unwrap_or(0),
        })
        .collect();
    let this_week = plan.week(week).copied();
    Ok(PortalView {
        week,
        this_week,
        plan,
        next_sessions,
        runs,
        bars,
        unread_messages,
    })
}

/// A run logged by hand.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RunInput {
    /// `jjjj-mm-dd`, not in the future.
    pub date: String,
    /// Whole minutes, 1–600.
    pub minutes: String,
    /// Optional, km (walking groups track distance).
    #[serde(default)]
    pub distance_km: String,
    /// Borg CR10, 0–10.
    #[serde(default)]
    pub exertion: String,
    /// 1 (bad) to 5 (very good).
    #[serde(default)]
    pub mood_before: String,
    #[serde(default)]
    pub mood_after: String,
    /// "yes" when something hurt.
    #[serde(default)]
    pub pain: String,
    #[serde(default)]
    pub pain_where: String,
    #[serde(default)]
    pub note: String,
}

fn optional<T>(
    e: &mut Vec<FieldError>,
    field: &'static str,
    key: &'static str,
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let v = parse(raw);
    if v.is_none() {
        e.push(FieldError { field, key });
    }
    v
}

pub async fn log_run(
    state: &AppState,
    p: &Participant,
    input: &RunInput,
    ctx: &RequestCtx,
) -> AppResult<String> {
    let mut e = Vec::new();
    let today = today(state);
    let date = input.date.trim();
    let date_ok = date.parse::<jiff::civil::Date>().is_ok()
        && date <= today.as_str()
        && date >= p.trajectory.start_date.as_str();
    if !date_ok {
        e.push(FieldError {
            field: "date",
            key: "invalid-run-date",
        });
    }
    let minutes = input
        .minutes
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (1..=600).contains(m));
    if minutes.is_none() {
        e.push(FieldError {
            field: "minutes",
            key: "invalid-minutes",
        });
    }
    let distance = optional(
        &mut e,
        "distance_km",
        "invalid-distance",
        &input.distance_km,
        |s| {
            s.replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|d| (0.0..=100.0).contains(d))
                .map(|d| (d * 1000.0).round() as i64)
        },
    );
    let exertion = optional(
        &mut e,
        "exertion",
        "invalid-exertion",
        &input.exertion,
        |s| duurloop_domain::plan::parse_exertion(s).ok().map(i64::from),
    );
    let mood = |s: &str| s.parse::<i64>().ok().filter(|m| (1..=5).contains(m));
    let mood_before = optional(
        &mut e,
        "mood_before",
        "invalid-mood",
        &input.mood_before,
        mood,
    );
    let mood_after = optional(
        &mut e,
        "mood_after",
        "invalid-mood",
        &input.mood_after,
        mood,
    );
    let pain = matches!(input.pain.trim(), "yes" | "ja" | "on");
    if input.note.chars().count() > 1000 || input.pain_where.chars().count() > 200 {
        e.push(FieldError {
            field: "note",
            key: "text-too-long",
        });
    }
    let Some(minutes) = minutes.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let run = RunRow {
        run_date: date.to_string(),
        duration_s: minutes * 60,
        distance_m: distance,
        exertion,
        mood_before,
        mood_after,
        pain: i64::from(pain),
        pain_where: if pain {
            input.pain_where.trim().to_string()
        } else {
            String::new()
        },
        note: input.note.trim().to_string(),
        source: "manual".into(),
        ..Default::default()
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    within_daily_runs(&mut tx, &p.trajectory.id, now, "date").await?;
    let id = store::portal::insert_run(&mut tx, &p.trajectory.id, &run, now).await?;
    record_anonymous(&mut tx, now, ctx, Event::new("create", "run").record(&id)).await?;
    tx.commit().await?;
    Ok(id)
}

/// A run from a watch or phone file (GPX, TCX or FIT). The file is summarised and dropped:
/// no track is stored, so no route (and no start or end near someone's home) can ever be
/// shown. Broken, oversized or hostile files are refused with a clear message and nothing is
/// stored.
pub async fn upload_run(
    state: &AppState,
    p: &Participant,
    file_name: &str,
    bytes: &[u8],
    input: &RunInput,
    ctx: &RequestCtx,
) -> AppResult<String> {
    use duurloop_tracks::{Format, HrZone, detect, parse, summarise};
    let format = detect(bytes, file_name).ok_or(AppError::invalid("file", "track-unsupported"))?;
    let track = parse(bytes, format).map_err(|e| AppError::invalid("file", e.key()))?;
    let zone = match (p.trajectory.hr_low, p.trajectory.hr_high) {
        (Some(low), Some(high)) => Some(HrZone {
            low: u16::try_from(low).unwrap_or(0),
            high: u16::try_from(high).unwrap_or(0),
        }),
        _ => None,
    };
    let s = summarise(&track, zone);
    let today = today(state);
    let date = s
        .start_s
        .map(|t| crate::clock::local_date(t.saturating_mul(1000)))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| today.clone());
    if s.duration_s < 60 {
        return Err(AppError::invalid("file", "track-too-short"));
    }
    let mut e = Vec::new();
    let exertion = optional(
        &mut e,
        "exertion",
        "invalid-exertion",
        &input.exertion,
        |s| duurloop_domain::plan::parse_exertion(s).ok().map(i64::from),
    );
    let mood = |s: &str| s.parse::<i64>().ok().filter(|m| (1..=5).contains(m));
    let mood_before = optional(
        &mut e,
        "mood_before",
        "invalid-mood",
        &input.mood_before,
        mood,
    );
    let mood_after = optional(
        &mut e,
        "mood_after",
        "invalid-mood",
        &input.mood_after,
        mood,
    );
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let pain = matches!(input.pain.trim(), "yes" | "ja" | "on");
    let run = RunRow {
        run_date: date,
        duration_s: s.duration_s,
        moving_s: Some(s.moving_s),
        distance_m: Some(s.distance_m.round() as i64),
        elevation_gain_m: s.elevation_gain_m.map(|g| g.round() as i64),
        avg_hr: s.avg_hr.map(i64::from),
        max_hr: s.max_hr.map(i64::from),
        in_zone_s: s.in_zone_s,
        exertion,
        mood_before,
        mood_after,
        pain: i64::from(pain),
        pain_where: if pain {
            input.pain_where.trim().chars().take(200).collect()
        } else {
            String::new()
        },
        note: input.note.trim().chars().take(1000).collect(),
        source: match format {
            Format::Gpx => "gpx",
            Format::Tcx => "tcx",
            Format::Fit => "fit",
        }
        .into(),
        ..Default::default()
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    within_daily_runs(&mut tx, &p.trajectory.id, now, "file").await?;
    let id = store::portal::insert_run(&mut tx, &p.trajectory.id, &run, now).await?;
    record_anonymous(&mut tx, now, ctx, Event::new("create", "run").record(&id)).await?;
    tx.commit().await?;
    Ok(id)
}

/// The participant chose the portal's language: their mails (sign-in links, questionnaires,
/// cancelled sessions) follow from now on. Returns the language's code.
pub async fn set_language(
    state: &AppState,
    p: &Participant,
    lang: &str,
    ctx: &RequestCtx,
) -> AppResult<&'static str> {
    let lang = Lang::parse(lang)
        .ok_or(AppError::invalid("lang", "invalid-language"))?
        .code();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::referrals::set_client_lang_of_trajectory(&mut tx, &p.trajectory.id, lang).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("update", "language").record(&p.trajectory.id),
    )
    .await?;
    tx.commit().await?;
    Ok(lang)
}

/// Whether the participant objects to research use of their data, and since when (`None`:
/// no objection), for the portal's page; the look is logged as a `read`.
pub async fn research_objection(
    state: &AppState,
    p: &Participant,
    ctx: &RequestCtx,
) -> AppResult<Option<i64>> {
    let mut tx = state.db.begin().await?;
    let at = store::referrals::research_objection(&mut tx, &p.trajectory.referral_id).await?;
    record_anonymous(
        &mut tx,
        state.now(),
        ctx,
        Event::new("read", "research_objection").record(&p.trajectory.id),
    )
    .await?;
    tx.commit().await?;
    Ok(at)
}

/// The participant objects to the use of their data for research, or withdraws the
/// objection (see `referrals::set_research_objection`, which staff use on their behalf).
/// Objecting again keeps the first moment. Returns when the objection stands.
pub async fn set_research_objection(
    state: &AppState,
    p: &Participant,
    objects: bool,
    ctx: &RequestCtx,
) -> AppResult<Option<i64>> {
    let now = state.now();
    let referral = &p.trajectory.referral_id;
    let mut tx = state.db.begin().await?;
    let before = store::referrals::research_objection(&mut tx, referral).await?;
    let at = objects.then(|| before.unwrap_or(now));
    store::referrals::set_research_objection(&mut tx, referral, at).await?;
    let action = if objects { "create" } else { "delete" };
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new(action, "research_objection").record(&p.trajectory.id),
    )
    .await?;
    tx.commit().await?;
    Ok(at)
}

/// Makes (or replaces) the participant's secret calendar link with their group's sessions;
/// returns the token for the URL.
pub async fn new_calendar_feed(
    state: &AppState,
    p: &Participant,
    ctx: &RequestCtx,
) -> AppResult<String> {
    let token = new_token();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::portal::set_feed_token(&mut tx, &p.trajectory.id, &token, now).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("create", "calendar_feed").record(&p.trajectory.id),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Everything Duurloop holds about a participant's trajectory, as their own download
/// (`GET /portal/export`, `GET /api/v1/portal/export`; SPEC C12, GDPR art. 15, ASVS 8.3.2).
///
/// What is in it, read from the schema:
/// - `referral`: the referral as it concerns them — name, contact details, postcode,
///   indications, medication, physical limits, motivation, funding route, the consent given,
///   the referrer's note (SPEC does not keep it from the participant), who referred them, the
///   offering and provider, status and dates; `referral_timeline`: its status changes with
///   their notes and who made them; `invitations`: the intake and trial invitations.
/// - `intake`: the intake and health screen with its answers, the sports-medical clearance and
///   the decision, when there is one.
/// - `trajectory`: status, start, weeks, start level, heart-rate zone and the `plan` (parsed).
/// - `sessions`: the group sessions of their offering from their start, each with their
///   attendance when recorded (and who recorded it).
/// - `runs`: every run they logged or uploaded (summaries only: no track is ever stored).
/// - `measurements` with the `answers` as given, `scores` per instrument, `safety_alerts`
///   that their answers raised, and `feedback_reports` written to the referrer.
/// - `messages`: the conversation with their therapist, both sides, with who wrote and when
///   each was read.
/// - `audit`: every audit-log entry about their trajectory, referral (and intake), runs,
///   measurements, feedback reports and messages: when, who (name), in which role, what, the
///   outcome.
///
/// Left out on purpose: secrets (link, session, calendar and measurement token hashes, the
/// referral's submission key), the scheduler's reminder bookkeeping, the IP address and
/// browser of staff in the audit entries (their personal data, not the participant's), and
/// other participants' data — group sessions carry only this participant's attendance.
/// Funding and invoices are the provider's accounts with the payer and are not included.
///
/// All reads go through one connection; the download itself is audit-logged (`export` of the
/// `trajectory`, with the organisation so the coordinator sees it) before it is returned.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Export {
    /// `jjjj-mm-dd` of the download.
    pub exported_on: String,
    pub referral: Option<store::portal::ExportReferral>,
    pub referral_timeline: Vec<store::portal::ExportReferralEvent>,
    pub invitations: Vec<store::portal::ExportInvitation>,
    pub intake: Option<store::referrals::IntakeRow>,
    pub trajectory: ExportTrajectory,
    pub sessions: Vec<store::portal::ExportSession>,
    pub runs: Vec<RunRow>,
    pub measurements: Vec<store::portal::ExportMeasurement>,
    pub scores: Vec<store::portal::ExportScore>,
    pub safety_alerts: Vec<store::portal::ExportSafetyAlert>,
    pub feedback_reports: Vec<store::portal::ExportFeedback>,
    pub messages: Vec<store::messages::MessageRow>,
    pub audit: Vec<store::portal::ExportAuditEntry>,
}

/// The trajectory in the download.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ExportTrajectory {
    pub id: String,
    pub offering_title: String,
    pub status: String,
    pub start_date: String,
    pub weeks: i64,
    pub start_level: String,
    pub current_week: i64,
    pub hr_low: Option<i64>,
    pub hr_high: Option<i64>,
    /// The training plan (weeks with their sessions).
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
    pub created_at: i64,
}

/// Reads the participant's data for [`Export`] and logs the download.
pub async fn export(state: &AppState, p: &Participant, ctx: &RequestCtx) -> AppResult<Export> {
    let t = &p.trajectory;
    let now = state.now();
    // One read snapshot for all the lists (a write landing in between must not make the file
    // disagree with itself), without taking SQLite's write lock.
    let mut c = state.db.begin_read().await?;
    let referral = store::portal::export_referral(&mut c, &t.referral_id).await?;
    let referral_timeline = store::portal::export_referral_events(&mut c, &t.referral_id).await?;
    let invitations = store::portal::export_invitations(&mut c, &t.referral_id).await?;
    let intake = store::referrals::intake(&mut c, &t.referral_id).await?;
    let sessions =
        store::portal::export_sessions(&mut c, &t.id, &t.offering_id, &t.start_date).await?;
    let runs = store::portal::runs(&mut c, &t.id).await?;
    let measurements = store::portal::export_measurements(&mut c, &t.id).await?;
    let scores = store::portal::export_scores(&mut c, &t.id).await?;
    let safety_alerts = store::portal::export_safety_alerts(&mut c, &t.id).await?;
    let feedback_reports = store::portal::export_feedback(&mut c, &t.id).await?;
    let messages = store::messages::all_of_trajectory(&mut c, &t.id).await?;
    let audit = store::portal::export_audit(&mut c, &t.id, &t.referral_id).await?;
    c.commit().await?;
    let plan = serde_json::from_str(&t.plan).unwrap_or(serde_json::Value::Null);
    super::audit::log_anonymous_read(
        state,
        now,
        ctx,
        Event::new("export", "trajectory")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    Ok(Export {
        exported_on: crate::clock::local_date(now),
        referral,
        referral_timeline,
        invitations,
        intake,
        trajectory: ExportTrajectory {
            id: t.id.clone(),
            offering_title: t.offering_title.clone(),
            status: t.status.clone(),
            start_date: t.start_date.clone(),
            weeks: t.weeks,
            start_level: t.start_level.clone(),
            current_week: t.current_week,
            hr_low: t.hr_low,
            hr_high: t.hr_high,
            plan,
            created_at: t.created_at,
        },
        sessions,
        runs,
        measurements,
        scores,
        safety_alerts,
        feedback_reports,
        messages,
        audit,
    })
}

/// The download's file name: `duurloop-mijn-gegevens-jjjj-mm-dd.json`.
pub fn export_file_name(e: &Export) -> String {
    format!("duurloop-mijn-gegevens-{}.json", e.exported_on)
}
