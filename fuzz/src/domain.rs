//! Invariants of `duurloop-domain` shared by the `questionnaire` and `forms` targets: the
//! measurement schedule (`measure::parse_schedule` / `format_schedule`, SPEC §2 step 6), which
//! a coordinator types in a form and which is stored in its compact form.

use std::sync::Once;

use duurloop_domain::measure::{Point, default_schedule, format_schedule, parse_schedule};

/// Programme lengths the schedule is read for: none (counts as one week), one, around the
/// `week5` / `week10` edges, the usual 12, the longest plan and the largest `u16`.
pub const SCHEDULE_WEEKS: [u16; 8] = [0, 1, 5, 6, 11, 12, 26, u16::MAX];

/// The most comma-separated codes looked at one by one (the whole text is always parsed).
const MAX_CODES: usize = 32;

/// `parse_schedule(text, weeks)` for every length in [`SCHEDULE_WEEKS`]: never panics, an
/// accepted schedule is sane and survives `format_schedule` (how the app stores it), every
/// code means what the module documentation says, and the default schedule reads back.
pub fn check_schedule(text: &str) {
    static DEFAULTS: Once = Once::new();
    DEFAULTS.call_once(|| {
        for weeks in SCHEDULE_WEEKS {
            let usual = default_schedule(weeks);
            assert_eq!(
                parse_schedule(&format_schedule(&usual), weeks).as_ref(),
                Ok(&usual),
                "the default schedule for {weeks} weeks does not read back"
            );
        }
    });
    for weeks in SCHEDULE_WEEKS {
        check_schedule_for(text, weeks);
        for code in text.split(',').take(MAX_CODES) {
            check_point(code, weeks);
            check_point(code.trim(), weeks);
        }
    }
}

fn check_schedule_for(text: &str, weeks: u16) {
    let points = match parse_schedule(text, weeks) {
        Ok(points) => points,
        Err(e) => {
            assert!(
                matches!(
                    e.key,
                    "schedule-unknown-point"
                        | "schedule-duplicate-point"
                        | "schedule-missing-baseline"
                ),
                "undocumented schedule error {:?}",
                e.key
            );
            return;
        }
    };
    let codes: Vec<&str> = text.split(',').map(str::trim).collect();
    assert_eq!(
        points.len(),
        codes.len(),
        "{text:?} ({weeks} weeks) gave {points:?}"
    );
    assert!(
        points
            .iter()
            .any(|p| p.code == "baseline" && p.offset_days == 0),
        "accepted without a baseline at day 0: {points:?}"
    );
    for point in &points {
        assert!(
            codes.contains(&point.code.as_str()),
            "{point:?} is not in {text:?}"
        );
        assert_eq!(
            Point::parse(&point.code, weeks).as_ref(),
            Some(point),
            "a point of the schedule reads differently on its own"
        );
    }
    // Time order; distinct codes never share a day (week points lie before the end, follow-ups
    // after it), so the order is strict and the stored form is canonical.
    assert!(
        points
            .windows(2)
            .all(|w| w[0].offset_days < w[1].offset_days),
        "not in strict time order: {points:?}"
    );
    let stored = format_schedule(&points);
    assert_eq!(
        parse_schedule(&stored, weeks).as_ref(),
        Ok(&points),
        "{stored:?} (from {text:?}, {weeks} weeks) does not read back"
    );
    assert_eq!(
        format_schedule(&parse_schedule(&stored, weeks).unwrap_or_default()),
        stored,
        "the stored form is not stable"
    );
}

/// `Point::parse` against the grammar of `measure/schedule.rs`, written out independently.
fn check_point(code: &str, weeks: u16) {
    let end = 7 * i64::from(weeks.max(1));
    // Digits without a leading zero, at most four.
    let number = |digits: &str| {
        (!digits.is_empty()
            && digits.len() <= 4
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse::<i64>().ok())
        .flatten()
    };
    let expected = match code {
        "baseline" => Some(0),
        "end" => Some(end),
        _ => {
            if let Some(n) = code.strip_prefix("week").and_then(number) {
                (n < i64::from(weeks.max(1))).then_some(7 * n)
            } else if let Some(m) = code.strip_prefix("followup").and_then(number) {
                // m × 13/3 weeks, rounded to whole days.
                (1..=24)
                    .contains(&m)
                    .then(|| end + (m as f64 * 91.0 / 3.0).round() as i64)
            } else {
                None
            }
        }
    };
    let parsed = Point::parse(code, weeks);
    assert_eq!(
        parsed.as_ref().map(|p| p.offset_days),
        expected,
        "Point::parse({code:?}, {weeks})"
    );
    if let Some(p) = parsed {
        assert_eq!(p.code, code);
    }
}
