//! A property test in plain Rust: mutated copies of every fixture never make the parsers panic,
//! and whatever they accept is a sane track. (The same entry point, `parse_any`, suits
//! cargo-fuzz.)

use duurloop_tracks::{Format, MAX_POINTS, Track, parse, parse_any, privacy_trimmed, summarise};

use crate::fit_encoder;
use crate::{BILLION_LAUGHS_GPX, GARMIN_GPX, PAUSED_TCX, STRAVA_GPX};

/// xorshift64*, seeded: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Flips, inserts, deletes, duplicates or truncates something, sometimes several times over.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const INTERESTING: &[u8] = b"<>/=\"'&;!?:. -0123456789\x00\xff\x0e.FIT";
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 if !bytes.is_empty() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if !bytes.is_empty() => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.below(bytes.len());
                bytes.splice(to..to, copy);
            }
            4 => bytes.truncate(at),
            _ if !bytes.is_empty() => bytes[at] = rng.next() as u8,
            _ => {}
        }
    }
    bytes
}

fn check(track: &Track) {
    assert!(!track.points.is_empty() && track.points.len() <= MAX_POINTS);
    for p in &track.points {
        assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lon));
        assert!(p.ele_m.is_none_or(f64::is_finite));
    }
    let summary = summarise(
        track,
        Some(duurloop_tracks::HrZone {
            low: 120,
            high: 160,
        }),
    );
    assert!(summary.distance_m.is_finite() && summary.distance_m >= 0.0);
    assert!(summary.moving_s >= 0 && summary.duration_s >= 0);
    let _ = privacy_trimmed(track, 200.0);
}

#[test]
fn mutated_files_of_every_format_never_panic_and_accepted_ones_are_sane() {
    let fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    let seeds: [&[u8]; 5] = [GARMIN_GPX, STRAVA_GPX, PAUSED_TCX, BILLION_LAUGHS_GPX, &fit];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for seed in seeds {
        for _ in 0..600 {
            let bytes = mutate(&mut rng, seed);
            let results = [
                parse_any(&bytes),
                parse(&bytes, Format::Gpx),
                parse(&bytes, Format::Tcx),
                parse(&bytes, Format::Fit),
            ];
            for track in results.iter().flatten() {
                check(track);
                accepted += 1;
            }
        }
    }
    // Some mutations (inside names or whitespace) leave a valid file: the test reaches the
    // summary code too.
    assert!(
        accepted > 100,
        "only {accepted} mutated files were accepted"
    );
}

/// A FIT file around `records`, with a correct size and checksums, so the mutations reach the
/// record decoder instead of stopping at the CRC check.
fn with_valid_checksums(records: &[u8]) -> Vec<u8> {
    let mut file = vec![14, 0x20, 0x93, 0x08];
    file.extend_from_slice(&u32::try_from(records.len()).expect("small").to_le_bytes());
    file.extend_from_slice(b".FIT");
    let header_crc = fit_encoder::crc(&file);
    file.extend_from_slice(&header_crc.to_le_bytes());
    file.extend_from_slice(records);
    let file_crc = fit_encoder::crc(&file);
    file.extend_from_slice(&file_crc.to_le_bytes());
    file
}

#[test]
fn mutated_fit_records_with_valid_checksums_never_panic() {
    let fit = fit_encoder::activity(&fit_encoder::garmin_run_samples(), false);
    let records = &fit[14..fit.len() - 2];
    assert!(parse(&with_valid_checksums(records), Format::Fit).is_ok());
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut accepted = 0;
    for _ in 0..3000 {
        let mutated = with_valid_checksums(&mutate(&mut rng, records));
        if let Ok(track) = parse(&mutated, Format::Fit) {
            check(&track);
            accepted += 1;
        }
    }
    assert!(
        accepted > 100,
        "only {accepted} mutated files were accepted"
    );
}
