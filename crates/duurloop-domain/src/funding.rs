//! Reimbursement of running therapy (SPEC C9): which payer's contract pays for which recorded
//! event, at which tariff, and the money on an invoice.
//!
//! The rules:
//! - **Nothing about a payer is hard-coded.** A payer's kind is a
//!   [`FundingRoute`](crate::referral::FundingRoute); what it pays for is in its [`Contract`]s
//!   (tariffs per [`Service`] and [`Limits`]), and everything here is decided from that data.
//! - **Invoices follow what happened, never plans.** [`assign`] takes recorded events only:
//!   intakes that took place and sessions that were attended.
//! - **The first covering source wins.** A trajectory lists its sources in order ("insurer for
//!   16 weeks, then self-pay"); an event goes to the first one whose tariff, validity and limits
//!   cover it, or else is [`Unfunded`] with the reason.
//! - **One order for everyone.** Events are taken in (date, key) order across all trajectories,
//!   so a budget shared by many participants runs out at the same event whatever order the
//!   database returned them in.
//! - **Money is integer cents**, summed with overflow checks; amounts typed by people go through
//!   [`parse_cents`] and are shown with [`format_cents`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::attendance::{Date, days_from_civil};

/// A billable service: what a contract has a tariff for and what an invoice line is billed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Intake,
    GroupSession,
    IndividualSession,
    /// A fixed fee per trajectory, billed alongside whoever pays the sessions.
    ModuleFee,
    /// The trajectory's first group session, when the paying contract prices it separately
    /// (often at 0: a free trial).
    TrialSession,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Intake,
        Service::GroupSession,
        Service::IndividualSession,
        Service::ModuleFee,
        Service::TrialSession,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Intake => "intake",
            Service::GroupSession => "group_session",
            Service::IndividualSession => "individual_session",
            Service::ModuleFee => "module_fee",
            Service::TrialSession => "trial_session",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(Invalid::new("invalid-service"))
    }

    /// Whether it counts towards `max_sessions`: a trial, an intake and a fee do not.
    fn is_counted_session(self) -> bool {
        matches!(self, Service::GroupSession | Service::IndividualSession)
    }
}

/// The largest amount [`parse_cents`] accepts: 10 million euro, far above any tariff, so a
/// slip of the keyboard is caught rather than invoiced.
pub const MAX_CENTS: i64 = 1_000_000_000;

/// Parses a euro amount typed by a Dutch or English user into cents: "12", "12,5", "12,50",
/// "12.50", "€ 12,50", "1.234,56", "1,234.56", "1.234.567". With both separators the last one
/// is the decimal one; a separator that repeats groups thousands. A lone one is decimal, so
/// "1.234" and "12,505" are refused rather than guessed at a thousand times off. Negative, more
/// than two decimals, empty, anything else and more than [`MAX_CENTS`] give `invalid-amount`.
pub fn parse_cents(s: &str) -> Result<i64, Invalid> {
    parse_amount(s).ok_or(Invalid::new("invalid-amount"))
}

fn parse_amount(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_prefix('€').unwrap_or(s);
    let s = s.strip_suffix('€').unwrap_or(s).trim();
    // Anything but digits and separators is refused by `digits` on the parts.
    let (whole, decimals) = match s.rfind(['.', ',']) {
        None => (s, None),
        Some(at) => {
            let (before, after) = (&s[..at], &s[at + 1..]);
            let sep = &s[at..=at];
            let other = if sep == "." { ',' } else { '.' };
            let grouping = !before.contains(other) && before.contains(sep);
            if grouping {
                (s, None)
            } else {
                (before, Some(after))
            }
        }
    };
    let cents = match decimals {
        None => 0,
        Some(d) if d.len() == 1 => digits(d)? * 10,
        Some(d) if d.len() == 2 => digits(d)?,
        Some(_) => return None,
    };
    let cents = euros(whole)?.checked_mul(100)?.checked_add(cents)?;
    (cents <= MAX_CENTS).then_some(cents)
}

/// Whole euros, with one kind of thousands separator in proper groups of three (or none).
fn euros(whole: &str) -> Option<i64> {
    if whole.contains('.') && whole.contains(',') {
        return None;
    }
    let mut groups = whole.split(['.', ',']);
    let first = groups.next()?;
    let grouped = whole.len() > first.len();
    if first.is_empty() || (grouped && (first.len() > 3 || first.starts_with('0'))) {
        return None;
    }
    let mut value = digits(first)?;
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        value = value.checked_mul(1000)?.checked_add(digits(group)?)?;
    }
    Some(value)
}

fn digits(s: &str) -> Option<i64> {
    s.bytes().try_fold(0i64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(i64::from(b - b'0')))?
    })
}

/// An amount as a Dutch user reads it, "€ 1.234,56" and "-€ 12,50", or with `english` as
/// "€1,234.56" and "-€12.50". [`parse_cents`] reads both back.
pub fn format_cents(cents: i64, english: bool) -> String {
    let (group, decimal, space) = if english {
        (',', '.', "")
    } else {
        ('.', ',', " ")
    };
    let abs = cents.unsigned_abs();
    let euros = (abs / 100).to_string();
    let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
    for (i, ch) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push(group);
        }
        grouped.push(ch);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}€{space}{grouped}{decimal}{:02}", abs % 100)
}

