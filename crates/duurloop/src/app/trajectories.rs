//! Trajectories (SPEC §2 step 5, C6): accepting a referral starts one, with a plan generated
//! from the intake level and an easy heart-rate zone from the intake's resting heart rate and
//! age. The therapist (and the offering organisation's coordinator) sees and edits the plan.
//! Groups, sessions, attendance and the run log build on this (training issue, still open).

use duurloop_domain::{
    Role,
    plan::{self, Interval, Plan, Session, StartLevel},
    referral::{ReferralEvent, ReferralStatus},
};
use serde::Deserialize;

use super::{
    Actor, AppError, AppResult,
    audit::{Event, record, refused},
};
use crate::{
    db::Tx,
    state::AppState,
    store::{
        self, Conn,
        directory::OfferingRow,
        referrals::{IntakeRow, ReferralRow},
        trajectories::{NewTrajectory, TrajectoryRow},
    },
};

/// Starts the trajectory of an accepted referral, in the caller's transaction.
pub async fn start(
    c: &mut Conn,
    actor: &Actor,
    r: &ReferralRow,
    o: &OfferingRow,
    intake: Option<&IntakeRow>,
    level: StartLevel,
    now: i64,
) -> AppResult<String> {
    let weeks = u16::try_from(o.weeks).unwrap_or(12);
    let plan = if o.kind == "walking_group" {
        plan::generate_walking(weeks)
    } else {
        plan::generate(level, weeks)
    };
    let zone = intake.and_then(|i| match (i.resting_hr, i.age) {
        (Some(hr), Some(age)) => Some(plan::easy_zone(
            u16::try_from(hr).ok()?,
            u8::try_from(age).ok()?,
        )),
        _ => None,
    });
    // A group starts on its start date; someone joining later (or an individual trajectory)
    // starts today.
    let today = crate::clock::local_date(now);
    let start_date = if o.start_date.as_str() > today.as_str() {
        o.start_date.clone()
    } else {
        today
    };
    let json = serde_json::to_string(&plan).map_err(|e| AppError::Internal(e.into()))?;
    let therapist_user = store::directory::therapist(c, &o.therapist_id)
        .await?
        .and_then(|t| t.user_id);
    let id = store::trajectories::insert(
        c,
        &NewTrajectory {
            referral_id: &r.id,
            offering_id: &o.id,
            org_id: &o.org_id,
            therapist_user_id: therapist_user.as_deref(),
            start_date: &start_date,
            weeks: plan.weeks.len() as i64,
            start_level: level.as_str(),
            plan: &json,
            hr_low: zone.map(|z| i64::from(z.low)),
            hr_high: zone.map(|z| i64::from(z.high)),
            now,
        },
    )
    .await?;
    super::measure::schedule(c, &id, &o.id, &start_date, plan.weeks.len() as u16, now).await?;
    record(
        c,
        now,
        actor,
        Event::new("create", "trajectory")
            .record(&id)
            .org(&o.org_id),
    )
    .await?;
    Ok(id)
}

fn may_see(actor: &Actor, t: &TrajectoryRow) -> bool {
    t.therapist_user_id.as_deref() == Some(actor.identity.user_id.as_str())
        || actor.identity.role_in(&t.org_id) == Some(Role::Coordinator)
}

/// A trajectory with its plan, as the therapist sees it.
pub struct TrajectoryView {
    pub row: TrajectoryRow,
    pub plan: Plan,
    /// The participant's run log, oldest first.
    pub runs: Vec<store::portal::RunRow>,
    /// Attendance at the group's sessions, with the therapist's notes.
    pub attendance: Vec<store::groups::AttendanceLine>,
    /// The referral's status: after completion, whether the follow-up is done.
    pub referral_status: String,
}

impl TrajectoryView {
    /// Metres covered in the runs and walks that have a distance.
    pub fn distance_m(&self) -> i64 {
        self.runs.iter().filter_map(|r| r.distance_m).sum()
    }
}

