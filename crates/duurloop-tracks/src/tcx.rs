//! Garmin Training Center (TCX): `<Trackpoint>` with `<Time>`, `<Position>`, `<AltitudeMeters>`
//! and `<HeartRateBpm><Value>`. Trackpoints without a position (before a GPS fix, or indoors)
//! are left out.

use quick_xml::events::BytesStart;

use crate::xml::{Handler, number, walk};
use crate::{
    Point, Track, TrackError, plausible_elevation, plausible_hr, push_point, time, valid_position,
};

pub(crate) fn parse(bytes: &[u8]) -> Result<Track, TrackError> {
    let mut tcx = Tcx::default();
    walk(bytes, "TrainingCenterDatabase", &mut tcx)?;
    Ok(Track { points: tcx.points })
}

#[derive(Default)]
struct Tcx {
    points: Vec<Point>,
    current: Option<Trackpoint>,
    in_heart_rate: bool,
    field: Field,
}

#[derive(Default)]
struct Trackpoint {
    time_s: Option<i64>,
    lat: Option<f64>,
    lon: Option<f64>,
    ele_m: Option<f64>,
    hr: Option<u16>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Field {
    #[default]
    None,
    Time,
    Lat,
    Lon,
    Ele,
    Hr,
}

impl Handler for Tcx {
    fn start(&mut self, name: &str, _element: &BytesStart<'_>) -> Result<(), TrackError> {
        self.field = Field::None;
        if name == "Trackpoint" {
            if self.current.is_some() {
                return Err(TrackError::malformed("a trackpoint inside a trackpoint"));
            }
            self.current = Some(Trackpoint::default());
        } else if self.current.is_some() {
            self.field = match name {
                "Time" => Field::Time,
                "LatitudeDegrees" => Field::Lat,
                "LongitudeDegrees" => Field::Lon,
                "AltitudeMeters" => Field::Ele,
                "Value" if self.in_heart_rate => Field::Hr,
                _ => Field::None,
            };
            if name == "HeartRateBpm" {
                self.in_heart_rate = true;
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), TrackError> {
        let Some(point) = self.current.as_mut() else {
            return Ok(());
        };
        match self.field {
            Field::None => {}
            Field::Time => {
                let t = time::parse_iso8601(text);
                point.time_s = Some(t.ok_or_else(|| TrackError::malformed("a time is not valid"))?);
            }
            Field::Lat => point.lat = Some(number(text, "a latitude")?),
            Field::Lon => point.lon = Some(number(text, "a longitude")?),
            Field::Ele => point.ele_m = plausible_elevation(number(text, "an altitude")?),
            Field::Hr => point.hr = plausible_hr(number(text, "a heart rate")?),
        }
        Ok(())
    }

    fn end(&mut self, name: &str) -> Result<(), TrackError> {
        self.field = Field::None;
        match name {
            "HeartRateBpm" => self.in_heart_rate = false,
            "Trackpoint" => {
                self.in_heart_rate = false;
                if let Some(tp) = self.current.take()
                    && let (Some(lat), Some(lon)) = (tp.lat, tp.lon)
                {
                    valid_position(lat, lon)?;
                    let point = Point {
                        time_s: tp.time_s,
                        lat,
                        lon,
                        ele_m: tp.ele_m,
                        hr: tp.hr,
                    };
                    push_point(&mut self.points, point)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn in_field(&self) -> bool {
        self.field != Field::None
    }
}