/// The limits of a contract; `None` means no limit of that kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub valid_from: Date,
    /// Inclusive.
    pub valid_to: Option<Date>,
    /// Group and individual sessions (not a trial, not an intake) per trajectory.
    pub max_sessions: Option<u32>,
    /// An event is covered only before the trajectory's start + 7 × `max_weeks` days.
    pub max_weeks: Option<u32>,
    /// Over all trajectories together (a subsidy pot); an event that would take the use past
    /// it is not covered, one that reaches it exactly is.
    pub budget_cents: Option<i64>,
}

impl Limits {
    /// Whether `date` is in the validity and within `max_weeks` of the trajectory's `start`.
    fn covers_date(&self, date: Date, start: Date) -> bool {
        self.valid_from <= date
            && self.valid_to.is_none_or(|to| date <= to)
            && self
                .max_weeks
                .is_none_or(|weeks| days_from_civil(date) < weeks_end(start, weeks))
    }

    fn fits_budget(&self, used: i64, cents: i64) -> bool {
        (self.budget_cents).is_none_or(|b| used.checked_add(cents).is_some_and(|u| u <= b))
    }
}

/// The day number of the first day past `weeks` weeks from `start`.
fn weeks_end(start: Date, weeks: u32) -> i64 {
    days_from_civil(start) + 7 * i64::from(weeks)
}

/// A payer's contract: its tariffs in cents per service and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub limits: Limits,
    pub tariffs: Vec<(Service, i64)>,
}

impl Contract {
    /// The tariff for `service` (the first listed), `None` when the contract does not pay it.
    pub fn tariff(&self, service: Service) -> Option<i64> {
        self.tariffs
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, cents)| *cents)
    }
}

/// What kind of recorded event is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Intake,
    GroupSession,
    IndividualSession,
}

impl EventKind {
    pub const ALL: [EventKind; 3] = [
        EventKind::Intake,
        EventKind::GroupSession,
        EventKind::IndividualSession,
    ];

    pub fn as_str(self) -> &'static str {
        self.service().as_str()
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(Invalid::new("invalid-event-kind"))
    }

    /// The service it is billed as, leaving aside the trial.
    fn service(self) -> Service {
        match self {
            EventKind::Intake => Service::Intake,
            EventKind::GroupSession => Service::GroupSession,
            EventKind::IndividualSession => Service::IndividualSession,
        }
    }
}

/// A recorded, billable event. `key` is unique and stable, e.g. "intake:<referral id>" or
/// "session:<session id>:<trajectory id>", so an invoice line can be traced and never billed
/// twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub key: String,
    pub trajectory: String,
    pub date: Date,
    pub kind: EventKind,
}

/// A trajectory's funding sources in order (contract ids) and its start date; with `None` the
/// date of its first event counts as the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funding {
    pub trajectory: String,
    pub start: Option<Date>,
    pub sources: Vec<String>,
}

/// What one event, or a module fee, is billed as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub key: String,
    pub trajectory: String,
    pub date: Date,
    pub contract: String,
    pub service: Service,
    pub cents: i64,
}

/// An event without a payer and why: "no-source" (the trajectory has no funding), "no-tariff"
/// (none of its sources has a tariff for the service) or "limit" (some do, but each is outside
/// its validity, past `max_sessions` or `max_weeks`, or out of budget).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unfunded {
    pub key: String,
    pub trajectory: String,
    pub date: Date,
    pub reason: &'static str,
}

/// The use of one source by one trajectory after all events; sources not used yet are listed
/// too, with zeros, so a screen can show what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub trajectory: String,
    pub contract: String,
    /// Sessions counted towards `max_sessions`.
    pub sessions: u32,
    pub cents: i64,
    pub first: Option<Date>,
    pub last: Option<Date>,
}

/// The outcome of [`assign`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// By (date, key).
    pub lines: Vec<Line>,
    /// By (date, key).
    pub unfunded: Vec<Unfunded>,
    /// By trajectory, then in source order.
    pub usage: Vec<Usage>,
    /// Per contract with a budget, in the order given: the cents used.
    pub budget_used: Vec<(String, i64)>,
}

/// Running totals of one source for one trajectory.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    sessions: u32,
    cents: i64,
    first: Option<Date>,
    last: Option<Date>,
}

/// What [`assign`] has billed so far.
#[derive(Default)]
struct Ledger<'a> {
    lines: Vec<Line>,
    usage: HashMap<(&'a str, &'a str), Acc>,
    budget_used: HashMap<&'a str, i64>,
}

impl<'a> Ledger<'a> {
    fn acc(&self, trajectory: &'a str, contract: &'a str) -> Acc {
        self.usage
            .get(&(trajectory, contract))
            .copied()
            .unwrap_or_default()
    }

    fn budget_used(&self, contract: &str) -> i64 {
        self.budget_used.get(contract).copied().unwrap_or(0)
    }

    fn bill(&mut self, c: &'a Contract, t: &'a str, key: String, date: Date, service: Service) {
        let cents = c.tariff(service).unwrap_or(0);
        let acc = self.usage.entry((t, &c.id)).or_default();
        acc.sessions += u32::from(service.is_counted_session());
        acc.cents = acc.cents.saturating_add(cents);
        acc.first.get_or_insert(date);
        acc.last = Some(date);
        if c.limits.budget_cents.is_some() {
            let used = self.budget_used.entry(&c.id).or_default();
            *used = used.saturating_add(cents);
        }
        self.lines.push(Line {
            key,
            trajectory: t.to_owned(),
            date,
            contract: c.id.clone(),
            service,
            cents,
        });
    }
}

