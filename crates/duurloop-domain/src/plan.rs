//! The training plan: an easy heart-rate zone, a progression generated from the intake level,
//! and how the plan adapts week by week (SPEC §2 step 5, C6).
//!
//! The method's principles, which the types and rules below keep:
//! - Intensity is guided by the talk test, perceived exertion (Borg CR10) and an easy
//!   heart-rate zone, **never by pace or distance targets**: no running week has a pace or a
//!   distance field. (Walking groups record distance in their log, not in the plan.)
//! - A generated plan builds up from walk–run intervals to 30 minutes of easy continuous
//!   running, three sessions a week (the group sessions count as runs); after the programme
//!   the participant grows on their own toward 30–60 minutes.
//! - Running time per session never rises by more than [`max_increase`] from one week to the
//!   next, a generated session never lasts longer than [`MAX_SESSION_MINUTES`], and a generated
//!   plan never asks for more than [`SESSIONS_PER_WEEK`] sessions.
//! - A week is repeated when runs are missed, exertion was too high or pain is reported
//!   ([`adapt`], [`apply`]); the therapist can edit any week within wider bounds
//!   ([`edit_week`]).
//!
//! Session minutes are the core of a session; the warm-up and cool-down walk come on top.

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// Sessions a week in every generated plan: the group sessions count as runs.
pub const SESSIONS_PER_WEEK: u16 = 3;
/// The shortest and longest plan [`generate`] makes; other lengths are clamped to these.
pub const MIN_WEEKS: u16 = 6;
pub const MAX_WEEKS: u16 = 26;
/// The usual programme length (SPEC §2 step 5: "about 12 weeks").
pub const DEFAULT_WEEKS: u16 = 12;
/// Minutes of easy continuous running a running plan ends with.
pub const GOAL_MINUTES: u16 = 30;
/// No generated session lasts longer than this (running plus walking).
pub const MAX_SESSION_MINUTES: u16 = 45;
/// Walking plans build up from this many minutes a session…
pub const WALK_START_MINUTES: u16 = 20;
/// …to this many in the final week.
pub const WALK_END_MINUTES: u16 = 45;
/// The highest Borg CR10 rating that still counts as easy: 2 "weak/light" to 4 "somewhat
/// strong" is easy running; 5 "strong/hard" or more repeats the week.
pub const MAX_EASY_EXERTION: u8 = 4;

/// Age-predicted maximal heart rate after Tanaka et al. (2001): 208 − 0.7 × age, rounded
/// (halves up).
pub fn hr_max(age: u8) -> u16 {
    // In tenths of a beat, so the rounding is exact: 7 × 255 < 2080, so no underflow.
    (2080 - 7 * u16::from(age) + 5) / 10
}

/// A heart-rate range in beats per minute, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HrZone {
    pub low: u16,
    pub high: u16,
}

/// The easy ("aerobic") zone by the Karvonen method: resting heart rate plus 60 % to 75 % of the
/// heart-rate reserve (HRmax − resting), each end rounded. This is the range in which a
/// participant can still talk while running. A resting rate at or above HRmax (not a real
/// measurement) gives an empty reserve, so the zone collapses to the resting rate.
pub fn easy_zone(resting_hr: u16, age: u8) -> HrZone {
    let reserve = u32::from(hr_max(age).saturating_sub(resting_hr));
    let share = |percent: u32| {
        let beats = (reserve * percent + 50) / 100;
        resting_hr.saturating_add(u16::try_from(beats).unwrap_or(u16::MAX))
    };
    HrZone {
        low: share(60),
        high: share(75),
    }
}

/// Where a participant starts, from the intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartLevel {
    /// Hardly active: starts with 1 minute running, 2 minutes walking, 8 times.
    Inactive,
    /// Walks or moves regularly: starts with 2 minutes running, 2 walking, 7 times.
    Walker,
    /// Runs now and then: starts with 4 minutes running, 1 walking, 5 times.
    Occasional,
    /// Can already run a while: starts with 15 minutes of continuous easy running.
    Runner,
}

impl StartLevel {
    pub const ALL: [StartLevel; 4] = [
        StartLevel::Inactive,
        StartLevel::Walker,
        StartLevel::Occasional,
        StartLevel::Runner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StartLevel::Inactive => "inactive",
            StartLevel::Walker => "walker",
            StartLevel::Occasional => "occasional",
            StartLevel::Runner => "runner",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or(Invalid::new("invalid-start-level"))
    }
}

