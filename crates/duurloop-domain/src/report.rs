//! Statistics for the impact dashboards (SPEC C10): the referral funnel, time to start,
//! dropout, attendance, and per instrument the change from the first to the last score.
//!
//! The rules:
//! - **Small cells are hidden from funders.** A count of fewer than [`MIN_CELL`] people, and
//!   any statistic over fewer than [`MIN_CELL`] people, is [`Cell::Suppressed`]. Zero counts
//!   are suppressed too, so "none" and "a few" look the same. See [`OutcomeStats::cells`] for
//!   the share that would give a hidden count away.
//! - **Change is `post − pre` on the instrument's own scale**, so a mean change of −4 is an
//!   improvement on PHQ-9 and a worsening on WHO-5. Only the effect size is signed so that
//!   positive means better.
//! - **Effect size** is the pre–post d with the baseline SD: `(mean post − mean pre) / SD(pre)`
//!   with the sample SD of the first scores, its sign flipped when lower is better (PHQ-9,
//!   GAD-7). There is none for fewer than 2 people or when every first score is the same.
//! - **Reliably improved, recovered, deteriorated** are counted per person by
//!   [`change`] (Jacobson–Truax). An instrument without reliable-change parameters (a
//!   coordinator's own questionnaire) has no such counts rather than zero, so a dashboard never
//!   shows "0 % improved" for a scale that cannot tell.
//! - A pair with a non-finite score is skipped, by [`outcome_stats`] and [`OutcomeAcc`] alike.
//! - [`OutcomeAcc`] gives what [`outcome_stats`] gives without holding the rows: means and the
//!   SD by Welford's method, equal up to rounding in the last digits.

use std::borrow::Cow;

use serde::Serialize;

use crate::measure::{Instrument, Outcome, change};

/// Cells with fewer people than this are suppressed for funders.
pub const MIN_CELL: u64 = 10;

/// An SD at or below this counts as zero: every score the same, up to rounding.
const ZERO_SD: f64 = 1e-9;

/// A count or statistic that may be hidden from funders. In JSON a shown cell is its plain
/// value and a suppressed one is `null`; a dashboard shows `null` as "fewer than 10".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell<T> {
    Shown(T),
    Suppressed,
}

impl<T> Cell<T> {
    /// The value, if shown.
    pub fn shown(self) -> Option<T> {
        match self {
            Cell::Shown(value) => Some(value),
            Cell::Suppressed => None,
        }
    }
}

/// `value`, unless it is about fewer than [`MIN_CELL`] people: 9 is suppressed, 10 shown.
pub fn suppress<T>(people: u64, value: T) -> Cell<T> {
    if people < MIN_CELL {
        Cell::Suppressed
    } else {
        Cell::Shown(value)
    }
}

/// Complementary suppression of one column of counts: when the total is shown and exactly one
/// row's count is hidden, that count is the total minus the shown ones, so the smallest shown
/// count is hidden too (the hidden pair then says only what the two add up to). Rows whose
/// groups overlap (one referral under two indications) do not add up, and hiding one more
/// there costs nothing that could be relied on.
pub fn complement(rows: &mut [&mut Cell<u64>], total: Cell<u64>) {
    if total.shown().is_none() {
        return;
    }
    if rows.iter().filter(|c| ***c == Cell::Suppressed).count() != 1 {
        return;
    }
    if let Some(smallest) = rows
        .iter_mut()
        .filter_map(|c| match **c {
            Cell::Shown(v) => Some((v, c)),
            Cell::Suppressed => None,
        })
        .min_by_key(|(v, _)| *v)
        .map(|(_, c)| c)
    {
        **smallest = Cell::Suppressed;
    }
}

/// One of the outcome counts of [`OutcomeCells`] (reliably improved, recovered, deteriorated).
type CountOf = fn(&mut OutcomeCells) -> &mut Option<Cell<u64>>;

