//! Summary rules checked against hand computations on small made-up tracks.

use duurloop_tracks::{HrZone, Point, Summary, Track, summarise};

use crate::{METRES_PER_TEN_THOUSANDTH_DEGREE as STEP_M, assert_close};

/// A point `steps` × 0.0001° north of 52°N 5°E.
fn point(steps: u32, time_s: Option<i64>, ele_m: Option<f64>, hr: Option<u16>) -> Point {
    Point {
        time_s,
        lat: 52.0 + 0.0001 * f64::from(steps),
        lon: 5.0,
        ele_m,
        hr,
    }
}

fn track(points: Vec<Point>) -> Track {
    Track { points }
}

#[test]
fn an_empty_track_or_a_single_point_sums_to_nothing() {
    let empty = summarise(
        &Track::default(),
        Some(HrZone {
            low: 100,
            high: 150,
        }),
    );
    assert_eq!(
        empty,
        Summary {
            start_s: None,
            duration_s: 0,
            moving_s: 0,
            distance_m: 0.0,
            elevation_gain_m: None,
            avg_hr: None,
            max_hr: None,
            in_zone_s: None
        }
    );
    let single = summarise(
        &track(vec![point(0, Some(1000), Some(5.0), Some(120))]),
        None,
    );
    assert_eq!(
        (single.start_s, single.duration_s, single.distance_m),
        (Some(1000), 0, 0.0)
    );
    assert_eq!(
        (single.elevation_gain_m, single.avg_hr, single.max_hr),
        (Some(0.0), Some(120), Some(120))
    );
}

#[test]
fn a_track_without_times_has_a_distance_but_no_durations_and_a_point_average_heart_rate() {
    let points = vec![
        point(0, None, None, Some(100)),
        point(1, None, None, Some(111)),
        point(3, None, None, None),
    ];
    let summary = summarise(&track(points), Some(HrZone { low: 90, high: 200 }));
    assert_close(summary.distance_m, 3.0 * STEP_M, 1e-6);
    assert_eq!(
        (summary.start_s, summary.duration_s, summary.moving_s),
        (None, 0, 0)
    );
    // (100 + 111) / 2 = 105.5, rounded half up.
    assert_eq!(summary.avg_hr, Some(106));
    assert_eq!(summary.max_hr, Some(111));
    assert_eq!(summary.in_zone_s, None);
}

#[test]
fn standing_still_is_not_moving_but_its_heart_rate_counts() {
    // 10 s running (11.1 m), 10 s standing at a traffic light, 10 s running.
    let points = vec![
        point(0, Some(0), None, Some(150)),
        point(1, Some(10), None, Some(150)),
        point(1, Some(20), None, Some(110)),
        point(2, Some(30), None, Some(160)),
    ];
    let summary = summarise(
        &track(points),
        Some(HrZone {
            low: 100,
            high: 120,
        }),
    );
    assert_eq!((summary.duration_s, summary.moving_s), (30, 20));
    // (150 + 110 + 160) × 10 s / 30 s = 140.
    assert_eq!(summary.avg_hr, Some(140));
    assert_eq!(summary.in_zone_s, Some(10));
}

#[test]
fn walking_just_under_half_a_metre_per_second_is_not_moving() {
    // 11.12 m in 23 s is 0.483 m/s; in 22 s it is 0.505 m/s.
    let slow = summarise(
        &track(vec![
            point(0, Some(0), None, None),
            point(1, Some(23), None, None),
        ]),
        None,
    );
    let fast = summarise(
        &track(vec![
            point(0, Some(0), None, None),
            point(1, Some(22), None, None),
        ]),
        None,
    );
    assert_eq!((slow.moving_s, fast.moving_s), (0, 22));
}

#[test]
fn a_gap_longer_than_thirty_seconds_is_a_pause_even_when_the_runner_moved() {
    // 31 s for 1 km (the watch lost GPS in a tunnel): not moving time, no heart rate, but the
    // distance and the duration count.
    let points = vec![
        point(0, Some(0), None, Some(140)),
        point(30, Some(30), None, Some(150)),
        point(900, Some(61), None, Some(190)),
    ];
    let summary = summarise(
        &track(points),
        Some(HrZone {
            low: 180,
            high: 200,
        }),
    );
    assert_eq!((summary.duration_s, summary.moving_s), (61, 30));
    assert_close(summary.distance_m, 900.0 * STEP_M, 1e-3);
    assert_eq!(summary.avg_hr, Some(150));
    assert_eq!(summary.max_hr, Some(190));
    assert_eq!(summary.in_zone_s, Some(0));
}