/// The start level from two intake answers: minutes of moderate activity a week and how many
/// minutes the participant can run without stopping.
/// - **Runner**: can run 15 minutes, the first session of the runner plan.
/// - **Occasional**: can run 4 minutes, the bouts of the first occasional session.
/// - **Walker**: can run 2 minutes, or is active at least 150 minutes a week (the Dutch
///   physical activity guideline, *Beweegrichtlijnen 2017*).
/// - **Inactive**: everyone else.
pub fn start_level(current_activity_minutes_per_week: u16, can_run_minutes: u16) -> StartLevel {
    match can_run_minutes {
        15.. => StartLevel::Runner,
        4.. => StartLevel::Occasional,
        2.. => StartLevel::Walker,
        _ if current_activity_minutes_per_week >= 150 => StartLevel::Walker,
        _ => StartLevel::Inactive,
    }
}

/// Run a while, walk a while, a number of times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub run_min: u16,
    pub walk_min: u16,
    pub repeats: u16,
}

/// What one session of a week asks for: time only, never pace or distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Session {
    Intervals(Interval),
    Continuous { minutes: u16 },
    Walk { minutes: u16 },
}

impl Session {
    /// The whole session, running and walking.
    pub fn total_minutes(&self) -> u16 {
        match *self {
            Session::Intervals(i) => i
                .run_min
                .saturating_add(i.walk_min)
                .saturating_mul(i.repeats),
            Session::Continuous { minutes } | Session::Walk { minutes } => minutes,
        }
    }

    /// The running part of the session (none for a walk).
    pub fn running_minutes(&self) -> u16 {
        match *self {
            Session::Intervals(i) => i.run_min.saturating_mul(i.repeats),
            Session::Continuous { minutes } => minutes,
            Session::Walk { .. } => 0,
        }
    }
}

/// One week of a plan: `sessions` times the same `session`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week {
    /// 1-based, consecutive within a plan.
    pub number: u16,
    /// Sessions this week (group sessions count).
    pub sessions: u16,
    pub session: Session,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub weeks: Vec<Week>,
}

impl Plan {
    /// The week with this number, if the plan has it.
    pub fn week(&self, number: u16) -> Option<&Week> {
        self.weeks.iter().find(|w| w.number == number)
    }

    fn numbered(sessions: impl IntoIterator<Item = (u16, Session)>) -> Plan {
        let weeks = sessions
            .into_iter()
            .enumerate()
            .map(|(i, (sessions, session))| Week {
                number: u16::try_from(i + 1).unwrap_or(u16::MAX),
                sessions,
                session,
            })
            .collect();
        Plan { weeks }
    }
}

/// The most the running minutes of a session may rise from one week to the next: 10 %, except
/// that the small early steps may rise by up to 3 minutes (3 is more than 10 % below 30
/// minutes). A repeated or easier week is always allowed.
pub fn max_increase(previous_running_minutes: u16) -> u16 {
    (previous_running_minutes / 10).max(3)
}

const fn intervals(run_min: u16, walk_min: u16, repeats: u16) -> Session {
    Session::Intervals(Interval {
        run_min,
        walk_min,
        repeats,
    })
}

/// The walk–run steps from the first inactive session to the goal; each step keeps to
/// [`max_increase`] (running minutes / total minutes in the comments).
const INTERVAL_LADDER: [Session; 11] = [
    intervals(1, 2, 8),  //  8 / 24  inactive starts here
    intervals(1, 1, 11), // 11 / 22
    intervals(2, 2, 7),  // 14 / 28  walker starts here
    intervals(2, 1, 8),  // 16 / 24
    intervals(3, 1, 6),  // 18 / 24
    intervals(4, 1, 5),  // 20 / 25  occasional starts here
    intervals(7, 1, 3),  // 21 / 24
    intervals(8, 1, 3),  // 24 / 27
    intervals(9, 1, 3),  // 27 / 30
    intervals(14, 1, 2), // 28 / 30
    Session::Continuous {
        minutes: GOAL_MINUTES,
    },
];

/// The continuous steps for those who can already run 15 minutes.
const RUNNER_LADDER: [Session; 6] = [
    Session::Continuous { minutes: 15 },
    Session::Continuous { minutes: 18 },
    Session::Continuous { minutes: 21 },
    Session::Continuous { minutes: 24 },
    Session::Continuous { minutes: 27 },
    Session::Continuous {
        minutes: GOAL_MINUTES,
    },
];

/// The steps a level climbs, from its first session to the goal.
fn ladder(level: StartLevel) -> &'static [Session] {
    match level {
        StartLevel::Inactive => &INTERVAL_LADDER,
        StartLevel::Walker => &INTERVAL_LADDER[2..],
        StartLevel::Occasional => &INTERVAL_LADDER[5..],
        StartLevel::Runner => &RUNNER_LADDER,
    }
}

