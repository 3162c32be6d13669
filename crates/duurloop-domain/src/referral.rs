//! Referrals: what a client is referred for, how it is paid, and the statuses a referral moves
//! through from "sent" to "follow-up done" (SPEC §2 steps 2–4, §2a, C3), plus the working-day
//! arithmetic behind the therapist's response-time target.

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// What a client is referred for: the fixed, translatable list of indications in SPEC §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indication {
    Stress,
    /// Depression and low mood.
    Depression,
    Fatigue,
    /// Burnout recovery and relapse prevention.
    Burnout,
    BackNeckTension,
    /// Physical and emotional recovery during chemotherapy.
    Chemotherapy,
    Psychosomatic,
    AnxietyPanic,
    Sleep,
    /// Staying mobile with oedema.
    Oedema,
    HealthyLifestyle,
    /// Hyperactivity and concentration problems.
    Concentration,
    Overweight,
    /// General physical condition.
    Condition,
}

impl Indication {
    pub const ALL: [Indication; 14] = [
        Indication::Stress,
        Indication::Depression,
        Indication::Fatigue,
        Indication::Burnout,
        Indication::BackNeckTension,
        Indication::Chemotherapy,
        Indication::Psychosomatic,
        Indication::AnxietyPanic,
        Indication::Sleep,
        Indication::Oedema,
        Indication::HealthyLifestyle,
        Indication::Concentration,
        Indication::Overweight,
        Indication::Condition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indication::Stress => "stress",
            Indication::Depression => "depression",
            Indication::Fatigue => "fatigue",
            Indication::Burnout => "burnout",
            Indication::BackNeckTension => "back_neck_tension",
            Indication::Chemotherapy => "chemotherapy",
            Indication::Psychosomatic => "psychosomatic",
            Indication::AnxietyPanic => "anxiety_panic",
            Indication::Sleep => "sleep",
            Indication::Oedema => "oedema",
            Indication::HealthyLifestyle => "healthy_lifestyle",
            Indication::Concentration => "concentration",
            Indication::Overweight => "overweight",
            Indication::Condition => "condition",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or(Invalid::new("invalid-indication"))
    }
}

/// Where a referral is in its life (SPEC C3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Sent,
    Received,
    Invited,
    IntakePlanned,
    Accepted,
    Waitlisted,
    NotSuitable,
    Started,
    Completed,
    DroppedOut,
    FollowUpDone,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 11] = [
        ReferralStatus::Sent,
        ReferralStatus::Received,
        ReferralStatus::Invited,
        ReferralStatus::IntakePlanned,
        ReferralStatus::Accepted,
        ReferralStatus::Waitlisted,
        ReferralStatus::NotSuitable,
        ReferralStatus::Started,
        ReferralStatus::Completed,
        ReferralStatus::DroppedOut,
        ReferralStatus::FollowUpDone,
    ];

    /// The statuses a referral ends in (those for which [`ReferralStatus::is_open`] is
    /// false): only these can be erased, on request or after the retention period.
    pub const CLOSED: [ReferralStatus; 4] = [
        ReferralStatus::NotSuitable,
        ReferralStatus::Completed,
        ReferralStatus::DroppedOut,
        ReferralStatus::FollowUpDone,
    ];

    /// The open statuses before the trajectory starts running: a referral can stay in one of
    /// these for good (a `sent` nobody answers, a waiting list that never moves). The worker
    /// erases such a referral `retention_years` after its last change (`app::retention`),
    /// unless its trajectory is active; a `started` one is a running trajectory and is never
    /// erased.
    pub const NOT_STARTED: [ReferralStatus; 6] = [
        ReferralStatus::Sent,
        ReferralStatus::Received,
        ReferralStatus::Invited,
        ReferralStatus::IntakePlanned,
        ReferralStatus::Accepted,
        ReferralStatus::Waitlisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Sent => "sent",
            ReferralStatus::Received => "received",
            ReferralStatus::Invited => "invited",
            ReferralStatus::IntakePlanned => "intake_planned",
            ReferralStatus::Accepted => "accepted",
            ReferralStatus::Waitlisted => "waitlisted",
            ReferralStatus::NotSuitable => "not_suitable",
            ReferralStatus::Started => "started",
            ReferralStatus::Completed => "completed",
            ReferralStatus::DroppedOut => "dropped_out",
            ReferralStatus::FollowUpDone => "follow_up_done",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(Invalid::new("invalid-status"))
    }

    /// Whether the referral is still in progress (not ended as not suitable, completed,
    /// dropped out or followed up).
    pub fn is_open(self) -> bool {
        !Self::CLOSED.contains(&self)
    }

    /// Whether the therapist still has to respond (the response-time target runs).
    pub fn needs_response(self) -> bool {
        matches!(self, ReferralStatus::Sent | ReferralStatus::Received)
    }

    /// The events allowed from this status, in the order of [`ReferralEvent::ALL`]
    /// (for showing only the buttons that can work).
    pub fn next_events(self) -> Vec<ReferralEvent> {
        ReferralEvent::ALL
            .into_iter()
            .filter(|e| transition(self, *e).is_ok())
            .collect()
    }
}

