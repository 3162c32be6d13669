//! The feedback report to the referrer (SPEC C8): at the end of a trajectory and at
//! follow-up, the therapist reviews what the app generates (attendance, the running habit
//! over the weeks, questionnaire scores before and after with bands and reliable change),
//! writes a summary, advice and next steps, and sends it. The referrer is told by e-mail
//! (no client details), reads it in the app and downloads a PDF letter.

use duurloop_domain::{
    plan::Plan,
    referral::{ReferralEvent, ReferralStatus},
};
use serde::{Deserialize, Serialize};

use super::{
    Actor, AppError, AppResult,
    audit::{Event, record, refused},
    measure::Course,
    referrals::Relation,
};
use crate::{
    db::Tx,
    mail,
    state::AppState,
    store::{
        self, Conn, feedback::FeedbackRow, referrals::ReferralRow, trajectories::TrajectoryRow,
    },
};

/// What the app generates for the report from what happened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Generated {
    pub sessions_attended: i64,
    pub sessions_recorded: i64,
    /// Share of recorded sessions attended, 0–1.
    pub attendance_rate: Option<f64>,
    /// Per programme week: minutes planned and minutes run (own runs; group sessions count
    /// in attendance).
    pub weeks: Vec<WeekMinutes>,
    pub runs: usize,
    /// Runs where pain was reported.
    pub runs_with_pain: usize,
    pub courses: Vec<Course>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekMinutes {
    pub week: u16,
    pub planned: u16,
    pub done: i64,
}