/// Per trajectory while assigning.
struct Progress<'a> {
    start: Date,
    had_session: bool,
    /// Module-fee contracts whose fee date has been decided.
    fees_decided: Vec<&'a str>,
}

/// The known contracts among a trajectory's sources, in order.
fn sources<'a>(
    f: &'a Funding,
    by_id: &HashMap<&str, &'a Contract>,
) -> impl Iterator<Item = &'a Contract> {
    f.sources
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
}

/// Assigns every event to the first source of its trajectory that covers it (see the module
/// rules), and bills each module fee once. Events are taken in (date, key) order across all
/// trajectories, so the input order does not matter. A contract id or trajectory listed twice
/// counts once, the first time.
///
/// The trajectory's first session, if it is a group session, is a trial at every source with a
/// `TrialSession` tariff. A source with a `ModuleFee` tariff bills it on the trajectory's first
/// session in its validity and weeks, after the session itself, if its budget allows then.
pub fn assign(contracts: &[Contract], fundings: &[Funding], events: &[Event]) -> Assignment {
    let mut by_id: HashMap<&str, &Contract> = HashMap::new();
    for c in contracts {
        by_id.entry(&c.id).or_insert(c);
    }
    let mut by_trajectory: HashMap<&str, &Funding> = HashMap::new();
    for f in fundings {
        by_trajectory.entry(&f.trajectory).or_insert(f);
    }
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| {
        (a.date, &a.key, &a.trajectory, a.kind).cmp(&(b.date, &b.key, &b.trajectory, b.kind))
    });

    let mut ledger = Ledger::default();
    let mut progress: HashMap<&str, Progress> = HashMap::new();
    let mut unfunded = Vec::new();
    for event in sorted {
        let t = event.trajectory.as_str();
        let unfunded_as = |reason| Unfunded {
            key: event.key.clone(),
            trajectory: event.trajectory.clone(),
            date: event.date,
            reason,
        };
        let Some(funding) = by_trajectory.get(t).filter(|f| !f.sources.is_empty()) else {
            unfunded.push(unfunded_as("no-source"));
            continue;
        };
        let p = progress.entry(t).or_insert_with(|| Progress {
            start: funding.start.unwrap_or(event.date),
            had_session: false,
            fees_decided: Vec::new(),
        });
        let is_session = event.kind != EventKind::Intake;
        let trial = event.kind == EventKind::GroupSession && !p.had_session;
        p.had_session |= is_session;

        let mut reason = "no-tariff";
        let mut chosen = None;
        for c in sources(funding, &by_id) {
            let service = if trial && c.tariff(Service::TrialSession).is_some() {
                Service::TrialSession
            } else {
                event.kind.service()
            };
            let Some(cents) = c.tariff(service) else {
                continue;
            };
            reason = "limit";
            let sessions = ledger.acc(t, &c.id).sessions;
            if c.limits.covers_date(event.date, p.start)
                && (!service.is_counted_session()
                    || c.limits.max_sessions.is_none_or(|max| sessions < max))
                && c.limits.fits_budget(ledger.budget_used(&c.id), cents)
            {
                chosen = Some((c, service));
                break;
            }
        }
        match chosen {
            Some((c, service)) => ledger.bill(c, t, event.key.clone(), event.date, service),
            None => unfunded.push(unfunded_as(reason)),
        }

        if !is_session {
            continue;
        }
        for c in sources(funding, &by_id) {
            let Some(fee) = c.tariff(Service::ModuleFee) else {
                continue;
            };
            if p.fees_decided.contains(&c.id.as_str()) || !c.limits.covers_date(event.date, p.start)
            {
                continue;
            }
            p.fees_decided.push(&c.id);
            if c.limits.fits_budget(ledger.budget_used(&c.id), fee) {
                let key = format!("module:{t}:{}", c.id);
                ledger.bill(c, t, key, event.date, Service::ModuleFee);
            }
        }
    }

    let mut funded: Vec<&Funding> = by_trajectory.into_values().collect();
    funded.sort_by(|a, b| a.trajectory.cmp(&b.trajectory));
    let mut usage = Vec::new();
    for f in funded {
        let mut seen: Vec<&str> = Vec::new();
        for c in sources(f, &by_id) {
            if seen.contains(&c.id.as_str()) {
                continue;
            }
            seen.push(&c.id);
            let acc = ledger.acc(&f.trajectory, &c.id);
            usage.push(Usage {
                trajectory: f.trajectory.clone(),
                contract: c.id.clone(),
                sessions: acc.sessions,
                cents: acc.cents,
                first: acc.first,
                last: acc.last,
            });
        }
    }
    let budget_used = contracts
        .iter()
        .filter(|c| c.limits.budget_cents.is_some())
        .filter(|c| {
            by_id
                .get(c.id.as_str())
                .is_some_and(|first| std::ptr::eq(*first, *c))
        })
        .map(|c| (c.id.clone(), ledger.budget_used(&c.id)))
        .collect();
    let mut lines = ledger.lines;
    lines.sort_by(|a, b| (a.date, &a.key).cmp(&(b.date, &b.key)));
    Assignment {
        lines,
        unfunded,
        usage,
        budget_used,
    }
}

