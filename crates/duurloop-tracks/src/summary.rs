//! The numbers of a run, and the path with its start and end hidden.

use crate::{Point, Track};

/// An interval slower than this is standing still.
pub const MIN_MOVING_SPEED_M_S: f64 = 0.5;
/// A gap between two points longer than this is a pause.
pub const MAX_GAP_S: i64 = 30;
/// Changes in elevation smaller than this are noise.
const ELEVATION_DEAD_BAND_M: f64 = 1.0;
/// Mean earth radius (IUGG), as used by most running apps.
const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// A heart-rate zone in beats per minute, both bounds inclusive. A zone with `low > high`
/// contains nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HrZone {
    pub low: u16,
    pub high: u16,
}

impl HrZone {
    pub fn contains(&self, bpm: u16) -> bool {
        (self.low..=self.high).contains(&bpm)
    }
}

/// The numbers of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Unix seconds of the first point with a time.
    pub start_s: Option<i64>,
    pub duration_s: i64,
    pub moving_s: i64,
    pub distance_m: f64,
    pub elevation_gain_m: Option<f64>,
    pub avg_hr: Option<u16>,
    pub max_hr: Option<u16>,
    pub in_zone_s: Option<i64>,
}

/// Summarises a track.
///
/// Rules, all over consecutive pairs of points (an *interval*):
/// - distance: great-circle (haversine) distance, summed over all intervals;
/// - an interval is *timed* when both points have a time, the later one is later, and the gap
///   is at most [`MAX_GAP_S`]; longer gaps are pauses and count for nothing but distance;
/// - moving time: timed intervals at [`MIN_MOVING_SPEED_M_S`] or faster;
/// - heart rate: each timed interval carries the reading of its later point (or of its earlier
///   one when the later has none). The average is *time-weighted* over timed intervals with a
///   reading, so a 1 Hz and a "smart recording" file of the same run agree. Without timed
///   intervals it falls back to the plain mean of the points' readings. The maximum is the
///   highest reading of any point;
/// - time in zone: the seconds of timed intervals whose reading lies in the zone (inclusive);
///   `None` without a zone or without any timed interval with a reading;
/// - elevation gain: the climbs of the elevation profile after a 1 m dead band (a change counts
///   only once the elevation has moved at least 1 m from the last counted level), which removes
///   GPS and barometer noise; `None` when no point has an elevation;
/// - duration: last time − first time; 0 when fewer than two points have a time.
pub fn summarise(track: &Track, zone: Option<HrZone>) -> Summary {
    let points = &track.points;
    let mut distance_m = 0.0;
    let mut moving_s = 0;
    let mut hr = HeartRate::default();
    for pair in points.windows(2) {
        let [a, b] = pair else { continue };
        let metres = haversine_m(a, b);
        distance_m += metres;
        let Some(seconds) = timed_interval(a, b) else {
            continue;
        };
        if metres >= MIN_MOVING_SPEED_M_S * seconds as f64 {
            moving_s += seconds;
        }
        if let Some(bpm) = b.hr.or(a.hr) {
            hr.add(bpm, seconds, zone);
        }
    }
    let mut times = points.iter().filter_map(|p| p.time_s);
    let start_s = times.next();
    let end_s = times.next_back().or(start_s);
    let duration_s = match (start_s, end_s) {
        (Some(start), Some(end)) => end.saturating_sub(start).max(0),
        _ => 0,
    };
    Summary {
        start_s,
        duration_s,
        moving_s,
        distance_m,
        elevation_gain_m: elevation_gain_m(points),
        avg_hr: hr.average().or_else(|| point_average_hr(points)),
        max_hr: points.iter().filter_map(|p| p.hr).max(),
        in_zone_s: zone.and(hr.in_zone_s),
    }
}

/// Seconds between two points when both have a time and the gap is not a pause.
fn timed_interval(a: &Point, b: &Point) -> Option<i64> {
    let seconds = b.time_s?.checked_sub(a.time_s?)?;
    (1..=MAX_GAP_S).contains(&seconds).then_some(seconds)
}

#[derive(Default)]
struct HeartRate {
    beats_weighted: u64,
    seconds: u64,
    in_zone_s: Option<i64>,
}

impl HeartRate {
    fn add(&mut self, bpm: u16, seconds: i64, zone: Option<HrZone>) {
        let secs = seconds.unsigned_abs();
        self.beats_weighted += u64::from(bpm) * secs;
        self.seconds += secs;
        let in_zone = zone.is_some_and(|z| z.contains(bpm));
        *self.in_zone_s.get_or_insert(0) += if in_zone { seconds } else { 0 };
    }

