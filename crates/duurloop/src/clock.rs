//! The injected clock. Everything that needs "now" asks the clock in `AppState`, so tests and
//! the demo can move time forward (reminders, expiring links, week-5 questionnaires).

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> i64;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// The real clock shifted by an adjustable offset (tests, demo time travel).
#[derive(Clone, Default)]
pub struct OffsetClock {
    offset_ms: Arc<AtomicI64>,
}

impl OffsetClock {
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms.load(Ordering::SeqCst)
    }
}

/// Formats an instant for people: Europe/Amsterdam, `dd-mm-jjjj hh:mm`.
pub fn format_local(ms: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).strftime("%d-%m-%Y %H:%M").to_string()
}

/// The date (`jjjj-mm-dd`) an instant falls on in Europe/Amsterdam.
pub fn local_date(ms: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).date().to_string()
}

/// The date an instant falls on in Europe/Amsterdam, for people: `dd-mm-jjjj`.
pub fn format_local_date(ms: i64) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).strftime("%d-%m-%Y").to_string()
}

/// The same moment `years` calendar years later (earlier when negative) on the clock in
/// Europe/Amsterdam; 29 February becomes 28 February in a year without it. `None` when the
/// result is out of range (callers then do nothing rather than guess).
pub fn years_after(ms: i64, years: i64) -> Option<i64> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    let span = jiff::Span::new().try_years(years).ok()?;
    let later = ts.to_zoned(tz).checked_add(span).ok()?;
    Some(later.timestamp().as_millisecond())
}

/// The month (`jjjj-mm`) an instant falls in, in Europe/Amsterdam.
pub fn local_month(ms: i64) -> String {
    local_date(ms).chars().take(7).collect()
}

/// Parses a `jjjj-mm-dd` date as the start of that day in Europe/Amsterdam.
pub fn parse_local_date(s: &str) -> Option<i64> {
    let date: jiff::civil::Date = s.trim().parse().ok()?;
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").ok()?;
    Some(date.to_zoned(tz).ok()?.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_amsterdam_time() {
        // 2026-07-01T10:00Z is 12:00 in summer time.
        let ms = jiff::Timestamp::from_second(1_782_900_000).map(|t| t.as_millisecond());
        assert_eq!(
            ms.map(format_local).ok().as_deref(),
            Some("01-07-2026 12:00")
        );
        assert_eq!(parse_local_date("2026-07-01"), Some(1_782_856_800_000));
        assert_eq!(parse_local_date("1 juli"), None);
    }

    #[test]
    fn years_are_counted_on_the_calendar_in_amsterdam() {
        let closed = parse_local_date("2026-07-01").expect("date");
        let later = years_after(closed, 20).expect("in range");
        assert_eq!(local_date(later), "2046-07-01");
        assert_eq!(format_local_date(later), "01-07-2046");
        assert_eq!(years_after(later, -20), Some(closed));
        let leap = parse_local_date("2028-02-29").expect("leap day");
        assert_eq!(
            years_after(leap, 1).map(local_date).as_deref(),
            Some("2029-02-28")
        );
        assert_eq!(years_after(closed, 100_000), None);
    }
}