/// A warning before a limit is passed, so a coordinator can arrange the next payer in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// At most 2 sessions left under `max_sessions` (0: the next one goes elsewhere).
    SessionsLeft { contract: String, left: u32 },
    /// The `max_weeks` end is 1 to 14 days after today (counting today as a covered day).
    WeeksLeft { contract: String, days_left: i64 },
    /// The contract's `valid_to` (inclusive) leaves 1 to 14 days from today on (today
    /// counted): after that the next source pays, or nobody.
    ContractEnds { contract: String, days_left: i64 },
    /// Less than 10% of the contract's budget is left.
    BudgetLow { contract: String, left_cents: i64 },
    /// Events of the trajectory that no source pays for.
    Unfunded { count: usize },
}

/// The warnings for one trajectory, per source in order, then `Unfunded`. Only the sources in
/// use (billed at least once) and the one next in line after the last of those are looked at
/// (the first source when none is in use yet): those later on do not matter yet.
pub fn warnings(
    contracts: &[Contract],
    funding: &Funding,
    assignment: &Assignment,
    today: Date,
) -> Vec<Warning> {
    let t = funding.trajectory.as_str();
    let usage =
        |id: &str| (assignment.usage.iter()).find(|u| u.trajectory == t && u.contract == id);
    let in_use = |id: &String| usage(id).is_some_and(|u| u.first.is_some());
    let looked_at = funding
        .sources
        .iter()
        .rposition(in_use)
        .map_or(1, |i| i + 2);
    let start = funding.start.or_else(|| {
        let lines = assignment.lines.iter().filter(|l| l.trajectory == t);
        let unfunded = assignment.unfunded.iter().filter(|u| u.trajectory == t);
        lines.map(|l| l.date).chain(unfunded.map(|u| u.date)).min()
    });

    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for id in funding.sources.iter().take(looked_at) {
        let Some(c) = contracts.iter().find(|c| c.id == *id) else {
            continue;
        };
        if seen.contains(&id.as_str()) {
            continue;
        }
        seen.push(id);
        let contract = c.id.clone();
        if let Some(max) = c.limits.max_sessions {
            let left = max.saturating_sub(usage(id).map_or(0, |u| u.sessions));
            if left <= 2 {
                let contract = contract.clone();
                out.push(Warning::SessionsLeft { contract, left });
            }
        }
        if let (Some(weeks), Some(start)) = (c.limits.max_weeks, start) {
            let days_left = weeks_end(start, weeks) - days_from_civil(today);
            if (1..=14).contains(&days_left) {
                let contract = contract.clone();
                out.push(Warning::WeeksLeft {
                    contract,
                    days_left,
                });
            }
        }
        if let Some(to) = c.limits.valid_to {
            let days_left = days_from_civil(to) + 1 - days_from_civil(today);
            if (1..=14).contains(&days_left) {
                let contract = contract.clone();
                out.push(Warning::ContractEnds {
                    contract,
                    days_left,
                });
            }
        }
        if let Some(budget) = c.limits.budget_cents {
            let used = (assignment.budget_used.iter())
                .find(|(b, _)| b == id)
                .map_or(0, |(_, used)| *used);
            let left_cents = budget.saturating_sub(used);
            if i128::from(left_cents) * 10 < i128::from(budget) {
                out.push(Warning::BudgetLow {
                    contract,
                    left_cents,
                });
            }
        }
    }
    let count = (assignment.unfunded.iter())
        .filter(|u| u.trajectory == t)
        .count();
    if count > 0 {
        out.push(Warning::Unfunded { count });
    }
    out
}

/// An invoice number, "2026-0001": numbered per year from 1 without gaps (the sequence itself is
/// kept by the store, so that no number is handed out twice).
pub fn invoice_number(year: i32, seq: u32) -> String {
    format!("{year}-{seq:04}")
}

