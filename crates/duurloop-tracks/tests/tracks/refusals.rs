//! Files that are truncated, too big, malformed, hostile or not a track are refused with a
//! clear error, and the error never quotes the file.

use duurloop_tracks::{Format, MAX_FILE_BYTES, MAX_POINTS, TrackError, parse, parse_any};

use crate::fit_encoder::{self, FitWriter};
use crate::{BILLION_LAUGHS_GPX, GARMIN_GPX, PAUSED_TCX, STRAVA_GPX};

fn malformed(result: Result<impl std::fmt::Debug, TrackError>) -> String {
    match result {
        Err(TrackError::Malformed(why)) => why,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn every_truncation_of_a_gpx_or_tcx_file_is_refused() {
    for (bytes, format) in [
        (GARMIN_GPX, Format::Gpx),
        (STRAVA_GPX, Format::Gpx),
        (PAUSED_TCX, Format::Tcx),
    ] {
        let complete = bytes.trim_ascii_end().len();
        for len in 0..complete {
            let result = parse(&bytes[..len], format);
            assert!(
                result.is_err(),
                "a file cut at byte {len} of {complete} was accepted"
            );
        }
    }
}

#[test]
fn a_gpx_file_cut_inside_a_track_point_is_reported_as_truncated() {
    let cut = &GARMIN_GPX[..GARMIN_GPX.len() / 2];
    assert_eq!(malformed(parse(cut, Format::Gpx)), "the file is truncated");
    let cut_in_a_tag = b"<gpx><trk><trkseg><trkpt lat=\"52.0\" lo";
    assert_eq!(
        malformed(parse(cut_in_a_tag, Format::Gpx)),
        "the file is truncated"
    );
}

#[test]
fn every_truncation_of_a_fit_file_is_refused() {
    let fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    for len in 1..fit.len() {
        let result = parse(&fit[..len], Format::Fit);
        assert!(
            matches!(result, Err(TrackError::Malformed(_))),
            "cut at {len}: {result:?}"
        );
    }
}

#[test]
fn a_fit_file_with_a_wrong_checksum_is_refused() {
    let mut fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    let middle = fit.len() / 2;
    fit[middle] ^= 0x01;
    assert_eq!(
        malformed(parse(&fit, Format::Fit)),
        "the FIT checksum does not match"
    );
    let mut fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    fit[13] ^= 0xFF;
    assert_eq!(
        malformed(parse(&fit, Format::Fit)),
        "the FIT header checksum does not match"
    );
}

#[test]
fn a_fit_data_message_without_a_definition_is_refused() {
    let mut fit = FitWriter::new(false);
    fit.data(3, &[1, 2, 3]);
    assert_eq!(
        malformed(parse(&fit.finish(), Format::Fit)),
        "a FIT data message has no definition"
    );
}

#[test]
fn a_fit_file_without_records_has_no_points() {
    let mut fit = FitWriter::new(false);
    fit.file_id(1_709_971_200);
    assert_eq!(parse(&fit.finish(), Format::Fit), Err(TrackError::NoPoints));
}

#[test]
fn malformed_xml_is_refused_without_quoting_the_file() {
    let secret = "Jan de Vries";
    let cases = [
        format!("<gpx><trk><name>{secret}</name><trkseg><trkpt lat=\"52\" lon=\"5\"></trkseg></trk></gpx>"),
        format!("<gpx><trk><trkseg><trkpt lat=\"{secret}\" lon=\"5\"/></trkseg></trk></gpx>"),
        format!("<gpx><trk><trkseg><trkpt lat=\"52\" lon=\"5\"><time>{secret}</time></trkpt></trkseg></trk></gpx>"),
        format!("<gpx><{secret}></gpx>"),
        format!("<gpx><trk><trkseg><trkpt lat=\"52\" lon=\"5\" lat=\"{secret}\"/></trkseg></trk></gpx>"),
        "<gpx><trk><trkseg><trkpt lat=\"52\" lon=\"5\"><ele>1 &#49;</ele></trkpt></trkseg></trk></gpx>".to_owned(),
        "<gpx><trk><trkseg><trkpt lat=\"52\" lon=\"5\"><hr>many</hr></trkpt></trkseg></trk></gpx>".to_owned(),
        "<gpx><trk><trkseg><trkpt lat=\"95\" lon=\"5\"/></trkseg></trk></gpx>".to_owned(),
        "<gpx><trk><trkseg><trkpt lon=\"5\"/></trkseg></trk></gpx>".to_owned(),
        "<gpx><trk><trkseg><trkpt lat=\"52\" lon=\"5\"><trkpt lat=\"52\" lon=\"5\"/></trkpt></trkseg></trk></gpx>".to_owned(),
        "<gpx></gpx><gpx></gpx>".to_owned(),
        "</gpx>".to_owned(),
    ];
    for case in cases {
        let why = malformed(parse(case.as_bytes(), Format::Gpx));
        assert!(!why.contains("Jan"), "{why:?} quotes the file");
        assert!(why.len() < 80, "{why:?} is not short");
    }
}

#[test]
fn a_file_with_the_wrong_root_element_is_refused() {
    assert_eq!(
        malformed(parse(PAUSED_TCX, Format::Gpx)),
        "the root element is not <gpx>"
    );
    assert_eq!(
        malformed(parse(GARMIN_GPX, Format::Tcx)),
        "the root element is not <TrainingCenterDatabase>"
    );
    assert_eq!(
        malformed(parse(GARMIN_GPX, Format::Fit)),
        "not a FIT file header"
    );
}

#[test]
fn a_billion_laughs_file_is_refused_as_hostile() {
    assert_eq!(
        parse(BILLION_LAUGHS_GPX, Format::Gpx),
        Err(TrackError::Hostile)
    );
    assert_eq!(parse_any(BILLION_LAUGHS_GPX), Err(TrackError::Hostile));
    let classic = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><lolz>&lol2;</lolz>";
    assert_eq!(parse_any(classic), Err(TrackError::Hostile));
}

#[test]
fn external_entities_and_lowercase_declarations_are_refused_as_hostile() {
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE gpx [<!ENTITY home SYSTEM \"file:///etc/passwd\">]><gpx>&home;</gpx>";
    assert_eq!(parse(xxe, Format::Gpx), Err(TrackError::Hostile));
    let sneaky = b"<TrainingCenterDatabase><!entity x \"y\"></TrainingCenterDatabase>";
    assert_eq!(parse(sneaky, Format::Tcx), Err(TrackError::Hostile));
    assert_eq!(TrackError::Hostile.key(), "track-hostile");
}

#[test]
fn a_file_just_over_the_size_limit_is_refused_before_parsing() {
    let mut big = GARMIN_GPX.to_vec();
    big.resize(MAX_FILE_BYTES + 1, b' ');
    assert_eq!(parse(&big, Format::Gpx), Err(TrackError::TooLarge));
    assert_eq!(parse_any(&big), Err(TrackError::TooLarge));
    assert_eq!(parse(&big, Format::Fit), Err(TrackError::TooLarge));
}

#[test]
fn a_file_exactly_at_the_size_limit_is_accepted() {
    let mut big = GARMIN_GPX.to_vec();
    big.resize(MAX_FILE_BYTES, b'\n');
    assert_eq!(parse(&big, Format::Gpx).map(|t| t.points.len()), Ok(6));
}

#[test]
fn empty_files_are_refused_as_empty() {
    for format in [Format::Gpx, Format::Tcx, Format::Fit] {
        assert_eq!(parse(b"", format), Err(TrackError::Empty));
        assert_eq!(parse(b" \r\n\t", format), Err(TrackError::Empty));
    }
    assert_eq!(parse_any(b""), Err(TrackError::Empty));
    assert_eq!(TrackError::Empty.key(), "track-empty");
}

#[test]
fn garbage_bytes_are_refused_as_unsupported_or_malformed() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert_eq!(parse_any(&garbage), Err(TrackError::Unsupported));
    assert_eq!(
        parse_any(b"%PDF-1.7 not a track"),
        Err(TrackError::Unsupported)
    );
    for format in [Format::Gpx, Format::Tcx, Format::Fit] {
        assert!(
            matches!(parse(&garbage, format), Err(TrackError::Malformed(_))),
            "{format:?}"
        );
    }
}

#[test]
fn files_without_track_points_are_refused_as_having_no_points() {
    let waypoints_only = br#"<gpx version="1.1"><wpt lat="52" lon="5"><name>Home</name></wpt><rte><rtept lat="52" lon="5"/></rte></gpx>"#;
    assert_eq!(
        parse(waypoints_only, Format::Gpx),
        Err(TrackError::NoPoints)
    );
    let treadmill = br#"<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap><Track>
        <Trackpoint><Time>2024-01-01T10:00:00Z</Time><DistanceMeters>0</DistanceMeters><HeartRateBpm><Value>100</Value></HeartRateBpm></Trackpoint>
        </Track></Lap></Activity></Activities></TrainingCenterDatabase>"#;
    assert_eq!(parse(treadmill, Format::Tcx), Err(TrackError::NoPoints));
    assert_eq!(TrackError::NoPoints.key(), "track-no-points");
}

#[test]
fn a_track_with_more_than_the_maximum_number_of_points_is_refused() {
    let point = r#"<trkpt lat="52" lon="5"/>"#;
    let mut gpx = String::with_capacity((MAX_POINTS + 1) * point.len() + 64);
    gpx.push_str("<gpx><trk><trkseg>");
    for _ in 0..=MAX_POINTS {
        gpx.push_str(point);
    }
    gpx.push_str("</trkseg></trk></gpx>");
    assert_eq!(
        parse(gpx.as_bytes(), Format::Gpx),
        Err(TrackError::TooManyPoints)
    );
    assert_eq!(TrackError::TooManyPoints.key(), "track-too-many-points");
}

#[test]
fn every_refusal_has_its_own_translation_key() {
    let keys = [
        TrackError::TooLarge.key(),
        TrackError::Empty.key(),
        TrackError::Malformed(String::new()).key(),
        TrackError::Hostile.key(),
        TrackError::NoPoints.key(),
        TrackError::TooManyPoints.key(),
        TrackError::Unsupported.key(),
    ];
    assert_eq!(
        keys,
        [
            "track-too-large",
            "track-empty",
            "track-malformed",
            "track-hostile",
            "track-no-points",
            "track-too-many-points",
            "track-unsupported"
        ]
    );
}
