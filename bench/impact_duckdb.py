#!/usr/bin/env python3
"""The impact report's aggregation in DuckDB, on the data `duurloop bench-impact` generated.

Usage: impact_duckdb.py RUST_JSON [RUNS]

RUST_JSON is what `duurloop bench-impact --csv DIR` printed: the CSV folder, the period, the
coordinating organisation and the report Duurloop computed. The CSVs are loaded into native
DuckDB tables first (not timed). Then the same aggregation as `app::reports::impact` grouped
by practice is timed, median of RUNS (default 5) after one warm-up:

- per practice and in total: referred, intake, started, completed, follow-up, dropped out,
  the median days from referral to start (rounded to 0.1), the attendance rate;
- per practice, instrument and in total: the first and the last score of each trajectory
  (when it has two or more), straight from the million scores, then n, means, mean change,
  effect size (baseline SD, positive = better) and the Jacobson-Truax counts, with the
  parameters read from crates/duurloop-domain/instruments/*.json;
- the dropout reasons with how often they were given.

It is timed in two formulations: `as_duurloop`, three queries each over the base tables as
Duurloop's store runs them, and `facts_once`, the per-referral facts computed once into a
temporary table and the three aggregations over that (DuckDB's faster way).

Every figure of both is then compared with Duurloop's report (counts exactly, means to 1e-6),
so the two sides provably compute the same thing; a difference exits with status 1.
"""

import json
import math
import pathlib
import re
import statistics
import sys
import time

import duckdb

ROOT = pathlib.Path(__file__).resolve().parent.parent
INSTRUMENTS = ROOT / "crates" / "duurloop-domain" / "instruments"
# RELIABLE_Z in crates/duurloop-domain/src/measure/change.rs.
RELIABLE_Z = 1.96
# ZERO_SD in crates/duurloop-domain/src/report.rs.
ZERO_SD = 1e-9
BUILT_IN = ("phq9", "gad7", "who5")