/// Begins the transaction of an action on a trajectory's data by staff: the trajectory with
/// its plan, if this person may see it (its therapist, or a coordinator of its organisation).
/// Everyone else gets 404, as if there were no such trajectory, and the refusal is
/// audit-logged (ASVS 7.2.2): `attempt` with outcome `denied`, the trajectory as record and
/// its organisation, so who tried what on which record is in the log (and the organisation's
/// coordinators see it), never anything about the participant. The entry is committed before
/// the answer. Every staff action on a trajectory starts here (its page, plan and status, the
/// messages, questionnaire results and alerts, feedback reports, funding, the FHIR export), so
/// none can skip the check or the log.
pub(crate) async fn open<'a>(
    state: &AppState,
    actor: &Actor,
    id: &'a str,
    attempt: Event<'a>,
) -> AppResult<(Tx, TrajectoryRow, Plan)> {
    let mut tx = state.db.begin().await?;
    let row = store::trajectories::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see(actor, &row) {
        let e = attempt.record(id).org(&row.org_id);
        return Err(refused(tx, state.now(), actor, e, AppError::NotFound).await);
    }
    let plan: Plan = serde_json::from_str(&row.plan).map_err(|e| AppError::Internal(e.into()))?;
    Ok((tx, row, plan))
}

pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<TrajectoryView> {
    let now = state.now();
    let (mut tx, row, plan) = open(state, actor, id, Event::new("read", "trajectory")).await?;
    let runs = store::portal::runs(&mut tx, id).await?;
    let attendance = store::groups::attendance_of(&mut tx, id).await?;
    let referral_status = store::referrals::by_id(&mut tx, &row.referral_id)
        .await?
        .map(|r| r.status)
        .unwrap_or_default();
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "trajectory").record(id).org(&row.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(TrajectoryView {
        row,
        plan,
        runs,
        attendance,
        referral_status,
    })
}

/// The trajectory started from a referral, if any (for a link on the referral page).
pub async fn for_referral(state: &AppState, referral_id: &str) -> AppResult<Option<String>> {
    let mut c = state.db.conn().await?;
    Ok(store::trajectories::for_referral(&mut c, referral_id)
        .await?
        .map(|t| t.id))
}

/// One week as a form or API call sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WeekInput {
    /// intervals, continuous or walk
    pub kind: String,
    /// Sessions this week (1–4).
    pub sessions: String,
    /// For continuous running or a walk.
    #[serde(default)]
    pub minutes: String,
    /// For intervals: minutes running, minutes walking, repeats.
    #[serde(default)]
    pub run_min: String,
    #[serde(default)]
    pub walk_min: String,
    #[serde(default)]
    pub repeats: String,
}

fn number(field: &'static str, raw: &str) -> AppResult<u16> {
    raw.trim()
        .parse::<u16>()
        .map_err(|_| AppError::invalid(field, "invalid-plan-week"))
}

fn session_from(input: &WeekInput) -> AppResult<(Session, u16)> {
    let sessions = number("sessions", &input.sessions)?;
    let session = match input.kind.as_str() {
        "intervals" => Session::Intervals(Interval {
            run_min: number("run_min", &input.run_min)?,
            walk_min: number("walk_min", &input.walk_min)?,
            repeats: number("repeats", &input.repeats)?,
        }),
        "continuous" => Session::Continuous {
            minutes: number("minutes", &input.minutes)?,
        },
        "walk" => Session::Walk {
            minutes: number("minutes", &input.minutes)?,
        },
        _ => return Err(AppError::invalid("kind", "invalid-plan-week")),
    };
    Ok((session, sessions))
}

