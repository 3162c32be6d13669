//! Benchmark: parse and summarise a one-hour run recorded at 1 Hz (3600 points with elevation,
//! time and a Garmin heart-rate extension), generated deterministically.
//!
//! Writes the file to `target/bench-gpx-1h.gpx` (or `$BENCH_GPX_PATH`) so
//! `bench/gpx_vs_gpxpy.sh` can time gpxpy on the very same bytes, then prints the median time
//! of one parse + summary. A plain `harness = false` binary: no criterion, to keep builds small.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use duurloop_tracks::{Format, HrZone, parse, summarise};

const POINTS: u32 = 3600;
const WARM_UP_RUNS: usize = 20;
const RUNS: usize = 300;

fn main() {
    let gpx = one_hour_gpx();
    let path = std::env::var_os("BENCH_GPX_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/bench-gpx-1h.gpx"
            ))
        });
    if let Err(error) = std::fs::write(&path, &gpx) {
        eprintln!("cannot write {}: {error}", path.display());
        std::process::exit(1);
    }
    let bytes = gpx.as_bytes();
    let zone = Some(HrZone {
        low: 130,
        high: 150,
    });
    let run = || {
        let track = parse(black_box(bytes), Format::Gpx)
            .unwrap_or_else(|e| panic!("benchmark file refused: {e}"));
        black_box(summarise(&track, zone))
    };
    let summary = run();
    for _ in 0..WARM_UP_RUNS {
        run();
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "file={}",
        std::fs::canonicalize(&path).unwrap_or(path).display()
    );
    println!("bytes={} points={POINTS} runs={RUNS}", bytes.len());
    println!(
        "summary: distance {:.1} m, moving {} s of {} s, climb {:.1} m, avg hr {:?}, in zone {:?} s",
        summary.distance_m,
        summary.moving_s,
        summary.duration_s,
        summary.elevation_gain_m.unwrap_or_default(),
        summary.avg_hr,
        summary.in_zone_s
    );
    println!(
        "duurloop-tracks parse+summary: median_ms={:.3} min_ms={:.3} max_ms={:.3}",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
}

/// A Garmin-style GPX 1.1 file: a loop through a park at about 2.8 m/s with a 40 s stop at a
/// traffic light, rolling elevation and a drifting heart rate, with small deterministic noise.
fn one_hour_gpx() -> String {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut gpx = String::with_capacity(1_200_000);
    gpx.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<gpx creator=\"Garmin Connect\" version=\"1.1\" ",
        "xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/11.xsd\" ",
        "xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\" ",
        "xmlns=\"http://www.topografix.com/GPX/1/1\" ",
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
        "  <metadata>\n    <time>2024-03-09T08:00:00.000Z</time>\n  </metadata>\n",
        "  <trk>\n    <name>Duurloop benchmark</name>\n    <type>running</type>\n    <trkseg>\n"
    ));
    let (mut lat, mut lon) = (52.0907_f64, 5.1214_f64);
    for i in 0..POINTS {
        let t = f64::from(i);
        let stopped = (1800..1840).contains(&i);
        if !stopped {
            let heading = t / 600.0 * std::f64::consts::TAU;
            let metres = 2.8 + noise.next() * 0.3;
            lat += metres * heading.cos() / 111_195.0;
            lon += metres * heading.sin() / (111_195.0 * lat.to_radians().cos());
        }
        let ele = 4.0 + 3.0 * (t / 300.0).sin() + noise.next() * 0.4;
        let hr = 140.0 + 12.0 * (t / 900.0).sin() + noise.next() * 3.0;
        let _ = write!(
            gpx,
            "      <trkpt lat=\"{:.14}\" lon=\"{:.14}\">\n        <ele>{:.1}</ele>\n        \
             <time>2024-03-09T{:02}:{:02}:{:02}.000Z</time>\n        <extensions>\n          \
             <gpxtpx:TrackPointExtension>\n            <gpxtpx:hr>{}</gpxtpx:hr>\n          \
             </gpxtpx:TrackPointExtension>\n        </extensions>\n      </trkpt>\n",
            lat + noise.next() * 0.000_002,
            lon + noise.next() * 0.000_002,
            ele,
            8 + i / 3600,
            (i / 60) % 60,
            i % 60,
            hr.round()
        );
    }
    gpx.push_str("    </trkseg>\n  </trk>\n</gpx>\n");
    gpx
}

/// xorshift64*, mapped to −1..1.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 52) as f64 - 1.0
    }
}