    fn average(&self) -> Option<u16> {
        rounded_mean(self.beats_weighted, self.seconds)
    }
}

fn point_average_hr(points: &[Point]) -> Option<u16> {
    let (sum, count) = points
        .iter()
        .filter_map(|p| p.hr)
        .fold((0u64, 0u64), |(sum, count), bpm| {
            (sum + u64::from(bpm), count + 1)
        });
    rounded_mean(sum, count)
}

fn rounded_mean(sum: u64, count: u64) -> Option<u16> {
    if count == 0 {
        return None;
    }
    u16::try_from((sum + count / 2) / count).ok()
}

fn elevation_gain_m(points: &[Point]) -> Option<f64> {
    let mut elevations = points.iter().filter_map(|p| p.ele_m);
    let mut level = elevations.next()?;
    let mut gain = 0.0;
    for ele in elevations {
        if ele - level >= ELEVATION_DEAD_BAND_M {
            gain += ele - level;
            level = ele;
        } else if level - ele >= ELEVATION_DEAD_BAND_M {
            level = ele;
        }
    }
    Some(gain)
}

/// Great-circle distance in metres.
fn haversine_m(a: &Point, b: &Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlon = (b.lon - a.lon).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The path as (lat, lon) with the first and last `metres` of distance along the track cut off,
/// so a run that starts and ends at home does not show where home is. The cut points are
/// interpolated, so the path starts exactly `metres` from the start. Empty when the track is not
/// longer than `2 × metres` (or `metres` is not a number).
pub fn privacy_trimmed(track: &Track, metres: f64) -> Vec<(f64, f64)> {
    if metres.is_nan() {
        return Vec::new();
    }
    let metres = metres.max(0.0);
    let points = &track.points;
    let mut along = Vec::with_capacity(points.len());
    let mut total = 0.0;
    for (i, point) in points.iter().enumerate() {
        if let Some(previous) = i.checked_sub(1).and_then(|j| points.get(j)) {
            total += haversine_m(previous, point);
        }
        along.push(total);
    }
    if points.len() < 2 || total <= 2.0 * metres {
        return Vec::new();
    }
    let (from, to) = (metres, total - metres);
    let mut path = Vec::new();
    path.extend(position_at(points, &along, from));
    for (point, &at) in points.iter().zip(&along) {
        if at > from && at < to {
            path.push((point.lat, point.lon));
        }
    }
    path.extend(position_at(points, &along, to));
    path
}

/// The position `at` metres along the track, interpolated between the two points around it.
fn position_at(points: &[Point], along: &[f64], at: f64) -> Option<(f64, f64)> {
    let i = along.partition_point(|&d| d < at).max(1);
    let (a, b) = (points.get(i - 1)?, points.get(i)?);
    let (start, end) = (along[i - 1], along[i]);
    let t = if end > start {
        ((at - start) / (end - start)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut dlon = b.lon - a.lon;
    if dlon.abs() > 180.0 {
        dlon -= 360.0f64.copysign(dlon);
    }
    let mut lon = a.lon + t * dlon;
    if lon.abs() > 180.0 {
        lon -= 360.0f64.copysign(lon);
    }
    // `a + 1 × (b − a)` can round past `b`: clamp, or a path ending at a pole leaves the earth
    // (found by fuzzing).
    let lat = (a.lat + t * (b.lat - a.lat)).clamp(-90.0, 90.0);
    Some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Point {
        Point {
            time_s: None,
            lat,
            lon,
            ele_m: None,
            hr: None,
        }
    }

    #[test]
    fn one_thousandth_of_a_degree_of_latitude_is_about_111_metres() {
        let d = haversine_m(&at(52.0, 5.0), &at(52.001, 5.0));
        assert!((d - 111.194_926_644_558_73).abs() < 1e-6, "{d}");
        let quarter = haversine_m(&at(0.0, 0.0), &at(0.0, 90.0));
        assert!((quarter - EARTH_RADIUS_M * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
    }

    #[test]
    fn the_cut_point_crosses_the_antimeridian_the_short_way() {
        let points = [at(0.0, 179.9995), at(0.0, -179.9995)];
        let along = [0.0, haversine_m(&points[0], &points[1])];
        let (lat, lon) = position_at(&points, &along, along[1] / 2.0).expect("inside");
        assert!(lat.abs() < 1e-12);
        assert!((lon.abs() - 180.0).abs() < 1e-9, "{lon}");
    }
}
