//! When questionnaires are due in a trajectory, as offsets in days from its start date (SPEC
//! §2 step 6: at the start, after 5 and 10 weeks, at the end, and 3 and 6 months later).
//!
//! The points a schedule may name:
//! - `baseline`: day 0, the start (required: change is measured against it);
//! - `week{n}`, `1 <= n < weeks`: after `n` whole weeks, day `7n` (`week5` is day 35);
//! - `end`: after the programme, day `7 × weeks`;
//! - `followup{m}`, `1 <= m <= 24`: `m` months after the end, a month counting as 13/3 weeks
//!   rounded to whole days (`followup3` is 91 days or 13 weeks after the end, `followup6` 182,
//!   `followup12` 364), so quarterly follow-ups fall on the weekday the programme started.

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// One measurement moment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Point {
    /// `baseline`, `week5`, `week10`, `end`, `followup3`, `followup6`, …
    pub code: String,
    /// Days after the trajectory's start date.
    pub offset_days: i64,
}

const MAX_FOLLOWUP_MONTHS: i64 = 24;

impl Point {
    /// The point `code` names in a programme of `weeks` weeks (at least 1), if any.
    pub fn parse(code: &str, weeks: u16) -> Option<Point> {
        let end = i64::from(weeks.max(1)) * 7;
        let offset_days = match code {
            "baseline" => 0,
            "end" => end,
            _ => {
                if let Some(n) = code.strip_prefix("week").and_then(number) {
                    Some(n * 7).filter(|d| (1..end).contains(d))?
                } else {
                    let m = code.strip_prefix("followup").and_then(number)?;
                    if !(1..=MAX_FOLLOWUP_MONTHS).contains(&m) {
                        return None;
                    }
                    // m × 13/3 weeks = m × 91/3 days, halves cannot occur.
                    end + (m * 91 + 1) / 3
                }
            }
        };
        Some(Point {
            code: code.to_string(),
            offset_days,
        })
    }
}

/// Digits without a leading zero.
fn number(digits: &str) -> Option<i64> {
    let plain = !digits.is_empty()
        && digits.len() <= 4
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    plain.then(|| digits.parse().ok()).flatten()
}

/// The usual schedule of SPEC §2 step 6 for a programme of `weeks` weeks (at least 1):
/// baseline, `week5` and `week10` when the programme runs longer than that (a measurement on
/// the last day would be the end measurement), end, and follow-ups after 3 and 6 months.
/// For 12 weeks: days 0, 35, 70, 84, 175 and 266.
pub fn default_schedule(weeks: u16) -> Vec<Point> {
    [
        "baseline",
        "week5",
        "week10",
        "end",
        "followup3",
        "followup6",
    ]
    .into_iter()
    .filter_map(|code| Point::parse(code, weeks))
    .collect()
}

/// Reads a compact schedule such as `baseline,week5,end,followup3` (spaces around the codes
/// are ignored) for a programme of `weeks` weeks, and returns the points in time order.
pub fn parse_schedule(s: &str, weeks: u16) -> Result<Vec<Point>, Invalid> {
    let missing = Invalid::new("schedule-missing-baseline");
    if s.trim().is_empty() {
        return Err(missing);
    }
    let mut points: Vec<Point> = Vec::new();
    for code in s.split(',').map(str::trim) {
        let point = Point::parse(code, weeks).ok_or(Invalid::new("schedule-unknown-point"))?;
        if points.iter().any(|p| p.code == point.code) {
            return Err(Invalid::new("schedule-duplicate-point"));
        }
        points.push(point);
    }
    if !points.iter().any(|p| p.code == "baseline") {
        return Err(missing);
    }
    points.sort_by_key(|p| p.offset_days);
    Ok(points)
}

/// The compact form [`parse_schedule`] reads.
pub fn format_schedule(points: &[Point]) -> String {
    points
        .iter()
        .map(|p| p.code.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(points: &[Point]) -> Vec<(&str, i64)> {
        points
            .iter()
            .map(|p| (p.code.as_str(), p.offset_days))
            .collect()
    }

    #[test]
    fn the_default_twelve_week_schedule_is_start_five_ten_end_and_two_follow_ups() {
        assert_eq!(
            offsets(&default_schedule(12)),
            [
                ("baseline", 0),
                ("week5", 35),
                ("week10", 70),
                ("end", 84),
                ("followup3", 175),
                ("followup6", 266)
            ]
        );
    }

    #[test]
    fn short_programmes_skip_the_week_points_they_do_not_reach() {
        let codes = |weeks| format_schedule(&default_schedule(weeks));
        assert_eq!(codes(10), "baseline,week5,end,followup3,followup6");
        assert_eq!(codes(11), "baseline,week5,week10,end,followup3,followup6");
        assert_eq!(codes(5), "baseline,end,followup3,followup6");
        assert_eq!(codes(6), "baseline,week5,end,followup3,followup6");
        assert_eq!(
            offsets(&default_schedule(0)),
            [
                ("baseline", 0),
                ("end", 7),
                ("followup3", 98),
                ("followup6", 189)
            ]
        );
    }

    #[test]
    fn a_stored_schedule_is_read_in_time_order_and_written_back() {
        let points = parse_schedule(" end, baseline ,week3,followup12", 8).expect("valid");
        assert_eq!(
            offsets(&points),
            [
                ("baseline", 0),
                ("week3", 21),
                ("end", 56),
                ("followup12", 420)
            ]
        );
        assert_eq!(format_schedule(&points), "baseline,week3,end,followup12");
        let usual = format_schedule(&default_schedule(12));
        assert_eq!(usual, "baseline,week5,week10,end,followup3,followup6");
        assert_eq!(parse_schedule(&usual, 12), Ok(default_schedule(12)));
        assert_eq!(
            offsets(&parse_schedule("baseline,followup1", 12).expect("valid")),
            [("baseline", 0), ("followup1", 84 + 30)]
        );
    }

    #[test]
    fn unknown_points_are_refused() {
        let unknown = Err(Invalid::new("schedule-unknown-point"));
        for bad in [
            "baseline,week12",
            "baseline,week13",
            "baseline,week0",
            "baseline,week05",
            "baseline,week",
            "baseline,week-1",
            "baseline,followup0",
            "baseline,followup25",
            "baseline,followup3m",
            "baseline,Week5",
            "baseline,,end",
            "baseline,halfway",
        ] {
            assert_eq!(parse_schedule(bad, 12), unknown, "{bad:?}");
        }
    }

    #[test]
    fn duplicates_and_schedules_without_a_baseline_are_refused() {
        assert_eq!(
            parse_schedule("baseline,end,end", 12),
            Err(Invalid::new("schedule-duplicate-point"))
        );
        assert_eq!(
            parse_schedule("baseline,week5, week5", 12),
            Err(Invalid::new("schedule-duplicate-point"))
        );
        let missing = Err(Invalid::new("schedule-missing-baseline"));
        assert_eq!(parse_schedule("week5,end", 12), missing);
        assert_eq!(parse_schedule("", 12), missing);
        assert_eq!(parse_schedule("  ", 12), missing);
    }
}