/// Something that happens to a referral and may move it to another status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralEvent {
    /// The therapist opens it: sent → received.
    Open,
    /// The client is invited for an intake (or a trial session).
    Invite,
    PlanIntake,
    Accept,
    Waitlist,
    /// Judged not suitable (the reason goes back to the referrer).
    Reject,
    Start,
    Complete,
    DropOut,
    FollowUp,
}

impl ReferralEvent {
    pub const ALL: [ReferralEvent; 10] = [
        ReferralEvent::Open,
        ReferralEvent::Invite,
        ReferralEvent::PlanIntake,
        ReferralEvent::Accept,
        ReferralEvent::Waitlist,
        ReferralEvent::Reject,
        ReferralEvent::Start,
        ReferralEvent::Complete,
        ReferralEvent::DropOut,
        ReferralEvent::FollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralEvent::Open => "open",
            ReferralEvent::Invite => "invite",
            ReferralEvent::PlanIntake => "plan_intake",
            ReferralEvent::Accept => "accept",
            ReferralEvent::Waitlist => "waitlist",
            ReferralEvent::Reject => "reject",
            ReferralEvent::Start => "start",
            ReferralEvent::Complete => "complete",
            ReferralEvent::DropOut => "drop_out",
            ReferralEvent::FollowUp => "follow_up",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or(Invalid::new("invalid-event"))
    }
}

/// An event that is not allowed in the referral's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {} cannot take the event {}", from.as_str(), event.as_str())]
pub struct TransitionError {
    pub from: ReferralStatus,
    pub event: ReferralEvent,
}

impl TransitionError {
    /// The translation key for telling the user.
    pub const KEY: &'static str = "invalid-transition";

    pub fn key(&self) -> &'static str {
        Self::KEY
    }
}

impl From<TransitionError> for Invalid {
    fn from(_: TransitionError) -> Self {
        Invalid::new(TransitionError::KEY)
    }
}

/// The referral state machine: the status after `event`, or an error if the event is not
/// allowed in status `from`.
pub fn transition(
    from: ReferralStatus,
    event: ReferralEvent,
) -> Result<ReferralStatus, TransitionError> {
    use ReferralEvent as E;
    use ReferralStatus as S;
    Ok(match (from, event) {
        (S::Sent, E::Open) => S::Received,
        (S::Sent | S::Received, E::Invite) => S::Invited,
        (S::Received | S::Invited, E::PlanIntake) => S::IntakePlanned,
        (S::IntakePlanned | S::Waitlisted, E::Accept) => S::Accepted,
        (S::IntakePlanned, E::Waitlist) => S::Waitlisted,
        (S::Received | S::Invited | S::IntakePlanned | S::Waitlisted, E::Reject) => S::NotSuitable,
        (S::Accepted, E::Start) => S::Started,
        (S::Invited | S::IntakePlanned | S::Accepted | S::Waitlisted | S::Started, E::DropOut) => {
            S::DroppedOut
        }
        (S::Started, E::Complete) => S::Completed,
        (S::Completed, E::FollowUp) => S::FollowUpDone,
        _ => return Err(TransitionError { from, event }),
    })
}

