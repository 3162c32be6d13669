//! A small FIT encoder, written from the FIT protocol description independently of the decoder,
//! so the tests can make valid (and deliberately broken) FIT files without binary fixtures.

/// Base types from the FIT profile.
pub const ENUM: u8 = 0x00;
pub const UINT8: u8 = 0x02;
pub const UINT16: u8 = 0x84;
pub const SINT32: u8 = 0x85;
pub const UINT32: u8 = 0x86;
pub const UINT32Z: u8 = 0x8C;

pub const FILE_ID: u16 = 0;
pub const RECORD: u16 = 20;
pub const EVENT: u16 = 21;

/// Unix seconds of the FIT epoch, 1989-12-31T00:00:00Z.
pub const FIT_EPOCH_UNIX: i64 = 631_065_600;

/// One record message as a watch writes it.
#[derive(Clone, Copy)]
pub struct Sample {
    pub unix_s: i64,
    /// `None` before the GPS has a fix (written as the FIT "invalid" value).
    pub position: Option<(f64, f64)>,
    pub altitude_m: Option<f64>,
    pub hr: Option<u8>,
    pub distance_m: f64,
}

pub struct FitWriter {
    big_endian: bool,
    records: Vec<u8>,
}

impl FitWriter {
    pub fn new(big_endian: bool) -> Self {
        Self {
            big_endian,
            records: Vec::new(),
        }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A definition message: fields are (number, size, base type); developer fields are
    /// (number, size, developer data index).
    pub fn define(
        &mut self,
        local: u8,
        global: u16,
        fields: &[(u8, u8, u8)],
        developer: &[(u8, u8, u8)],
    ) {
        let flag = if developer.is_empty() { 0x40 } else { 0x60 };
        self.records.push(flag | local);
        self.records.push(0);
        self.records.push(u8::from(self.big_endian));
        let global = self.u16(global);
        self.records.extend_from_slice(&global);
        self.records
            .push(u8::try_from(fields.len()).expect("few fields"));
        for &(number, size, base) in fields {
            self.records.extend_from_slice(&[number, size, base]);
        }
        if !developer.is_empty() {
            self.records
                .push(u8::try_from(developer.len()).expect("few fields"));
            for &(number, size, index) in developer {
                self.records.extend_from_slice(&[number, size, index]);
            }
        }
    }

    /// A data message with a normal header; `values` must match the definition's layout.
    pub fn data(&mut self, local: u8, values: &[u8]) {
        self.records.push(local);
        self.records.extend_from_slice(values);
    }

    /// A data message with a compressed timestamp header (local types 0–3 only).
    pub fn compressed(&mut self, local: u8, unix_s: i64, values: &[u8]) {
        let offset = u8::try_from((unix_s - FIT_EPOCH_UNIX) & 0x1F).expect("five bits");
        self.records.push(0x80 | (local << 5) | offset);
        self.records.extend_from_slice(values);
    }

    pub fn file_id(&mut self, unix_s: i64) {
        self.define(
            0,
            FILE_ID,
            &[
                (0, 1, ENUM),
                (1, 2, UINT16),
                (2, 2, UINT16),
                (3, 4, UINT32Z),
                (4, 4, UINT32),
            ],
            &[],
        );
        let mut values = vec![4]; // activity
        values.extend_from_slice(&self.u16(1)); // Garmin
        values.extend_from_slice(&self.u16(3869));
        values.extend_from_slice(&self.u32(3_456_789_012));
        values.extend_from_slice(&self.u32(fit_time(unix_s)));
        self.data(0, &values);
    }

    /// The record layout used by [`FitWriter::record`]: timestamp, lat, long, altitude, heart
    /// rate, distance.
    pub fn define_records(&mut self, local: u8) {
        let fields = [
            (253, 4, UINT32),
            (0, 4, SINT32),
            (1, 4, SINT32),
            (2, 2, UINT16),
            (3, 1, UINT8),
            (5, 4, UINT32),
        ];
        self.define(local, RECORD, &fields, &[]);
    }

    pub fn record(&mut self, local: u8, sample: Sample) {
        let values = self.record_values(sample, true);
        self.data(local, &values);
    }

    pub fn record_values(&self, sample: Sample, with_timestamp: bool) -> Vec<u8> {
        let mut values = Vec::new();
        if with_timestamp {
            values.extend_from_slice(&self.u32(fit_time(sample.unix_s)));
        }
        let (lat, lon) = sample.position.map_or((i32::MAX, i32::MAX), |(lat, lon)| {
            (semicircles(lat), semicircles(lon))
        });
        values.extend_from_slice(&self.u32(lat as u32));
        values.extend_from_slice(&self.u32(lon as u32));
        let altitude = sample
            .altitude_m
            .map_or(u16::MAX, |m| ((m + 500.0) * 5.0).round() as u16);
        values.extend_from_slice(&self.u16(altitude));
        values.push(sample.hr.unwrap_or(u8::MAX));
        values.extend_from_slice(&self.u32((sample.distance_m * 100.0).round() as u32));
        values
    }

    /// A start event (global 21), which the decoder must skip.
    pub fn start_event(&mut self, local: u8, unix_s: i64) {
        self.define(
            local,
            EVENT,
            &[(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)],
            &[],
        );
        let mut values = self.u32(fit_time(unix_s)).to_vec();
        values.extend_from_slice(&[0, 0]); // timer, start
        self.data(local, &values);
    }

    /// The whole file: a 14-byte header with its CRC, the records, and the file CRC.
    pub fn finish(&self) -> Vec<u8> {
        let mut file = vec![14, 0x20];
        file.extend_from_slice(&2195u16.to_le_bytes());
        file.extend_from_slice(
            &u32::try_from(self.records.len())
                .expect("small")
                .to_le_bytes(),
        );
        file.extend_from_slice(b".FIT");
        let header_crc = crc(&file);
        file.extend_from_slice(&header_crc.to_le_bytes());
        file.extend_from_slice(&self.records);
        let file_crc = crc(&file);
        file.extend_from_slice(&file_crc.to_le_bytes());
        file
    }
}

pub fn fit_time(unix_s: i64) -> u32 {
    u32::try_from(unix_s - FIT_EPOCH_UNIX).expect("after 1989")
}

pub fn semicircles(degrees: f64) -> i32 {
    (degrees * 2_147_483_648.0 / 180.0).round() as i32
}

/// CRC-16/ARC, bit by bit (the decoder uses the FIT SDK's nibble table).
pub fn crc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &byte in bytes {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The run of the Garmin GPX fixture, as a Forerunner would record it in FIT: a record before
/// the GPS fix, then six points 5 s apart going north by 0.0001° each.
pub fn garmin_run_samples() -> Vec<Sample> {
    let start = 1_709_971_200; // 2024-03-09T08:00:00Z
    let elevations = [3.0, 3.4, 4.6, 5.0, 4.2, 6.0];
    let mut samples = vec![Sample {
        unix_s: start - 3,
        position: None,
        altitude_m: None,
        hr: Some(95),
        distance_m: 0.0,
    }];
    for (k, ele) in elevations.into_iter().enumerate() {
        let step = k as f64;
        samples.push(Sample {
            unix_s: start + 5 * k as i64,
            position: Some((52.09 + 0.0001 * step, 5.12)),
            altitude_m: Some(ele),
            hr: Some(120 + 10 * k as u8),
            distance_m: 11.12 * step,
        });
    }
    samples
}

/// A complete activity file for `samples`: file id, start event, records.
pub fn activity(samples: &[Sample], big_endian: bool) -> Vec<u8> {
    let mut fit = FitWriter::new(big_endian);
    fit.file_id(samples[0].unix_s);
    fit.start_event(1, samples[0].unix_s);
    fit.define_records(2);
    for &sample in samples {
        fit.record(2, sample);
    }
    fit.finish()
}