/// The fewest weeks in which a level reaches the goal within the limits (one step a week):
/// inactive 11, walker 9, occasional 6, runner 6.
pub fn min_weeks(level: StartLevel) -> u16 {
    u16::try_from(ladder(level).len()).unwrap_or(u16::MAX)
}

/// A running plan of `weeks` weeks (clamped to [`MIN_WEEKS`]..=[`MAX_WEEKS`]) from the level's
/// first session to 30 minutes of easy continuous running, [`SESSIONS_PER_WEEK`] sessions a
/// week. With more weeks than steps, the steps are spread evenly and the spare weeks repeat the
/// step just reached, so the final week(s) are the goal. With fewer weeks than the level needs
/// ([`min_weeks`]), the plan climbs one step a week and ends short of the goal rather than break
/// the limits; the therapist can extend it.
pub fn generate(level: StartLevel, weeks: u16) -> Plan {
    let weeks = usize::from(weeks.clamp(MIN_WEEKS, MAX_WEEKS));
    let ladder = ladder(level);
    let steps = ladder.len() - 1;
    let step_of_week = |i: usize| {
        if steps > weeks - 1 {
            i
        } else {
            // Rounded up, so each step is taken early and held until the next one.
            (i * steps).div_ceil(weeks - 1)
        }
    };
    Plan::numbered((0..weeks).map(|i| (SESSIONS_PER_WEEK, ladder[step_of_week(i)])))
}

/// A walking-group plan of `weeks` weeks (clamped like [`generate`]): walks from
/// [`WALK_START_MINUTES`] to [`WALK_END_MINUTES`] in even steps, rounded to whole minutes,
/// [`SESSIONS_PER_WEEK`] a week.
pub fn generate_walking(weeks: u16) -> Plan {
    let weeks = weeks.clamp(MIN_WEEKS, MAX_WEEKS);
    let span = WALK_END_MINUTES - WALK_START_MINUTES;
    let last = weeks - 1;
    Plan::numbered((0..weeks).map(|i| {
        let minutes = WALK_START_MINUTES + (2 * i * span + last) / (2 * last);
        (SESSIONS_PER_WEEK, Session::Walk { minutes })
    }))
}

/// What happened in a week, as logged by the participant and the therapist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekReport {
    pub planned_sessions: u16,
    pub done_sessions: u16,
    /// The highest perceived exertion reported, Borg CR10 0..=10.
    pub max_exertion: Option<u8>,
    pub pain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepeatReason {
    MissedRuns,
    ExertionTooHigh,
    Pain,
}

