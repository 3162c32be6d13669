//! Running tracks for Duurloop: parse GPX, TCX and FIT files from a watch or phone, summarise a
//! run and trim the start and end of the path for privacy.
//!
//! Pure: no I/O, no clock, no async. Every input is untrusted, so parsing is bounded
//! ([`MAX_FILE_BYTES`], [`MAX_POINTS`]), never expands XML entities (a file with a `<!DOCTYPE` or
//! `<!ENTITY` is refused as [`TrackError::Hostile`]) and returns an error instead of panicking on
//! any byte string. [`parse_any`] is the entry point for fuzzing.

mod fit;
mod gpx;
mod summary;
mod tcx;
mod time;
mod xml;

pub use summary::{HrZone, MAX_GAP_S, MIN_MOVING_SPEED_M_S, Summary, privacy_trimmed, summarise};

/// Files larger than this are refused before any parsing ([`TrackError::TooLarge`]).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// Tracks with more points than this are refused ([`TrackError::TooManyPoints`]): more than two
/// days at one point per second.
pub const MAX_POINTS: usize = 200_000;

/// A file format we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Gpx,
    Tcx,
    Fit,
}

/// One recorded position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix seconds (UTC); `None` when the file has no time for this point.
    pub time_s: Option<i64>,
    /// Degrees, −90 to 90.
    pub lat: f64,
    /// Degrees, −180 to 180.
    pub lon: f64,
    /// Metres above sea level, when recorded (a reading outside −11 000 to 100 000 m is junk and
    /// becomes `None`).
    pub ele_m: Option<f64>,
    /// Beats per minute, when recorded (a reading of 0 means "no reading" and becomes `None`).
    pub hr: Option<u16>,
}

/// The points of a run in recorded order. Points without a position (e.g. a TCX trackpoint
/// before the GPS had a fix) are left out by the parsers.
#[derive(Clone, PartialEq, Default)]
pub struct Track {
    pub points: Vec<Point>,
}

/// Locations are personal data: a `Track` shows only its size when debug-printed or logged.
impl std::fmt::Debug for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Track")
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

/// Why a file was refused. The text is short, in English and never quotes the file; use
/// [`TrackError::key`] for the message shown to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    #[error("the file is larger than {} MB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a valid track: {0}")]
    Malformed(String),
    #[error("the file contains a DOCTYPE or ENTITY declaration, which is refused")]
    Hostile,
    #[error("the file contains no track points with a position")]
    NoPoints,
    #[error("the file has more than {MAX_POINTS} track points")]
    TooManyPoints,
    #[error("the file is not a GPX, TCX or FIT file")]
    Unsupported,
}

impl TrackError {
    /// The translation key for this error (see `locales/*/main.ftl` in the app).
    pub fn key(&self) -> &'static str {
        match self {
            Self::TooLarge => "track-too-large",
            Self::Empty => "track-empty",
            Self::Malformed(_) => "track-malformed",
            Self::Hostile => "track-hostile",
            Self::NoPoints => "track-no-points",
            Self::TooManyPoints => "track-too-many-points",
            Self::Unsupported => "track-unsupported",
        }
    }

    /// A `Malformed` error with a fixed, safe message.
    pub(crate) fn malformed(why: &str) -> Self {
        Self::Malformed(why.to_owned())
    }
}

/// Recognises the format from the content first (FIT header, XML root element) and falls back
/// on the file name's extension. `None` when neither tells.
pub fn detect(bytes: &[u8], file_name: &str) -> Option<Format> {
    detect_content(bytes).or_else(|| detect_extension(file_name))
}

fn detect_content(bytes: &[u8]) -> Option<Format> {
    if fit::looks_like_fit(bytes) {
        return Some(Format::Fit);
    }
    let head = &bytes[..bytes.len().min(4096)];
    let gpx = memchr::memmem::find(head, b"<gpx");
    let tcx = memchr::memmem::find(head, b"<TrainingCenterDatabase");
    match (gpx, tcx) {
        (Some(g), Some(t)) if t < g => Some(Format::Tcx),
        (Some(_), _) => Some(Format::Gpx),
        (None, Some(_)) => Some(Format::Tcx),
        (None, None) => None,
    }
}

fn detect_extension(file_name: &str) -> Option<Format> {
    let (_, ext) = file_name.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "gpx" => Some(Format::Gpx),
        "tcx" => Some(Format::Tcx),
        "fit" => Some(Format::Fit),
        _ => None,
    }
}

