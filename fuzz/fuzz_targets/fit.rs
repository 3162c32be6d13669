//! FIT: `parse(data, Format::Fit)` never panics, and an accepted track passes every check in
//! `duurloop_fuzz::check_accepted`.
//!
//! A FIT file ends in a CRC-16 of everything before it, so almost every mutation of a seed is
//! refused at the checksum and never reaches the record decoder. The input is therefore parsed
//! twice: as it is (header, size and checksum handling) and with its sizes and checksums
//! repaired (the record decoder), see `repair`.
#![no_main]

use duurloop_tracks::{Format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(track) = parse(data, Format::Fit) {
        duurloop_fuzz::check_accepted(&track);
    }
    if let Some(repaired) = repair(data)
        && repaired != data
    {
        match parse(&repaired, Format::Fit) {
            Ok(track) => duurloop_fuzz::check_accepted(&track),
            Err(error) => assert!(
                !error.to_string().contains("checksum"),
                "a repaired file still fails its checksum: {error}"
            ),
        }
    }
});

/// Walks the (possibly chained) FIT files in `data` and rewrites each header's data size (cut
/// to what is there), header CRC and file CRC, so the records are decoded. `None` when the
/// input does not start like a FIT file.
fn repair(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = data.to_vec();
    let mut at = 0;
    let mut repaired_any = false;
    while at < out.len() {
        let rest = &out[at..];
        let header_len = usize::from(*rest.first()?);
        if !matches!(header_len, 12 | 14) || rest.get(8..12) != Some(b".FIT") {
            break;
        }
        if rest.len() < header_len {
            break;
        }
        let declared = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        // No room for a file CRC: only the header's own checksum can be repaired.
        let room = rest.len() - header_len >= 2;
        if room {
            let data_len = declared.min(rest.len() - header_len - 2);
            out[at + 4..at + 8].copy_from_slice(&(data_len as u32).to_le_bytes());
        }
        if header_len == 14 {
            let header_crc = crc(&out[at..at + 12]);
            out[at + 12..at + 14].copy_from_slice(&header_crc.to_le_bytes());
        }
        repaired_any = true;
        if !room {
            break;
        }
        let data_len =
            u32::from_le_bytes([out[at + 4], out[at + 5], out[at + 6], out[at + 7]]) as usize;
        let data_end = at + header_len + data_len;
        let file_crc = crc(&out[at..data_end]);
        out[data_end..data_end + 2].copy_from_slice(&file_crc.to_le_bytes());
        at = data_end + 2;
    }
    repaired_any.then_some(out)
}

/// CRC-16/ARC, bit by bit (independent of the crate's nibble table).
fn crc(bytes: &[u8]) -> u16 {
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