pub struct FeedbackView {
    pub report: FeedbackRow,
    pub trajectory: TrajectoryRow,
    pub referral: ReferralRow,
    pub generated: Generated,
    /// The therapist or coordinator may edit and send it while it is a draft.
    pub team: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FeedbackInput {
    pub summary: String,
    /// Optional, like the next steps (only the summary is required to send).
    #[serde(default)]
    pub advice: String,
    #[serde(default)]
    pub next_steps: String,
}

fn days_between(a: &str, b: &str) -> Option<i64> {
    let a: jiff::civil::Date = a.parse().ok()?;
    let b: jiff::civil::Date = b.parse().ok()?;
    Some(i64::from((b - a).get_days()))
}

async fn generate(c: &mut Conn, t: &TrajectoryRow, lang: &str) -> AppResult<Generated> {
    let plan: Plan = serde_json::from_str(&t.plan).map_err(|e| AppError::Internal(e.into()))?;
    let attendance = store::groups::attendance_of(c, &t.id).await?;
    let attended = attendance.iter().filter(|a| a.status == "present").count() as i64;
    let recorded = attendance.len() as i64;
    let runs = store::portal::runs(c, &t.id).await?;
    let weeks = plan
        .weeks
        .iter()
        .map(|w| WeekMinutes {
            week: w.number,
            planned: w.session.total_minutes().saturating_mul(w.sessions),
            done: runs
                .iter()
                .filter(|r| {
                    days_between(&t.start_date, &r.run_date).map(|d| d.div_euclid(7) + 1)
                        == Some(i64::from(w.number))
                })
                .map(|r| r.duration_s / 60)
                .sum(),
        })
        .collect();
    Ok(Generated {
        sessions_attended: attended,
        sessions_recorded: recorded,
        attendance_rate: (recorded > 0).then(|| attended as f64 / recorded as f64),
        weeks,
        runs: runs.len(),
        runs_with_pain: runs.iter().filter(|r| r.pain == 1).count(),
        courses: super::measure::courses(c, &t.id, lang).await?,
    })
}

/// A report with what it is about, as [`open_report`] finds it.
struct Opened {
    report: FeedbackRow,
    trajectory: TrajectoryRow,
    referral: ReferralRow,
    /// The trajectory's therapist or a coordinator of the offering (may write it).
    team: bool,
}

/// Begins the transaction of an action on a report, for someone who may read it: the
/// trajectory's team always, the referral's referrer (and coordinators who see the referral)
/// once it is sent. Others get 404, and the refusal is audit-logged with outcome `denied`
/// (`attempt` with the report as record and the trajectory's organisation; ASVS 7.2.2), as
/// [`super::trajectories::open`] does for trajectories.
async fn open_report<'a>(
    state: &AppState,
    actor: &Actor,
    id: &'a str,
    attempt: Event<'a>,
) -> AppResult<(Tx, Opened)> {
    let mut tx = state.db.begin().await?;
    let report = store::feedback::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t = store::trajectories::by_id(&mut tx, &report.trajectory_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = store::referrals::by_id(&mut tx, &t.referral_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let relations = super::referrals::relations(&mut tx, actor, &r).await?;
    let team =
        relations.contains(&Relation::Therapist) || relations.contains(&Relation::Coordinator);
    let reader = relations.contains(&Relation::Referrer) && report.status == "sent";
    if !team && !reader {
        let e = attempt.record(id).org(&t.org_id);
        return Err(refused(tx, state.now(), actor, e, AppError::NotFound).await);
    }
    let opened = Opened {
        report,
        trajectory: t,
        referral: r,
        team,
    };
    Ok((tx, opened))
}

/// Opens (or makes) the end or follow-up report of a trajectory (its team only).
pub async fn open(
    state: &AppState,
    actor: &Actor,
    trajectory_id: &str,
    kind: &str,
) -> AppResult<String> {
    if !matches!(kind, "end" | "followup") {
        return Err(AppError::invalid("kind", "invalid-report-kind"));
    }
    let now = state.now();
    let attempt = Event::new("create", "feedback_report");
    let (mut tx, t, _) = super::trajectories::open(state, actor, trajectory_id, attempt).await?;
    let report =
        store::feedback::get_or_create(&mut tx, &t.id, kind, &actor.identity.user_id, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "feedback_report")
            .record(&report.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(report.id)
}

/// A report with its generated numbers (audit-logged).
pub async fn view(
    state: &AppState,
    actor: &Actor,
    id: &str,
    lang: &str,
) -> AppResult<FeedbackView> {
    let now = state.now();
    let (mut tx, o) = open_report(state, actor, id, Event::new("read", "feedback_report")).await?;
    let Opened {
        report,
        trajectory,
        referral,
        team,
    } = o;
    let generated = generate(&mut tx, &trajectory, lang).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "feedback_report")
            .record(id)
            .org(&trajectory.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(FeedbackView {
        report,
        trajectory,
        referral,
        generated,
        team,
    })
}

fn check_texts(input: &FeedbackInput) -> AppResult<()> {
    for (field, text) in [
        ("summary", &input.summary),
        ("advice", &input.advice),
        ("next_steps", &input.next_steps),
    ] {
        if text.chars().count() > 5000 {
            return Err(AppError::invalid(field, "text-too-long"));
        }
    }
    Ok(())
}

/// Begins the transaction of `attempt` on a draft and stores its texts, for the
/// trajectory's team (a referrer who may read it gets 403, audit-logged like any refusal); a
/// sent report is a conflict.
async fn save_draft<'a>(
    state: &AppState,
    actor: &Actor,
    id: &'a str,
    input: &FeedbackInput,
    attempt: Event<'a>,
) -> AppResult<(Tx, FeedbackRow, TrajectoryRow, ReferralRow)> {
    let now = state.now();
    let (mut tx, o) = open_report(state, actor, id, attempt).await?;
    if !o.team {
        let e = attempt.record(id).org(&o.trajectory.org_id);
        return Err(refused(tx, now, actor, e, AppError::Forbidden).await);
    }
    let saved = store::feedback::update_texts(
        &mut tx,
        &o.report.id,
        input.summary.trim(),
        input.advice.trim(),
        input.next_steps.trim(),
        now,
    )
    .await?;
    if !saved {
        return Err(AppError::Conflict("report-sent"));
    }
    Ok((tx, o.report, o.trajectory, o.referral))
}

/// Saves the therapist's texts of a draft.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &FeedbackInput,
) -> AppResult<()> {
    check_texts(input)?;
    let now = state.now();
    let attempt = Event::new("update", "feedback_report");
    let (mut tx, _, t, _) = save_draft(state, actor, id, input, attempt).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "feedback_report")
            .record(id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends the report: it can no longer change, the referrer is told by e-mail and sees it.
/// A summary is required.
pub async fn send(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &FeedbackInput,
) -> AppResult<()> {
    check_texts(input)?;
    if input.summary.trim().is_empty() {
        return Err(AppError::invalid("summary", "summary-required"));
    }
    let now = state.now();
    let attempt = Event::new("send", "feedback_report");
    let (mut tx, report, t, r) = save_draft(state, actor, id, input, attempt).await?;
    if !store::feedback::mark_sent(&mut tx, &report.id, &actor.identity.user_id, now).await? {
        return Err(AppError::Conflict("report-sent"));
    }
    // The follow-up report ends a completed referral: its status follows without a second
    // mail (the referrer gets the report's).
    if report.kind == "followup"
        && ReferralStatus::parse(&r.status).is_ok_and(|s| s == ReferralStatus::Completed)
    {
        super::referrals::apply_status(&mut tx, state, actor, &r, ReferralEvent::FollowUp, "", now)
            .await?;
    }
    store::referrals::add_event(
        &mut tx,
        &store::referrals::NewEvent {
            referral_id: &r.id,
            actor_user_id: Some(&actor.identity.user_id),
            kind: "feedback_sent",
            from_status: None,
            to_status: None,
            note: &report.kind,
            now,
        },
    )
    .await?;
    if let Some(referrer) = &r.referrer_user_id
        && let Some(u) = store::users::by_id(&mut tx, referrer).await?
    {
        let link = format!("{}/feedback/{}", state.config.base_url, report.id);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::FeedbackReport { link: &link },
            &u.email,
            &u.lang,
        )
        .await?;
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("send", "feedback_report")
            .record(id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// The reports of a trajectory (for links on its page; the caller checked access).
pub async fn of_trajectory(state: &AppState, trajectory_id: &str) -> AppResult<Vec<FeedbackRow>> {
    let mut c = state.db.conn().await?;
    Ok(store::feedback::of_trajectory(&mut c, trajectory_id).await?)
}

/// The trajectory as a FHIR R4 Bundle: the referral as `ServiceRequest`, each completed
/// questionnaire as `QuestionnaireResponse` and each score as an `Observation` (LOINC where
/// one exists). For the trajectory's team; the export is audit-logged.
pub async fn fhir_bundle(
    state: &AppState,
    actor: &Actor,
    trajectory_id: &str,
) -> AppResult<serde_json::Value> {
    use duurloop_domain::fhir::{ResponseExport, TrajectoryExport, bundle};
    use std::collections::BTreeMap;
    let now = state.now();
    let attempt = Event::new("export", "trajectory");
    let (mut tx, t, _) = super::trajectories::open(state, actor, trajectory_id, attempt).await?;
    let r = store::referrals::by_id(&mut tx, &t.referral_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let referrer_org = match &r.referrer_org_id {
        Some(o) => store::orgs::by_id(&mut tx, o).await?.map(|o| o.name),
        None => None,
    };
    let performer_org = store::orgs::by_id(&mut tx, &t.org_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let scores = store::measure::scores(&mut tx, &t.id).await?;
    let mut responses = Vec::new();
    for m in store::measure::of_trajectory(&mut tx, &t.id).await? {
        let Some(completed_at) = m.completed_at else {
            continue;
        };
        let answers: BTreeMap<String, BTreeMap<String, i64>> =
            serde_json::from_str(&m.answers).unwrap_or_default();
        let authored = jiff::Timestamp::from_millisecond(completed_at)
            .map(|t| t.to_string())
            .unwrap_or_default();
        for (code, a) in answers {
            let Some(instrument) = super::measure::instrument(&mut tx, &code).await? else {
                continue;
            };
            let score = scores
                .iter()
                .find(|s| s.measurement_id == m.id && s.instrument == code);
            responses.push(ResponseExport {
                id: format!("{}-{code}", m.id),
                instrument,
                point: m.point.clone(),
                authored: authored.clone(),
                answers: a,
                total: score.map(|s| s.total),
                band: score.and_then(|s| s.band.clone()),
            });
        }
    }
    let lang = crate::i18n::Lang::Nl;
    let export = TrajectoryExport {
        trajectory_id: t.id.clone(),
        referral_id: r.id.clone(),
        patient_name: r.client_name.clone(),
        patient_email: r.client_email.clone(),
        referrer_name: r.referrer_name.clone().unwrap_or_default(),
        referrer_org: referrer_org.unwrap_or_default(),
        performer_org,
        indications: r
            .indications
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|c| lang.t(&format!("indication-{c}")))
            .collect(),
        referred_on: crate::clock::local_date(r.created_at),
        status: r.status.clone(),
        responses,
    };
    record(
        &mut tx,
        now,
        actor,
        Event::new("export", "trajectory")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(bundle(&export, &state.config.base_url))
}

/// A Dutch date for letters: `23 november 2026`.
fn dutch_date(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let d = crate::clock::local_date(ms);
    let mut parts = d.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(day)) => {
            let m: usize = m.parse().unwrap_or(1);
            let day: u32 = day.parse().unwrap_or(1);
            format!("{day} {} {y}", MONTHS[m.clamp(1, 12) - 1])
        }
        _ => d,
    }
}

/// The report as a typeset Dutch PDF letter with its charts (audit-logged as a print).
pub async fn pdf(state: &AppState, actor: &Actor, id: &str) -> AppResult<Vec<u8>> {
    use duurloop_documents::{Chart, Letter, ScoreLine, Section};
    let lang = crate::i18n::Lang::Nl;
    let now = state.now();
    let attempt = Event::new("print", "feedback_report");
    let (mut tx, o) = open_report(state, actor, id, attempt).await?;
    let (report, t, r) = (o.report, o.trajectory, o.referral);
    let g = generate(&mut tx, &t, lang.code()).await?;
    let org = store::orgs::by_id(&mut tx, &t.org_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let therapist = match &t.therapist_user_id {
        Some(u) => store::users::by_id(&mut tx, u).await?.map(|u| u.name),
        None => None,
    }
    .unwrap_or_default();
    record(
        &mut tx,
        now,
        actor,
        Event::new("print", "feedback_report")
            .record(id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    let mut sections = vec![
        Section {
            title: lang.t("feedback-attendance"),
            body: lang.t_args(
                "feedback-sessions",
                &[
                    ("attended", &g.sessions_attended.to_string()),
                    ("recorded", &g.sessions_recorded.to_string()),
                ],
            ),
        },
        Section {
            title: lang.t("feedback-habit"),
            body: lang.t_args(
                "feedback-runs",
                &[
                    ("runs", &g.runs.to_string()),
                    ("pain", &g.runs_with_pain.to_string()),
                ],
            ),
        },
    ];
    for (key, text) in [
        ("feedback-summary", &report.summary),
        ("feedback-advice", &report.advice),
        ("feedback-next-steps", &report.next_steps),
    ] {
        if !text.trim().is_empty() {
            sections.push(Section {
                title: lang.t(key),
                body: text.clone(),
            });
        }
    }
    let score_table = g
        .courses
        .iter()
        .map(|c| {
            let first = c.scores.first();
            let last = c.scores.last().filter(|_| c.scores.len() > 1);
            ScoreLine {
                instrument: c.title.clone(),
                before: first.map(|s| s.total.to_string()).unwrap_or_default(),
                after: last.map(|s| s.total.to_string()).unwrap_or_default(),
                band_before: c.bands.first().cloned().unwrap_or_default(),
                band_after: if last.is_some() {
                    c.bands.last().cloned().unwrap_or_default()
                } else {
                    String::new()
                },
                change: c
                    .change
                    .as_ref()
                    .map(|ch| lang.t(&format!("change-outcome-{}", ch.outcome)))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let bars: Vec<(u16, u16, i64)> = g
        .weeks
        .iter()
        .map(|w| (w.week, w.planned, w.done))
        .collect();
    let mut charts = vec![Chart {
        caption: lang.t("letter-habit-caption"),
        svg: crate::charts::bar_chart(&bars, &lang.t("portal-chart-label")),
    }];
    charts.extend(g.courses.iter().map(|c| Chart {
        caption: c.title.clone(),
        svg: crate::charts::course_chart(c, &c.title),
    }));
    let letter = Letter {
        sender_org: org,
        sender_name: therapist,
        recipient_name: r.referrer_name.clone().unwrap_or_default(),
        date: dutch_date(report.sent_at.unwrap_or(now)),
        subject: lang.t_args("letter-subject", &[("name", &t.client_name)]),
        participant: t.client_name.clone(),
        intro: lang.t_args(
            "letter-intro",
            &[
                ("offering", &t.offering_title),
                ("start", &t.start_date),
                ("kind", &lang.t(&format!("report-kind-{}", report.kind))),
            ],
        ),
        sections,
        score_table,
        charts,
        closing: lang.t("letter-closing"),
    };
    tokio::task::spawn_blocking(move || duurloop_documents::letter_pdf(&letter))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("letter: {e}")))
}
