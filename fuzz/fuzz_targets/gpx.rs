//! GPX: `parse(data, Format::Gpx)` never panics, and an accepted track passes every check in
//! `duurloop_fuzz::check_accepted` (points, summaries with and without zones, privacy trim).
#![no_main]

use duurloop_tracks::{Format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(track) = parse(data, Format::Gpx) {
        duurloop_fuzz::check_accepted(&track);
    }
});