TABLES = {
    "organisations": {"id": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR"},
    "therapists": {"id": "VARCHAR", "org_id": "VARCHAR", "name": "VARCHAR"},
    "offerings": {"id": "VARCHAR", "org_id": "VARCHAR", "therapist_id": "VARCHAR", "title": "VARCHAR"},
    "referrals": {
        "id": "VARCHAR", "status": "VARCHAR", "created_at": "BIGINT", "indications": "VARCHAR",
        "funding_route": "VARCHAR", "offering_id": "VARCHAR", "region_org_id": "VARCHAR",
        "referrer_org_id": "VARCHAR",
    },
    "intakes": {"referral_id": "VARCHAR", "recorded_at": "BIGINT"},
    "referral_events": {"referral_id": "VARCHAR", "at": "BIGINT", "to_status": "VARCHAR", "note": "VARCHAR"},
    "trajectories": {"id": "VARCHAR", "referral_id": "VARCHAR"},
    "attendance": {"trajectory_id": "VARCHAR", "status": "VARCHAR"},
    "measurement_scores": {
        "trajectory_id": "VARCHAR", "instrument": "VARCHAR", "total": "DOUBLE", "scored_at": "BIGINT",
    },
}

# The facts: one row per referral of the period that the organisation covers, as the report
# reads them (store::reports): stage, group label, trajectory, days to start, dropout reason.
FACT_CTES = """
intake AS (
    SELECT referral_id, COUNT(*) AS n FROM intakes WHERE recorded_at IS NOT NULL GROUP BY referral_id
), started AS (
    SELECT referral_id, MIN("at") AS started_at FROM referral_events WHERE to_status = 'started'
    GROUP BY referral_id
), dropout AS (
    SELECT referral_id, MAX(note) AS reason FROM referral_events WHERE to_status = 'dropped_out'
    GROUP BY referral_id
)"""

FACTS = """
SELECT r.status, r.created_at, COALESCE(po.name, '—') AS label, t.id AS trajectory_id,
       COALESCE(i.n, 0) AS intake, s.started_at, d.reason
FROM referrals r
LEFT JOIN offerings o ON o.id = r.offering_id
LEFT JOIN organisations po ON po.id = o.org_id
LEFT JOIN trajectories t ON t.referral_id = r.id
LEFT JOIN intake i ON i.referral_id = r.id
LEFT JOIN started s ON s.referral_id = r.id
LEFT JOIN dropout d ON d.referral_id = r.id
WHERE r.created_at >= $from AND r.created_at < $to
  AND (o.org_id = $org OR r.region_org_id = $org OR r.referrer_org_id = $org)
"""

# The three aggregations over `facts`: (common table expressions they add, the select).
FUNNEL = ("""
att AS (
    SELECT trajectory_id, SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END) AS attended,
           COUNT(*) AS recorded
    FROM attendance GROUP BY trajectory_id
)""", """
SELECT CASE WHEN GROUPING(label) = 1 THEN '' ELSE label END AS label,
    COUNT(*) AS referred,
    COUNT(*) FILTER (WHERE intake > 0 OR status IN ('accepted', 'waitlisted', 'not_suitable',
        'started', 'completed', 'dropped_out', 'follow_up_done')) AS intake,
    COUNT(*) FILTER (WHERE status IN ('started', 'completed', 'dropped_out', 'follow_up_done')) AS started,
    COUNT(*) FILTER (WHERE status IN ('completed', 'follow_up_done')) AS completed,
    COUNT(*) FILTER (WHERE status = 'follow_up_done') AS follow_up,
    COUNT(*) FILTER (WHERE status = 'dropped_out') AS dropped_out,
    ROUND(MEDIAN(GREATEST(CAST(started_at - created_at AS DOUBLE) / 86400000.0, 0.0))
        FILTER (WHERE started_at IS NOT NULL) * 10) / 10 AS median_days_to_start,
    CAST(SUM(a.attended) AS DOUBLE) / NULLIF(CAST(SUM(a.recorded) AS DOUBLE), 0) AS attendance_rate
FROM facts f LEFT JOIN att a ON a.trajectory_id = f.trajectory_id
GROUP BY GROUPING SETS ((label), ())
""")

OUTCOMES = ("""
pairs AS (
    SELECT trajectory_id, instrument, arg_min(total, scored_at) AS pre, arg_max(total, scored_at) AS post
    FROM measurement_scores WHERE instrument IN ('phq9', 'gad7', 'who5')
    GROUP BY trajectory_id, instrument HAVING COUNT(*) > 1
), judged AS (
    SELECT f.label, p.instrument, p.pre, p.post, k.higher,
        abs((p.post - p.pre) / k.s_diff) > $z AS reliable,
        CASE WHEN k.higher THEN p.post > p.pre ELSE p.post < p.pre END AS better,
        (CASE WHEN k.higher THEN p.pre <= k.cutoff ELSE p.pre >= k.cutoff END)
            AND NOT (CASE WHEN k.higher THEN p.post <= k.cutoff ELSE p.post >= k.cutoff END) AS crossed
    FROM pairs p JOIN facts f ON f.trajectory_id = p.trajectory_id JOIN params k ON k.instrument = p.instrument
), agg AS (
    SELECT CASE WHEN GROUPING(label) = 1 THEN '' ELSE label END AS label, instrument,
        ANY_VALUE(higher) AS higher, COUNT(*) AS n, AVG(pre) AS mean_pre, AVG(post) AS mean_post,
        STDDEV_SAMP(pre) AS sd_pre,
        COUNT(*) FILTER (WHERE reliable AND better) AS reliably_improved,
        COUNT(*) FILTER (WHERE reliable AND better AND crossed) AS recovered,
        COUNT(*) FILTER (WHERE reliable AND NOT better) AS deteriorated
    FROM judged GROUP BY GROUPING SETS ((label, instrument), (instrument))
)""", """
SELECT label, instrument, n, mean_pre, mean_post, mean_post - mean_pre AS mean_change,
    CASE WHEN sd_pre > $zero_sd THEN (mean_post - mean_pre) / sd_pre * (CASE WHEN higher THEN 1 ELSE -1 END) END
        AS effect_size,
    reliably_improved, recovered, deteriorated
FROM agg
""")

REASONS = (None, """
SELECT trim(reason) AS reason, COUNT(*) AS n FROM facts WHERE trim(reason) <> ''
GROUP BY trim(reason) ORDER BY n DESC, reason
""")


def with_ctes(ctes, select):
    ctes = [c for c in ctes if c]
    return ("WITH " + ", ".join(ctes) if ctes else "") + select


def run(con, sql, params):
    """Executes `sql` with the parameters it names."""
    names = set(re.findall(r"\$([a-z_]+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in names}).fetchall()


def as_duurloop(con, params):
    """The way Duurloop queries: each aggregation its own query over the base tables."""
    facts = f"facts AS ({FACTS})"
    return tuple(run(con, with_ctes([FACT_CTES, facts, extra], select), params)
                 for extra, select in (FUNNEL, OUTCOMES, REASONS))


def facts_once(con, params):
    """The facts computed once into a temporary table, then the three aggregations over it."""
    run(con, "CREATE OR REPLACE TEMP TABLE facts AS " + with_ctes([FACT_CTES], FACTS), params)
    out = tuple(run(con, with_ctes([extra], select), params) for extra, select in (FUNNEL, OUTCOMES, REASONS))
    con.execute("DROP TABLE facts")
    return out


def load(con, csv_dir):
    for table, columns in TABLES.items():
        spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true, delim = ',', "
            f"quote = '\"', escape = '\"', nullstr = '\\N', columns = {spec})",
            [str(pathlib.Path(csv_dir) / f"{table}.csv")],
        )
    con.execute("CREATE TABLE params (instrument VARCHAR, higher BOOLEAN, s_diff DOUBLE, cutoff DOUBLE)")
    for code in BUILT_IN:
        spec = json.loads((INSTRUMENTS / f"{code}.json").read_text(encoding="utf-8"))
        rc = spec["reliable_change"]
        # As measure::change: SE = sd * sqrt(1 - r), Sdiff = sqrt(2) * SE.
        s_diff = math.sqrt(2.0) * (rc["sd"] * math.sqrt(1.0 - rc["reliability"]))
        con.execute(
            "INSERT INTO params VALUES (?, ?, ?, ?)",
            [code, bool(spec["higher_is_better"]), s_diff, float(rc["cutoff"])],
        )


def close(a, b, tol=1e-6):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def compare(report, funnel, outcomes, reasons):
    """Differences between Duurloop's report and DuckDB's figures (empty when equal)."""
    diffs = []
    rows = {r["label"]: r for r in report["rows"]}
    rows[""] = report["total"]
    if len(funnel) != len(rows):
        diffs.append(f"{len(funnel)} groups in DuckDB, {len(rows)} in Duurloop")
    for label, *counts, median, rate in funnel:
        r = rows.get(label)
        if r is None:
            diffs.append(f"group {label!r} missing in Duurloop")
            continue
        names = ["referred", "intake", "started", "completed", "follow_up", "dropped_out"]
        for name, v in zip(names, counts):
            if r[name] != v:
                diffs.append(f"{label or 'total'} {name}: duurloop {r[name]}, duckdb {v}")
        for name, v in [("median_days_to_start", median), ("attendance_rate", rate)]:
            if not close(r[name], v):
                diffs.append(f"{label or 'total'} {name}: duurloop {r[name]}, duckdb {v}")
    seen = 0
    for label, code, n, *stats in outcomes:
        out = {o["instrument"]: o["stats"] for o in rows.get(label, {}).get("outcomes", [])}
        s = out.get(code)
        if s is None:
            diffs.append(f"{label or 'total'} {code} missing in Duurloop")
            continue
        seen += 1
        names = ["mean_pre", "mean_post", "mean_change", "effect_size"]
        if s["n"] != n:
            diffs.append(f"{label or 'total'} {code} n: duurloop {s['n']}, duckdb {n}")
        for name, v in zip(names, stats[:4]):
            if not close(s.get(name), v):
                diffs.append(f"{label or 'total'} {code} {name}: duurloop {s.get(name)}, duckdb {v}")
        for name, v in zip(["reliably_improved", "recovered", "deteriorated"], stats[4:]):
            if s.get(name) != v:
                diffs.append(f"{label or 'total'} {code} {name}: duurloop {s.get(name)}, duckdb {v}")
    if seen != sum(len(r["outcomes"]) for r in rows.values()):
        diffs.append("Duurloop has outcome cells DuckDB has not")
    if [tuple(x) for x in report["dropout_reasons"]] != [tuple(x) for x in reasons]:
        diffs.append(f"dropout reasons: duurloop {report['dropout_reasons']}, duckdb {reasons}")
    return diffs


def timed(con, how, params, runs):
    result = how(con, params)  # warm-up, and the figures to compare
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        how(con, params)
        times.append(time.perf_counter() - start)
    return result, times


def main():
    bench = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    con = duckdb.connect()
    start = time.perf_counter()
    load(con, bench["csv_dir"])
    load_s = time.perf_counter() - start
    params = {"from": bench["from_ms"], "to": bench["to_ms"], "org": bench["org_id"],
              "z": RELIABLE_Z, "zero_sd": ZERO_SD}
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"duckdb {duckdb.__version__} (Python {sys.version.split()[0]}, {threads} threads, "
          f"load {load_s:.1f} s not timed)")
    failed = False
    for name, how in [("as_duurloop", as_duurloop), ("facts_once", facts_once)]:
        (funnel, outcomes, reasons), times = timed(con, how, params, runs)
        diffs = compare(bench["report"], funnel, outcomes, reasons)
        failed = failed or bool(diffs)
        if name == "as_duurloop":
            for label, code, n, _pre, _post, change, *_ in sorted(o for o in outcomes if o[0] == ""):
                print(f"total {code}: {n} pairs, mean change {change:+.6f}")
        print(f"{name}: cross-check {len(funnel)} rows and {len(outcomes)} outcome cells, "
              f"{len(diffs)} differences")
        for d in diffs[:20]:
            print("  DIFFERENCE", d)
        print(f"{name} impact aggregation: median_ms={statistics.median(times) * 1000:.3f} "
              f"min_ms={min(times) * 1000:.3f} max_ms={max(times) * 1000:.3f} runs={runs}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
