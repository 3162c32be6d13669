//! One integration-test binary for the tracks crate: real-world-shaped files of every format,
//! refusals, hand-computed summaries, privacy trimming and a no-panic property test.

mod fit_encoder;
mod formats;
mod fuzz_findings;
mod privacy;
mod refusals;
mod robustness;
mod summaries;

pub const GARMIN_GPX: &[u8] = include_bytes!("../fixtures/garmin_forerunner.gpx");
pub const STRAVA_GPX: &[u8] = include_bytes!("../fixtures/strava_no_elevation.gpx");
pub const PAUSED_TCX: &[u8] = include_bytes!("../fixtures/garmin_connect_pause.tcx");
pub const BILLION_LAUGHS_GPX: &[u8] = include_bytes!("../fixtures/billion_laughs.gpx");

/// Metres in 0.0001° of latitude along a meridian (R = 6 371 000 m): R × 0.0001 × π / 180.
pub const METRES_PER_TEN_THOUSANDTH_DEGREE: f64 = 11.119_492_664_455_873;

pub fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "expected {expected} ± {tolerance}, got {actual}"
    );
}