/// The total of an invoice: the sum of its lines, `None` on overflow rather than a wrong amount.
pub fn total(cents: impl IntoIterator<Item = i64>) -> Option<i64> {
    cents.into_iter().try_fold(0i64, i64::checked_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::attendance::civil_from_days;
    use EventKind as K;
    use Service as S;

    /// A Monday.
    const START: Date = (2026, 1, 5);

    fn day(n: i64) -> Date {
        civil_from_days(days_from_civil(START) + n).expect("a date")
    }

    /// Valid from 2020 on, with these maximum sessions, weeks and budget.
    fn limits(max_sessions: Option<u32>, max_weeks: Option<u32>, budget: Option<i64>) -> Limits {
        let valid_from = (2020, 1, 1);
        let (valid_to, budget_cents) = (None, budget);
        Limits {
            valid_from,
            valid_to,
            max_sessions,
            max_weeks,
            budget_cents,
        }
    }

    fn open() -> Limits {
        limits(None, None, None)
    }

    fn contract(id: &str, limits: Limits, tariffs: &[(Service, i64)]) -> Contract {
        let (id, tariffs) = (id.into(), tariffs.to_vec());
        Contract {
            id,
            limits,
            tariffs,
        }
    }

    /// An event of trajectory `t` on day `n` after [`START`].
    fn event(t: &str, n: i64, kind: EventKind) -> Event {
        let key = match kind {
            K::Intake => format!("intake:{t}"),
            _ => format!("session:{n:03}:{t}"),
        };
        let (trajectory, date) = (t.into(), day(n));
        Event {
            key,
            trajectory,
            date,
            kind,
        }
    }

    /// `count` weekly group sessions from day `from`.
    fn weekly(t: &str, from: i64, count: i64) -> Vec<Event> {
        (0..count)
            .map(|i| event(t, from + 7 * i, K::GroupSession))
            .collect()
    }

    fn funding(t: &str, start: Option<Date>, sources: &[&str]) -> Funding {
        let sources = sources.iter().map(|s| s.to_string()).collect();
        Funding {
            trajectory: t.into(),
            start,
            sources,
        }
    }

    /// Per line: contract, service and cents.
    fn billed(a: &Assignment) -> Vec<(&str, Service, i64)> {
        a.lines
            .iter()
            .map(|l| (l.contract.as_str(), l.service, l.cents))
            .collect()
    }

    fn payers(a: &Assignment) -> Vec<&str> {
        a.lines.iter().map(|l| l.contract.as_str()).collect()
    }

    fn reasons(a: &Assignment) -> Vec<(&str, &str)> {
        a.unfunded
            .iter()
            .map(|u| (u.key.as_str(), u.reason))
            .collect()
    }

    /// Sessions, cents, first and last date of a source.
    fn usage(a: &Assignment, t: &str, c: &str) -> (u32, i64, Option<Date>, Option<Date>) {
        let u = a
            .usage
            .iter()
            .find(|u| u.trajectory == t && u.contract == c);
        let u = u.expect("usage");
        (u.sessions, u.cents, u.first, u.last)
    }

    #[test]
    fn services_and_event_kinds_round_trip_through_their_names() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Ok(s));
            assert_eq!(serde_json::to_value(s).expect("json"), s.as_str());
        }
        for k in K::ALL {
            assert_eq!(K::parse(k.as_str()), Ok(k));
        }
        for bad in ["", "Intake", "trial", "module"] {
            assert_eq!(S::parse(bad), Err(Invalid::new("invalid-service")));
        }
        assert_eq!(
            K::parse("module_fee"),
            Err(Invalid::new("invalid-event-kind"))
        );
    }

    #[test]
    fn the_thirteenth_session_goes_to_the_next_source_or_is_unfunded() {
        let insurer = contract(
            "insurer",
            limits(Some(12), None, None),
            &[(S::GroupSession, 2500)],
        );
        let own = contract("self", open(), &[(S::GroupSession, 1500)]);
        let events = weekly("t", 0, 13);
        let a = assign(
            &[insurer.clone(), own],
            &[funding("t", None, &["insurer", "self"])],
            &events,
        );
        let mut expected = vec![("insurer", S::GroupSession, 2500); 12];
        expected.push(("self", S::GroupSession, 1500));
        assert_eq!(billed(&a), expected);
        assert!(a.unfunded.is_empty());
        assert_eq!(
            usage(&a, "t", "insurer"),
            (12, 30_000, Some(day(0)), Some(day(77)))
        );
        assert_eq!(
            usage(&a, "t", "self"),
            (1, 1500, Some(day(84)), Some(day(84)))
        );

        let a = assign(&[insurer], &[funding("t", None, &["insurer"])], &events);
        assert_eq!(a.lines.len(), 12);
        assert_eq!(reasons(&a), [("session:084:t", "limit")]);
        assert_eq!(a.unfunded[0].date, day(84));
    }

    #[test]
    fn max_weeks_covers_through_the_day_before_start_plus_seven_times_the_weeks() {
        let tariffs = [(S::Intake, 0), (S::GroupSession, 2500)];
        let insurer = contract("insurer", limits(None, Some(16), None), &tariffs);
        let contracts = [
            insurer,
            contract("self", open(), &[(S::GroupSession, 1500)]),
        ];
        let events = [
            event("t", 111, K::GroupSession),
            event("t", 112, K::GroupSession),
        ];
        let sources = ["insurer", "self"];
        let split = |start, events: &[Event]| {
            let a = assign(&contracts, &[funding("t", start, &sources)], events);
            a.lines.into_iter().map(|l| l.contract).collect::<Vec<_>>()
        };
        assert_eq!(split(Some(START), &events), ["insurer", "self"]);
        assert_eq!(split(Some(day(1)), &events), ["insurer", "insurer"]);
        // Without a start date the first event counts: the first session, or an intake.
        assert_eq!(split(None, &events), ["insurer", "insurer"]);
        let with_intake = [
            events[0].clone(),
            events[1].clone(),
            event("t", 0, K::Intake),
        ];
        assert_eq!(split(None, &with_intake), ["insurer", "insurer", "self"]);
    }

    #[test]
    fn validity_includes_its_first_and_last_day() {
        let valid = Limits {
            valid_from: (2026, 3, 1),
            valid_to: Some((2026, 3, 31)),
            ..open()
        };
        let march = contract("march", valid, &[(S::IndividualSession, 6000)]);
        let contracts = [
            march,
            contract("self", open(), &[(S::IndividualSession, 5000)]),
        ];
        let events: Vec<Event> = [(2026, 2, 28), (2026, 3, 1), (2026, 3, 31), (2026, 4, 1)]
            .into_iter()
            .map(|date| Event {
                key: format!("{date:?}"),
                date,
                ..event("t", 0, K::IndividualSession)
            })
            .collect();
        let a = assign(
            &contracts,
            &[funding("t", None, &["march", "self"])],
            &events,
        );
        assert_eq!(payers(&a), ["self", "march", "march", "self"]);
        let a = assign(&contracts, &[funding("t", None, &["march"])], &events);
        let dates: Vec<_> = a.unfunded.iter().map(|u| (u.date, u.reason)).collect();
        assert_eq!(dates, [((2026, 2, 28), "limit"), ((2026, 4, 1), "limit")]);
    }

    #[test]
    fn an_insurer_pays_sixteen_weeks_of_a_twenty_week_trajectory_then_self_pay() {
        let tariffs = [(S::Intake, 4000), (S::GroupSession, 2500)];
        let insurer = contract("insurer", limits(None, Some(16), None), &tariffs);
        let own = contract(
            "self",
            open(),
            &[(S::Intake, 3000), (S::GroupSession, 1500)],
        );
        let mut events = weekly("t", 0, 20);
        events.push(event("t", -3, K::Intake));
        let a = assign(
            &[insurer, own],
            &[funding("t", None, &["insurer", "self"])],
            &events,
        );
        // Started on day -3 with the intake: covered through day 108, the session of day 105.
        let mut expected = vec![("insurer", S::Intake, 4000)];
        expected.extend([("insurer", S::GroupSession, 2500); 16]);
        expected.extend([("self", S::GroupSession, 1500); 4]);
        assert_eq!(billed(&a), expected);
        assert_eq!(
            usage(&a, "t", "insurer"),
            (16, 44_000, Some(day(-3)), Some(day(105)))
        );
        assert_eq!(
            usage(&a, "t", "self"),
            (4, 6000, Some(day(112)), Some(day(133)))
        );
        assert_eq!(total(a.lines.iter().map(|l| l.cents)), Some(50_000));
    }

    #[test]
    fn a_free_trial_is_billed_at_zero_and_does_not_count_as_a_session() {
        let tariffs = [
            (S::TrialSession, 0),
            (S::GroupSession, 2500),
            (S::IndividualSession, 4000),
        ];
        let insurer = contract("insurer", limits(Some(12), None, None), &tariffs);
        let only_insurer = [funding("t", None, &["insurer"])];
        let a = assign(
            std::slice::from_ref(&insurer),
            &only_insurer,
            &weekly("t", 0, 13),
        );
        let mut expected = vec![("insurer", S::TrialSession, 0)];
        expected.extend([("insurer", S::GroupSession, 2500); 12]);
        assert_eq!(billed(&a), expected);
        assert_eq!(usage(&a, "t", "insurer").0, 12);

        // The trial is the trajectory's first session: after an individual one there is none.
        let mut events = weekly("t", 7, 2);
        events.push(event("t", 0, K::IndividualSession));
        let a = assign(&[insurer], &only_insurer, &events);
        let services: Vec<_> = a.lines.iter().map(|l| l.service).collect();
        assert_eq!(
            services,
            [S::IndividualSession, S::GroupSession, S::GroupSession]
        );

        // The source that pays the session decides, here one without a trial tariff.
        let own = contract(
            "self",
            open(),
            &[(S::GroupSession, 1500), (S::TrialSession, 0)],
        );
        let gp = contract("gp", open(), &[(S::GroupSession, 1800)]);
        let a = assign(
            &[gp, own],
            &[funding("t", None, &["gp", "self"])],
            &weekly("t", 0, 2),
        );
        assert_eq!(billed(&a), [("gp", S::GroupSession, 1800); 2]);
    }

    /// Lelystad: the intake is a consult under the insurer, the group sessions fall under the
    /// GP module, and the municipality's subsidy (budget 200 euro) pays a module fee alongside.
    /// Trajectory "a" has an intake and 12 sessions, "b" an intake and 2 sessions.
    fn lelystad() -> (Vec<Contract>, Vec<Funding>, Vec<Event>) {
        let contracts = vec![
            contract("zk-2026", open(), &[(S::Intake, 4500)]),
            contract(
                "poh-ggz",
                limits(Some(12), None, None),
                &[(S::GroupSession, 1800)],
            ),
            contract(
                "lelystad",
                limits(None, None, Some(20_000)),
                &[(S::ModuleFee, 15_000)],
            ),
        ];
        let sources = ["zk-2026", "poh-ggz", "lelystad"];
        let fundings = vec![funding("a", None, &sources), funding("b", None, &sources)];
        let mut events = weekly("a", 0, 12);
        events.extend([event("a", -7, K::Intake), event("b", -2, K::Intake)]);
        events.extend(weekly("b", 3, 2));
        (contracts, fundings, events)
    }

    #[test]
    fn a_module_fee_is_billed_once_alongside_the_sessions_of_another_payer() {
        let (contracts, fundings, events) = lelystad();
        let a = assign(&contracts, &fundings, &events);
        let of_a: Vec<_> = a.lines.iter().filter(|l| l.trajectory == "a").collect();
        assert_eq!(of_a.len(), 14);
        assert_eq!(
            (of_a[0].contract.as_str(), of_a[0].cents),
            ("zk-2026", 4500)
        );
        let fee = of_a[1];
        assert_eq!((fee.key.as_str(), fee.date), ("module:a:lelystad", day(0)));
        assert_eq!((fee.service, fee.cents), (S::ModuleFee, 15_000));
        assert_eq!(
            (of_a[2].key.as_str(), of_a[2].contract.as_str()),
            ("session:000:a", "poh-ggz")
        );
        assert!(
            of_a[3..]
                .iter()
                .all(|l| l.contract == "poh-ggz" && l.cents == 1800)
        );
        assert_eq!(
            usage(&a, "a", "lelystad"),
            (0, 15_000, Some(day(0)), Some(day(0)))
        );
        assert_eq!(usage(&a, "a", "poh-ggz").0, 12);
        // A second fee would pass the budget; b's sessions are paid all the same.
        assert!(a.lines.iter().all(|l| l.key != "module:b:lelystad"));
        assert_eq!(usage(&a, "b", "poh-ggz").0, 2);
        assert_eq!(a.budget_used, [("lelystad".to_string(), 15_000)]);
        assert!(a.unfunded.is_empty());
    }

    #[test]
    fn a_module_fee_waits_for_the_first_session_in_its_validity_and_may_pay_sessions_too() {
        let both = Limits {
            valid_from: day(14),
            ..open()
        };
        let both = contract(
            "both",
            both,
            &[(S::ModuleFee, 10_000), (S::GroupSession, 500)],
        );
        let own = contract("self", open(), &[(S::GroupSession, 1500)]);
        let a = assign(
            &[both, own],
            &[funding("t", None, &["both", "self"])],
            &weekly("t", 0, 4),
        );
        let lines: Vec<_> = a
            .lines
            .iter()
            .map(|l| (l.date, l.contract.as_str(), l.service))
            .collect();
        let expected = [
            (day(0), "self", S::GroupSession),
            (day(7), "self", S::GroupSession),
            (day(14), "both", S::ModuleFee),
            (day(14), "both", S::GroupSession),
            (day(21), "both", S::GroupSession),
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_shared_budget_is_used_in_date_order_and_may_be_reached_exactly() {
        let subsidy = contract(
            "subsidy",
            limits(None, None, Some(3000)),
            &[(S::GroupSession, 1000)],
        );
        let own = contract("self", open(), &[(S::GroupSession, 1500)]);
        let sources = ["subsidy", "self"];
        let fundings = [funding("a", None, &sources), funding("b", None, &sources)];
        // On day 9 both have a session and 10 euro is left: the key decides.
        let events = [
            event("b", 9, K::GroupSession),
            event("b", 1, K::GroupSession),
            event("a", 9, K::GroupSession),
            event("a", 0, K::GroupSession),
        ];
        let a = assign(&[subsidy.clone(), own], &fundings, &events);
        let lines: Vec<_> = a
            .lines
            .iter()
            .map(|l| (l.key.as_str(), l.contract.as_str()))
            .collect();
        let expected = [
            ("session:000:a", "subsidy"),
            ("session:001:b", "subsidy"),
            ("session:009:a", "subsidy"),
            ("session:009:b", "self"),
        ];
        assert_eq!(lines, expected);
        assert_eq!(a.budget_used, [("subsidy".to_string(), 3000)]);
        let a = assign(&[subsidy], &fundings, &events);
        assert_eq!(reasons(&a), [("session:009:b", "limit")]);
    }

    #[test]
    fn the_order_of_the_events_does_not_change_the_result() {
        let (contracts, fundings, events) = lelystad();
        let expected = assign(&contracts, &fundings, &events);
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(assign(&contracts, &fundings, &reversed), expected);
        for shift in 1..events.len() {
            let (mut events, mut fundings) = (events.clone(), fundings.clone());
            events.rotate_left(shift);
            fundings.rotate_left(shift % 2);
            assert_eq!(assign(&contracts, &fundings, &events), expected);
        }
    }

    #[test]
    fn events_without_a_source_or_a_tariff_say_why() {
        let gp = contract("gp", open(), &[(S::GroupSession, 1800)]);
        let fundings = [
            funding("empty", None, &[]),
            funding("t", None, &["nope", "gp"]),
        ];
        let events = [
            event("none", 0, K::GroupSession),
            event("empty", 1, K::GroupSession),
            event("t", 2, K::Intake),
            event("t", 3, K::IndividualSession),
            event("t", 4, K::GroupSession),
        ];
        let a = assign(&[gp], &fundings, &events);
        let expected = [
            ("session:000:none", "no-source"),
            ("session:001:empty", "no-source"),
            ("intake:t", "no-tariff"),
            ("session:003:t", "no-tariff"),
        ];
        assert_eq!(reasons(&a), expected);
        assert_eq!(billed(&a), [("gp", S::GroupSession, 1800)]);
        // Unknown contracts are left out of the usage.
        let listed: Vec<_> = a
            .usage
            .iter()
            .map(|u| (u.trajectory.as_str(), u.sessions))
            .collect();
        assert_eq!(listed, [("t", 1)]);
    }

    #[test]
    fn amounts_are_parsed_in_dutch_and_english_notation() {
        let ok = [
            ("12", 1200),
            ("12,5", 1250),
            ("12,50", 1250),
            ("12.50", 1250),
            ("€ 12,50", 1250),
            ("€12.50", 1250),
            ("12,50 €", 1250),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1.234.567", 123_456_700),
            ("1,234,567.8", 123_456_780),
            (" 0 ", 0),
            ("0,05", 5),
            ("007", 700),
            ("10.000.000,00", MAX_CENTS),
        ];
        for (s, cents) in ok {
            assert_eq!(parse_cents(s), Ok(cents), "{s}");
        }
        let bad = [
            "",
            " ",
            "€",
            "-12",
            "€ -12,50",
            "12,505",
            "1.234",
            "0,125",
            "12,",
            ",50",
            "12.34.56",
            "1.234.56",
            "1,234,56.7",
            "1.23,45",
            "0.123,45",
            "12a",
            "twaalf",
            "1 234",
            "١٢",
            "10.000.000,01",
            "99999999999999999999",
        ];
        for s in bad {
            assert_eq!(parse_cents(s), Err(Invalid::new("invalid-amount")), "{s}");
        }
    }

    #[test]
    fn amounts_are_formatted_per_language_and_read_back() {
        let cases = [
            (0, "€ 0,00", "€0.00"),
            (5, "€ 0,05", "€0.05"),
            (-1250, "-€ 12,50", "-€12.50"),
            (99_999, "€ 999,99", "€999.99"),
            (100_000, "€ 1.000,00", "€1,000.00"),
            (123_456, "€ 1.234,56", "€1,234.56"),
            (MAX_CENTS, "€ 10.000.000,00", "€10,000,000.00"),
        ];
        for (cents, dutch, english) in cases {
            assert_eq!(
                (format_cents(cents, false), format_cents(cents, true)),
                (dutch.into(), english.into())
            );
        }
        assert_eq!(format_cents(i64::MIN, true), "-€92,233,720,368,547,758.08");
        for cents in (0..=MAX_CENTS)
            .step_by(9_999_991)
            .chain([1, 99, 100, 101, 1_000_000])
        {
            for english in [false, true] {
                assert_eq!(parse_cents(&format_cents(cents, english)), Ok(cents));
            }
        }
    }

    #[test]
    fn totals_check_for_overflow_and_invoice_numbers_are_padded() {
        assert_eq!(total([]), Some(0));
        assert_eq!(total([1250, 0, -250]), Some(1000));
        assert_eq!(total([i64::MAX, 0]), Some(i64::MAX));
        assert_eq!(total([i64::MAX, 1]), None);
        assert_eq!(invoice_number(2026, 1), "2026-0001");
        assert_eq!(invoice_number(2026, 42), "2026-0042");
        assert_eq!(invoice_number(2027, 12_345), "2027-12345");
    }

    #[test]
    fn warnings_come_at_two_sessions_and_fourteen_days_left() {
        let insurer = contract(
            "insurer",
            limits(Some(12), Some(16), None),
            &[(S::GroupSession, 2500)],
        );
        let contracts = [
            insurer,
            contract("self", open(), &[(S::GroupSession, 1500)]),
            contract(
                "later",
                limits(Some(1), None, None),
                &[(S::GroupSession, 1000)],
            ),
        ];
        let f = funding("t", Some(START), &["insurer", "self", "later"]);
        let at = |sessions, today| {
            let a = assign(
                &contracts,
                std::slice::from_ref(&f),
                &weekly("t", 0, sessions),
            );
            warnings(&contracts, &f, &a, day(today))
        };
        let sessions_left = |contract: &str, left| Warning::SessionsLeft {
            contract: contract.into(),
            left,
        };
        let weeks_left = |days_left| Warning::WeeksLeft {
            contract: "insurer".into(),
            days_left,
        };
        assert_eq!(at(9, 60), []);
        assert_eq!(at(10, 60), [sessions_left("insurer", 2)]);
        assert_eq!(at(1, 97), []);
        assert_eq!(at(1, 98), [weeks_left(14)]);
        assert_eq!(at(1, 111), [weeks_left(1)]);
        assert_eq!(at(1, 112), []);
        // Self-pay is in use from session 13 on, so "later" is next in line.
        assert_eq!(at(12, 80), [sessions_left("insurer", 0)]);
        assert_eq!(
            at(13, 90),
            [sessions_left("insurer", 0), sessions_left("later", 1)]
        );
        let json = serde_json::to_value(sessions_left("insurer", 2)).expect("json");
        let expected =
            serde_json::json!({"kind": "sessions_left", "contract": "insurer", "left": 2});
        assert_eq!(json, expected);
    }

    #[test]
    fn a_contract_end_is_warned_of_in_the_last_fourteen_days() {
        let mut ending = limits(None, None, None);
        ending.valid_to = Some(day(20));
        let contracts = [contract("deal", ending, &[(S::GroupSession, 2500)])];
        let f = funding("t", Some(START), &["deal"]);
        let at = |today| {
            let a = assign(&contracts, std::slice::from_ref(&f), &weekly("t", 0, 1));
            warnings(&contracts, &f, &a, day(today))
        };
        let ends = |days_left| Warning::ContractEnds {
            contract: "deal".into(),
            days_left,
        };
        assert_eq!(at(6), []);
        assert_eq!(at(7), [ends(14)]);
        assert_eq!(at(20), [ends(1)], "the last day is still covered");
        assert_eq!(at(21), []);
        // Events after the end go unfunded (or to the next source): the end takes effect.
        let a = assign(&contracts, std::slice::from_ref(&f), &weekly("t", 0, 4));
        assert_eq!(a.lines.len(), 3);
        assert_eq!(a.unfunded.len(), 1);
        assert_eq!(a.unfunded[0].reason, "limit");
    }

    #[test]
    fn warnings_come_below_a_tenth_of_the_budget_and_for_unfunded_events() {
        let at_fee = |fee| {
            let subsidy = limits(None, None, Some(10_000));
            let contracts = [contract("subsidy", subsidy, &[(S::ModuleFee, fee)])];
            let f = funding("t", None, &["subsidy"]);
            let a = assign(&contracts, std::slice::from_ref(&f), &weekly("t", 0, 2));
            warnings(&contracts, &f, &a, day(0))
        };
        // The subsidy pays no sessions themselves: both are unfunded.
        assert_eq!(at_fee(9000), [Warning::Unfunded { count: 2 }]);
        let low = Warning::BudgetLow {
            contract: "subsidy".into(),
            left_cents: 999,
        };
        assert_eq!(at_fee(9001), [low, Warning::Unfunded { count: 2 }]);
    }
}
