//! Invariants shared by the fuzz targets: whatever `duurloop-tracks` accepts must be a sane
//! track, and its summaries and privacy-trimmed path must obey the rules documented in
//! `crates/duurloop-tracks/src/summary.rs`. Every check is an `assert!`, so a violation is a
//! crash that libFuzzer saves to `fuzz/artifacts/<target>/`.
//!
//! Deliberately *not* checked: `moving_s <= duration_s` for every track. Duration is
//! "last time − first time" while moving time sums the forward intervals, so with timestamps
//! that go backwards moving time can exceed the duration; the crate documents and tests this
//! (`repeated_or_backwards_timestamps_count_for_distance_only`: moving 5 s, duration 0 s). It is
//! checked for tracks whose timestamps never go backwards, and an exact upper bound is checked
//! for all tracks.
//!
//! The invariants of `duurloop-domain` that more than one target checks are in [`domain`].

pub mod domain;

use duurloop_tracks::{
    HrZone, MAX_GAP_S, MAX_POINTS, MIN_MOVING_SPEED_M_S, Point, Summary, Track, privacy_trimmed,
    summarise,
};

/// Mean earth radius used by the crate; half the circumference bounds one interval's distance.
const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Zones that exercise every branch: typical, everything, nothing (low > high), one value.
const ZONES: [HrZone; 4] = [
    HrZone {
        low: 120,
        high: 160,
    },
    HrZone {
        low: 0,
        high: u16::MAX,
    },
    HrZone {
        low: 200,
        high: 100,
    },
    HrZone {
        low: 150,
        high: 150,
    },
];

/// Distances (m) to trim: none, the app's usual values, more than any run, and nonsense.
const TRIMS: [f64; 7] = [0.0, 200.0, 500.0, 1e9, -5.0, f64::NAN, f64::INFINITY];

/// Everything the fuzz targets check for a track that a parser accepted.
pub fn check_accepted(track: &Track) {
    check_points(track);
    check_summaries(track);
    check_privacy(track);
}

/// Parsers only return non-empty, bounded tracks of real positions and plausible readings.
pub fn check_points(track: &Track) {
    let n = track.points.len();
    assert!(n >= 1, "an accepted track has no points");
    assert!(n <= MAX_POINTS, "{n} points is more than MAX_POINTS");
    for p in &track.points {
        assert!(
            (-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lon),
            "a point is off the earth: {} {}",
            p.lat,
            p.lon
        );
        if let Some(ele) = p.ele_m {
            // Outside this range a reading is junk and the parsers drop it (and it is finite).
            assert!((-11_000.0..=100_000.0).contains(&ele), "elevation {ele}");
        }
        if let Some(hr) = p.hr {
            assert!((1..=250).contains(&hr), "heart rate {hr}");
        }
    }
}

/// The forward gaps of at most MAX_GAP_S between consecutive points with times: the only
/// intervals that may count as moving time or heart-rate time. Returns (all, with a reading).
fn timed_seconds(points: &[Point]) -> (i64, i64) {
    let (mut all, mut with_hr) = (0i64, 0i64);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (Some(ta), Some(tb)) = (a.time_s, b.time_s) else {
            continue;
        };
        let Some(gap) = tb.checked_sub(ta) else {
            continue;
        };
        if (1..=MAX_GAP_S).contains(&gap) {
            all += gap;
            if b.hr.or(a.hr).is_some() {
                with_hr += gap;
            }
        }
    }
    (all, with_hr)
}

fn same_except_zone(a: &Summary, b: &Summary) -> bool {
    a.start_s == b.start_s
        && a.duration_s == b.duration_s
        && a.moving_s == b.moving_s
        && a.distance_m.to_bits() == b.distance_m.to_bits()
        && a.elevation_gain_m.map(f64::to_bits) == b.elevation_gain_m.map(f64::to_bits)
        && a.avg_hr == b.avg_hr
        && a.max_hr == b.max_hr
}

