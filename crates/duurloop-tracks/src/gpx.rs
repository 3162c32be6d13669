//! GPX 1.0 and 1.1: `<trkpt lat lon>` with `<ele>`, `<time>` and a heart rate in any extension
//! element named `hr` or `heartrate` (Garmin's `gpxtpx:hr`, `ns3:hr`, Cluetrust's `gpxdata:hr`).
//! Routes and waypoints are not a run and are ignored.

use quick_xml::events::BytesStart;

use crate::xml::{Handler, number, walk};
use crate::{
    Point, Track, TrackError, plausible_elevation, plausible_hr, push_point, time, valid_position,
};

pub(crate) fn parse(bytes: &[u8]) -> Result<Track, TrackError> {
    let mut gpx = Gpx::default();
    walk(bytes, "gpx", &mut gpx)?;
    Ok(Track { points: gpx.points })
}

#[derive(Default)]
struct Gpx {
    points: Vec<Point>,
    current: Option<Point>,
    field: Field,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Field {
    #[default]
    None,
    Ele,
    Time,
    Hr,
}

impl Handler for Gpx {
    fn start(&mut self, name: &str, element: &BytesStart<'_>) -> Result<(), TrackError> {
        self.field = Field::None;
        if name == "trkpt" {
            if self.current.is_some() {
                return Err(TrackError::malformed("a track point inside a track point"));
            }
            let (lat, lon) = position(element)?;
            self.current = Some(Point {
                time_s: None,
                lat,
                lon,
                ele_m: None,
                hr: None,
            });
        } else if self.current.is_some() {
            self.field = match name {
                "ele" => Field::Ele,
                "time" => Field::Time,
                "hr" | "heartrate" => Field::Hr,
                _ => Field::None,
            };
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), TrackError> {
        let Some(point) = self.current.as_mut() else {
            return Ok(());
        };
        match self.field {
            Field::None => {}
            Field::Ele => point.ele_m = plausible_elevation(number(text, "an elevation")?),
            Field::Time => {
                let t = time::parse_iso8601(text);
                point.time_s = Some(t.ok_or_else(|| TrackError::malformed("a time is not valid"))?);
            }
            Field::Hr => point.hr = plausible_hr(number(text, "a heart rate")?),
        }
        Ok(())
    }

    fn end(&mut self, name: &str) -> Result<(), TrackError> {
        self.field = Field::None;
        if name == "trkpt"
            && let Some(point) = self.current.take()
        {
            push_point(&mut self.points, point)?;
        }
        Ok(())
    }

    fn in_field(&self) -> bool {
        self.field != Field::None
    }
}

/// The `lat` and `lon` attributes of a track point, both required.
fn position(element: &BytesStart<'_>) -> Result<(f64, f64), TrackError> {
    let bad = || TrackError::malformed("a track point has bad attributes");
    let (mut lat, mut lon) = (None, None);
    // quick-xml's duplicate check allocates; a repeated lat or lon is caught here instead.
    for attribute in element.attributes().with_checks(false) {
        let attribute = attribute.map_err(|_| bad())?;
        let slot = match attribute.key.as_ref() {
            "lat" => &mut lat,
            "lon" => &mut lon,
            _ => continue,
        };
        if slot
            .replace(number(&attribute.value, "a coordinate")?)
            .is_some()
        {
            return Err(bad());
        }
    }
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return Err(TrackError::malformed("a track point has no lat and lon"));
    };
    valid_position(lat, lon)?;
    Ok((lat, lon))
}
