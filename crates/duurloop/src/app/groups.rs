//! Groups and sessions (SPEC C5): recurring schedules generate the session dates of an
//! offering's programme; the therapist records attendance per participant in one tap and a
//! short note, and can cancel a session, which tells the participants by e-mail.
//!
//! Only the offering organisation's therapists and coordinators see a group (participants'
//! names are health data); the instance administrator does not.

use duurloop_domain::{
    Role,
    attendance::{Attendance, weekly_dates},
};
use serde::Deserialize;

use super::{
    Actor, AppError, AppResult, FieldError,
    audit::{Event, record},
};
use crate::{
    mail,
    state::AppState,
    store::{
        self, Conn,
        directory::OfferingRow,
        groups::{ParticipantRow, SessionRow, SlotRow},
    },
};

pub(super) fn require_team(actor: &Actor, org_id: &str) -> AppResult<()> {
    if matches!(
        actor.identity.role_in(org_id),
        Some(Role::Therapist | Role::Coordinator)
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Begins the transaction of an action on an offering's group by its team (its organisation's
/// therapists and coordinators): the offering, if this person is in that team. Anyone else gets
/// 403 and the refusal is audit-logged with outcome `denied` (ASVS 7.2.2): who tried `attempt`
/// on which offering and organisation, never a participant's details.
async fn open_offering(
    state: &AppState,
    actor: &Actor,
    offering_id: &str,
    attempt: Event<'_>,
) -> AppResult<(crate::db::Tx, OfferingRow)> {
    let mut tx = state.db.begin().await?;
    let o = store::directory::offering(&mut tx, offering_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(e) = require_team(actor, &o.org_id) {
        let attempt = attempt.record(offering_id).org(&o.org_id);
        return Err(super::audit::refused(tx, state.now(), actor, attempt, e).await);
    }
    Ok((tx, o))
}

pub struct GroupView {
    pub offering: OfferingRow,
    pub slots: Vec<SlotRow>,
    pub sessions: Vec<SessionRow>,
    pub participants: Vec<ParticipantRow>,
    /// Per participant: how this week goes (for spotting who falls behind or hurts).
    pub progress: Vec<Progress>,
}

impl GroupView {
    /// Metres the group covered together (a walking challenge counts them: SPEC §2a).
    pub fn distance_m(&self) -> i64 {
        self.participants.iter().map(|p| p.distance_m).sum()
    }
}

/// This week's runs and attended sessions against the plan, and recent pain.
pub struct Progress {
    pub trajectory_id: String,
    pub done: i64,
    pub planned: i64,
    /// Pain reported in a run in the last 14 days.
    pub pain: bool,
}

impl Progress {
    /// Behind when, past the middle of the week, less than half of it is done.
    pub fn behind(&self) -> bool {
        self.done * 2 < self.planned
    }
}

async fn progress(c: &mut Conn, offering_id: &str, today: &str) -> AppResult<Vec<Progress>> {
    let mut out = Vec::new();
    for t in store::trajectories::active_in_offering(c, offering_id).await? {
        let plan: duurloop_domain::plan::Plan =
            serde_json::from_str(&t.plan).map_err(|e| AppError::Internal(e.into()))?;
        let Ok(start) = t.start_date.parse::<jiff::civil::Date>() else {
            continue;
        };
        let Ok(now) = today.parse::<jiff::civil::Date>() else {
            continue;
        };
        let days = i64::from((now - start).get_days());
        if days < 0 {
            continue;
        }
        let week = days / 7 + 1;
        let week_start = start
            .checked_add(jiff::Span::new().days((week - 1) * 7))
            .map(|d| d.to_string())
            .unwrap_or_default();
        let fortnight = now
            .checked_sub(jiff::Span::new().days(14))
            .map(|d| d.to_string())
            .unwrap_or_default();
        let runs = store::portal::runs(c, &t.id).await?;
        let attended = store::trajectories::attended_between(c, &t.id, &week_start, today).await?;
        out.push(Progress {
            trajectory_id: t.id.clone(),
            done: runs
                .iter()
                .filter(|r| r.run_date >= week_start && r.run_date.as_str() <= today)
                .count() as i64
                + attended,
            planned: plan
                .week(u16::try_from(week).unwrap_or(u16::MAX))
                .map(|w| i64::from(w.sessions))
                .unwrap_or(0),
            pain: runs.iter().any(|r| r.pain == 1 && r.run_date >= fortnight),
        });
    }
    Ok(out)
}

pub async fn group(state: &AppState, actor: &Actor, offering_id: &str) -> AppResult<GroupView> {
    let now = state.now();
    let (mut tx, offering) =
        open_offering(state, actor, offering_id, Event::new("read", "group")).await?;
    let slots = store::groups::slots(&mut tx, offering_id).await?;
    let sessions = store::groups::sessions(&mut tx, offering_id).await?;
    let participants = store::groups::participants(&mut tx, offering_id, "").await?;
    let today = crate::clock::local_date(now);
    let progress = progress(&mut tx, offering_id, &today).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "group")
            .record(offering_id)
            .org(&offering.org_id),
    )
    .await?;
    record_participants(&mut tx, now, actor, &participants, &offering.org_id).await?;
    tx.commit().await?;
    Ok(GroupView {
        offering,
        slots,
        sessions,
        participants,
        progress,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SlotInput {
    /// ISO weekday, 1 = Monday.
    pub weekday: String,
    /// `hh:mm`, e.g. 19:00.
    pub start_time: String,
    /// Minutes (15–180), default 60.
    #[serde(default)]
    pub duration_min: String,
}

fn parse_time(s: &str) -> Option<String> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

fn parse_date(s: &str) -> Option<(i32, u8, u8)> {
    let mut p = s.split('-');
    Some((
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
    ))
}

/// Adds a weekly slot (say Tuesday 19:00) and generates its sessions over the programme.
pub async fn add_slot(
    state: &AppState,
    actor: &Actor,
    offering_id: &str,
    input: &SlotInput,
) -> AppResult<usize> {
    let now = state.now();
    let (mut tx, o) =
        open_offering(state, actor, offering_id, Event::new("create", "schedule")).await?;
    let mut e = Vec::new();
    let weekday = input
        .weekday
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|d| (1..=7).contains(d));
    if weekday.is_none() {
        e.push(FieldError {
            field: "weekday",
            key: "invalid-weekday",
        });
    }
    let time = parse_time(&input.start_time);
    if time.is_none() {
        e.push(FieldError {
            field: "start_time",
            key: "invalid-time",
        });
    }
    let duration = match input.duration_min.trim() {
        "" => Some(60),
        d => d.parse::<i64>().ok().filter(|d| (15..=180).contains(d)),
    };
    if duration.is_none() {
        e.push(FieldError {
            field: "duration_min",
            key: "invalid-duration",
        });
    }
    let (Some(weekday), Some(time), Some(duration)) = (weekday, time, duration) else {
        return Err(AppError::Invalid(e));
    };
    store::groups::insert_slot(
        &mut tx,
        offering_id,
        i64::from(weekday),
        &time,
        duration,
        now,
    )
    .await?;
    let start = parse_date(&o.start_date).ok_or(AppError::Conflict("invalid-start-date"))?;
    let dates = weekly_dates(start, &[weekday], u16::try_from(o.weeks).unwrap_or(12));
    for (y, m, d) in &dates {
        store::groups::insert_session_once(
            &mut tx,
            offering_id,
            &format!("{y:04}-{m:02}-{d:02}"),
            &time,
            duration,
            now,
        )
        .await?;
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "schedule")
            .record(offering_id)
            .org(&o.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(dates.len())
}

pub struct SessionView {
    pub session: SessionRow,
    pub offering: OfferingRow,
    pub participants: Vec<ParticipantRow>,
    /// Warnings before (or past) a funding limit, for the participants that have one.
    pub funding: super::funding::SessionFunding,
}

/// As [`open_offering`], for one session of the group: the refusal names the session.
async fn open_session(
    state: &AppState,
    actor: &Actor,
    id: &str,
    attempt: Event<'_>,
) -> AppResult<(crate::db::Tx, SessionRow, OfferingRow)> {
    let mut tx = state.db.begin().await?;
    let s = store::groups::session(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let o = store::directory::offering(&mut tx, &s.offering_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(e) = require_team(actor, &o.org_id) {
        let attempt = attempt.record(id).org(&o.org_id);
        return Err(super::audit::refused(tx, state.now(), actor, attempt, e).await);
    }
    Ok((tx, s, o))
}

/// Names each participant a group or session page listed in the audit log.
async fn record_participants(
    c: &mut store::Conn,
    now: i64,
    actor: &Actor,
    participants: &[store::groups::ParticipantRow],
    org_id: &str,
) -> Result<(), sqlx::Error> {
    super::audit::record_shown(
        c,
        now,
        actor,
        "trajectory",
        participants
            .iter()
            .map(|p| (p.trajectory_id.as_str(), Some(org_id))),
    )
    .await
}

/// A session with its participants, their attendance and their funding warnings
/// (audit-logged).
pub async fn session(state: &AppState, actor: &Actor, id: &str) -> AppResult<SessionView> {
    let now = state.now();
    let (mut tx, session, offering) =
        open_session(state, actor, id, Event::new("read", "attendance")).await?;
    let participants = store::groups::participants(&mut tx, &offering.id, id).await?;
    let funding = super::funding::for_session(&mut tx, &offering, &session, &participants).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "attendance")
            .record(id)
            .org(&offering.org_id),
    )
    .await?;
    record_participants(&mut tx, now, actor, &participants, &offering.org_id).await?;
    tx.commit().await?;
    Ok(SessionView {
        session,
        offering,
        participants,
        funding,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AttendanceInput {
    /// present, absent_notice or absent
    pub status: String,
    /// A short note (technique, how it went).
    #[serde(default)]
    pub note: String,
}

/// Records (or corrects) one participant's attendance at a session.
pub async fn record_attendance(
    state: &AppState,
    actor: &Actor,
    session_id: &str,
    trajectory_id: &str,
    input: &AttendanceInput,
) -> AppResult<()> {
    let now = state.now();
    let (mut tx, s, o) =
        open_session(state, actor, session_id, Event::new("update", "attendance")).await?;
    let status = Attendance::parse(&input.status).map_err(|e| AppError::field("status", e))?;
    if input.note.chars().count() > 1000 {
        return Err(AppError::invalid("note", "text-too-long"));
    }
    if s.cancelled_at.is_some() {
        return Err(AppError::Conflict("session-cancelled"));
    }
    let t = store::trajectories::by_id(&mut tx, trajectory_id)
        .await?
        .filter(|t| t.offering_id == o.id)
        .ok_or(AppError::NotFound)?;
    store::groups::record_attendance(
        &mut tx,
        session_id,
        &t.id,
        status.as_str(),
        input.note.trim(),
        &actor.identity.user_id,
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "attendance")
            .record(&t.id)
            .org(&o.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a session and tells every participant by e-mail.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    session_id: &str,
    reason: &str,
) -> AppResult<usize> {
    let reason = reason.trim();
    let now = state.now();
    let (mut tx, s, o) = open_session(
        state,
        actor,
        session_id,
        Event::new("cancel", "group_session"),
    )
    .await?;
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "reason-required"));
    }
    if !store::groups::cancel(&mut tx, session_id, reason, now).await? {
        return Err(AppError::Conflict("session-cancelled"));
    }
    let people = store::groups::participants(&mut tx, &o.id, session_id).await?;
    let mut told = 0;
    for p in people.iter().filter(|p| !p.client_email.is_empty()) {
        let when = format!("{} {}", s.session_date, s.start_time);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::SessionCancelled {
                title: &o.title,
                when: &when,
                reason,
            },
            &p.client_email,
            &p.client_lang,
        )
        .await?;
        told += 1;
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("cancel", "group_session")
            .record(session_id)
            .org(&o.org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(told)
}

/// Makes (or replaces) the person's secret calendar link; returns the token for the URL.
pub async fn new_calendar_feed(state: &AppState, actor: &Actor) -> AppResult<String> {
    let token = store::new_token();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::groups::set_feed_token(&mut tx, &actor.identity.user_id, &token, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "calendar_feed")
            .record(&actor.identity.user_id)
            .subject(&actor.identity.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Escapes text for an iCalendar property value (RFC 5545 3.3.11).
fn ical_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// The calendar (RFC 5545) behind a secret link: the sessions a person runs as therapist, or
/// for a participant's link the sessions of their group while their trajectory runs. Times
/// are in Europe/Amsterdam, cancelled sessions are marked as such. The link is the
/// credential, so the feed holds no participant data (no names, no notes).
pub async fn calendar(state: &AppState, token: &str) -> AppResult<String> {
    let mut c = state.db.conn().await?;
    let rows = if let Some(user) = store::groups::feed_user(&mut c, token).await? {
        store::groups::therapist_calendar(&mut c, &user).await?
    } else {
        let trajectory = match store::portal::feed_trajectory(&mut c, token).await? {
            Some(id) => store::trajectories::by_id(&mut c, &id).await?,
            None => None,
        }
        .filter(|t| t.status == "active")
        .ok_or(AppError::NotFound)?;
        store::groups::offering_calendar(&mut c, &trajectory.offering_id).await?
    };
    Ok(ical(&rows, state.now()))
}

fn ical(rows: &[store::groups::CalendarRow], now: i64) -> String {
    let stamp = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default();
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Duurloop//NL\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:Duurloop\r\n",
    );
    for r in rows {
        let Ok(date) = r.session_date.parse::<jiff::civil::Date>() else {
            continue;
        };
        let Ok(time) = format!("{}:00", r.start_time).parse::<jiff::civil::Time>() else {
            continue;
        };
        let start = date.to_datetime(time);
        let Ok(end) = start.checked_add(jiff::Span::new().minutes(r.duration_min)) else {
            continue;
        };
        out.push_str("BEGIN:VEVENT\r\n");
        out.push_str(&format!("UID:{}@duurloop\r\nDTSTAMP:{stamp}\r\n", r.id));
        out.push_str(&format!(
            "DTSTART;TZID=Europe/Amsterdam:{}\r\n",
            start.strftime("%Y%m%dT%H%M%S")
        ));
        out.push_str(&format!(
            "DTEND;TZID=Europe/Amsterdam:{}\r\n",
            end.strftime("%Y%m%dT%H%M%S")
        ));
        out.push_str(&format!("SUMMARY:{}\r\n", ical_text(&r.title)));
        out.push_str(&format!(
            "LOCATION:{}\r\n",
            ical_text(&format!("{}, {}", r.address, r.place))
        ));
        if r.cancelled_at.is_some() {
            out.push_str("STATUS:CANCELLED\r\n");
        }
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}