/// Complementary suppression of one instrument's outcome cells over the rows of a report (one
/// entry per row that has people with a pair of scores). The outcome of a hidden group is
/// recoverable from the total as soon as it is the only one hidden: its `n` is the total's
/// minus the shown ones, and its mean change follows from the means times the `n`s. So when
/// the total is shown and exactly one row's group is hidden, the smallest shown group is hidden
/// whole as well. Then each count (reliably improved, recovered, deteriorated) gets the same
/// rule as the funnel's counts ([`complement`]).
pub fn complement_outcomes(rows: &mut [&mut OutcomeCells], total: &OutcomeCells) {
    if total.n.shown().is_some()
        && rows.iter().filter(|c| c.n == Cell::Suppressed).count() == 1
        && let Some(smallest) = rows
            .iter_mut()
            .filter_map(|c| c.n.shown().map(|n| (n, c)))
            .min_by_key(|(n, _)| *n)
            .map(|(_, c)| c)
    {
        **smallest = smallest.hidden();
    }
    let counts: [CountOf; 3] = [
        |c| &mut c.reliably_improved,
        |c| &mut c.recovered,
        |c| &mut c.deteriorated,
    ];
    let mut total = *total;
    for count in counts {
        let Some(total) = *count(&mut total) else {
            continue;
        };
        let mut cells: Vec<&mut Cell<u64>> =
            rows.iter_mut().filter_map(|c| count(c).as_mut()).collect();
        complement(&mut cells, total);
    }
    // A count hidden now hides its share too (`share × n` would give it away).
    for row in rows.iter_mut() {
        if row.reliably_improved == Some(Cell::Suppressed) {
            row.share_reliably_improved = row.share_reliably_improved.map(|_| Cell::Suppressed);
        }
    }
}

/// Count, mean and sample standard deviation of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    /// The sample SD (divided by `n − 1`); `None` when `n < 2`.
    pub sd: Option<f64>,
}

/// The summary of `values` (two passes: the mean, then the squared deviations from it);
/// `None` when there are none. Values are taken as given: a NaN makes the mean NaN.
pub fn summary(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() >= 2).then(|| {
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        (squares / (n - 1.0)).sqrt()
    });
    Some(Summary {
        n: values.len() as u64,
        mean,
        sd,
    })
}

/// The change on one instrument over a group of participants, each with a pair of their first
/// and last score. See the module rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeStats {
    /// Participants with a pair.
    pub n: u64,
    pub mean_pre: f64,
    pub mean_post: f64,
    /// `mean_post − mean_pre`, on the instrument's scale.
    pub mean_change: f64,
    /// Pre–post d with the baseline SD, positive = better.
    pub effect_size: Option<f64>,
    /// Recovered or improved ([`Outcome::is_reliable_improvement`]); `None`, like the two
    /// counts below and the share, for an instrument without reliable-change parameters.
    pub reliably_improved: Option<u64>,
    pub recovered: Option<u64>,
    pub deteriorated: Option<u64>,
    /// `reliably_improved / n`, between 0 and 1.
    pub share_reliably_improved: Option<f64>,
}

/// [`OutcomeStats`] as a funder may see them. A field that is left out of the JSON (not
/// `null`) cannot be computed at all, whatever the group size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OutcomeCells {
    pub n: Cell<u64>,
    pub mean_pre: Cell<f64>,
    pub mean_post: Cell<f64>,
    pub mean_change: Cell<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_size: Option<Cell<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliably_improved: Option<Cell<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Cell<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deteriorated: Option<Cell<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_reliably_improved: Option<Cell<f64>>,
}

impl OutcomeCells {
    /// The same cells, every one hidden (a field that cannot be computed stays left out).
    pub fn hidden(&self) -> OutcomeCells {
        let hide = |c: Option<Cell<f64>>| c.map(|_| Cell::Suppressed);
        let hide_count = |c: Option<Cell<u64>>| c.map(|_| Cell::Suppressed);
        OutcomeCells {
            n: Cell::Suppressed,
            mean_pre: Cell::Suppressed,
            mean_post: Cell::Suppressed,
            mean_change: Cell::Suppressed,
            effect_size: hide(self.effect_size),
            reliably_improved: hide_count(self.reliably_improved),
            recovered: hide_count(self.recovered),
            deteriorated: hide_count(self.deteriorated),
            share_reliably_improved: hide(self.share_reliably_improved),
        }
    }
}

