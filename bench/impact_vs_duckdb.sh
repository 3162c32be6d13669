#!/usr/bin/env bash
# The regional impact report over at least 1,000,000 questionnaire responses: Duurloop on
# SQLite against DuckDB doing the same aggregation, on the same data and machine, in one run.
# Goal: Duurloop within 3x DuckDB's time.
#
#   bash bench/impact_vs_duckdb.sh           # from anywhere in the repository
#   RESPONSES=2000000 RUNS=7 PYTHON=python3.12 bash bench/impact_vs_duckdb.sh
#
# 1. builds the release binary (`cargo build --release -p duurloop`);
# 2. `duurloop bench-impact` makes a fresh SQLite database with the app's migrations under
#    target/bench-impact/, generates a region (20 practices, referrals, intakes, timelines,
#    trajectories, attendance, measurements) with at least $RESPONSES scores, times
#    app::reports::impact for the region's coordinator (one warm-up, median of $RUNS) and
#    exports the columns the report reads as CSV;
# 3. installs duckdb with pip if it is missing; bench/impact_duckdb.py loads the CSVs into
#    DuckDB tables (not timed), times the same aggregation in two formulations (median of
#    $RUNS after a warm-up) and checks every figure of both against Duurloop's report;
# 4. prints the medians and the ratios; the goal is judged against the faster DuckDB.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RESPONSES=${RESPONSES:-1000000}
RUNS=${RUNS:-5}
OUT=target/bench-impact

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "$(rustc --version); $("$PYTHON" --version 2>&1)"

echo "== build"
cargo build --release -p duurloop

echo "== duurloop (SQLite)"
rm -rf "$OUT"
mkdir -p "$OUT"
DUURLOOP_LOG="warn,sqlx=error" target/release/duurloop bench-impact --responses "$RESPONSES" --runs "$RUNS" \
    --keep "$OUT/impact.db" --csv "$OUT" >"$OUT/duurloop.json"
"$PYTHON" - "$OUT/duurloop.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
print("data:", ", ".join(f"{k} {v}" for k, v in b["counts"].items()), f"(generated in {b['generate_s']:.0f} s)")
print("runs (ms):", ", ".join(f"{t:.1f}" for t in b["runs_ms"]))
print(f"duurloop impact report: median_ms={b['median_ms']:.3f}")
PY

echo "== duckdb"
if ! "$PYTHON" -c 'import duckdb' 2>/dev/null; then
    "$PYTHON" -m pip install --quiet duckdb
fi
py_out=$("$PYTHON" bench/impact_duckdb.py "$OUT/duurloop.json" "$RUNS") || {
    echo "$py_out"
    echo "the two sides disagree: not the same aggregation" >&2
    exit 1
}
echo "$py_out"
duck_same=$(sed -n 's/^as_duurloop impact aggregation: median_ms=\([0-9.]*\).*/\1/p' <<<"$py_out")
duck_best=$(sed -n 's/^facts_once impact aggregation: median_ms=\([0-9.]*\).*/\1/p' <<<"$py_out")

echo "== result"
"$PYTHON" - "$OUT/duurloop.json" "$duck_same" "$duck_best" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["median_ms"]
same, best = float(sys.argv[2]), float(sys.argv[3])
for name, duck in [("DuckDB as Duurloop queries (as_duurloop)", same),
                   ("DuckDB's faster formulation (facts_once)", best)]:
    print(f"duurloop {ours:.1f} ms / {name} {duck:.1f} ms = {ours / duck:.2f}x")
ratio = ours / min(same, best)
print(f"against the faster DuckDB: {ratio:.2f}x (goal <= 3x: {'met' if ratio <= 3 else 'NOT met'})")
PY