/// Parses a file of the given format.
///
/// Refuses files that are larger than [`MAX_FILE_BYTES`], empty, truncated, malformed, contain a
/// `<!DOCTYPE` or `<!ENTITY`, have no points with a position or more than [`MAX_POINTS`] points.
pub fn parse(bytes: &[u8], format: Format) -> Result<Track, TrackError> {
    check_size(bytes)?;
    let track = match format {
        Format::Gpx => gpx::parse(bytes)?,
        Format::Tcx => tcx::parse(bytes)?,
        Format::Fit => fit::parse(bytes)?,
    };
    if track.points.is_empty() {
        return Err(TrackError::NoPoints);
    }
    Ok(track)
}

/// Detects the format from the content alone and parses: the entry point for fuzzing and for
/// uploads whose file name is not trusted.
pub fn parse_any(bytes: &[u8]) -> Result<Track, TrackError> {
    check_size(bytes)?;
    match detect_content(bytes) {
        Some(format) => parse(bytes, format),
        None => {
            // An XML file with an unknown root may still be an entity bomb: say so.
            xml::refuse_declarations(bytes)?;
            Err(TrackError::Unsupported)
        }
    }
}

fn check_size(bytes: &[u8]) -> Result<(), TrackError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TrackError::TooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TrackError::Empty);
    }
    Ok(())
}

/// Adds a point, refusing the track once it grows past [`MAX_POINTS`].
pub(crate) fn push_point(points: &mut Vec<Point>, point: Point) -> Result<(), TrackError> {
    if points.len() >= MAX_POINTS {
        return Err(TrackError::TooManyPoints);
    }
    points.push(point);
    Ok(())
}

/// Checks that a position is a real place on earth.
pub(crate) fn valid_position(lat: f64, lon: f64) -> Result<(), TrackError> {
    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
        Ok(())
    } else {
        Err(TrackError::malformed("a position is out of range"))
    }
}

/// An elevation reading in metres, or `None` when it is below the deepest ocean or above the edge
/// of space: such a value is junk, and summed into an elevation gain it could even overflow to
/// infinity (found by fuzzing).
pub(crate) fn plausible_elevation(metres: f64) -> Option<f64> {
    (-11_000.0..=100_000.0).contains(&metres).then_some(metres)
}

/// Turns a heart-rate reading into beats per minute: 0 and implausible values mean "no reading".
pub(crate) fn plausible_hr(bpm: f64) -> Option<u16> {
    let bpm = bpm.round();
    (1.0..=250.0).contains(&bpm).then_some(bpm as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_wins_over_the_file_name() {
        let gpx = b"<?xml version=\"1.0\"?>\n<gpx version=\"1.1\"></gpx>";
        assert_eq!(detect(gpx, "run.tcx"), Some(Format::Gpx));
        let tcx = b"<?xml version=\"1.0\"?><TrainingCenterDatabase></TrainingCenterDatabase>";
        assert_eq!(detect(tcx, "run.gpx"), Some(Format::Tcx));
    }

    #[test]
    fn the_extension_is_used_when_the_content_does_not_tell() {
        assert_eq!(detect(b"", "Morning Run.GPX"), Some(Format::Gpx));
        assert_eq!(detect(b"xx", "a.b.fit"), Some(Format::Fit));
        assert_eq!(detect(b"xx", "run.tcx"), Some(Format::Tcx));
        assert_eq!(detect(b"xx", "run.kml"), None);
        assert_eq!(detect(b"xx", "gpx"), None);
    }

    #[test]
    fn every_error_has_a_translation_key_and_a_message() {
        let all = [
            TrackError::TooLarge,
            TrackError::Empty,
            TrackError::Malformed("x".into()),
            TrackError::Hostile,
            TrackError::NoPoints,
            TrackError::TooManyPoints,
            TrackError::Unsupported,
        ];
        for error in all {
            assert!(error.key().starts_with("track-"));
            assert!(!error.to_string().is_empty());
        }
        assert_eq!(
            TrackError::TooLarge.to_string(),
            "the file is larger than 20 MB"
        );
    }

    #[test]
    fn a_track_does_not_reveal_its_positions_in_debug_output() {
        let point = Point {
            time_s: None,
            lat: 52.1,
            lon: 5.1,
            ele_m: None,
            hr: None,
        };
        let debug = format!(
            "{:?}",
            Track {
                points: vec![point]
            }
        );
        assert_eq!(debug, "Track { points: 1, .. }");
    }
}