impl OutcomeStats {
    /// What a funder may see: everything is suppressed for a group of fewer than
    /// [`MIN_CELL`]; each count of fewer than [`MIN_CELL`] people is suppressed; and the share
    /// reliably improved is suppressed with its count, as `share × n` would give it away.
    /// Not covered: `n − count`, e.g. "all but 3 improved", is shown when both are 10 or more.
    pub fn cells(&self) -> OutcomeCells {
        let group = |value: f64| suppress(self.n, value);
        let count = |count: Option<u64>| count.map(|c| suppress(c, c));
        let share = (self.reliably_improved)
            .zip(self.share_reliably_improved)
            .map(|(people, share)| suppress(people, share));
        OutcomeCells {
            n: suppress(self.n, self.n),
            mean_pre: group(self.mean_pre),
            mean_post: group(self.mean_post),
            mean_change: group(self.mean_change),
            effect_size: if self.n < MIN_CELL {
                Some(Cell::Suppressed)
            } else {
                self.effect_size.map(Cell::Shown)
            },
            reliably_improved: count(self.reliably_improved),
            recovered: count(self.recovered),
            deteriorated: count(self.deteriorated),
            share_reliably_improved: share,
        }
    }
}

/// The outcome counts, shared by the batch and the incremental path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    improved: u64,
    recovered: u64,
    deteriorated: u64,
}

impl Counts {
    fn add(&mut self, instrument: &Instrument, pre: f64, post: f64) {
        let Some(c) = change(instrument, pre, post) else {
            return;
        };
        self.improved += u64::from(c.outcome.is_reliable_improvement());
        self.recovered += u64::from(c.outcome == Outcome::Recovered);
        self.deteriorated += u64::from(c.outcome == Outcome::Deteriorated);
    }
}

fn finite(pre: f64, post: f64) -> bool {
    pre.is_finite() && post.is_finite()
}

/// Puts the parts together; `None` for an empty group.
fn stats(
    instrument: &Instrument,
    n: u64,
    (mean_pre, mean_post): (f64, f64),
    sd_pre: Option<f64>,
    counts: Counts,
) -> Option<OutcomeStats> {
    if n == 0 {
        return None;
    }
    let mean_change = mean_post - mean_pre;
    let effect_size = sd_pre.filter(|sd| *sd > ZERO_SD).map(|sd| {
        let d = mean_change / sd;
        if instrument.higher_is_better { d } else { -d }
    });
    let counted = instrument.reliable_change.is_some();
    let count = |c: u64| counted.then_some(c);
    Some(OutcomeStats {
        n,
        mean_pre,
        mean_post,
        mean_change,
        effect_size,
        reliably_improved: count(counts.improved),
        recovered: count(counts.recovered),
        deteriorated: count(counts.deteriorated),
        share_reliably_improved: counted.then(|| counts.improved as f64 / n as f64),
    })
}

/// The outcome over `pairs` of (first score, last score); `None` when there is no pair with
/// finite scores.
pub fn outcome_stats(instrument: &Instrument, pairs: &[(f64, f64)]) -> Option<OutcomeStats> {
    let (pre, post): (Vec<f64>, Vec<f64>) = pairs
        .iter()
        .copied()
        .filter(|(a, b)| finite(*a, *b))
        .unzip();
    let (before, after) = (summary(&pre)?, summary(&post)?);
    let mut counts = Counts::default();
    for (a, b) in pre.iter().zip(&post) {
        counts.add(instrument, *a, *b);
    }
    stats(
        instrument,
        before.n,
        (before.mean, after.mean),
        before.sd,
        counts,
    )
}

/// [`outcome_stats`] one pair at a time, in constant memory.
#[derive(Debug, Clone)]
pub struct OutcomeAcc {
    instrument: Instrument,
    n: u64,
    mean_pre: f64,
    /// Sum of squared deviations from the running mean of the first scores (Welford).
    m2_pre: f64,
    mean_post: f64,
    counts: Counts,
}

impl OutcomeAcc {
    pub fn new(instrument: &Instrument) -> Self {
        OutcomeAcc {
            instrument: instrument.clone(),
            n: 0,
            mean_pre: 0.0,
            m2_pre: 0.0,
            mean_post: 0.0,
            counts: Counts::default(),
        }
    }

    /// Adds one participant's first and last score; a non-finite one is skipped.
    pub fn push(&mut self, pre: f64, post: f64) {
        if !finite(pre, post) {
            return;
        }
        self.n += 1;
        let n = self.n as f64;
        let delta = pre - self.mean_pre;
        self.mean_pre += delta / n;
        self.m2_pre += delta * (pre - self.mean_pre);
        self.mean_post += (post - self.mean_post) / n;
        self.counts.add(&self.instrument, pre, post);
    }

    /// The statistics so far; `None` before the first pair.
    pub fn finish(&self) -> Option<OutcomeStats> {
        let sd = (self.n >= 2).then(|| (self.m2_pre / (self.n - 1) as f64).sqrt());
        stats(
            &self.instrument,
            self.n,
            (self.mean_pre, self.mean_post),
            sd,
            self.counts,
        )
    }
}

