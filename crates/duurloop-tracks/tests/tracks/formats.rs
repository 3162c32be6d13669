//! Real-world-shaped files of every format parse to the expected points and numbers.

use duurloop_tracks::{Format, HrZone, Point, detect, parse, parse_any, summarise};

use crate::fit_encoder::{self, FitWriter, Sample, UINT8, UINT32};
use crate::{
    GARMIN_GPX, METRES_PER_TEN_THOUSANDTH_DEGREE as STEP_M, PAUSED_TCX, STRAVA_GPX, assert_close,
};

const START_2024_03_09_0800: i64 = 1_709_971_200;

#[test]
fn a_garmin_gpx_with_heart_rate_extensions_gives_every_point_and_reading() {
    let track = parse(GARMIN_GPX, Format::Gpx).expect("valid GPX");
    // The waypoint is not part of the run; the two track segments are joined.
    assert_eq!(track.points.len(), 6);
    assert_eq!(
        track.points[0],
        Point {
            time_s: Some(START_2024_03_09_0800),
            lat: 52.09,
            lon: 5.12,
            ele_m: Some(3.0),
            hr: Some(120)
        }
    );
    let hrs: Vec<_> = track.points.iter().map(|p| p.hr).collect();
    assert_eq!(hrs, [120, 130, 140, 150, 160, 170].map(Some));
    assert_eq!(track.points[5].time_s, Some(START_2024_03_09_0800 + 25));
}

#[test]
fn a_garmin_gpx_summary_matches_the_hand_computation() {
    let track = parse(GARMIN_GPX, Format::Gpx).expect("valid GPX");
    let summary = summarise(
        &track,
        Some(HrZone {
            low: 135,
            high: 155,
        }),
    );
    assert_eq!(summary.start_s, Some(START_2024_03_09_0800));
    assert_eq!(summary.duration_s, 25);
    // Five steps of 0.0001° north, 5 s each: 2.2 m/s, all moving.
    assert_close(summary.distance_m, 5.0 * STEP_M, 1e-6);
    assert_eq!(summary.moving_s, 25);
    // 3.0 → 3.4 (noise) → 4.6 (+1.6) → 5.0, 4.2 (noise) → 6.0 (+1.4).
    assert_close(summary.elevation_gain_m.expect("has elevation"), 3.0, 1e-9);
    // Each 5 s interval carries its later reading: 130, 140, 150, 160, 170.
    assert_eq!(summary.avg_hr, Some(150));
    assert_eq!(summary.max_hr, Some(170));
    // 140 and 150 lie in 135–155: two intervals of 5 s.
    assert_eq!(summary.in_zone_s, Some(10));
}

#[test]
fn a_strava_gpx_without_elevation_or_heart_rate_has_a_pause_left_out_of_moving_time() {
    let track = parse(STRAVA_GPX, Format::Gpx).expect("valid GPX");
    assert_eq!(track.points.len(), 5);
    assert!(
        track
            .points
            .iter()
            .all(|p| p.ele_m.is_none() && p.hr.is_none())
    );
    let summary = summarise(
        &track,
        Some(HrZone {
            low: 120,
            high: 150,
        }),
    );
    assert_eq!(summary.duration_s, 90);
    // 10 s + 10 s + (60 s standing: a pause) + 10 s.
    assert_eq!(summary.moving_s, 30);
    assert_close(summary.distance_m, 6.0 * STEP_M, 1e-6);
    assert_eq!(summary.elevation_gain_m, None);
    assert_eq!(
        (summary.avg_hr, summary.max_hr, summary.in_zone_s),
        (None, None, None)
    );
}

#[test]
fn a_tcx_with_heart_rate_and_a_pause_between_laps_matches_the_hand_computation() {
    let track = parse(PAUSED_TCX, Format::Tcx).expect("valid TCX");
    // The first trackpoint has no position (no GPS fix yet) and is left out.
    assert_eq!(track.points.len(), 6);
    assert_eq!(track.points[0].hr, Some(100));
    assert_eq!(track.points[0].ele_m, Some(10.0));
    let summary = summarise(
        &track,
        Some(HrZone {
            low: 115,
            high: 145,
        }),
    );
    assert_eq!(summary.duration_s, 136);
    // 4 + 4 s, then a 120 s stop, then 4 + 4 s.
    assert_eq!(summary.moving_s, 16);
    assert_close(summary.distance_m, 4.0 * STEP_M, 1e-6);
    // 10 → 10.5 → 11.2 (+1.2) → 11.0 → 12.5 (+1.3) → 12.0.
    assert_close(summary.elevation_gain_m.expect("has altitude"), 2.5, 1e-9);
    // Timed intervals carry 110, 120, 140, 150 for 4 s each; the pause counts for nothing.
    assert_eq!(summary.avg_hr, Some(130));
    assert_eq!(summary.max_hr, Some(150));
    assert_eq!(summary.in_zone_s, Some(8));
}

