//! The first and last 200 m of a track are never shown.

use duurloop_tracks::{Point, Track, privacy_trimmed};

use crate::{METRES_PER_TEN_THOUSANDTH_DEGREE as STEP_M, assert_close};

/// A straight run north from 52°N 5°E with a point every 0.0001° (11.12 m).
fn straight_north(points: u32) -> Track {
    let points = (0..points)
        .map(|k| Point {
            time_s: None,
            lat: 52.0 + 0.0001 * f64::from(k),
            lon: 5.0,
            ele_m: None,
            hr: None,
        })
        .collect();
    Track { points }
}

fn metres_north_of_start(lat: f64) -> f64 {
    (lat - 52.0) / 0.0001 * STEP_M
}

#[test]
fn the_shown_path_starts_and_ends_exactly_two_hundred_metres_in() {
    let track = straight_north(91); // 90 steps: 1000.75 m
    let total = 90.0 * STEP_M;
    let path = privacy_trimmed(&track, 200.0);
    let (first, last) = (path[0], path[path.len() - 1]);
    assert_close(metres_north_of_start(first.0), 200.0, 1e-3);
    assert_close(metres_north_of_start(last.0), total - 200.0, 1e-3);
    // Every point shown lies inside the window, and every recorded point inside it is shown.
    assert!(path.iter().all(|&(lat, _)| {
        (200.0 - 1e-3..=total - 200.0 + 1e-3).contains(&metres_north_of_start(lat))
    }));
    let inside = track
        .points
        .iter()
        .filter(|p| (200.0..=total - 200.0).contains(&metres_north_of_start(p.lat)))
        .count();
    assert_eq!(path.len(), inside + 2);
}

#[test]
fn home_is_never_shown_for_a_run_that_starts_and_ends_at_the_door() {
    // Out 500 m and back along the same street.
    let mut track = straight_north(46);
    let back: Vec<Point> = track.points.iter().rev().skip(1).copied().collect();
    track.points.extend(back);
    let home = (track.points[0].lat, track.points[0].lon);
    let path = privacy_trimmed(&track, 200.0);
    assert!(!path.is_empty());
    assert!(
        path.iter()
            .all(|&(lat, _)| metres_north_of_start(lat) >= 200.0 - 1e-3),
        "{home:?} region shown"
    );
}

#[test]
fn a_track_not_longer_than_twice_the_margin_shows_nothing() {
    let short = straight_north(36); // 35 steps: 389 m
    assert!(privacy_trimmed(&short, 200.0).is_empty());
    assert!(privacy_trimmed(&Track::default(), 200.0).is_empty());
    assert!(privacy_trimmed(&straight_north(1), 0.0).is_empty());
}

#[test]
fn a_margin_that_is_not_a_number_shows_nothing_and_a_negative_one_shows_everything() {
    let track = straight_north(91);
    assert!(privacy_trimmed(&track, f64::NAN).is_empty());
    let all = privacy_trimmed(&track, -5.0);
    let whole: Vec<(f64, f64)> = track.points.iter().map(|p| (p.lat, p.lon)).collect();
    assert_eq!(all, whole);
}
