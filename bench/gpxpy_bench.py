#!/usr/bin/env python3
"""Time gpxpy on the benchmark GPX: parse + length_3d + get_moving_data + get_uphill_downhill.

Usage: gpxpy_bench.py FILE [RUNS]. The file is read once; each run parses the text and computes
the summary, in-process, and the median over RUNS (default 21) is printed as `median_ms=...`.
"""

import statistics
import sys
import time

import gpxpy


def run(text):
    gpx = gpxpy.parse(text)
    return gpx.length_3d(), gpx.get_moving_data(), gpx.get_uphill_downhill()


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    with open(path, encoding="utf-8") as f:
        text = f.read()
    length, moving, updown = run(text)  # warm-up, and a sanity check of the numbers
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(text)
        times.append(time.perf_counter() - start)
    print(
        f"summary: length_3d {length:.1f} m, moving {moving.moving_time:.0f} s, "
        f"uphill {updown.uphill:.1f} m"
    )
    print(
        f"gpxpy {gpxpy.__version__} (Python {sys.version.split()[0]}) parse+summary: "
        f"median_ms={statistics.median(times) * 1000:.3f} "
        f"min_ms={min(times) * 1000:.3f} max_ms={max(times) * 1000:.3f} runs={runs}"
    )


if __name__ == "__main__":
    main()