/// The therapist changes one week of the plan, within the method's limits.
pub async fn edit_week(
    state: &AppState,
    actor: &Actor,
    id: &str,
    week: u16,
    input: &WeekInput,
) -> AppResult<()> {
    let now = state.now();
    let (mut tx, row, plan) = open(state, actor, id, Event::new("update", "plan")).await?;
    let (session, sessions) = session_from(input)?;
    let edited =
        plan::edit_week(&plan, week, session, sessions).map_err(|e| AppError::field("week", e))?;
    let json = serde_json::to_string(&edited).map_err(|e| AppError::Internal(e.into()))?;
    store::trajectories::set_plan(&mut tx, id, &json, edited.weeks.len() as i64, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "plan").record(id).org(&row.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StatusInput {
    /// start, complete, drop_out, or follow_up (after completion: the follow-up at about
    /// three months is done; the trajectory stays completed, the referral ends)
    pub action: String,
    /// Required for drop_out (the reason goes back to the referrer on the timeline).
    #[serde(default)]
    pub reason: String,
}

/// Starts, completes or ends a trajectory early, or records that the follow-up after
/// completion is done; the referral follows (and so the referrer hears). A place freed by
/// completing or dropping out is offered to whoever has waited longest on the offering's
/// waiting list (`referrals::offer_free_places`).
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &StatusInput,
) -> AppResult<ReferralStatus> {
    let now = state.now();
    let (mut tx, row, _) = open(state, actor, id, Event::new("update", "trajectory")).await?;
    let (event, status) = match input.action.as_str() {
        "start" => (ReferralEvent::Start, "active"),
        "complete" => (ReferralEvent::Complete, "completed"),
        "drop_out" => (ReferralEvent::DropOut, "dropped_out"),
        "follow_up" => (ReferralEvent::FollowUp, "completed"),
        _ => return Err(AppError::invalid("action", "invalid-action")),
    };
    let reason = input.reason.trim();
    if event == ReferralEvent::DropOut && reason.is_empty() {
        return Err(AppError::invalid("reason", "reason-required"));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "text-too-long"));
    }
    let referral = store::referrals::by_id(&mut tx, &row.referral_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let to = super::referrals::change_status(&mut tx, state, actor, &referral, event, reason, now)
        .await?;
    store::trajectories::set_status(&mut tx, id, status, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "trajectory")
            .record(id)
            .org(&row.org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(to)
}

fn date_plus(date: &str, days: i64) -> Option<String> {
    let d: jiff::civil::Date = date.parse().ok()?;
    d.checked_add(jiff::Span::new().days(days))
        .ok()
        .map(|d| d.to_string())
}

/// The weekly review: for every active trajectory whose current week has ended, the week's
/// runs and attended sessions decide (domain `plan::adapt`) whether the plan moves on or the
/// week is repeated (pain, exertion too high, runs missed). A repeat lengthens the plan and
/// shows on the referral's timeline. Idempotent: each week is evaluated once. Returns the
/// number of weeks evaluated.
pub async fn review_weeks(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let today = jiff::Timestamp::from_millisecond(now)?
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
        .to_string();
    let active = {
        let mut c = state.db.conn().await?;
        store::trajectories::active_weeks(&mut c).await?
    };
    let mut done = 0;
    for (id, start_date, current_week) in active {
        // Only a trajectory whose current week has ended needs a transaction (which on SQLite
        // takes the write lock): at national scale the worker runs every few seconds over tens
        // of thousands of trajectories, and a write lock per trajectory per run held up every
        // other writer, the participants' audit entries among them.
        let ended =
            date_plus(&start_date, (current_week - 1) * 7 + 6).is_some_and(|end| end < today);
        if !ended {
            continue;
        }
        // At most a few weeks per run, so a long pause cannot stall the worker.
        for _ in 0..4 {
            let mut tx = state.db.begin().await?;
            let Some(t) = store::trajectories::by_id(&mut tx, &id).await? else {
                break;
            };
            let Some(week_start) = date_plus(&t.start_date, (t.current_week - 1) * 7) else {
                break;
            };
            let Some(week_end) = date_plus(&week_start, 6) else {
                break;
            };
            let plan: Plan = serde_json::from_str(&t.plan)?;
            let week = u16::try_from(t.current_week).unwrap_or(u16::MAX);
            if week_end >= today || usize::from(week) > plan.weeks.len() {
                break;
            }
            let runs: Vec<_> = store::portal::runs(&mut tx, &t.id)
                .await?
                .into_iter()
                .filter(|r| r.run_date >= week_start && r.run_date <= week_end)
                .collect();
            let attended =
                store::trajectories::attended_between(&mut tx, &t.id, &week_start, &week_end)
                    .await?;
            let report = plan::WeekReport {
                planned_sessions: plan.week(week).map(|w| w.sessions).unwrap_or(0),
                done_sessions: u16::try_from(runs.len() as i64 + attended).unwrap_or(u16::MAX),
                max_exertion: runs
                    .iter()
                    .filter_map(|r| r.exertion)
                    .max()
                    .and_then(|e| u8::try_from(e).ok()),
                pain: runs.iter().any(|r| r.pain == 1),
            };
            let adaptation = plan::adapt(&report);
            let (next, _) = plan::apply(&plan, week, adaptation);
            let json = serde_json::to_string(&next)?;
            if !store::trajectories::advance_week(
                &mut tx,
                &t.id,
                t.current_week,
                &json,
                next.weeks.len() as i64,
                now,
            )
            .await?
            {
                break;
            }
            super::audit::record_system(
                &mut tx,
                now,
                super::audit::WORKER,
                Event::new("update", "plan").record(&t.id).org(&t.org_id),
            )
            .await?;
            if let plan::Adaptation::Repeat(reason) = adaptation {
                store::referrals::add_event(
                    &mut tx,
                    &store::referrals::NewEvent {
                        referral_id: &t.referral_id,
                        actor_user_id: None,
                        kind: "plan_repeated",
                        from_status: None,
                        to_status: None,
                        note: reason.as_str(),
                        now,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            done += 1;
        }
    }
    Ok(done)
}