pub fn check_summaries(track: &Track) {
    let points = &track.points;
    let plain = summarise(track, None);
    let (timed, timed_with_hr) = timed_seconds(points);
    let times: Vec<i64> = points.iter().filter_map(|p| p.time_s).collect();
    let monotonic = times.windows(2).all(|w| w[0] <= w[1]);

    // Time.
    assert_eq!(plain.start_s, times.first().copied(), "start_s");
    assert!(plain.duration_s >= 0, "negative duration");
    let expected_duration = match (times.first(), times.last()) {
        (Some(first), Some(last)) => last.saturating_sub(*first).max(0),
        _ => 0,
    };
    assert_eq!(
        plain.duration_s, expected_duration,
        "duration is not last − first"
    );
    assert!(
        (0..=timed).contains(&plain.moving_s),
        "moving {} s outside 0..={timed} s of timed intervals",
        plain.moving_s
    );
    if monotonic {
        assert!(
            plain.moving_s <= plain.duration_s,
            "moving {} s > duration {} s with ordered timestamps",
            plain.moving_s,
            plain.duration_s
        );
    }

    // Distance: each interval is at most half the earth's circumference.
    let max_distance = (points.len() - 1) as f64 * std::f64::consts::PI * EARTH_RADIUS_M;
    assert!(
        plain.distance_m.is_finite()
            && plain.distance_m >= 0.0
            && plain.distance_m <= max_distance * 1.000_001,
        "distance {}",
        plain.distance_m
    );
    // Moving needs MIN_MOVING_SPEED_M_S per timed second; all distance counts, paused or not.
    assert!(
        plain.moving_s as f64 * MIN_MOVING_SPEED_M_S <= plain.distance_m * 1.000_001 + 1e-6,
        "moving {} s over only {} m",
        plain.moving_s,
        plain.distance_m
    );

    // Elevation.
    let any_elevation = points.iter().any(|p| p.ele_m.is_some());
    assert_eq!(
        plain.elevation_gain_m.is_some(),
        any_elevation,
        "elevation gain presence"
    );
    if let Some(gain) = plain.elevation_gain_m {
        assert!(gain.is_finite() && gain >= 0.0, "elevation gain {gain}");
    }

    // Heart rate.
    let readings: Vec<u16> = points.iter().filter_map(|p| p.hr).collect();
    assert_eq!(plain.max_hr, readings.iter().copied().max(), "max_hr");
    assert_eq!(
        plain.avg_hr.is_some(),
        !readings.is_empty(),
        "avg_hr presence"
    );
    if let (Some(avg), Some(&min), Some(&max)) =
        (plain.avg_hr, readings.iter().min(), readings.iter().max())
    {
        assert!(
            (min..=max).contains(&avg),
            "avg_hr {avg} outside {min}..={max}"
        );
    }
    assert_eq!(plain.in_zone_s, None, "time in zone without a zone");

    // A zone changes only the time in zone, which lies within the timed intervals with a reading.
    for zone in ZONES {
        let s = summarise(track, Some(zone));
        assert!(
            same_except_zone(&plain, &s),
            "a zone changed the summary: {zone:?}"
        );
        match s.in_zone_s {
            None => assert_eq!(timed_with_hr, 0, "no time in zone for {zone:?}"),
            Some(in_zone) => {
                assert!(timed_with_hr > 0, "time in zone without a timed reading");
                assert!(
                    (0..=timed_with_hr).contains(&in_zone),
                    "in zone {in_zone} s outside 0..={timed_with_hr} s"
                );
                if monotonic {
                    assert!(in_zone <= s.duration_s, "in zone {in_zone} s > duration");
                }
                if zone.low == 0 && zone.high == u16::MAX {
                    assert_eq!(
                        in_zone, timed_with_hr,
                        "the whole range is not all the time"
                    );
                }
                if zone.low > zone.high {
                    assert_eq!(in_zone, 0, "an empty zone has time in it");
                }
            }
        }
    }
    // Deterministic.
    assert!(same_except_zone(&plain, &summarise(track, None)));
}

pub fn check_privacy(track: &Track) {
    let points = &track.points;
    let distance = summarise(track, None).distance_m;
    for metres in TRIMS {
        let path = privacy_trimmed(track, metres);
        for &(lat, lon) in &path {
            assert!(
                (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon),
                "trimmed path leaves the earth: {lat} {lon} (trim {metres} m)"
            );
        }
        assert!(
            path.len() <= points.len() + 2,
            "trimmed path has {} positions for {} points",
            path.len(),
            points.len()
        );
        let cut = metres.max(0.0);
        if metres.is_nan() || metres.is_infinite() || distance <= 2.0 * cut {
            assert!(
                path.is_empty(),
                "a track of {distance} m trimmed by {metres} m is not empty"
            );
        } else {
            assert!(
                path.len() >= 2,
                "a track of {distance} m trimmed by {metres} m lost its ends"
            );
        }
    }
}
