//! A minimal FIT decoder: just enough of the format to read the positions of an activity.
//!
//! A FIT file is a header (12 or 14 bytes, `.FIT` at byte 8), then records, then a CRC-16 of
//! everything before it. Each record starts with a one-byte header: a *definition* message tells
//! the layout (endianness, global message number, fields with number and size) of a local
//! message type 0–15; a *data* message carries values in that layout; a *compressed timestamp*
//! header is a data message whose time is a 5-bit offset from the last timestamp. Only record
//! messages (global number 20) are read: timestamp (253), position_lat (0) and position_long (1)
//! in semicircles, altitude (2) or enhanced_altitude (78), and heart_rate (3). Chained FIT files
//! are read one after the other.
//!
//! We decode by hand rather than with the `fitparser` crate: its generated profile takes about
//! 30 s to compile here, while we need five fields of one message.

use crate::{
    Point, Track, TrackError, plausible_elevation, plausible_hr, push_point, valid_position,
};

/// The FIT epoch, 1989-12-31T00:00:00Z, in Unix seconds.
const FIT_EPOCH_UNIX_S: i64 = 631_065_600;
const RECORD_MESSAGE: u16 = 20;
const DEGREES_PER_SEMICIRCLE: f64 = 180.0 / 2_147_483_648.0;

/// Whether the bytes start with a FIT file header.
pub(crate) fn looks_like_fit(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(12 | 14)) && bytes.get(8..12) == Some(b".FIT")
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Track, TrackError> {
    let mut points = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if !looks_like_fit(rest) {
            return Err(if rest.len() < 12 && rest.len() == bytes.len() {
                TrackError::malformed("the file is truncated")
            } else {
                TrackError::malformed("not a FIT file header")
            });
        }
        let used = parse_one(rest, &mut points)?;
        rest = rest.get(used..).unwrap_or_default();
    }
    Ok(Track { points })
}

/// Reads one FIT file from the start of `bytes`, returning how many bytes it took.
fn parse_one(bytes: &[u8], points: &mut Vec<Point>) -> Result<usize, TrackError> {
    let truncated = || TrackError::malformed("the file is truncated");
    let header_len = usize::from(bytes[0]);
    let header = bytes.get(..header_len).ok_or_else(truncated)?;
    if let [.., lo, hi] = header
        && header_len == 14
    {
        let stored = u16::from_le_bytes([*lo, *hi]);
        if stored != 0 && stored != crc(&header[..12]) {
            return Err(TrackError::malformed(
                "the FIT header checksum does not match",
            ));
        }
    }
    let data_len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let data_end = usize::try_from(data_len)
        .ok()
        .and_then(|len| header_len.checked_add(len))
        .ok_or_else(truncated)?;
    let crc_end = data_end.checked_add(2).ok_or_else(truncated)?;
    let stored = bytes.get(data_end..crc_end).ok_or_else(truncated)?;
    if u16::from_le_bytes([stored[0], stored[1]]) != crc(&bytes[..data_end]) {
        return Err(TrackError::malformed("the FIT checksum does not match"));
    }
    Decoder::default().records(&bytes[header_len..data_end], points)?;
    Ok(crc_end)
}

#[derive(Clone)]
struct Definition {
    big_endian: bool,
    global: u16,
    /// (field number, size in bytes) in message order.
    fields: Vec<(u8, u8)>,
    /// Total size of a data message, developer fields included.
    size: usize,
}

#[derive(Default)]
struct Decoder {
    definitions: [Option<Definition>; 16],
    last_timestamp: Option<u32>,
}

impl Decoder {
    fn records(&mut self, data: &[u8], points: &mut Vec<Point>) -> Result<(), TrackError> {
        let mut at = 0;
        while let Some(&header) = data.get(at) {
            at += 1;
            let rest = &data[at..];
            at += if header & 0x80 != 0 {
                let offset = u32::from(header & 0x1F);
                let time = self.last_timestamp.map(|last| {
                    let rolled = if offset < last & 0x1F { 0x20 } else { 0 };
                    ((last & !0x1F) | offset).wrapping_add(rolled)
                });
                self.data_message(usize::from((header >> 5) & 0x03), time, rest, points)?
            } else if header & 0x40 != 0 {
                self.definition(usize::from(header & 0x0F), header & 0x20 != 0, rest)?
            } else {
                self.data_message(usize::from(header & 0x0F), None, rest, points)?
            };
        }
        Ok(())
    }

    /// Reads a definition message, returning its length.
    fn definition(
        &mut self,
        local: usize,
        developer: bool,
        rest: &[u8],
    ) -> Result<usize, TrackError> {
        let truncated = || TrackError::malformed("a FIT record is truncated");
        let fixed = rest.get(..5).ok_or_else(truncated)?;
        let big_endian = match fixed[1] {
            0 => false,
            1 => true,
            _ => {
                return Err(TrackError::malformed(
                    "a FIT definition has an unknown architecture",
                ));
            }
        };
        let global_bytes = [fixed[2], fixed[3]];
        let global = if big_endian {
            u16::from_be_bytes(global_bytes)
        } else {
            u16::from_le_bytes(global_bytes)
        };
        let count = usize::from(fixed[4]);
        let mut len = 5 + 3 * count;
        let raw = rest.get(5..len).ok_or_else(truncated)?;
        let fields: Vec<(u8, u8)> = raw.chunks_exact(3).map(|f| (f[0], f[1])).collect();
        let mut size: usize = fields.iter().map(|&(_, size)| usize::from(size)).sum();
        if developer {
            let count = usize::from(*rest.get(len).ok_or_else(truncated)?);
            let raw = rest
                .get(len + 1..len + 1 + 3 * count)
                .ok_or_else(truncated)?;
            size += raw
                .chunks_exact(3)
                .map(|f| usize::from(f[1]))
                .sum::<usize>();
            len += 1 + 3 * count;
        }
        self.definitions[local] = Some(Definition {
            big_endian,
            global,
            fields,
            size,
        });
        Ok(len)
    }

