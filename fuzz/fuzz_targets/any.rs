//! Any format: `parse_any` never panics, agrees with `detect` + `parse`, and an accepted track
//! passes every check in `duurloop_fuzz::check_accepted`.
#![no_main]

use duurloop_tracks::{TrackError, detect, parse, parse_any};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let result = parse_any(data);
    // A name without an extension: `detect` then looks at the content only, like `parse_any`.
    match detect(data, "upload") {
        Some(format) => assert_eq!(result, parse(data, format), "parse_any ≠ parse({format:?})"),
        None => assert!(
            matches!(
                result,
                Err(TrackError::Unsupported | TrackError::Hostile | TrackError::Empty)
            ),
            "content not recognised, yet parse_any gave {result:?}"
        ),
    }
    // The extension is only a fallback: it never overrides recognised content.
    for name in ["run.gpx", "run.tcx", "run.fit"] {
        if let Some(by_content) = detect(data, "upload") {
            assert_eq!(
                detect(data, name),
                Some(by_content),
                "{name} overrode the content"
            );
        }
    }
    if let Ok(track) = &result {
        duurloop_fuzz::check_accepted(track);
    }
});
