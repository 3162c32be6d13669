//! Impact reports (SPEC C10): the funnel referred → intake → started → completed →
//! follow-up, time to start, dropout with reasons, attendance and outcome change per
//! instrument, grouped by practice, therapist, offering, region, indication, referrer or month.
//!
//! A **region** is the place (woonplaats) of the location where the referral's offering is
//! given, named from the location's 4-digit postcode area by the embedded GeoNames table
//! (`geo::pc4`), not from the place typed with the location: one spelling per area
//! (`'s-Gravenhage`, never also `Den Haag`), so a region's rows never split on how someone
//! wrote it. It is where the care happens, which is what a municipality or insurer buying
//! care for an area asks about; the participant's own postcode is not used (a personal
//! detail, and reports stay aggregates of care given). GeoNames names places, not
//! municipalities: Colmschate shows apart from Deventer. A referral without an offering (sent
//! to a region's coordinators and not placed yet) counts under `—`, which pages, exports and
//! the API show as "onbekend"/"unknown" ([`name_unknown`]). The store groups by the PC4 in
//! SQL and the areas of one place are merged here: counts add, the days to start are joined
//! lists (the median stays exact), outcome pairs go into the one accumulator.
//!
//! Who sees what:
//! - a coordinator sees the referrals of their organisation (its offerings, referrals sent to
//!   it as a region, and referrals its members made), with dropout reasons;
//! - a funder sees what it funds, aggregated only: the referrals whose trajectory has a
//!   contract of a payer standing for the funder's organisation among its funding sources
//!   (the link that addresses invoices to it), whatever funding route the referrer declared.
//!   Every cell with fewer than [`report::MIN_CELL`] people is suppressed and reasons (free
//!   text) are never shown. A funder of whom no contract is recorded anywhere gets the empty
//!   report with `contracts: 0` (the page says why), not a refusal: it may read its own
//!   organisation's report, there is just nothing in it yet.
//!
//! Nothing here returns a participant-level record.

use std::collections::BTreeMap;

use duurloop_domain::{
    Role, measure,
    report::{self, Cell, OutcomeAcc, OutcomeCells, OutcomeStats},
};
use serde::{Deserialize, Serialize};

use super::{
    Actor, AppError, AppResult,
    audit::{Event, record},
};
use crate::{
    state::AppState,
    store::{self, reports::GroupKey},
};

/// How a report is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Practice,
    Therapist,
    Offering,
    /// The place of the offering's location, see the module doc.
    Region,
    Indication,
    Referrer,
    Month,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Practice,
        Dimension::Therapist,
        Dimension::Offering,
        Dimension::Region,
        Dimension::Indication,
        Dimension::Referrer,
        Dimension::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Practice => "practice",
            Dimension::Therapist => "therapist",
            Dimension::Offering => "offering",
            Dimension::Region => "region",
            Dimension::Indication => "indication",
            Dimension::Referrer => "referrer",
            Dimension::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// What the reader asks for; empty fields take the defaults (the last twelve months, by
/// practice).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The organisation whose report this is (a coordinated or funding organisation).
    #[serde(default)]
    pub org: String,
    /// practice, therapist, offering, region, indication, referrer or month
    #[serde(default)]
    pub by: String,
    /// First day, `jjjj-mm-dd` (default: a year before `to`).
    #[serde(default)]
    pub from: String,
    /// Last day, included (default: today).
    #[serde(default)]
    pub to: String,
}

/// One row of the report: a group, or the total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub label: String,
    #[schema(value_type = Option<u64>)]
    pub referred: Cell<u64>,
    #[schema(value_type = Option<u64>)]
    pub intake: Cell<u64>,
    #[schema(value_type = Option<u64>)]
    pub started: Cell<u64>,
    #[schema(value_type = Option<u64>)]
    pub completed: Cell<u64>,
    #[schema(value_type = Option<u64>)]
    pub follow_up: Cell<u64>,
    #[schema(value_type = Option<u64>)]
    pub dropped_out: Cell<u64>,
    /// Median days from referral to the first session.
    #[schema(value_type = Option<f64>)]
    pub median_days_to_start: Cell<Option<f64>>,
    /// Sessions attended of sessions recorded.
    #[schema(value_type = Option<f64>)]
    pub attendance_rate: Cell<Option<f64>>,
    /// Per instrument: first score against the latest.
    pub outcomes: Vec<OutcomeCell>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeCell {
    pub instrument: String,
    /// n, mean before and after, mean change, effect size (pre-post d), reliably improved,
    /// recovered, deteriorated, share reliably improved; a suppressed value is `null`.
    #[schema(value_type = Object)]
    pub stats: OutcomeCells,
}

