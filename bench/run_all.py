#!/usr/bin/env python3
"""Benchmarks: each stage's time and peak memory beside a bare-DuckDB floor on the same input, same run.

usage: python bench/run_all.py [--rows 1000000] [--skip-demo] [--out bench/out]

Stages (each measured in a fresh subprocess, so peak RSS is the stage's own):
  floor           one DuckDB statement: read_csv the big CSV, parse dates, classify, group by quarter and unit
  read_csv_floor  DuckDB's bare read_csv of the same CSV (count rows)
  ingest_big      the product's reader + checks + Parquet raw layer on the big CSV
  validate_big    the Great Expectations checks alone on the parsed big CSV (time inside the stage, after warm-up)
  build_big       rebuilding the warehouse (core + every mart) from that raw layer
  demo            generate the demo exports, then ingest + build them
  hostile         bench/hostile.py: the worst hostile files through the isolated readers (peak MB is the
                  whole process tree's, which must stay under 1.5 GB), and isolation's cost on the big CSV
Figures print as: stage, seconds, rows/s, peak MB, ratio to the floor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FLOOR_SQL = """
with c as (
  select strptime("Ngày tiếp nhận", '%d/%m/%Y %H:%M') rec, strptime("Ngày hẹn trả", '%d/%m/%Y %H:%M') due,
         try_strptime("Ngày kết thúc xử lý", '%d/%m/%Y %H:%M') fin, "Đơn vị xử lý" unit, "Hình thức nộp" ch
  from read_csv(?, all_varchar=true))
select year(fin) y, quarter(fin) q, unit,
       count(*) filter (where fin::date < due::date) early,
       count(*) filter (where fin <= due and fin::date >= due::date) on_time,
       count(*) filter (where fin > due) late,
       count(*) filter (where fin is null) open
from c group by all
"""

STAGES = {
    "floor": """
import duckdb, sys
con = duckdb.connect()
print(len(con.execute(FLOOR_SQL, [sys.argv[1]]).fetchall()))
""",
    "read_csv_floor": """
import duckdb, sys
print(duckdb.connect().execute("select count(*) from read_csv(?, all_varchar=true)", [sys.argv[1]]).fetchone()[0])
""",
    "ingest_big": """
import sys
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.ingest.stage import run_ingest
s = load_settings(raw_dir=Path(sys.argv[1]).parent, warehouse=Path(sys.argv[2]) / "tthc.duckdb")
out = run_ingest(s, [Path(sys.argv[1])])
print(out.rows_loaded, [o.reason for o in out.rejected_files])
""",
    "validate_big": """
import sys, time
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.ingest.readers import read_export
from pipeline.reference import load_procedures
from pipeline.ingest.check import CaseExport, check_cases_many
s = load_settings(warehouse=Path(sys.argv[2]) / "validate" / "tthc.duckdb")
r = read_export(Path(sys.argv[1]), s)
procedures = load_procedures(s)
check_cases_many([CaseExport(r.cases.head(10), r.supplements.head(0), r.exported_at, r.path)], s, procedures)
t = time.perf_counter()
check_cases_many([CaseExport(r.cases, r.supplements, r.exported_at, r.path)], s, procedures)
print("SECONDS", time.perf_counter() - t)
""",
    "build_big": """
import sys
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.warehouse.build import build_warehouse
s = load_settings(warehouse=Path(sys.argv[2]) / "tthc.duckdb", as_of="2025-12-31")
print(build_warehouse(s, "bench").get("core.case"))
""",
    "demo": """
import sys
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.demo import generate_demo_exports
from pipeline.jobs import ingest_and_build
s = load_settings(raw_dir=Path(sys.argv[2]) / "raw", warehouse=Path(sys.argv[2]) / "tthc.duckdb")
generate_demo_exports(s.raw_dir, s, seed=2025)
r = ingest_and_build(s)
print(r.table_counts.get("core.case"))
""",
}


def run_stage(name: str, *args: str) -> tuple[float, float, str]:
    """(seconds, peak MB, last output line) of one stage in a fresh subprocess."""
    code = (
        f"FLOOR_SQL = {FLOOR_SQL!r}\n" + STAGES[name]
        + "\nimport resource\nprint('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    lines = done.stdout.strip().splitlines()
    peak_kb = int(lines[-1].split()[1])
    return seconds, peak_kb / 1024, lines[-2] if len(lines) > 1 else ""


def run_hostile(big_csv: Path, out: Path) -> tuple[float, float, str]:
    """(seconds, peak MB of the process tree, isolation line) of bench/hostile.py."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / "hostile.py"), "--out", str(out), "--big-csv", str(big_csv)],
        capture_output=True, text=True, cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0:
        failed = [line for line in lines if "NOT REJECTED" in line or "limit" in line]
        raise SystemExit("stage hostile failed: " + " | ".join(failed or [done.stderr.strip()[-300:]]))
    peak_kb = int(next(line for line in lines if line.startswith("TREE_PEAK_KB")).split()[1])
    isolation = next((line for line in lines if line.startswith("isolation")), "")
    return seconds, peak_kb / 1024, isolation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-hostile", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    big_csv = args.out / f"big_{args.rows}.csv"
    if not big_csv.exists():
        subprocess.run([sys.executable, str(HERE / "make_big_csv.py"), str(args.rows), str(big_csv)], check=True)
    workdir = args.out / "work"
    subprocess.run(["rm", "-rf", str(workdir)], check=True)
    workdir.mkdir()

    figures = {}
    for name in ["read_csv_floor", "floor", "ingest_big", "validate_big", "build_big"]:
        seconds, peak, output = run_stage(name, str(big_csv), str(workdir))
        if output.startswith("SECONDS"):
            seconds = float(output.split()[1])
        figures[name] = {"seconds": round(seconds, 2), "peak_mb": round(peak), "output": output}
    if not args.skip_demo:
        seconds, peak, output = run_stage("demo", str(big_csv), str(args.out / "demo"))
        figures["demo"] = {"seconds": round(seconds, 2), "peak_mb": round(peak), "output": output}
    if not args.skip_hostile:
        seconds, peak, output = run_hostile(big_csv, args.out / "hostile")
        figures["hostile"] = {"seconds": round(seconds, 2), "peak_mb": round(peak), "output": output}

    floor = figures["floor"]["seconds"]
    print(f"{'stage':<16}{'seconds':>10}{'rows/s':>14}{'peak MB':>10}{'× floor':>10}")
    for name, figure in figures.items():
        rows = args.rows if name not in ("demo", "hostile") else None
        rate = f"{rows / figure['seconds']:,.0f}" if rows else "-"
        print(f"{name:<16}{figure['seconds']:>10.2f}{rate:>14}{figure['peak_mb']:>10}{figure['seconds'] / floor:>10.1f}")
    if "hostile" in figures:
        print(f"hostile: {figures['hostile']['output']}")
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