impl RepeatReason {
    pub const ALL: [RepeatReason; 3] = [
        RepeatReason::MissedRuns,
        RepeatReason::ExertionTooHigh,
        RepeatReason::Pain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RepeatReason::MissedRuns => "missed_runs",
            RepeatReason::ExertionTooHigh => "exertion_too_high",
            RepeatReason::Pain => "pain",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(Invalid::new("invalid-repeat-reason"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adaptation {
    Advance,
    Repeat(RepeatReason),
}

/// Whether the next week moves on or repeats this one. In order of precedence:
/// 1. pain reported: repeat (the therapist looks at it too);
/// 2. exertion above [`MAX_EASY_EXERTION`] (CR10 5 "hard" or more): repeat;
/// 3. more than one planned run missed (fewer than two of three done), or none done at all:
///    repeat;
/// 4. otherwise advance.
pub fn adapt(report: &WeekReport) -> Adaptation {
    let missed = report.planned_sessions.saturating_sub(report.done_sessions);
    let none_done = report.planned_sessions > 0 && report.done_sessions == 0;
    if report.pain {
        Adaptation::Repeat(RepeatReason::Pain)
    } else if report.max_exertion.is_some_and(|e| e > MAX_EASY_EXERTION) {
        Adaptation::Repeat(RepeatReason::ExertionTooHigh)
    } else if missed > 1 || none_done {
        Adaptation::Repeat(RepeatReason::MissedRuns)
    } else {
        Adaptation::Advance
    }
}

/// Applies an adaptation to week `current_week` of a plan and returns the plan and the week
/// the participant goes on with (always `current_week + 1`). A repeat inserts a copy of the
/// current week after it, so the later weeks shift one week and the plan grows by one;
/// advancing leaves the plan as it is (after the last week the number is one past the end:
/// the plan is done). A week number the plan does not have changes nothing.
pub fn apply(plan: &Plan, current_week: u16, adaptation: Adaptation) -> (Plan, u16) {
    let Some(index) = usize::from(current_week)
        .checked_sub(1)
        .filter(|i| *i < plan.weeks.len())
    else {
        return (plan.clone(), current_week);
    };
    let mut sessions: Vec<(u16, Session)> =
        plan.weeks.iter().map(|w| (w.sessions, w.session)).collect();
    if let Adaptation::Repeat(_) = adaptation {
        sessions.insert(index + 1, sessions[index]);
    }
    (Plan::numbered(sessions), current_week.saturating_add(1))
}

/// Replaces week `number` with the therapist's own session. The therapist may go beyond a
/// generated plan, within the method's outer limits: 1 to 4 sessions a week, 5 to 90 minutes
/// a session, and intervals with a run, a walk and a repeat count of at least one each.
pub fn edit_week(
    plan: &Plan,
    number: u16,
    session: Session,
    sessions: u16,
) -> Result<Plan, Invalid> {
    let invalid = Invalid::new("invalid-plan-week");
    let intervals_ok = match session {
        Session::Intervals(i) => i.run_min > 0 && i.walk_min > 0 && i.repeats > 0,
        Session::Continuous { .. } | Session::Walk { .. } => true,
    };
    if !(1..=4).contains(&sessions) || !(5..=90).contains(&session.total_minutes()) || !intervals_ok
    {
        return Err(invalid);
    }
    let mut edited = plan.clone();
    let week = edited
        .weeks
        .iter_mut()
        .find(|w| w.number == number)
        .ok_or(invalid)?;
    week.session = session;
    week.sessions = sessions;
    Ok(edited)
}

/// A perceived-exertion rating on the Borg CR10 scale, a whole number from 0 to 10.
pub fn parse_exertion(raw: &str) -> Result<u8, Invalid> {
    raw.trim()
        .parse::<u8>()
        .ok()
        .filter(|e| *e <= 10)
        .ok_or(Invalid::new("invalid-exertion"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(planned: u16, done: u16, exertion: Option<u8>, pain: bool) -> WeekReport {
        WeekReport {
            planned_sessions: planned,
            done_sessions: done,
            max_exertion: exertion,
            pain,
        }
    }

    fn goal() -> Session {
        Session::Continuous { minutes: 30 }
    }

    fn iv(run_min: u16, walk_min: u16, repeats: u16) -> Session {
        intervals(run_min, walk_min, repeats)
    }

    /// Every week-to-week rise in running minutes keeps to the limit.
    fn assert_within_limits(plan: &Plan, what: &str) {
        for pair in plan.weeks.windows(2) {
            let (before, after) = (
                pair[0].session.running_minutes(),
                pair[1].session.running_minutes(),
            );
            assert!(
                after <= before + max_increase(before),
                "{what}: week {} {before} → week {} {after}",
                pair[0].number,
                pair[1].number
            );
        }
        for week in &plan.weeks {
            assert!(
                week.session.total_minutes() <= MAX_SESSION_MINUTES,
                "{what}"
            );
            assert!(week.sessions <= SESSIONS_PER_WEEK, "{what}");
        }
    }

    fn assert_numbered(plan: &Plan) {
        let numbers: Vec<u16> = plan.weeks.iter().map(|w| w.number).collect();
        let expected: Vec<u16> = (1..).take(plan.weeks.len()).collect();
        assert_eq!(numbers, expected);
    }

    #[test]
    fn hr_max_follows_tanaka_rounded() {
        assert_eq!(hr_max(40), 180);
        assert_eq!(hr_max(20), 194);
        assert_eq!(hr_max(30), 187);
        // 208 − 31.5 = 176.5 rounds up.
        assert_eq!(hr_max(45), 177);
        // 208 − 44.1 = 163.9.
        assert_eq!(hr_max(63), 164);
        assert_eq!(hr_max(0), 208);
        assert_eq!(hr_max(255), 30);
    }

    #[test]
    fn easy_zone_is_sixty_to_seventy_five_percent_of_the_reserve() {
        // HRmax 180, reserve 120: 60 + 72 and 60 + 90.
        assert_eq!(
            easy_zone(60, 40),
            HrZone {
                low: 132,
                high: 150
            }
        );
        // HRmax 187, reserve 115: 72 + 69 = 141 and 72 + 86.25 = 158.
        assert_eq!(
            easy_zone(72, 30),
            HrZone {
                low: 141,
                high: 158
            }
        );
        // HRmax 177 (176.5), reserve 122: 55 + 73.2 = 128 and 55 + 91.5 = 147 (rounded up).
        assert_eq!(
            easy_zone(55, 45),
            HrZone {
                low: 128,
                high: 147
            }
        );
    }

    #[test]
    fn easy_zone_collapses_to_the_resting_rate_when_there_is_no_reserve() {
        assert_eq!(
            easy_zone(200, 40),
            HrZone {
                low: 200,
                high: 200
            }
        );
        assert_eq!(
            easy_zone(180, 40),
            HrZone {
                low: 180,
                high: 180
            }
        );
    }

    #[test]
    fn easy_zone_low_end_never_lies_above_the_high_end() {
        for age in 10..=90 {
            for resting in 35..=110 {
                let zone = easy_zone(resting, age);
                assert!(zone.low <= zone.high);
                assert!(zone.low >= resting && zone.high <= hr_max(age));
            }
        }
    }

    #[test]
    fn start_levels_round_trip_through_their_names() {
        for level in StartLevel::ALL {
            assert_eq!(StartLevel::parse(level.as_str()), Ok(level));
        }
        assert_eq!(
            StartLevel::parse("sprinter"),
            Err(Invalid::new("invalid-start-level"))
        );
        assert_eq!(
            StartLevel::parse("Runner"),
            Err(Invalid::new("invalid-start-level"))
        );
    }

    #[test]
    fn start_level_follows_the_documented_thresholds() {
        assert_eq!(start_level(0, 0), StartLevel::Inactive);
        assert_eq!(start_level(149, 1), StartLevel::Inactive);
        assert_eq!(start_level(150, 0), StartLevel::Walker);
        assert_eq!(start_level(0, 2), StartLevel::Walker);
        assert_eq!(start_level(0, 3), StartLevel::Walker);
        assert_eq!(start_level(0, 4), StartLevel::Occasional);
        assert_eq!(start_level(600, 14), StartLevel::Occasional);
        assert_eq!(start_level(0, 15), StartLevel::Runner);
        assert_eq!(start_level(300, 60), StartLevel::Runner);
    }

    #[test]
    fn sessions_count_running_and_total_minutes() {
        assert_eq!(iv(1, 2, 8).total_minutes(), 24);
        assert_eq!(iv(1, 2, 8).running_minutes(), 8);
        assert_eq!(goal().total_minutes(), 30);
        assert_eq!(goal().running_minutes(), 30);
        let walk = Session::Walk { minutes: 40 };
        assert_eq!(walk.total_minutes(), 40);
        assert_eq!(walk.running_minutes(), 0);
        assert_eq!(iv(u16::MAX, 1, 2).total_minutes(), u16::MAX);
    }

    #[test]
    fn each_level_starts_with_its_own_first_session() {
        let first = |level| generate(level, DEFAULT_WEEKS).weeks[0].session;
        assert_eq!(first(StartLevel::Inactive), iv(1, 2, 8));
        assert_eq!(first(StartLevel::Walker), iv(2, 2, 7));
        assert_eq!(first(StartLevel::Occasional), iv(4, 1, 5));
        assert_eq!(
            first(StartLevel::Runner),
            Session::Continuous { minutes: 15 }
        );
    }

    #[test]
    fn every_level_ends_the_twelve_week_plan_with_thirty_minutes_continuous_three_times() {
        for level in StartLevel::ALL {
            let plan = generate(level, DEFAULT_WEEKS);
            assert_eq!(plan.weeks.len(), 12, "{level:?}");
            let last = plan.weeks[11];
            assert_eq!(last.session, goal(), "{level:?}");
            assert_eq!(last.sessions, 3, "{level:?}");
            assert!(plan.weeks.iter().all(|w| w.sessions == 3), "{level:?}");
            assert_numbered(&plan);
        }
    }

    #[test]
    fn every_plan_long_enough_for_its_level_ends_at_the_goal() {
        for level in StartLevel::ALL {
            for weeks in min_weeks(level)..=MAX_WEEKS {
                let plan = generate(level, weeks);
                assert_eq!(plan.weeks.len(), usize::from(weeks));
                assert_eq!(plan.weeks.last().map(|w| w.session), Some(goal()));
            }
        }
    }

    #[test]
    fn the_goal_is_held_in_the_final_weeks_when_there_is_time() {
        let plan = generate(StartLevel::Runner, 12);
        let at_goal = plan.weeks.iter().filter(|w| w.session == goal()).count();
        assert!(at_goal >= 2, "{at_goal}");
        let plan = generate(StartLevel::Inactive, 26);
        assert!(plan.weeks[23..].iter().all(|w| w.session == goal()));
    }

    #[test]
    fn minimum_weeks_per_level_are_as_documented() {
        assert_eq!(min_weeks(StartLevel::Inactive), 11);
        assert_eq!(min_weeks(StartLevel::Walker), 9);
        assert_eq!(min_weeks(StartLevel::Occasional), 6);
        assert_eq!(min_weeks(StartLevel::Runner), 6);
        assert!(
            StartLevel::ALL
                .iter()
                .all(|l| min_weeks(*l) <= DEFAULT_WEEKS)
        );
    }

    #[test]
    fn running_time_never_rises_beyond_the_limit_for_any_level_and_length() {
        for level in StartLevel::ALL {
            for weeks in 0..=40 {
                let plan = generate(level, weeks);
                assert_within_limits(&plan, &format!("{level:?} {weeks} weeks"));
                assert_numbered(&plan);
            }
        }
    }

    #[test]
    fn running_time_never_falls_in_a_generated_plan() {
        for level in StartLevel::ALL {
            for weeks in MIN_WEEKS..=MAX_WEEKS {
                let plan = generate(level, weeks);
                for pair in plan.weeks.windows(2) {
                    assert!(
                        pair[1].session.running_minutes() >= pair[0].session.running_minutes(),
                        "{level:?} {weeks}"
                    );
                }
            }
        }
    }

    #[test]
    fn each_ladder_step_keeps_to_the_limits() {
        for ladder in [&INTERVAL_LADDER[..], &RUNNER_LADDER[..]] {
            let plan = Plan::numbered(ladder.iter().map(|s| (3, *s)));
            assert_within_limits(&plan, "ladder");
        }
    }

    #[test]
    fn a_plan_too_short_for_the_level_climbs_one_step_a_week_and_stops_short() {
        let plan = generate(StartLevel::Inactive, 6);
        assert_eq!(plan.weeks.len(), 6);
        let sessions: Vec<Session> = plan.weeks.iter().map(|w| w.session).collect();
        assert_eq!(sessions, INTERVAL_LADDER[..6]);
        assert_ne!(sessions[5], goal());
    }

    #[test]
    fn plan_length_is_clamped_to_six_through_twenty_six_weeks() {
        assert_eq!(generate(StartLevel::Runner, 0).weeks.len(), 6);
        assert_eq!(generate(StartLevel::Runner, 5).weeks.len(), 6);
        assert_eq!(generate(StartLevel::Runner, 27).weeks.len(), 26);
        assert_eq!(generate(StartLevel::Runner, u16::MAX).weeks.len(), 26);
        assert_eq!(generate_walking(1).weeks.len(), 6);
        assert_eq!(generate_walking(100).weeks.len(), 26);
    }

    #[test]
    fn running_max_increase_is_three_minutes_early_and_ten_percent_later() {
        assert_eq!(max_increase(0), 3);
        assert_eq!(max_increase(8), 3);
        assert_eq!(max_increase(29), 3);
        assert_eq!(max_increase(30), 3);
        assert_eq!(max_increase(40), 4);
        assert_eq!(max_increase(59), 5);
        assert_eq!(max_increase(60), 6);
    }

    #[test]
    fn walking_plans_go_from_twenty_to_forty_five_minutes_evenly() {
        let plan = generate_walking(6);
        let minutes: Vec<u16> = plan
            .weeks
            .iter()
            .map(|w| w.session.total_minutes())
            .collect();
        assert_eq!(minutes, [20, 25, 30, 35, 40, 45]);
        for weeks in 0..=30 {
            let plan = generate_walking(weeks);
            assert_numbered(&plan);
            let first = plan.weeks[0];
            let last = plan.weeks[plan.weeks.len() - 1];
            assert_eq!(first.session, Session::Walk { minutes: 20 });
            assert_eq!(last.session, Session::Walk { minutes: 45 });
            for pair in plan.weeks.windows(2) {
                let (a, b) = (
                    pair[0].session.total_minutes(),
                    pair[1].session.total_minutes(),
                );
                assert!(a <= b && b - a <= 5, "{weeks}: {a} → {b}");
            }
            for week in &plan.weeks {
                assert_eq!(week.session.running_minutes(), 0);
                assert_eq!(week.sessions, SESSIONS_PER_WEEK);
                assert!(week.session.total_minutes() <= MAX_SESSION_MINUTES);
            }
        }
    }

    #[test]
    fn a_week_with_all_runs_done_easily_advances() {
        assert_eq!(adapt(&report(3, 3, Some(3), false)), Adaptation::Advance);
        assert_eq!(adapt(&report(3, 3, None, false)), Adaptation::Advance);
        assert_eq!(adapt(&report(3, 4, Some(2), false)), Adaptation::Advance);
    }

    #[test]
    fn one_missed_run_of_three_still_advances_but_two_repeat_the_week() {
        assert_eq!(adapt(&report(3, 2, Some(3), false)), Adaptation::Advance);
        let missed = Adaptation::Repeat(RepeatReason::MissedRuns);
        assert_eq!(adapt(&report(3, 1, Some(3), false)), missed);
        assert_eq!(adapt(&report(3, 0, None, false)), missed);
    }

    #[test]
    fn a_week_with_no_run_at_all_repeats_even_when_only_one_was_planned() {
        let missed = Adaptation::Repeat(RepeatReason::MissedRuns);
        assert_eq!(adapt(&report(1, 0, None, false)), missed);
        assert_eq!(adapt(&report(2, 0, None, false)), missed);
        assert_eq!(adapt(&report(2, 1, None, false)), Adaptation::Advance);
        assert_eq!(adapt(&report(0, 0, None, false)), Adaptation::Advance);
    }

    #[test]
    fn exertion_of_hard_or_more_repeats_the_week_and_easy_exertion_does_not() {
        for easy in 0..=4 {
            assert_eq!(adapt(&report(3, 3, Some(easy), false)), Adaptation::Advance);
        }
        for hard in 5..=10 {
            assert_eq!(
                adapt(&report(3, 3, Some(hard), false)),
                Adaptation::Repeat(RepeatReason::ExertionTooHigh)
            );
        }
    }

    #[test]
    fn pain_repeats_the_week_however_well_it_went() {
        assert_eq!(
            adapt(&report(3, 3, Some(2), true)),
            Adaptation::Repeat(RepeatReason::Pain)
        );
    }

    #[test]
    fn pain_comes_before_exertion_which_comes_before_missed_runs() {
        assert_eq!(
            adapt(&report(3, 0, Some(9), true)),
            Adaptation::Repeat(RepeatReason::Pain)
        );
        assert_eq!(
            adapt(&report(3, 1, Some(7), true)),
            Adaptation::Repeat(RepeatReason::Pain)
        );
        assert_eq!(
            adapt(&report(3, 1, Some(7), false)),
            Adaptation::Repeat(RepeatReason::ExertionTooHigh)
        );
        assert_eq!(
            adapt(&report(3, 1, Some(4), false)),
            Adaptation::Repeat(RepeatReason::MissedRuns)
        );
    }

    #[test]
    fn repeat_reasons_round_trip_through_their_names() {
        for reason in RepeatReason::ALL {
            assert_eq!(RepeatReason::parse(reason.as_str()), Ok(reason));
        }
        let names: Vec<_> = RepeatReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["missed_runs", "exertion_too_high", "pain"]);
        assert_eq!(
            RepeatReason::parse("tired"),
            Err(Invalid::new("invalid-repeat-reason"))
        );
    }

    #[test]
    fn a_repeat_inserts_a_copy_of_the_current_week_and_renumbers_the_rest() {
        let plan = generate(StartLevel::Inactive, 12);
        let (repeated, next) = apply(&plan, 3, Adaptation::Repeat(RepeatReason::Pain));
        assert_eq!(next, 4);
        assert_eq!(repeated.weeks.len(), 13);
        assert_numbered(&repeated);
        assert_eq!(repeated.weeks[..3], plan.weeks[..3]);
        assert_eq!(repeated.weeks[3].session, plan.weeks[2].session);
        assert_eq!(repeated.weeks[3].sessions, plan.weeks[2].sessions);
        for (after, before) in repeated.weeks[4..].iter().zip(&plan.weeks[3..]) {
            assert_eq!(after.session, before.session);
            assert_eq!(after.number, before.number + 1);
        }
    }

    #[test]
    fn advancing_keeps_the_plan_and_moves_to_the_next_week() {
        let plan = generate(StartLevel::Walker, 12);
        assert_eq!(apply(&plan, 1, Adaptation::Advance), (plan.clone(), 2));
        assert_eq!(apply(&plan, 12, Adaptation::Advance), (plan.clone(), 13));
    }

    #[test]
    fn repeating_the_last_week_adds_a_week_at_the_end() {
        let plan = generate(StartLevel::Runner, 6);
        let (repeated, next) = apply(&plan, 6, Adaptation::Repeat(RepeatReason::MissedRuns));
        assert_eq!(next, 7);
        assert_eq!(repeated.weeks.len(), 7);
        assert_eq!(repeated.weeks[6].number, 7);
        assert_eq!(repeated.weeks[6].session, goal());
    }

    #[test]
    fn applying_to_a_week_the_plan_does_not_have_changes_nothing() {
        let plan = generate(StartLevel::Walker, 12);
        let repeat = Adaptation::Repeat(RepeatReason::Pain);
        assert_eq!(apply(&plan, 0, repeat), (plan.clone(), 0));
        assert_eq!(apply(&plan, 13, repeat), (plan.clone(), 13));
        assert_eq!(apply(&Plan::default(), 1, repeat), (Plan::default(), 1));
    }

    #[test]
    fn any_run_of_repeats_and_advances_keeps_the_plan_within_the_limits() {
        for level in StartLevel::ALL {
            let mut plan = generate(level, DEFAULT_WEEKS);
            let mut week = 1;
            let mut turn = 0u32;
            while usize::from(week) <= plan.weeks.len() {
                let adaptation = if turn % 3 == 1 {
                    Adaptation::Repeat(RepeatReason::ExertionTooHigh)
                } else {
                    Adaptation::Advance
                };
                (plan, week) = apply(&plan, week, adaptation);
                turn += 1;
            }
            assert_within_limits(&plan, level.as_str());
            assert_numbered(&plan);
            assert!(plan.weeks.len() > usize::from(DEFAULT_WEEKS));
            assert_eq!(plan.weeks.last().map(|w| w.session), Some(goal()));
        }
    }

    #[test]
    fn the_therapist_can_edit_any_week_within_the_outer_limits() {
        let plan = generate(StartLevel::Inactive, 12);
        let edited = edit_week(&plan, 5, iv(3, 2, 4), 2).expect("valid");
        assert_eq!(edited.weeks[4].session, iv(3, 2, 4));
        assert_eq!(edited.weeks[4].sessions, 2);
        assert_eq!(edited.weeks[4].number, 5);
        assert_eq!(edited.weeks[..4], plan.weeks[..4]);
        assert_eq!(edited.weeks[5..], plan.weeks[5..]);

        let long = edit_week(&plan, 12, Session::Continuous { minutes: 60 }, 4).expect("valid");
        assert_eq!(long.weeks[11].session.total_minutes(), 60);
        assert!(edit_week(&plan, 1, Session::Walk { minutes: 5 }, 1).is_ok());
        assert!(edit_week(&plan, 1, Session::Continuous { minutes: 90 }, 1).is_ok());
    }

    #[test]
    fn edits_outside_the_outer_limits_are_refused() {
        let plan = generate(StartLevel::Walker, 12);
        let refused = Err(Invalid::new("invalid-plan-week"));
        let continuous = |minutes| Session::Continuous { minutes };
        assert_eq!(edit_week(&plan, 1, goal(), 0), refused);
        assert_eq!(edit_week(&plan, 1, goal(), 5), refused);
        assert_eq!(edit_week(&plan, 1, continuous(4), 3), refused);
        assert_eq!(edit_week(&plan, 1, continuous(0), 3), refused);
        assert_eq!(edit_week(&plan, 1, continuous(91), 3), refused);
        assert_eq!(
            edit_week(&plan, 1, Session::Walk { minutes: 120 }, 3),
            refused
        );
        assert_eq!(edit_week(&plan, 1, iv(0, 5, 3), 3), refused);
        assert_eq!(edit_week(&plan, 1, iv(5, 0, 3), 3), refused);
        assert_eq!(edit_week(&plan, 1, iv(5, 1, 0), 3), refused);
        assert_eq!(edit_week(&plan, 1, iv(10, 10, 5), 3), refused);
        assert_eq!(edit_week(&plan, 1, iv(u16::MAX, 1, 2), 3), refused);
    }

    #[test]
    fn editing_a_week_the_plan_does_not_have_is_refused() {
        let plan = generate(StartLevel::Walker, 12);
        let refused = Err(Invalid::new("invalid-plan-week"));
        assert_eq!(edit_week(&plan, 0, goal(), 3), refused);
        assert_eq!(edit_week(&plan, 13, goal(), 3), refused);
    }

    #[test]
    fn exertion_is_a_whole_number_from_zero_to_ten() {
        assert_eq!(parse_exertion("0"), Ok(0));
        assert_eq!(parse_exertion(" 4 "), Ok(4));
        assert_eq!(parse_exertion("10"), Ok(10));
        for bad in ["11", "-1", "", "3.5", "hard", "256", "1 0"] {
            assert_eq!(
                parse_exertion(bad),
                Err(Invalid::new("invalid-exertion")),
                "{bad:?}"
            );
        }
    }
}
