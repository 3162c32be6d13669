//! Attendance at group sessions and the dates of a recurring group schedule (SPEC §2 step 5,
//! C5). Dates are plain `(year, month, day)` civil dates in the proleptic Gregorian calendar;
//! the arithmetic is done here so the domain needs no date library.

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A civil date: year, month 1..=12, day 1..=31.
pub type Date = (i32, u8, u8);

/// Whether a participant came to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Present,
    /// Absent, but said so beforehand.
    #[serde(rename = "absent_notice")]
    AbsentWithNotice,
    Absent,
}

impl Attendance {
    pub const ALL: [Attendance; 3] = [
        Attendance::Present,
        Attendance::AbsentWithNotice,
        Attendance::Absent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Present => "present",
            Attendance::AbsentWithNotice => "absent_notice",
            Attendance::Absent => "absent",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(Invalid::new("invalid-attendance"))
    }
}

/// The share of sessions attended (0.0..=1.0): present over all records, so an absence with
/// notice counts as not attended. `None` when there is nothing to count yet.
pub fn attendance_rate(records: &[Attendance]) -> Option<f64> {
    if records.is_empty() {
        return None;
    }
    let present = records
        .iter()
        .filter(|a| **a == Attendance::Present)
        .count();
    Some(present as f64 / records.len() as f64)
}

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether the date exists (29 February only in leap years).
pub fn is_valid_date(year: i32, month: u8, day: u8) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Days since 1970-01-01 (H. Hinnant's `days_from_civil`); the date must be valid.
pub(crate) fn days_from_civil((year, month, day): Date) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let march_based_month = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * march_based_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`); `None` when the year
/// does not fit an `i32`.
pub(crate) fn civil_from_days(days: i64) -> Option<Date> {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 {
        march_based_month + 3
    } else {
        march_based_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Some((
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    ))
}

/// The ISO weekday of a day number: 1 is Monday, 7 is Sunday (1970-01-01 was a Thursday).
fn weekday_of_days(days: i64) -> u8 {
    // rem_euclid(7) is 0..=6, so the cast cannot truncate.
    (days + 3).rem_euclid(7) as u8 + 1
}

/// The ISO weekday of a date (1 Monday ..= 7 Sunday), `None` for a date that does not exist.
pub fn iso_weekday((year, month, day): Date) -> Option<u8> {
    is_valid_date(year, month, day).then(|| weekday_of_days(days_from_civil((year, month, day))))
}

/// The session dates of a recurring schedule: every date from `start_date` (included) through
/// the following `weeks` × 7 days whose ISO weekday (1 Monday ..= 7 Sunday) is in `weekdays`,
/// in date order. Weekdays outside 1..=7 and repeats are ignored; a start date that does not
/// exist gives no dates.
pub fn weekly_dates(start_date: Date, weekdays: &[u8], weeks: u16) -> Vec<Date> {
    let (year, month, day) = start_date;
    if !is_valid_date(year, month, day) {
        return Vec::new();
    }
    let start = days_from_civil(start_date);
    (start..start + 7 * i64::from(weeks))
        .filter(|d| weekdays.contains(&weekday_of_days(*d)))
        .map_while(civil_from_days)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use Attendance as A;

    #[test]
    fn attendance_round_trips_through_its_names() {
        for a in A::ALL {
            assert_eq!(A::parse(a.as_str()), Ok(a));
        }
        let names: Vec<_> = A::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["present", "absent_notice", "absent"]);
        for bad in ["", "Present", "late", "absent_with_notice"] {
            assert_eq!(A::parse(bad), Err(Invalid::new("invalid-attendance")));
        }
    }

    #[test]
    fn attendance_rate_counts_only_present_as_attended() {
        assert_eq!(attendance_rate(&[]), None);
        assert_eq!(attendance_rate(&[A::Present]), Some(1.0));
        assert_eq!(attendance_rate(&[A::Absent]), Some(0.0));
        assert_eq!(
            attendance_rate(&[A::Present, A::AbsentWithNotice, A::Absent, A::Present]),
            Some(0.5)
        );
        let twelve: Vec<A> = (0..12)
            .map(|i| {
                if i < 9 {
                    A::Present
                } else {
                    A::AbsentWithNotice
                }
            })
            .collect();
        assert_eq!(attendance_rate(&twelve), Some(0.75));
    }

    #[test]
    fn leap_years_follow_the_gregorian_rules() {
        assert!(is_valid_date(2024, 2, 29));
        assert!(!is_valid_date(2023, 2, 29));
        assert!(!is_valid_date(1900, 2, 29));
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(2100, 2, 29));
        assert!(is_valid_date(-4, 2, 29));
    }

    #[test]
    fn impossible_dates_are_not_valid() {
        assert!(is_valid_date(2024, 1, 31));
        assert!(is_valid_date(2024, 12, 31));
        assert!(!is_valid_date(2024, 4, 31));
        assert!(!is_valid_date(2024, 1, 0));
        assert!(!is_valid_date(2024, 1, 32));
        assert!(!is_valid_date(2024, 0, 1));
        assert!(!is_valid_date(2024, 13, 1));
        assert!(!is_valid_date(2023, 2, 30));
    }

    #[test]
    fn weekdays_of_known_dates_are_right() {
        assert_eq!(iso_weekday((1970, 1, 1)), Some(4));
        assert_eq!(iso_weekday((2000, 1, 1)), Some(6));
        assert_eq!(iso_weekday((2024, 1, 1)), Some(1));
        assert_eq!(iso_weekday((2024, 2, 29)), Some(4));
        assert_eq!(iso_weekday((2024, 12, 30)), Some(1));
        assert_eq!(iso_weekday((2025, 1, 5)), Some(7));
        assert_eq!(iso_weekday((1969, 12, 31)), Some(3));
        assert_eq!(iso_weekday((2023, 2, 29)), None);
    }

    #[test]
    fn day_numbers_and_dates_convert_both_ways_across_four_centuries() {
        let start = days_from_civil((1899, 12, 25));
        let mut expected = (1899, 12, 25);
        for days in start..start + 146_097 + 400 {
            assert_eq!(civil_from_days(days), Some(expected));
            assert_eq!(days_from_civil(expected), days);
            let (y, m, d) = expected;
            expected = if is_valid_date(y, m, d + 1) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        assert_eq!(days_from_civil((1970, 1, 1)), 0);
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
    }

    #[test]
    fn a_twice_weekly_group_meets_on_its_days_across_a_month_end() {
        // 2024-01-29 is a Monday.
        assert_eq!(
            weekly_dates((2024, 1, 29), &[1, 4], 2),
            [(2024, 1, 29), (2024, 2, 1), (2024, 2, 5), (2024, 2, 8)]
        );
    }

    #[test]
    fn a_schedule_runs_across_the_year_end() {
        // 2024-12-30 is a Monday.
        assert_eq!(
            weekly_dates((2024, 12, 30), &[2, 5], 2),
            [(2024, 12, 31), (2025, 1, 3), (2025, 1, 7), (2025, 1, 10)]
        );
    }

    #[test]
    fn a_schedule_meets_on_leap_day_and_skips_it_otherwise() {
        // 2024-02-26 and 2023-02-27 are Mondays; 2100 is not a leap year.
        assert_eq!(
            weekly_dates((2024, 2, 26), &[4], 2),
            [(2024, 2, 29), (2024, 3, 7)]
        );
        assert_eq!(
            weekly_dates((2023, 2, 27), &[3], 2),
            [(2023, 3, 1), (2023, 3, 8)]
        );
        assert_eq!(
            weekly_dates((2100, 2, 23), &[1], 2),
            [(2100, 3, 1), (2100, 3, 8)]
        );
    }

    #[test]
    fn the_start_date_is_included_and_the_window_is_exactly_the_weeks() {
        // 2024-03-06 is a Wednesday: one week runs through Tuesday 2024-03-12.
        assert_eq!(
            weekly_dates((2024, 3, 6), &[1, 2, 3], 1),
            [(2024, 3, 6), (2024, 3, 11), (2024, 3, 12)]
        );
        assert_eq!(weekly_dates((2024, 3, 6), &[4], 1), [(2024, 3, 7)]);
    }

    #[test]
    fn a_twelve_week_group_has_one_session_a_week_per_weekday_in_order() {
        let dates = weekly_dates((2024, 9, 2), &[6, 2], 12);
        assert_eq!(dates.len(), 24);
        assert!(dates.windows(2).all(|p| p[0] < p[1]));
        assert!(
            dates
                .iter()
                .all(|d| matches!(iso_weekday(*d), Some(2) | Some(6)))
        );
        assert_eq!(dates.first(), Some(&(2024, 9, 3)));
        assert_eq!(dates.last(), Some(&(2024, 11, 23)));
    }

    #[test]
    fn every_day_of_the_week_gives_seven_dates_a_week() {
        let dates = weekly_dates((2023, 12, 25), &[1, 2, 3, 4, 5, 6, 7], 52);
        assert_eq!(dates.len(), 364);
        assert!(dates.contains(&(2024, 2, 29)));
        assert_eq!(dates.last(), Some(&(2024, 12, 22)));
    }

    #[test]
    fn unknown_weekdays_repeats_no_weeks_and_bad_start_dates_give_nothing_extra() {
        assert_eq!(
            weekly_dates((2024, 1, 1), &[1, 1, 0, 8, 255], 2),
            [(2024, 1, 1), (2024, 1, 8)]
        );
        assert!(weekly_dates((2024, 1, 1), &[], 4).is_empty());
        assert!(weekly_dates((2024, 1, 1), &[1], 0).is_empty());
        assert!(weekly_dates((2023, 2, 29), &[1, 2, 3], 4).is_empty());
        assert!(weekly_dates((2024, 13, 1), &[1], 4).is_empty());
    }

    #[test]
    fn dates_past_the_last_representable_year_are_left_out() {
        let dates = weekly_dates((i32::MAX, 12, 25), &[1, 2, 3, 4, 5, 6, 7], 2);
        assert_eq!(dates.len(), 7);
        assert_eq!(dates.last(), Some(&(i32::MAX, 12, 31)));
    }
}