/// How many referrals reached each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub referred: u64,
    pub intake: u64,
    pub started: u64,
    pub completed: u64,
    pub follow_up: u64,
}

/// A [`Funnel`] as a funder may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunnelCells {
    pub referred: Cell<u64>,
    pub intake: Cell<u64>,
    pub started: Cell<u64>,
    pub completed: Cell<u64>,
    pub follow_up: Cell<u64>,
}

impl Funnel {
    /// Each stage suppressed when fewer than [`MIN_CELL`] reached it.
    pub fn suppressed(&self) -> FunnelCells {
        let cell = |n: u64| suppress(n, n);
        FunnelCells {
            referred: cell(self.referred),
            intake: cell(self.intake),
            started: cell(self.started),
            completed: cell(self.completed),
            follow_up: cell(self.follow_up),
        }
    }
}

/// The median (e.g. of days from referral to start); `None` for none. Sorts `values` in
/// place (by total order, so a NaN sorts last); of an even count, the mean of the middle two.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        Some((values.get(mid.checked_sub(1)?)? + values.get(mid)?) / 2.0)
    } else {
        values.get(mid).copied()
    }
}

/// `numerator / denominator` (e.g. sessions attended of sessions planned); `None` when the
/// denominator is 0.
pub fn rate(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// One CSV field, safe to open in a spreadsheet:
/// - a field starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
///   so a spreadsheet shows it as text instead of running it as a formula; except a plain
///   number (`-3`, `+2.5`: an optional sign, digits, optionally a point and digits), which
///   stays a number;
/// - then a field with a `,`, `;`, `"`, tab, CR or LF is quoted, with `"` doubled (RFC 4180).
///   The `;` and tab are not required by the RFC but Dutch spreadsheets split on `;`, which
///   could otherwise start a new cell with a formula in it.
pub fn csv_escape(field: &str) -> String {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(field);
    let field: Cow<str> = if formula {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    };
    if field.contains([',', ';', '"', '\t', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.into_owned()
    }
}

/// `[+-]?[0-9]+(\.[0-9]+)?`
fn plain_number(field: &str) -> bool {
    let unsigned = field.strip_prefix(['+', '-']).unwrap_or(field);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_hidden_row_takes_the_smallest_shown_one_with_it() {
        let total = Cell::Shown(40);
        let mut cells = [Cell::Shown(12), Cell::Suppressed, Cell::Shown(20)];
        let [a, b, c] = &mut cells;
        complement(&mut [a, b, c], total);
        assert_eq!(cells, [Cell::Suppressed, Cell::Suppressed, Cell::Shown(20)]);
    }

    #[test]
    fn nothing_more_is_hidden_when_the_difference_gives_nothing_away() {
        for (mut cells, total) in [
            // Two hidden already: only their sum is known.
            (
                [Cell::Suppressed, Cell::Suppressed, Cell::Shown(20)],
                Cell::Shown(30),
            ),
            // The total hidden: no difference to take.
            (
                [Cell::Shown(12), Cell::Suppressed, Cell::Shown(20)],
                Cell::Suppressed,
            ),
            // Nothing hidden.
            (
                [Cell::Shown(12), Cell::Shown(11), Cell::Shown(20)],
                Cell::Shown(43),
            ),
        ] {
            let before = cells;
            let [a, b, c] = &mut cells;
            complement(&mut [a, b, c], total);
            assert_eq!(cells, before);
        }
    }

    #[test]
    fn a_single_hidden_row_alone_stays_as_it_is() {
        let mut cells = [Cell::Suppressed];
        let [a] = &mut cells;
        complement(&mut [a], Cell::Shown(12));
        assert_eq!(cells, [Cell::Suppressed]);
    }

    use super::*;
    use crate::measure::builtin_by_code;

    fn instrument(code: &str) -> Instrument {
        builtin_by_code(code).expect("built in")
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn summary_gives_the_mean_and_the_sample_sd() {
        let s = summary(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("values");
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        // Squared deviations sum to 32; 32 / 7 = 4.571; √ = 2.138.
        let sd = s.sd.expect("n >= 2");
        assert!(close(sd, (32.0_f64 / 7.0).sqrt(), 1e-12));
        assert_eq!((sd * 1000.0).round() / 1000.0, 2.138);
        assert_eq!(
            summary(&[3.5]),
            Some(Summary {
                n: 1,
                mean: 3.5,
                sd: None
            })
        );
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn one_hidden_outcome_group_hides_the_smallest_shown_one_with_it() {
        let stats = |n: u64, improved: u64| {
            OutcomeStats {
                n,
                mean_pre: 14.0,
                mean_post: 9.0,
                mean_change: -5.0,
                effect_size: Some(1.0),
                reliably_improved: Some(improved),
                recovered: Some(improved),
                deteriorated: Some(0),
                share_reliably_improved: Some(improved as f64 / n as f64),
            }
            .cells()
        };
        let total = stats(9 + 12 + 30, 5 + 6 + 20);
        let mut groups = [stats(9, 5), stats(12, 6), stats(30, 20)];
        let [a, b, c] = &mut groups;
        complement_outcomes(&mut [a, b, c], &total);
        assert_eq!(groups[0].n, Cell::Suppressed);
        assert_eq!(
            groups[1],
            stats(12, 6).hidden(),
            "the smallest shown group goes whole"
        );
        assert_eq!(groups[1].effect_size, Some(Cell::Suppressed));
        assert_eq!(groups[2].mean_change, Cell::Shown(-5.0));
        // Counts: 20 improved shown, the others hidden in pairs already.
        assert_eq!(groups[2].reliably_improved, Some(Cell::Shown(20)));

        // Every group large enough, but one count small: that count's column is complemented,
        // and the share goes with its count.
        let total = stats(10 + 12 + 30, 5 + 11 + 20);
        let mut groups = [stats(10, 5), stats(12, 11), stats(30, 20)];
        let [a, b, c] = &mut groups;
        complement_outcomes(&mut [a, b, c], &total);
        assert_eq!(groups[0].n, Cell::Shown(10));
        assert_eq!(groups[0].reliably_improved, Some(Cell::Suppressed));
        assert_eq!(groups[1].reliably_improved, Some(Cell::Suppressed));
        assert_eq!(groups[1].share_reliably_improved, Some(Cell::Suppressed));
        assert_eq!(groups[1].mean_change, Cell::Shown(-5.0));
        assert_eq!(groups[2].reliably_improved, Some(Cell::Shown(20)));

        // A hidden total, or two hidden groups: nothing more to hide.
        let mut groups = [stats(9, 5), stats(8, 6), stats(30, 20)];
        let [a, b, c] = &mut groups;
        complement_outcomes(&mut [a, b, c], &stats(47, 31));
        assert_eq!(groups[2].n, Cell::Shown(30));
    }

    #[test]
    fn fewer_than_ten_people_are_suppressed_and_ten_are_shown() {
        assert_eq!(suppress(9, 9), Cell::Suppressed);
        assert_eq!(suppress(10, 10), Cell::Shown(10));
        assert_eq!(suppress(0, 0), Cell::Suppressed);
        assert_eq!(suppress(1, 0.5), Cell::Suppressed);
        assert_eq!(suppress(250, "x").shown(), Some("x"));
        assert_eq!(Cell::<u64>::Suppressed.shown(), None);
    }

    #[test]
    fn a_suppressed_cell_is_null_in_json_and_a_shown_one_its_value() {
        let json = serde_json::to_value(suppress(12, 3.5)).expect("serialises");
        assert_eq!(json, serde_json::json!(3.5));
        let json = serde_json::to_value(suppress(3, 3_u64)).expect("serialises");
        assert_eq!(json, serde_json::Value::Null);
    }

    #[test]
    fn the_funnel_hides_each_stage_under_ten() {
        let funnel = Funnel {
            referred: 40,
            intake: 31,
            started: 10,
            completed: 9,
            follow_up: 0,
        };
        let cells = funnel.suppressed();
        assert_eq!(cells.referred, Cell::Shown(40));
        assert_eq!(cells.intake, Cell::Shown(31));
        assert_eq!(cells.started, Cell::Shown(10));
        assert_eq!(cells.completed, Cell::Suppressed);
        assert_eq!(cells.follow_up, Cell::Suppressed);
        assert_eq!(
            serde_json::to_value(cells).expect("serialises"),
            serde_json::json!({
                "referred": 40, "intake": 31, "started": 10, "completed": null, "follow_up": null
            })
        );
    }

    const PHQ9_PAIRS: [(f64, f64); 5] = [
        (18.0, 6.0),
        (15.0, 12.0),
        (12.0, 10.0),
        (20.0, 8.0),
        (8.0, 16.0),
    ];

    #[test]
    fn phq9_outcome_by_hand() {
        let phq9 = instrument("phq9");
        let s = outcome_stats(&phq9, &PHQ9_PAIRS).expect("pairs");
        assert_eq!(s.n, 5);
        // Pre 73 / 5 = 14.6, post 52 / 5 = 10.4.
        assert!(close(s.mean_pre, 14.6, 1e-12));
        assert!(close(s.mean_post, 10.4, 1e-12));
        assert!(close(s.mean_change, -4.2, 1e-12));
        // SD(pre): squared deviations 11.56 + 0.16 + 6.76 + 29.16 + 43.56 = 91.2; / 4 = 22.8.
        // A fall is better on PHQ-9, so d = 4.2 / √22.8 = 0.8796.
        let d = s.effect_size.expect("sd > 0");
        assert!(close(d, 4.2 / 22.8_f64.sqrt(), 1e-12));
        assert!(close(d, 0.8796, 1e-4));
        // Threshold 1.96 × √2 × 5.7 × √0.11 = 5.24: −12 and −12 reliable and across the cutoff
        // of 10 (recovered); −3 and −2 not reliable; +8 reliably worse.
        let threshold = smallest_reliable_change(5.7, 0.89);
        assert!(close(threshold, 5.2401, 1e-4));
        assert_eq!(s.reliably_improved, Some(2));
        assert_eq!(s.recovered, Some(2));
        assert_eq!(s.deteriorated, Some(1));
        assert_eq!(s.share_reliably_improved, Some(0.4));
    }

    /// 1.96 × √2 × sd × √(1 − r): the smallest reliable change.
    fn smallest_reliable_change(sd: f64, reliability: f64) -> f64 {
        crate::measure::RELIABLE_Z * 2.0_f64.sqrt() * sd * (1.0 - reliability).sqrt()
    }

    #[test]
    fn who5_counts_a_rise_as_better() {
        let who5 = instrument("who5");
        // Changes +40 (recovered), +24 (improved: reliable, still 50 or less), +20 (not
        // reliable, threshold 22.17), −40 (deteriorated), +32 (20 → 52, recovered).
        let pairs = [
            (32.0, 72.0),
            (24.0, 48.0),
            (40.0, 60.0),
            (72.0, 32.0),
            (20.0, 52.0),
        ];
        assert!(close(smallest_reliable_change(20.0, 0.84), 22.1749, 1e-4));
        let s = outcome_stats(&who5, &pairs).expect("pairs");
        assert!(close(s.mean_pre, 37.6, 1e-12));
        assert!(close(s.mean_post, 52.8, 1e-12));
        assert!(close(s.mean_change, 15.2, 1e-12));
        // SD(pre) = √(1715.2 / 4) = √428.8; d = 15.2 / 20.7075 = +0.7340, not flipped.
        let d = s.effect_size.expect("sd > 0");
        assert!(close(d, 15.2 / 428.8_f64.sqrt(), 1e-12));
        assert!(close(d, 0.7340, 1e-4));
        assert_eq!(s.reliably_improved, Some(3));
        assert_eq!(s.recovered, Some(2));
        assert_eq!(s.deteriorated, Some(1));
        assert_eq!(s.share_reliably_improved, Some(0.6));

        // The same rise on PHQ-9 is a worsening: d turns negative.
        let phq9 = instrument("phq9");
        let worse = outcome_stats(&phq9, &[(5.0, 10.0), (7.0, 12.0)]).expect("pairs");
        assert!(worse.effect_size.is_some_and(|d| d < 0.0));
    }

    #[test]
    fn no_effect_size_for_one_person_or_an_identical_baseline() {
        let phq9 = instrument("phq9");
        let one = outcome_stats(&phq9, &[(18.0, 6.0)]).expect("a pair");
        assert_eq!(one.effect_size, None);
        assert_eq!(one.mean_change, -12.0);
        assert_eq!(one.recovered, Some(1));
        let same = outcome_stats(&phq9, &[(12.0, 6.0), (12.0, 10.0), (12.0, 12.0)]);
        assert_eq!(same.and_then(|s| s.effect_size), None);
        assert_eq!(outcome_stats(&phq9, &[]), None);
        assert_eq!(outcome_stats(&phq9, &[(f64::NAN, 3.0)]), None);
        let mut acc = OutcomeAcc::new(&phq9);
        assert_eq!(acc.finish(), None);
        for _ in 0..3 {
            acc.push(0.1, 0.3);
        }
        assert_eq!(acc.finish().and_then(|s| s.effect_size), None);
    }

    #[test]
    fn pairs_with_a_non_finite_score_are_skipped() {
        let phq9 = instrument("phq9");
        let mut pairs = PHQ9_PAIRS.to_vec();
        pairs.push((f64::NAN, 3.0));
        pairs.push((4.0, f64::INFINITY));
        let s = outcome_stats(&phq9, &pairs).expect("pairs");
        assert_eq!(s, outcome_stats(&phq9, &PHQ9_PAIRS).expect("pairs"));
        let mut acc = OutcomeAcc::new(&phq9);
        pairs.iter().for_each(|(a, b)| acc.push(*a, *b));
        assert_eq!(acc.finish().map(|s| s.n), Some(5));
    }

    #[test]
    fn an_instrument_without_norms_has_no_reliable_change_counts() {
        let scale: Vec<(i64, String)> = (0..=3).map(|v| (v, v.to_string())).collect();
        let items = [("Moe".to_string(), false), ("Gespannen".to_string(), false)];
        let own =
            crate::measure::custom("eigen", "Eigen", &items, &scale, false, None).expect("valid");
        let s = outcome_stats(&own, &[(6.0, 0.0), (4.0, 2.0)]).expect("pairs");
        assert_eq!(s.mean_change, -4.0);
        assert_eq!(s.reliably_improved, None);
        assert_eq!(s.recovered, None);
        assert_eq!(s.deteriorated, None);
        assert_eq!(s.share_reliably_improved, None);
        let cells = serde_json::to_value(s.cells()).expect("serialises");
        assert!(cells.get("reliably_improved").is_none());
        assert_eq!(cells["n"], serde_json::Value::Null);
    }

    #[test]
    fn care_use_falling_is_better_and_claims_no_reliable_change() {
        let zg5 = instrument("zg5");
        // 14 → 2 and 8 → 6: mean change −7; SD(pre) = √18, d = +7 / √18 (a fall is better).
        let mut acc = OutcomeAcc::new(&zg5);
        acc.push(14.0, 2.0);
        acc.push(8.0, 6.0);
        let s = acc.finish().expect("pairs");
        assert_eq!((s.n, s.mean_change), (2, -7.0));
        let d = s.effect_size.expect("sd > 0");
        assert!(close(d, 7.0 / 18.0_f64.sqrt(), 1e-12), "{d}");
        assert_eq!(
            (s.reliably_improved, s.recovered, s.deteriorated),
            (None, None, None)
        );
        assert_eq!(s.share_reliably_improved, None);
    }

    /// A 64-bit linear congruential generator (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, below: u64) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % below) as f64
        }
    }

    #[test]
    fn the_accumulator_equals_the_batch_result() {
        for code in ["phq9", "gad7", "who5"] {
            let instrument = instrument(code);
            let top = instrument.max_total() as u64 + 1;
            let mut lcg = Lcg(42);
            let pairs: Vec<(f64, f64)> =
                (0..1000).map(|_| (lcg.next(top), lcg.next(top))).collect();
            let batch = outcome_stats(&instrument, &pairs).expect("pairs");
            let mut acc = OutcomeAcc::new(&instrument);
            for (pre, post) in &pairs {
                acc.push(*pre, *post);
            }
            let incremental = acc.finish().expect("pairs");
            assert_eq!(incremental.n, 1000);
            assert_eq!(incremental.reliably_improved, batch.reliably_improved);
            assert_eq!(incremental.recovered, batch.recovered);
            assert_eq!(incremental.deteriorated, batch.deteriorated);
            assert_eq!(
                incremental.share_reliably_improved,
                batch.share_reliably_improved
            );
            assert!(batch.reliably_improved.is_some_and(|n| n > 100), "{code}");
            for (a, b) in [
                (incremental.mean_pre, batch.mean_pre),
                (incremental.mean_post, batch.mean_post),
                (incremental.mean_change, batch.mean_change),
            ] {
                assert!(close(a, b, 1e-9), "{code}: {a} {b}");
            }
            let (a, b) = (
                incremental.effect_size.expect("sd > 0"),
                batch.effect_size.expect("sd > 0"),
            );
            assert!(close(a, b, 1e-9), "{code}: {a} {b}");
        }
    }

    #[test]
    fn funders_see_outcome_cells_only_for_ten_or_more() {
        let phq9 = instrument("phq9");
        let small = outcome_stats(&phq9, &PHQ9_PAIRS).expect("pairs").cells();
        assert_eq!(small.n, Cell::Suppressed);
        assert_eq!(small.mean_change, Cell::Suppressed);
        assert_eq!(small.effect_size, Some(Cell::Suppressed));
        assert_eq!(small.reliably_improved, Some(Cell::Suppressed));
        assert_eq!(small.share_reliably_improved, Some(Cell::Suppressed));

        // 12 recover, 8 stay the same: the share would reveal nothing hidden.
        let mut pairs = vec![(18.0, 6.0); 12];
        pairs.extend([(12.0, 12.0); 8]);
        let cells = outcome_stats(&phq9, &pairs).expect("pairs").cells();
        assert_eq!(cells.n, Cell::Shown(20));
        // Pre 15.6, post 8.4.
        assert!(matches!(cells.mean_change, Cell::Shown(c) if close(c, -7.2, 1e-12)));
        assert!(matches!(cells.effect_size, Some(Cell::Shown(d)) if d > 0.0));
        assert_eq!(cells.reliably_improved, Some(Cell::Shown(12)));
        assert_eq!(cells.recovered, Some(Cell::Shown(12)));
        assert_eq!(cells.share_reliably_improved, Some(Cell::Shown(0.6)));
        // No one deteriorated: zero is a small cell too.
        assert_eq!(cells.deteriorated, Some(Cell::Suppressed));

        // 3 of 20 improved: both the count and the share that gives it away are hidden.
        let mut pairs = vec![(18.0, 6.0); 3];
        pairs.extend([(12.0, 12.0); 17]);
        let cells = outcome_stats(&phq9, &pairs).expect("pairs").cells();
        assert_eq!(cells.mean_pre, Cell::Shown(12.9));
        assert_eq!(cells.reliably_improved, Some(Cell::Suppressed));
        assert_eq!(cells.share_reliably_improved, Some(Cell::Suppressed));
    }

    #[test]
    fn rate_needs_a_denominator() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(5, 0), None);
        assert_eq!(rate(0, 4), Some(0.0));
        assert_eq!(rate(3, 4), Some(0.75));
        assert_eq!(rate(12, 12), Some(1.0));
    }

    #[test]
    fn the_median_of_an_odd_and_an_even_count() {
        assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&mut [14.0, 3.0, 8.0, 21.0]), Some(11.0));
        assert_eq!(median(&mut [7.0]), Some(7.0));
        assert_eq!(median(&mut [2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        let mut days = [30.0, -2.0, 12.0, 12.0, 5.0];
        assert_eq!(median(&mut days), Some(12.0));
        assert_eq!(days, [-2.0, 5.0, 12.0, 12.0, 30.0]);
    }

    #[test]
    fn csv_fields_are_quoted_by_rfc_4180() {
        assert_eq!(csv_escape("plain"), "plain");
        assert_eq!(csv_escape(""), "");
        assert_eq!(csv_escape("a,b"), "\"a,b\"");
        assert_eq!(csv_escape("he said \"hi\""), "\"he said \"\"hi\"\"\"");
        assert_eq!(csv_escape("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_escape("Utrecht; Zeist"), "\"Utrecht; Zeist\"");
        assert_eq!(csv_escape("Jan's"), "Jan's");
    }

    #[test]
    fn csv_formulas_are_neutralised_but_numbers_stay_numbers() {
        assert_eq!(csv_escape("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_escape("@cmd"), "'@cmd");
        assert_eq!(csv_escape("+31 6 1234"), "'+31 6 1234");
        assert_eq!(csv_escape("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!(csv_escape("\t=1"), "\"'\t=1\"");
        assert_eq!(csv_escape("\r=1"), "\"'\r=1\"");
        assert_eq!(
            csv_escape("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_escape("-3"), "-3");
        assert_eq!(csv_escape("-4.2"), "-4.2");
        assert_eq!(csv_escape("+7"), "+7");
        assert_eq!(csv_escape("-"), "'-");
        assert_eq!(csv_escape("-.5"), "'-.5");
        assert_eq!(csv_escape("-3."), "'-3.");
        assert_eq!(csv_escape("-1e5"), "'-1e5");
        assert_eq!(csv_escape("x=1"), "x=1");
    }
}