    /// Reads a data message, returning its length; a record with a position becomes a point.
    fn data_message(
        &mut self,
        local: usize,
        compressed_time: Option<u32>,
        rest: &[u8],
        points: &mut Vec<Point>,
    ) -> Result<usize, TrackError> {
        let definition = self.definitions[local]
            .as_ref()
            .ok_or_else(|| TrackError::malformed("a FIT data message has no definition"))?;
        let message = rest
            .get(..definition.size)
            .ok_or_else(|| TrackError::malformed("a FIT record is truncated"))?;
        let record = Record::decode(definition, message);
        // Later compressed timestamps count from the latest time, full or compressed.
        if let Some(time) = record.timestamp.or(compressed_time) {
            self.last_timestamp = Some(time);
        }
        if definition.global == RECORD_MESSAGE
            && let Some(point) = record.into_point(compressed_time)?
        {
            push_point(points, point)?;
        }
        Ok(definition.size)
    }
}

/// The fields of one message that we use; `None` for absent or "invalid" (all ones) values.
#[derive(Default)]
struct Record {
    timestamp: Option<u32>,
    lat: Option<i32>,
    lon: Option<i32>,
    altitude: Option<u16>,
    enhanced_altitude: Option<u32>,
    heart_rate: Option<u8>,
}

impl Record {
    fn decode(definition: &Definition, message: &[u8]) -> Self {
        let mut record = Record::default();
        let mut at = 0;
        for &(number, size) in &definition.fields {
            let size = usize::from(size);
            let value = message.get(at..at + size).unwrap_or_default();
            at += size;
            let u32_value = || {
                let bytes: [u8; 4] = value.try_into().ok()?;
                Some(if definition.big_endian {
                    u32::from_be_bytes(bytes)
                } else {
                    u32::from_le_bytes(bytes)
                })
            };
            match (number, size) {
                (253, 4) => record.timestamp = u32_value().filter(|&v| v != u32::MAX),
                (0, 4) => record.lat = u32_value().map(|v| v as i32).filter(|&v| v != i32::MAX),
                (1, 4) => record.lon = u32_value().map(|v| v as i32).filter(|&v| v != i32::MAX),
                (78, 4) => record.enhanced_altitude = u32_value().filter(|&v| v != u32::MAX),
                (2, 2) => {
                    let v = match (value, definition.big_endian) {
                        (&[a, b], false) => u16::from_le_bytes([a, b]),
                        (&[a, b], true) => u16::from_be_bytes([a, b]),
                        _ => u16::MAX,
                    };
                    record.altitude = Some(v).filter(|&v| v != u16::MAX);
                }
                (3, 1) => record.heart_rate = value.first().copied().filter(|&v| v != u8::MAX),
                _ => {}
            }
        }
        record
    }

    fn into_point(self, compressed_time: Option<u32>) -> Result<Option<Point>, TrackError> {
        let (Some(lat), Some(lon)) = (self.lat, self.lon) else {
            return Ok(None);
        };
        let (lat, lon) = (
            f64::from(lat) * DEGREES_PER_SEMICIRCLE,
            f64::from(lon) * DEGREES_PER_SEMICIRCLE,
        );
        valid_position(lat, lon)?;
        let scaled = self.enhanced_altitude.or(self.altitude.map(u32::from));
        Ok(Some(Point {
            time_s: self
                .timestamp
                .or(compressed_time)
                .map(|t| FIT_EPOCH_UNIX_S + i64::from(t)),
            lat,
            lon,
            ele_m: scaled
                .map(|v| f64::from(v) / 5.0 - 500.0)
                .and_then(plausible_elevation),
            hr: self.heart_rate.and_then(|bpm| plausible_hr(f64::from(bpm))),
        }))
    }
}

const CRC_TABLE: [u16; 16] = [
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800, 0xB401,
    0x5000, 0x9C01, 0x8801, 0x4400,
];

/// The FIT CRC-16 (CRC-16/ARC computed a nibble at a time, as in the FIT SDK).
fn crc(bytes: &[u8]) -> u16 {
    let step = |crc: u16, nibble: u8| {
        let tmp = CRC_TABLE[usize::from(crc & 0x0F)];
        ((crc >> 4) & 0x0FFF) ^ tmp ^ CRC_TABLE[usize::from(nibble)]
    };
    bytes
        .iter()
        .fold(0, |crc, &byte| step(step(crc, byte & 0x0F), byte >> 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_crc16_arc() {
        assert_eq!(crc(b"123456789"), 0xBB3D);
        assert_eq!(crc(b""), 0);
    }

    #[test]
    fn compressed_timestamps_roll_over_the_five_bit_offset() {
        let mut decoder = Decoder {
            last_timestamp: Some(0x3E),
            ..Decoder::default()
        };
        decoder.definitions[1] = Some(Definition {
            big_endian: false,
            global: RECORD_MESSAGE,
            fields: vec![(0, 4), (1, 4)],
            size: 8,
        });
        let mut points = Vec::new();
        // Local type 1, offset 2: 0x3E -> 0x42 (the low five bits went from 30 to 2).
        let mut data = vec![0x80 | (1 << 5) | 2];
        data.extend_from_slice(&0x2500_0000i32.to_le_bytes());
        data.extend_from_slice(&0x0380_0000i32.to_le_bytes());
        decoder.records(&data, &mut points).expect("valid record");
        assert_eq!(points[0].time_s, Some(FIT_EPOCH_UNIX_S + 0x42));
    }
}