/// How a trajectory is paid for (SPEC §2 step 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingRoute {
    Insurer,
    GpModule,
    Municipality,
    Employer,
    Uwv,
    Subsidy,
    SelfPay,
}

impl FundingRoute {
    pub const ALL: [FundingRoute; 7] = [
        FundingRoute::Insurer,
        FundingRoute::GpModule,
        FundingRoute::Municipality,
        FundingRoute::Employer,
        FundingRoute::Uwv,
        FundingRoute::Subsidy,
        FundingRoute::SelfPay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FundingRoute::Insurer => "insurer",
            FundingRoute::GpModule => "gp_module",
            FundingRoute::Municipality => "municipality",
            FundingRoute::Employer => "employer",
            FundingRoute::Uwv => "uwv",
            FundingRoute::Subsidy => "subsidy",
            FundingRoute::SelfPay => "self_pay",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(Invalid::new("invalid-funding"))
    }
}

/// Who created the referral: all routes lead to the same kind of referral (SPEC §2 step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    Professional,
    SelfRegistration,
    Employer,
    Uwv,
    Municipality,
}

impl ReferralSource {
    pub const ALL: [ReferralSource; 5] = [
        ReferralSource::Professional,
        ReferralSource::SelfRegistration,
        ReferralSource::Employer,
        ReferralSource::Uwv,
        ReferralSource::Municipality,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralSource::Professional => "professional",
            ReferralSource::SelfRegistration => "self_registration",
            ReferralSource::Employer => "employer",
            ReferralSource::Uwv => "uwv",
            ReferralSource::Municipality => "municipality",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(Invalid::new("invalid-source"))
    }
}

/// The referrer's judgement of the client's motivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motivation {
    Low,
    Moderate,
    High,
}

impl Motivation {
    pub const ALL: [Motivation; 3] = [Motivation::Low, Motivation::Moderate, Motivation::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Motivation::Low => "low",
            Motivation::Moderate => "moderate",
            Motivation::High => "high",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(Invalid::new("invalid-motivation"))
    }
}

/// What kind of offering a client is referred to (SPEC §2a): running therapy first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferingKind {
    RunningGroup,
    RunningIndividual,
    WalkingGroup,
    OtherExercise,
}

impl OfferingKind {
    pub const ALL: [OfferingKind; 4] = [
        OfferingKind::RunningGroup,
        OfferingKind::RunningIndividual,
        OfferingKind::WalkingGroup,
        OfferingKind::OtherExercise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferingKind::RunningGroup => "running_group",
            OfferingKind::RunningIndividual => "running_individual",
            OfferingKind::WalkingGroup => "walking_group",
            OfferingKind::OtherExercise => "other_exercise",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(Invalid::new("invalid-offering-kind"))
    }
}

const DAY_MS: i64 = 86_400_000;

/// Working days (Monday to Friday) from the epoch's week up to and including `day`
/// (days since 1970-01-01, a Thursday). Only differences of this count mean anything.
fn working_days_through(day: i64) -> i64 {
    let since_monday = day + 3; // day -3 (1969-12-29) was a Monday
    let (weeks, weekday) = (since_monday.div_euclid(7), since_monday.rem_euclid(7));
    weeks * 5 + (weekday + 1).min(5)
}

/// The day (days since 1970-01-01) of the working day whose [`working_days_through`] is `n`.
fn nth_working_day(n: i64) -> i64 {
    let (weeks, weekday) = ((n - 1).div_euclid(5), (n - 1).rem_euclid(5));
    weeks * 7 + weekday - 3
}

/// Whole working days from the start instant's date (exclusive) to the end instant's date
/// (inclusive), counting Monday to Friday by UTC date. From a Friday to the next Monday is one
/// working day; from Monday to Monday a week later is five. If the end lies before the start
/// the count is negative: `working_days_between(a, b) == -working_days_between(b, a)`.
///
/// Known simplification: only Saturdays and Sundays are skipped; public holidays (King's Day,
/// Christmas…) are counted as working days.
pub fn working_days_between(start_ms: i64, end_ms: i64) -> i64 {
    working_days_through(end_ms.div_euclid(DAY_MS))
        - working_days_through(start_ms.div_euclid(DAY_MS))
}