#[test]
fn a_fit_activity_gives_the_same_numbers_as_the_same_run_in_gpx() {
    let fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    let track = parse(&fit, Format::Fit).expect("valid FIT");
    // The record before the GPS fix has no position and is left out.
    assert_eq!(track.points.len(), 6);
    let gpx = parse(GARMIN_GPX, Format::Gpx).expect("valid GPX");
    for (from_fit, from_gpx) in track.points.iter().zip(&gpx.points) {
        assert_eq!(from_fit.time_s, from_gpx.time_s);
        assert_eq!(from_fit.hr, from_gpx.hr);
        assert_close(from_fit.lat, from_gpx.lat, 1e-7);
        assert_close(from_fit.lon, from_gpx.lon, 1e-7);
        assert_close(
            from_fit.ele_m.expect("altitude"),
            from_gpx.ele_m.expect("ele"),
            0.1,
        );
    }
    let zone = Some(HrZone {
        low: 135,
        high: 155,
    });
    let (a, b) = (summarise(&track, zone), summarise(&gpx, zone));
    assert_close(a.distance_m, b.distance_m, 0.01);
    assert_eq!(
        (a.duration_s, a.moving_s, a.avg_hr, a.max_hr, a.in_zone_s),
        (25, 25, Some(150), Some(170), Some(10))
    );
    assert_close(a.elevation_gain_m.expect("altitude"), 3.0, 1e-6);
}

#[test]
fn a_big_endian_fit_file_reads_the_same_as_a_little_endian_one() {
    let samples = fit_encoder::garmin_run_samples();
    let little =
        parse(&fit_encoder::activity(&samples, false), Format::Fit).expect("little endian");
    let big = parse(&fit_encoder::activity(&samples, true), Format::Fit).expect("big endian");
    assert_eq!(little, big);
}

#[test]
fn fit_compressed_timestamps_enhanced_altitude_and_developer_fields_are_understood() {
    let start = START_2024_03_09_0800;
    let mut fit = FitWriter::new(false);
    fit.file_id(start);
    // Record layout without a timestamp field (the header carries it), with enhanced altitude
    // and a developer field (e.g. running power from a Connect IQ app) that must be skipped.
    let fields = [(0, 4, 0x85), (1, 4, 0x85), (78, 4, UINT32), (3, 1, UINT8)];
    fit.define(1, fit_encoder::RECORD, &fields, &[(0, 2, 0)]);
    // A first record with a full timestamp, through another local type.
    fit.define_records(2);
    let first = Sample {
        unix_s: start,
        position: Some((52.0, 5.0)),
        altitude_m: Some(1.0),
        hr: Some(100),
        distance_m: 0.0,
    };
    fit.record(2, first);
    for k in 1..=40i64 {
        let mut values = Vec::new();
        values.extend_from_slice(&fit_encoder::semicircles(52.0 + 0.0001 * k as f64).to_le_bytes());
        values.extend_from_slice(&fit_encoder::semicircles(5.0).to_le_bytes());
        values.extend_from_slice(
            &(((1.0 + k as f64 * 0.5 + 500.0) * 5.0).round() as u32).to_le_bytes(),
        );
        values.push(100 + k as u8);
        values.extend_from_slice(&[0xAB, 0xCD]); // developer field
        fit.compressed(1, start + k, &values);
    }
    let track = parse(&fit.finish(), Format::Fit).expect("valid FIT");
    assert_eq!(track.points.len(), 41);
    // 40 s past the start crosses a 32 s boundary of the five-bit offset.
    assert_eq!(track.points[40].time_s, Some(start + 40));
    assert_close(
        track.points[40].ele_m.expect("enhanced altitude"),
        21.0,
        1e-9,
    );
    assert_eq!(track.points[40].hr, Some(140));
    let summary = summarise(&track, None);
    assert_eq!((summary.duration_s, summary.moving_s), (40, 40));
    assert_close(summary.elevation_gain_m.expect("altitude"), 20.0, 1e-9);
}

#[test]
fn chained_fit_files_are_read_one_after_the_other() {
    let samples = fit_encoder::garmin_run_samples();
    let mut chained = fit_encoder::activity(&samples[..4], false);
    chained.extend(fit_encoder::activity(&samples[4..], false));
    let track = parse(&chained, Format::Fit).expect("valid chained FIT");
    assert_eq!(track.points.len(), 6);
}

#[test]
fn every_format_is_detected_from_its_content() {
    let fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    assert_eq!(detect(GARMIN_GPX, "upload.bin"), Some(Format::Gpx));
    assert_eq!(detect(STRAVA_GPX, ""), Some(Format::Gpx));
    assert_eq!(detect(PAUSED_TCX, "activity_123.gpx"), Some(Format::Tcx));
    assert_eq!(detect(&fit, "activity_123.txt"), Some(Format::Fit));
    assert_eq!(parse_any(PAUSED_TCX), parse(PAUSED_TCX, Format::Tcx));
    assert_eq!(parse_any(&fit), parse(&fit, Format::Fit));
}

#[test]
fn a_gpx_1_0_file_with_a_byte_order_mark_and_crlf_lines_is_read() {
    let gpx = "\u{feff}<?xml version=\"1.0\"?>\r\n<gpx version=\"1.0\" creator=\"Polar Flow\" xmlns=\"http://www.topografix.com/GPX/1/0\">\r\n\
        <trk><trkseg><trkpt lat=\" 52.1 \" lon='5.1'><ele>1</ele><time>2024-01-01T10:00:00.500+01:00</time></trkpt>\r\n\
        <trkpt lat=\"52.1001\" lon=\"5.1\"><time>2024-01-01T10:00:01.500+01:00</time></trkpt></trkseg></trk></gpx>\r\n";
    let track = parse_any(gpx.as_bytes()).expect("valid GPX 1.0");
    assert_eq!(track.points.len(), 2);
    assert_eq!(track.points[0].time_s, Some(1_704_099_600));
    assert_eq!(track.points[0].lat, 52.1);
}