#[test]
fn repeated_or_backwards_timestamps_count_for_distance_only() {
    let points = vec![
        point(0, Some(100), None, Some(120)),
        point(1, Some(100), None, Some(130)),
        point(2, Some(90), None, Some(140)),
        point(3, Some(95), None, Some(150)),
    ];
    let summary = summarise(
        &track(points),
        Some(HrZone {
            low: 140,
            high: 160,
        }),
    );
    assert_close(summary.distance_m, 3.0 * STEP_M, 1e-6);
    // Only 90 → 95 is a real interval; duration is last − first time, never negative.
    assert_eq!(
        (summary.moving_s, summary.duration_s, summary.start_s),
        (5, 0, Some(100))
    );
    assert_eq!(summary.in_zone_s, Some(5));
}

#[test]
fn a_reading_missing_at_the_later_point_falls_back_on_the_earlier_one() {
    let points = vec![
        point(0, Some(0), None, Some(130)),
        point(1, Some(5), None, None),
        point(2, Some(10), None, Some(170)),
    ];
    let summary = summarise(
        &track(points),
        Some(HrZone {
            low: 125,
            high: 135,
        }),
    );
    // Intervals carry 130 (fallback) and 170 for 5 s each.
    assert_eq!(summary.avg_hr, Some(150));
    assert_eq!(summary.in_zone_s, Some(5));
}

#[test]
fn zone_bounds_are_inclusive_and_an_inverted_zone_contains_nothing() {
    let points = vec![
        point(0, Some(0), None, Some(120)),
        point(1, Some(4), None, Some(120)),
        point(2, Some(8), None, Some(150)),
    ];
    let t = track(points);
    assert_eq!(
        summarise(
            &t,
            Some(HrZone {
                low: 120,
                high: 150
            })
        )
        .in_zone_s,
        Some(8)
    );
    assert_eq!(
        summarise(
            &t,
            Some(HrZone {
                low: 121,
                high: 149
            })
        )
        .in_zone_s,
        Some(0)
    );
    assert_eq!(
        summarise(
            &t,
            Some(HrZone {
                low: 150,
                high: 120
            })
        )
        .in_zone_s,
        Some(0)
    );
    assert_eq!(summarise(&t, None).in_zone_s, None);
}

#[test]
fn elevation_noise_under_a_metre_is_not_a_climb() {
    let noisy = [10.0, 10.4, 9.8, 10.3, 9.7, 10.2, 9.9];
    let points = noisy
        .iter()
        .enumerate()
        .map(|(k, &e)| point(k as u32, None, Some(e), None))
        .collect();
    assert_eq!(summarise(&track(points), None).elevation_gain_m, Some(0.0));
}

#[test]
fn a_slow_steady_climb_counts_in_full_and_descents_do_not_count() {
    // Up 0.5 m per point from 0 to 10 m, down to 2 m, up to 5 m: 10 + 3 = 13 m of climbing.
    let mut elevations: Vec<f64> = (0..=20).map(|k| f64::from(k) * 0.5).collect();
    elevations.extend([8.0, 6.0, 4.0, 2.0, 3.0, 4.0, 5.0]);
    let points = elevations
        .iter()
        .enumerate()
        .map(|(k, &e)| point(k as u32, None, Some(e), None))
        .collect();
    assert_close(
        summarise(&track(points), None)
            .elevation_gain_m
            .expect("elevation"),
        13.0,
        1e-9,
    );
}

#[test]
fn points_without_elevation_are_skipped_for_the_climb() {
    let points = vec![
        point(0, None, Some(1.0), None),
        point(1, None, None, None),
        point(2, None, Some(4.5), None),
    ];
    assert_eq!(summarise(&track(points), None).elevation_gain_m, Some(3.5));
}