/// Every statistic shown (for coordinators, who see their own participants anyway).
fn all_shown(s: &OutcomeStats) -> OutcomeCells {
    OutcomeCells {
        n: Cell::Shown(s.n),
        mean_pre: Cell::Shown(s.mean_pre),
        mean_post: Cell::Shown(s.mean_post),
        mean_change: Cell::Shown(s.mean_change),
        effect_size: s.effect_size.map(Cell::Shown),
        reliably_improved: s.reliably_improved.map(Cell::Shown),
        recovered: s.recovered.map(Cell::Shown),
        deteriorated: s.deteriorated.map(Cell::Shown),
        share_reliably_improved: s.share_reliably_improved.map(Cell::Shown),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Impact {
    pub org_name: String,
    /// true when small cells are suppressed (funders).
    pub suppressed: bool,
    pub by: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<Row>,
    pub total: Row,
    /// Dropout reasons with how often they were given (coordinators only).
    pub dropout_reasons: Vec<(String, u64)>,
    /// For a funder: how many contracts of its payers the care providers have recorded. With
    /// none, nothing is funded by it and the report is empty. `null` for a coordinator.
    pub contracts: Option<u64>,
}

#[derive(Default)]
struct Group {
    referred: u64,
    intake: u64,
    started: u64,
    completed: u64,
    follow_up: u64,
    dropped_out: u64,
    days_to_start: Vec<f64>,
    attended: i64,
    recorded: i64,
    outcomes: BTreeMap<String, OutcomeAcc>,
}

const STARTED: [&str; 4] = ["started", "completed", "dropped_out", "follow_up_done"];

impl Group {
    /// Adds the referrals of one funnel row (one status) to the group.
    fn add(&mut self, f: &store::reports::FunnelRow) {
        let n = f.referrals;
        self.referred += n;
        let status = f.status.as_str();
        let decided = matches!(status, "accepted" | "waitlisted" | "not_suitable");
        if f.intake_recorded || decided || STARTED.contains(&status) {
            self.intake += n;
        }
        if STARTED.contains(&status) {
            self.started += n;
        }
        if matches!(status, "completed" | "follow_up_done") {
            self.completed += n;
        }
        if status == "follow_up_done" {
            self.follow_up += n;
        }
        if status == "dropped_out" {
            self.dropped_out += n;
        }
        self.days_to_start
            .extend((f.started_after_ms.iter()).map(|ms| (*ms as f64 / 86_400_000.0).max(0.0)));
        self.attended += f.attended;
        self.recorded += f.recorded;
    }

    /// Adds `people` with the same first and latest score on `instrument`.
    fn add_pairs(&mut self, instrument: &measure::Instrument, pair: &store::reports::PairRow) {
        let acc = self
            .outcomes
            .entry(instrument.code.clone())
            .or_insert_with(|| OutcomeAcc::new(instrument));
        for _ in 0..pair.people {
            acc.push(pair.first, pair.last);
        }
    }

    /// A funder sees no cell of fewer than [`report::MIN_CELL`] people: counts by their own
    /// size, the median and the rate by the number of people behind them.
    fn row(&mut self, label: String, suppress: bool) -> Row {
        let cell = |v: u64| {
            if suppress {
                report::suppress(v, v)
            } else {
                Cell::Shown(v)
            }
        };
        let started = self.started;
        let median = report::median(&mut self.days_to_start).map(|d| (d * 10.0).round() / 10.0);
        let rate = report::rate(self.attended.max(0) as u64, self.recorded.max(0) as u64);
        Row {
            label,
            referred: cell(self.referred),
            intake: cell(self.intake),
            started: cell(self.started),
            completed: cell(self.completed),
            follow_up: cell(self.follow_up),
            dropped_out: cell(self.dropped_out),
            median_days_to_start: if suppress {
                report::suppress(started, median)
            } else {
                Cell::Shown(median)
            },
            attendance_rate: if suppress {
                report::suppress(started, rate)
            } else {
                Cell::Shown(rate)
            },
            outcomes: self
                .outcomes
                .iter()
                .filter_map(|(code, acc)| {
                    let stats = acc.finish()?;
                    Some(OutcomeCell {
                        instrument: code.clone(),
                        stats: if suppress {
                            stats.cells()
                        } else {
                            all_shown(&stats)
                        },
                    })
                })
                .collect(),
        }
    }
}

/// The impact report of an organisation the reader coordinates or funds (audit-logged as a
/// search over participant data, though it returns aggregates only).
pub async fn impact(state: &AppState, actor: &Actor, q: &ReportQuery) -> AppResult<Impact> {
    let org_id = q.org.trim();
    let mut c = state.db.conn().await?;
    let org = store::orgs::by_id(&mut c, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let covered = match actor.identity.role_in(org_id) {
        Some(Role::Coordinator) => store::reports::Scope::Organisation(org_id),
        Some(Role::Funder) => store::reports::Scope::FundedBy(org_id),
        _ => return Err(AppError::Forbidden),
    };
    let suppress = matches!(covered, store::reports::Scope::FundedBy(_));
    let by = if q.by.is_empty() {
        Dimension::Practice
    } else {
        Dimension::parse(&q.by).ok_or(AppError::invalid("by", "invalid-dimension"))?
    };
    let now = state.now();
    let Period {
        from,
        to,
        from_ms,
        to_ms,
    } = if suppress {
        whole_months(period(&q.from, &q.to, now)?, now)?
    } else {
        period(&q.from, &q.to, now)?
    };
    let months = match by {
        Dimension::Month => months(&from, to_ms),
        _ => Vec::new(),
    };
    let key = group_key(by, &months);
    let contracts = if suppress {
        Some(
            store::reports::funder_contracts(&mut c, org_id)
                .await?
                .max(0) as u64,
        )
    } else {
        None
    };
    // One query after the other: two concurrent SQLite readers measured slower than this.
    let funnel = store::reports::funnel(&mut c, from_ms, to_ms, &covered, &key).await?;
    let pairs = store::reports::outcome_pairs(&mut c, from_ms, to_ms, &covered, &key).await?;
    let reasons = if suppress {
        Vec::new()
    } else {
        store::reports::dropout_reasons(&mut c, from_ms, to_ms, &covered).await?
    };
    let (groups, mut total) = tally(by, &funnel, &pairs);
    drop(c);
    let mut tx = state.db.begin().await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("search", "impact_report")
            .record(org_id)
            .org(org_id),
    )
    .await?;
    tx.commit().await?;
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(label, mut g)| g.row(label, suppress))
        .collect();
    let total = total.row(String::new(), suppress);
    if suppress {
        complement_counts(&mut rows, &total);
        complement_outcomes(&mut rows, &total);
    }
    Ok(Impact {
        org_name: org.name,
        suppressed: suppress,
        by: by.as_str().to_string(),
        from,
        to,
        rows,
        total,
        dropout_reasons: reasons_given(reasons),
        contracts,
    })
}

/// The days a report covers: `from` and `to` (`jjjj-mm-dd`, both included) as given, or by
/// default the year up to today, and the instants `[from_ms, to_ms)` they span.
pub struct Period {
    pub from: String,
    pub to: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Reads a report's period (field errors on `from` and `to`).
pub fn period(from: &str, to: &str, now: i64) -> AppResult<Period> {
    let to = if to.is_empty() {
        crate::clock::local_date(now)
    } else {
        to.to_string()
    };
    let to_ms = crate::clock::parse_local_date(&to)
        .ok_or(AppError::invalid("to", "invalid-date"))?
        + 86_400_000;
    let from = if from.is_empty() {
        jiff::civil::Date::strptime("%Y-%m-%d", &to)
            .ok()
            .and_then(|d| d.checked_sub(jiff::Span::new().years(1)).ok())
            .map(|d| d.to_string())
            .unwrap_or_default()
    } else {
        from.to_string()
    };
    let from_ms =
        crate::clock::parse_local_date(&from).ok_or(AppError::invalid("from", "invalid-date"))?;
    if from_ms >= to_ms {
        return Err(AppError::invalid("from", "invalid-period"));
    }
    Ok(Period {
        from,
        to,
        from_ms,
        to_ms,
    })
}

/// A funder's period in whole months: the first of `from`'s month to the last day of `to`'s.
/// With days, two reports a day apart would differ by the one person referred that day,
/// however well each hides its small cells.
fn whole_months(p: Period, now: i64) -> AppResult<Period> {
    let date = |s: &str| jiff::civil::Date::strptime("%Y-%m-%d", s).ok();
    let (Some(from), Some(to)) = (date(&p.from), date(&p.to)) else {
        return Ok(p);
    };
    period(
        &from.first_of_month().to_string(),
        &to.last_of_month().to_string(),
        now,
    )
}

/// Complementary suppression of every count column (`report::complement`): a funder cannot
/// take one hidden group as the total minus the shown ones.
fn complement_counts(rows: &mut [Row], total: &Row) {
    let columns: [fn(&mut Row) -> &mut Cell<u64>; 6] = [
        |r| &mut r.referred,
        |r| &mut r.intake,
        |r| &mut r.started,
        |r| &mut r.completed,
        |r| &mut r.follow_up,
        |r| &mut r.dropped_out,
    ];
    let mut totals = total.clone();
    for column in columns {
        let total = *column(&mut totals);
        let mut cells: Vec<&mut Cell<u64>> = rows.iter_mut().map(column).collect();
        report::complement(&mut cells, total);
    }
}

/// Complementary suppression of every instrument's outcome cells
/// (`report::complement_outcomes`): one hidden group's change is not the total's minus the
/// shown groups'.
fn complement_outcomes(rows: &mut [Row], total: &Row) {
    for t in &total.outcomes {
        let mut cells: Vec<&mut report::OutcomeCells> = rows
            .iter_mut()
            .filter_map(|r| r.outcomes.iter_mut().find(|o| o.instrument == t.instrument))
            .map(|o| &mut o.stats)
            .collect();
        report::complement_outcomes(&mut cells, &t.stats);
    }
}

/// How the store groups the referrals for a dimension (`months` for [`Dimension::Month`]).
fn group_key(by: Dimension, months: &[(i64, String)]) -> GroupKey<'_> {
    match by {
        Dimension::Practice => GroupKey::Practice,
        Dimension::Therapist => GroupKey::Therapist,
        Dimension::Offering => GroupKey::Offering,
        Dimension::Region => GroupKey::LocationPc4,
        Dimension::Indication => GroupKey::Indications,
        Dimension::Referrer => GroupKey::Referrer,
        Dimension::Month => GroupKey::Months(months),
    }
}

/// The label of a group without a value (no offering, no indication…); see [`name_unknown`].
pub const UNKNOWN: &str = "—";

/// The groups a row of the store counts in: its label ([`UNKNOWN`] for none), for
/// [`Dimension::Indication`] each indication in it, and for [`Dimension::Region`] the place
/// of its PC4 area (the area's digits when the table does not know it).
fn labels(by: Dimension, label: Option<&str>) -> Vec<String> {
    let unknown = || vec![UNKNOWN.to_string()];
    match (by, label) {
        (Dimension::Region, Some(pc4)) => match pc4.trim().parse::<u16>() {
            Ok(area) => {
                vec![crate::geo::pc4(area).map_or_else(|| area.to_string(), |p| p.2.to_string())]
            }
            Err(_) => unknown(),
        },
        (Dimension::Indication, l) => {
            let v: Vec<String> = (l.unwrap_or_default().split(','))
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if v.is_empty() { unknown() } else { v }
        }
        (_, Some(l)) => vec![l.to_string()],
        (_, None) => unknown(),
    }
}

/// The groups and the total: every funnel row counts in its groups and once in the total, and
/// so does every pair of first and latest score on a built-in instrument.
fn tally(
    by: Dimension,
    funnel: &[store::reports::FunnelRow],
    pairs: &[store::reports::PairRow],
) -> (BTreeMap<String, Group>, Group) {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut total = Group::default();
    for f in funnel {
        for l in labels(by, f.label.as_deref()) {
            groups.entry(l).or_default().add(f);
        }
        total.add(f);
    }
    for pair in pairs {
        let Some(instrument) = measure::builtin_ref(&pair.instrument) else {
            continue;
        };
        for l in labels(by, pair.label.as_deref()) {
            if let Some(g) = groups.get_mut(&l) {
                g.add_pairs(instrument, pair);
            }
        }
        total.add_pairs(instrument, pair);
    }
    (groups, total)
}

/// Names the group without a value (`—` in the report as computed) in the reader's words,
/// e.g. "onbekend": what pages, exports and the API show.
pub fn name_unknown(impact: &mut Impact, unknown: &str) {
    for row in &mut impact.rows {
        if row.label == UNKNOWN {
            row.label = unknown.to_string();
        }
    }
}

/// The reasons given for dropping out, trimmed and without empty ones, most often first.
fn reasons_given(reasons: Vec<(String, i64)>) -> Vec<(String, u64)> {
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for (reason, n) in reasons {
        let reason = reason.trim();
        if !reason.is_empty() {
            *merged.entry(reason.to_string()).or_default() += n.max(0) as u64;
        }
    }
    let mut v: Vec<(String, u64)> = merged.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// The months from the one `from` (a date) falls in to the one before `to_ms`: their first
/// instant in Europe/Amsterdam and their label (`jjjj-mm`, as [`crate::clock::local_month`]).
fn months(from: &str, to_ms: i64) -> Vec<(i64, String)> {
    let Ok(date) = from.parse::<jiff::civil::Date>() else {
        return Vec::new();
    };
    let mut month = date.first_of_month();
    let mut out = Vec::new();
    while let Some(start) = crate::clock::parse_local_date(&month.to_string()) {
        if start >= to_ms {
            break;
        }
        out.push((start, month.to_string().chars().take(7).collect()));
        match month.checked_add(jiff::Span::new().months(1)) {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    out
}

/// The therapist's start page: caseload, today's sessions, referrals waiting for a step,
/// and safety alerts.
pub struct TherapistDashboard {
    pub caseload: Vec<store::trajectories::TrajectoryRow>,
    pub today: Vec<store::groups::CalendarRow>,
    pub waiting: Vec<store::referrals::ReferralRow>,
    /// Conversations with messages from the participant this therapist has not read yet.
    pub unread_messages: Vec<store::messages::UnreadConversation>,
}

/// Referral statuses that wait for the therapist's next step.
const WAITING: [&str; 4] = ["sent", "received", "invited", "intake_planned"];

pub async fn therapist_dashboard(state: &AppState, actor: &Actor) -> AppResult<TherapistDashboard> {
    let now = state.now();
    let today = crate::clock::local_date(now);
    let mut tx = state.db.begin().await?;
    let me = actor.identity.user_id.as_str();
    let caseload = store::trajectories::caseload(&mut tx, me).await?;
    let today_sessions = store::groups::therapist_calendar(&mut tx, me)
        .await?
        .into_iter()
        .filter(|s| s.session_date == today && s.cancelled_at.is_none())
        .collect();
    let waiting: Vec<store::referrals::ReferralRow> = store::referrals::visible(
        &mut tx,
        &store::referrals::Visibility {
            user_id: me,
            shared_referrer_orgs: &[],
            coordinated_orgs: &[],
            all: false,
        },
    )
    .await?
    .into_iter()
    .filter(|r| r.therapist_user_id.as_deref() == Some(me) && WAITING.contains(&r.status.as_str()))
    .collect();
    let unread_messages = store::messages::unread_for_therapist(&mut tx, me).await?;
    record(&mut tx, now, actor, Event::new("search", "trajectory")).await?;
    super::audit::record_shown(
        &mut tx,
        now,
        actor,
        "trajectory",
        caseload
            .iter()
            .map(|t| (t.id.as_str(), Some(t.org_id.as_str()))),
    )
    .await?;
    // Only the names of conversations not already in the caseload (a finished trajectory
    // whose participant still writes).
    super::audit::record_shown(
        &mut tx,
        now,
        actor,
        "trajectory",
        unread_messages
            .iter()
            .filter(|u| !caseload.iter().any(|t| t.id == u.trajectory_id))
            .map(|u| (u.trajectory_id.as_str(), Some(u.org_id.as_str()))),
    )
    .await?;
    super::audit::record_shown(
        &mut tx,
        now,
        actor,
        "referral",
        waiting
            .iter()
            .map(|r| (r.id.as_str(), r.offering_org_id.as_deref())),
    )
    .await?;
    tx.commit().await?;
    Ok(TherapistDashboard {
        caseload,
        today: today_sessions,
        waiting,
        unread_messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_the_place_of_the_postcode_area_and_unknown_without_one() {
        let region = |pc4: Option<&str>| labels(Dimension::Region, pc4);
        assert_eq!(region(Some("7411")), ["Deventer"]);
        assert_eq!(region(Some("7412")), ["Deventer"], "two areas, one place");
        assert_eq!(region(Some("7429")), ["Colmschate"]);
        assert_eq!(region(Some("8232")), ["Lelystad"]);
        assert_eq!(region(Some("1000")), ["1000"], "an area without addresses");
        assert_eq!(region(Some("x")), [UNKNOWN]);
        assert_eq!(region(None), [UNKNOWN]);
        assert_eq!(Dimension::parse("region"), Some(Dimension::Region));
    }
}
