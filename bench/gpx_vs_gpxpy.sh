#!/usr/bin/env bash
# GPX parse + summary of a one-hour 1 Hz track: duurloop-tracks against Python's gpxpy, on the
# same file and machine, in one run. Goal (SPEC C6): duurloop-tracks at least 30x faster.
#
#   bench/gpx_vs_gpxpy.sh            # from anywhere in the repository
#   PYTHON=python3.12 RUNS=31 bench/gpx_vs_gpxpy.sh
#
# 1. builds and runs the release bench (`cargo bench -p duurloop-tracks --bench gpx`), which
#    generates the file deterministically, writes it to target/bench-gpx-1h.gpx and prints the
#    median of 300 parse + summary runs;
# 2. installs gpxpy with pip if it is missing;
# 3. times gpxpy.parse + length_3d + get_moving_data + get_uphill_downhill on that same file
#    (bench/gpxpy_bench.py, median of $RUNS in-process runs);
# 4. prints both medians and the ratio.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-21}

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "$(rustc --version); $("$PYTHON" --version 2>&1)"

echo "== duurloop-tracks (release bench)"
rust_out=$(cargo bench -p duurloop-tracks --bench gpx 2>&1)
echo "$rust_out"
rust_ms=$(sed -n 's/.*parse+summary: median_ms=\([0-9.]*\).*/\1/p' <<<"$rust_out")
file=$(sed -n 's/^file=//p' <<<"$rust_out")

echo "== gpxpy"
if ! "$PYTHON" -c 'import gpxpy' 2>/dev/null; then
    "$PYTHON" -m pip install --quiet gpxpy
fi
py_out=$("$PYTHON" bench/gpxpy_bench.py "$file" "$RUNS")
echo "$py_out"
py_ms=$(sed -n 's/.*parse+summary: median_ms=\([0-9.]*\).*/\1/p' <<<"$py_out")

echo "== result"
"$PYTHON" - "$rust_ms" "$py_ms" <<'PY'
import sys
rust, py = float(sys.argv[1]), float(sys.argv[2])
ratio = py / rust
print(f"duurloop-tracks median {rust:.3f} ms, gpxpy median {py:.3f} ms: {ratio:.1f}x faster "
      f"(goal >= 30x: {'met' if ratio >= 30 else 'NOT met'})")
PY