/// The instant `days` working days after `start_ms`, at the same (UTC) time of day; it always
/// falls on a weekday when `days` is not zero. Two working days after a Thursday is the next
/// Monday; one working day after a Saturday is the Monday. Negative `days` count backwards
/// (one working day before a Monday or a Saturday is the Friday). For `days >= 0`,
/// `working_days_between(start, add_working_days(start, days)) == days`.
///
/// Known simplification: only Saturdays and Sundays are skipped; public holidays are counted
/// as working days.
pub fn add_working_days(start_ms: i64, days: i64) -> i64 {
    if days == 0 {
        return start_ms;
    }
    let (day, time_of_day) = (start_ms.div_euclid(DAY_MS), start_ms.rem_euclid(DAY_MS));
    let target = if days > 0 {
        working_days_through(day) + days
    } else {
        // Count back from the day before, so that a weekend start steps back to Friday first.
        working_days_through(day - 1) + days + 1
    };
    nth_working_day(target) * DAY_MS + time_of_day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_closed_started_or_not_started_exactly_once() {
        for s in ReferralStatus::ALL {
            let n = usize::from(ReferralStatus::CLOSED.contains(&s))
                + usize::from(ReferralStatus::NOT_STARTED.contains(&s))
                + usize::from(s == ReferralStatus::Started);
            assert_eq!(n, 1, "{s:?}");
        }
    }

    use ReferralEvent as E;
    use ReferralStatus as S;

    /// Every allowed transition, written out independently of `transition`.
    const ALLOWED: [(S, E, S); 20] = [
        (S::Sent, E::Open, S::Received),
        (S::Sent, E::Invite, S::Invited),
        (S::Received, E::Invite, S::Invited),
        (S::Received, E::PlanIntake, S::IntakePlanned),
        (S::Invited, E::PlanIntake, S::IntakePlanned),
        (S::IntakePlanned, E::Accept, S::Accepted),
        (S::IntakePlanned, E::Waitlist, S::Waitlisted),
        (S::IntakePlanned, E::Reject, S::NotSuitable),
        (S::Received, E::Reject, S::NotSuitable),
        (S::Invited, E::Reject, S::NotSuitable),
        (S::Waitlisted, E::Accept, S::Accepted),
        (S::Waitlisted, E::Reject, S::NotSuitable),
        (S::Accepted, E::Start, S::Started),
        (S::Accepted, E::DropOut, S::DroppedOut),
        (S::Started, E::DropOut, S::DroppedOut),
        (S::Waitlisted, E::DropOut, S::DroppedOut),
        (S::Invited, E::DropOut, S::DroppedOut),
        (S::IntakePlanned, E::DropOut, S::DroppedOut),
        (S::Started, E::Complete, S::Completed),
        (S::Completed, E::FollowUp, S::FollowUpDone),
    ];

    /// Builds an instant from a UTC calendar date and time (days-from-civil, H. Hinnant).
    fn at(y: i64, m: i64, d: i64, hour: i64, minute: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * DAY_MS + (hour * 60 + minute) * 60_000
    }

    fn all_names_round_trip<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Result<T, Invalid>,
        key: &'static str,
    ) {
        for &v in all {
            assert_eq!(parse(as_str(v)), Ok(v));
        }
        let mut names: Vec<_> = all.iter().map(|v| as_str(*v)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "names are distinct");
        for bad in ["", "unknown", " sent", "Sent", "STRESS"] {
            assert_eq!(parse(bad), Err(Invalid::new(key)), "{bad:?}");
        }
    }

    #[test]
    fn every_list_round_trips_through_its_names_and_refuses_others() {
        all_names_round_trip(
            &Indication::ALL,
            Indication::as_str,
            Indication::parse,
            "invalid-indication",
        );
        all_names_round_trip(
            &ReferralStatus::ALL,
            ReferralStatus::as_str,
            ReferralStatus::parse,
            "invalid-status",
        );
        all_names_round_trip(
            &ReferralEvent::ALL,
            ReferralEvent::as_str,
            ReferralEvent::parse,
            "invalid-event",
        );
        all_names_round_trip(
            &FundingRoute::ALL,
            FundingRoute::as_str,
            FundingRoute::parse,
            "invalid-funding",
        );
        all_names_round_trip(
            &ReferralSource::ALL,
            ReferralSource::as_str,
            ReferralSource::parse,
            "invalid-source",
        );
        all_names_round_trip(
            &Motivation::ALL,
            Motivation::as_str,
            Motivation::parse,
            "invalid-motivation",
        );
        all_names_round_trip(
            &OfferingKind::ALL,
            OfferingKind::as_str,
            OfferingKind::parse,
            "invalid-offering-kind",
        );
    }

    #[test]
    fn the_fourteen_indications_of_the_spec_are_offered() {
        let names: Vec<_> = Indication::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(
            names,
            [
                "stress",
                "depression",
                "fatigue",
                "burnout",
                "back_neck_tension",
                "chemotherapy",
                "psychosomatic",
                "anxiety_panic",
                "sleep",
                "oedema",
                "healthy_lifestyle",
                "concentration",
                "overweight",
                "condition",
            ]
        );
    }

    #[test]
    fn statuses_and_routes_use_the_agreed_names() {
        let statuses: Vec<_> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "sent",
                "received",
                "invited",
                "intake_planned",
                "accepted",
                "waitlisted",
                "not_suitable",
                "started",
                "completed",
                "dropped_out",
                "follow_up_done",
            ]
        );
        let funding: Vec<_> = FundingRoute::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            funding,
            [
                "insurer",
                "gp_module",
                "municipality",
                "employer",
                "uwv",
                "subsidy",
                "self_pay"
            ]
        );
        let sources: Vec<_> = ReferralSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            sources,
            [
                "professional",
                "self_registration",
                "employer",
                "uwv",
                "municipality"
            ]
        );
        let kinds: Vec<_> = OfferingKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "running_group",
                "running_individual",
                "walking_group",
                "other_exercise"
            ]
        );
    }

    #[test]
    fn every_allowed_transition_leads_where_the_machine_says() {
        for (from, event, to) in ALLOWED {
            assert_eq!(transition(from, event), Ok(to), "{from:?} -{event:?}->");
        }
    }

    #[test]
    fn every_other_status_and_event_pair_is_refused_with_its_translation_key() {
        let mut refused = 0;
        for from in ReferralStatus::ALL {
            for event in ReferralEvent::ALL {
                if ALLOWED.iter().any(|(f, e, _)| (*f, *e) == (from, event)) {
                    continue;
                }
                let err = transition(from, event).expect_err("not in the allowed list");
                assert_eq!(err, TransitionError { from, event });
                assert_eq!(err.key(), "invalid-transition");
                assert_eq!(Invalid::from(err), Invalid::new("invalid-transition"));
                refused += 1;
            }
        }
        assert_eq!(refused, 11 * 10 - 20);
    }

    #[test]
    fn the_allowed_list_names_twenty_distinct_transitions() {
        let mut pairs: Vec<_> = ALLOWED
            .iter()
            .map(|(f, e, _)| (f.as_str(), e.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), 20);
    }

    #[test]
    fn ended_referrals_take_no_further_events_except_the_follow_up() {
        for s in [S::NotSuitable, S::DroppedOut, S::FollowUpDone] {
            assert!(s.next_events().is_empty(), "{s:?}");
        }
        assert_eq!(S::Completed.next_events(), [E::FollowUp]);
    }

    #[test]
    fn next_events_are_the_buttons_a_therapist_may_press() {
        assert_eq!(S::Sent.next_events(), [E::Open, E::Invite]);
        assert_eq!(
            S::Received.next_events(),
            [E::Invite, E::PlanIntake, E::Reject]
        );
        assert_eq!(
            S::IntakePlanned.next_events(),
            [E::Accept, E::Waitlist, E::Reject, E::DropOut]
        );
        assert_eq!(S::Accepted.next_events(), [E::Start, E::DropOut]);
        assert_eq!(S::Started.next_events(), [E::Complete, E::DropOut]);
    }

    #[test]
    fn a_whole_journey_runs_from_sent_to_follow_up_done() {
        let journey = [
            E::Open,
            E::Invite,
            E::PlanIntake,
            E::Waitlist,
            E::Accept,
            E::Start,
            E::Complete,
            E::FollowUp,
        ];
        let end = journey
            .into_iter()
            .try_fold(S::Sent, transition)
            .expect("a valid journey");
        assert_eq!(end, S::FollowUpDone);
    }

    #[test]
    fn open_and_response_needing_statuses() {
        let open: Vec<_> = S::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            [
                S::Sent,
                S::Received,
                S::Invited,
                S::IntakePlanned,
                S::Accepted,
                S::Waitlisted,
                S::Started
            ]
        );
        let waiting: Vec<_> = S::ALL.into_iter().filter(|s| s.needs_response()).collect();
        assert_eq!(waiting, [S::Sent, S::Received]);
    }

    #[test]
    fn a_closed_status_can_never_be_left_and_open_ones_can() {
        for s in S::ALL {
            assert_eq!(
                s.next_events().is_empty(),
                !s.is_open() && s != S::Completed,
                "{s:?}"
            );
        }
    }

    #[test]
    fn transition_errors_say_what_was_refused() {
        let err = transition(S::Completed, E::Start).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "a referral that is completed cannot take the event start"
        );
    }

    #[test]
    fn the_calendar_helper_knows_the_epoch_and_a_leap_day() {
        assert_eq!(at(1970, 1, 1, 0, 0), 0);
        assert_eq!(at(2000, 3, 1, 0, 0) - at(2000, 2, 28, 0, 0), 2 * DAY_MS);
        assert_eq!(at(2024, 6, 3, 0, 0), 1_717_372_800_000);
    }

    #[test]
    fn working_days_within_one_week() {
        let monday = at(2024, 6, 3, 9, 30);
        assert_eq!(working_days_between(monday, monday), 0);
        assert_eq!(working_days_between(monday, at(2024, 6, 3, 23, 59)), 0);
        assert_eq!(working_days_between(monday, at(2024, 6, 4, 0, 0)), 1);
        assert_eq!(working_days_between(monday, at(2024, 6, 7, 17, 0)), 4);
    }

    #[test]
    fn working_days_skip_the_weekend() {
        let friday = at(2024, 6, 7, 16, 0);
        assert_eq!(working_days_between(friday, at(2024, 6, 8, 10, 0)), 0);
        assert_eq!(working_days_between(friday, at(2024, 6, 9, 10, 0)), 0);
        assert_eq!(working_days_between(friday, at(2024, 6, 10, 8, 0)), 1);
        assert_eq!(working_days_between(friday, at(2024, 6, 14, 8, 0)), 5);
        let saturday = at(2024, 6, 8, 12, 0);
        assert_eq!(working_days_between(saturday, at(2024, 6, 9, 12, 0)), 0);
        assert_eq!(working_days_between(saturday, at(2024, 6, 10, 12, 0)), 1);
        let sunday = at(2024, 6, 9, 12, 0);
        assert_eq!(working_days_between(sunday, at(2024, 6, 10, 0, 0)), 1);
    }

    #[test]
    fn working_days_over_whole_weeks_months_and_the_year_end() {
        let monday = at(2024, 6, 3, 9, 0);
        assert_eq!(working_days_between(monday, at(2024, 6, 10, 9, 0)), 5);
        assert_eq!(working_days_between(monday, at(2024, 7, 1, 9, 0)), 20);
        // Tue 2024-12-31 → Thu 2025-01-02 (New Year's Day is counted: no holidays).
        assert_eq!(
            working_days_between(at(2024, 12, 31, 9, 0), at(2025, 1, 2, 9, 0)),
            2
        );
        // 2024 has 262 weekdays; from 2023-12-31 (Sun) to 2024-12-31 (Tue) inclusive.
        assert_eq!(
            working_days_between(at(2023, 12, 31, 0, 0), at(2024, 12, 31, 0, 0)),
            262
        );
    }

    #[test]
    fn working_days_backwards_are_negative() {
        let (a, b) = (at(2024, 6, 5, 9, 0), at(2024, 6, 12, 9, 0));
        assert_eq!(working_days_between(b, a), -working_days_between(a, b));
        assert_eq!(working_days_between(b, a), -5);
    }

    #[test]
    fn working_days_work_before_1970_too() {
        // Fri 1969-12-26 → Mon 1969-12-29 → Fri 1970-01-02.
        assert_eq!(
            working_days_between(at(1969, 12, 26, 12, 0), at(1969, 12, 29, 12, 0)),
            1
        );
        assert_eq!(
            working_days_between(at(1969, 12, 26, 12, 0), at(1970, 1, 2, 12, 0)),
            5
        );
    }

    #[test]
    fn adding_working_days_keeps_the_time_of_day_and_skips_weekends() {
        let thursday = at(2024, 6, 6, 14, 15);
        assert_eq!(add_working_days(thursday, 0), thursday);
        assert_eq!(add_working_days(thursday, 1), at(2024, 6, 7, 14, 15));
        assert_eq!(add_working_days(thursday, 2), at(2024, 6, 10, 14, 15));
        assert_eq!(add_working_days(thursday, 5), at(2024, 6, 13, 14, 15));
        assert_eq!(add_working_days(thursday, 10), at(2024, 6, 20, 14, 15));
        let friday = at(2024, 6, 7, 23, 59);
        assert_eq!(add_working_days(friday, 1), at(2024, 6, 10, 23, 59));
    }

    #[test]
    fn adding_working_days_from_a_weekend_starts_counting_on_monday() {
        let saturday = at(2024, 6, 8, 10, 0);
        let sunday = at(2024, 6, 9, 10, 0);
        assert_eq!(add_working_days(saturday, 1), at(2024, 6, 10, 10, 0));
        assert_eq!(add_working_days(sunday, 1), at(2024, 6, 10, 10, 0));
        assert_eq!(add_working_days(sunday, 3), at(2024, 6, 12, 10, 0));
        assert_eq!(add_working_days(saturday, 5), at(2024, 6, 14, 10, 0));
        assert_eq!(add_working_days(saturday, 6), at(2024, 6, 17, 10, 0));
    }

    #[test]
    fn subtracting_working_days_lands_on_weekdays() {
        let monday = at(2024, 6, 10, 8, 0);
        assert_eq!(add_working_days(monday, -1), at(2024, 6, 7, 8, 0));
        assert_eq!(add_working_days(monday, -5), at(2024, 6, 3, 8, 0));
        let saturday = at(2024, 6, 8, 8, 0);
        assert_eq!(add_working_days(saturday, -1), at(2024, 6, 7, 8, 0));
        assert_eq!(add_working_days(saturday, -2), at(2024, 6, 6, 8, 0));
        let wednesday = at(2024, 6, 12, 8, 0);
        assert_eq!(add_working_days(wednesday, -3), at(2024, 6, 7, 8, 0));
    }

    #[test]
    fn adding_and_counting_working_days_agree_for_every_start_day_of_a_week() {
        for start_day in 0..14 {
            for hour in [0, 13, 23] {
                let start = at(2024, 6, 1 + start_day, hour, 45);
                for n in 0..30 {
                    let end = add_working_days(start, n);
                    assert_eq!(working_days_between(start, end), n, "{start_day} {n}");
                    assert_eq!(end.rem_euclid(DAY_MS), start.rem_euclid(DAY_MS));
                    let weekday = (end.div_euclid(DAY_MS) + 3).rem_euclid(7);
                    assert!(n == 0 || weekday < 5, "{start_day} {n} lands on a weekend");
                }
            }
        }
    }

    #[test]
    fn subtracting_from_a_weekday_undoes_adding() {
        for start_day in [3, 4, 5, 6, 7] {
            let start = at(2024, 6, start_day, 9, 0);
            for n in 0..30 {
                assert_eq!(add_working_days(add_working_days(start, n), -n), start);
                assert_eq!(working_days_between(start, add_working_days(start, -n)), -n);
            }
        }
    }
}
