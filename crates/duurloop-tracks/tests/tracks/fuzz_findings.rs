//! Regressions for what the fuzz targets' invariants caught (see fuzz/README.md at the root).

use duurloop_tracks::{Format, Point, Track, parse, privacy_trimmed, summarise};

use crate::fit_encoder::{self, SINT32, UINT32};

/// A GPX track with one point per elevation, all at the same place.
fn gpx_with_elevations(elevations: &[&str]) -> Vec<u8> {
    let mut gpx = String::from("<gpx><trk><trkseg>");
    for ele in elevations {
        gpx.push_str(&format!(
            "<trkpt lat=\"52\" lon=\"5\"><ele>{ele}</ele></trkpt>"
        ));
    }
    gpx.push_str("</trkseg></trk></gpx>");
    gpx.into_bytes()
}

#[test]
fn absurd_elevations_are_no_reading_so_the_elevation_gain_stays_finite() {
    // 1e308 − (−1e308) overflowed to an infinite elevation gain.
    let gpx = gpx_with_elevations(&["1e308", "-1e308", "1e308", "12.5", "14"]);
    let track = parse(&gpx, Format::Gpx).expect("valid GPX");
    let elevations: Vec<_> = track.points.iter().map(|p| p.ele_m).collect();
    assert_eq!(elevations, [None, None, None, Some(12.5), Some(14.0)]);
    assert_eq!(summarise(&track, None).elevation_gain_m, Some(1.5));

    let tcx = b"<TrainingCenterDatabase><Trackpoint><Position><LatitudeDegrees>52\
        </LatitudeDegrees><LongitudeDegrees>5</LongitudeDegrees></Position>\
        <AltitudeMeters>-1e300</AltitudeMeters></Trackpoint></TrainingCenterDatabase>";
    let track = parse(tcx, Format::Tcx).expect("valid TCX");
    assert_eq!(track.points[0].ele_m, None);
    assert_eq!(summarise(&track, None).elevation_gain_m, None);

    // The edges of the range are kept.
    let gpx = gpx_with_elevations(&["-11000", "100000"]);
    let track = parse(&gpx, Format::Gpx).expect("valid GPX");
    assert_eq!(track.points[1].ele_m, Some(100_000.0));
    assert_eq!(summarise(&track, None).elevation_gain_m, Some(111_000.0));
}

#[test]
fn a_fit_enhanced_altitude_above_the_edge_of_space_is_no_reading() {
    // The plain altitude field tops out at 12 607 m, but the enhanced one can say 858 000 km.
    let mut fit = fit_encoder::FitWriter::new(false);
    fit.file_id(1_709_971_200);
    let fields = [(0, 4, SINT32), (1, 4, SINT32), (78, 4, UINT32)];
    fit.define(1, fit_encoder::RECORD, &fields, &[]);
    for altitude_m in [13_000.0, 800_000_000.0] {
        let mut values = fit_encoder::semicircles(52.0).to_le_bytes().to_vec();
        values.extend_from_slice(&fit_encoder::semicircles(5.0).to_le_bytes());
        let scaled: f64 = (altitude_m + 500.0) * 5.0;
        values.extend_from_slice(&(scaled as u32).to_le_bytes());
        fit.data(1, &values);
    }
    let track = parse(&fit.finish(), Format::Fit).expect("valid FIT");
    let elevations: Vec<_> = track.points.iter().map(|p| p.ele_m).collect();
    assert_eq!(elevations, [Some(13_000.0), None]);
}

#[test]
fn a_trimmed_path_that_ends_at_a_pole_stays_on_the_earth() {
    // Interpolating to the very end computed −60.73… + 1 × (90 − −60.73…) = 90.00000000000001.
    let at = |lat| Point {
        time_s: None,
        lat,
        lon: 1.0,
        ele_m: None,
        hr: None,
    };
    for end in [90.0, -90.0] {
        let track = Track {
            points: vec![at(-60.730_992_954_601_774 * end / 90.0), at(end)],
        };
        let path = privacy_trimmed(&track, 0.0);
        assert_eq!(path.len(), 2);
        assert!(
            path.iter().all(|&(lat, _)| (-90.0..=90.0).contains(&lat)),
            "{path:?}"
        );
        assert_eq!(path[1], (end, 1.0));
    }
}
