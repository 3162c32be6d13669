//! ISO 8601 timestamps as used in GPX and TCX (`2024-03-09T08:00:00.000Z`), without a date
//! library: the format is fixed enough to read by hand, and this is on the hot path.

/// Unix seconds for `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM|±HHMM]`; a time without a zone is taken
/// as UTC (GPX requires UTC). Fractions of a second are dropped. `None` when it is not a valid
/// timestamp.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    if !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&s[0..4])?;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let hour = digits(&s[11..13])?;
    let minute = digits(&s[14..16])?;
    let second = digits(&s[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = zone_offset(skip_fraction(&s[19..])?)?;
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn skip_fraction(rest: &[u8]) -> Option<&[u8]> {
    match rest.first() {
        Some(b'.' | b',') => {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            (n > 0).then(|| &rest[1 + n..])
        }
        _ => Some(rest),
    }
}

/// Seconds east of UTC.
fn zone_offset(zone: &[u8]) -> Option<i64> {
    let (sign, rest) = match zone {
        [] | [b'Z' | b'z'] => return Some(0),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest {
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        [h1, h2] => (digits(&[*h1, *h2])?, 0),
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

fn digits(s: &[u8]) -> Option<i64> {
    s.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_iso8601;

    #[test]
    fn utc_timestamps_become_unix_seconds() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("2024-03-09T08:00:00Z"), Some(1_709_971_200));
        assert_eq!(parse_iso8601("2000-02-29T23:59:59Z"), Some(951_868_799));
        assert_eq!(parse_iso8601("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn fractions_are_dropped_and_zones_are_applied() {
        assert_eq!(
            parse_iso8601("2024-03-09T08:00:00.999Z"),
            Some(1_709_971_200)
        );
        assert_eq!(
            parse_iso8601(" 2024-03-09T09:00:00+01:00\n"),
            Some(1_709_971_200)
        );
        assert_eq!(
            parse_iso8601("2024-03-09T07:30:00-0030"),
            Some(1_709_971_200)
        );
        assert_eq!(parse_iso8601("2024-03-09T08:00:00"), Some(1_709_971_200));
    }

    #[test]
    fn impossible_or_garbled_timestamps_are_refused() {
        for bad in [
            "",
            "2024-03-09",
            "2024-02-30T08:00:00Z",
            "2023-02-29T08:00:00Z",
            "2024-13-01T08:00:00Z",
            "2024-03-09T24:00:00Z",
            "2024-03-09X08:00:00Z",
            "2024-03-09T08:00:00.Z",
            "2024-03-09T08:00:00+2500",
            "2024-03-09T08:00:00 garbage",
            "20a4-03-09T08:00:00Z",
            "2024-03-09T08:00:00ZZ",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad:?}");
        }
    }
}
