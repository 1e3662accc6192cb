#!/usr/bin/env python3
"""Benchmarks: each figure beside the bare-DuckDB floor on the same input, in the same run.

usage: python bench/run_all.py [--rows 1000000] [--big-rows 3000000] [--skip STAGE,...] [--out bench/out]

Every stage runs as its own process (a fresh interpreter, as a user would start it); its memory is the
peak resident memory of its whole process tree (the readers' worker processes included), sampled every
10 ms. Stages:

  floor          the shared floor: one DuckDB statement reads the 1M-row CSV, parses its dates, classifies
                 every case and groups by quarter and unit (no validation, lineage or reports)
  ingest         the ingest stage on that CSV: read (isolated worker) + check (Great Expectations) + store
                 (Parquet raw layer); seconds inside the stage, after the interpreter started
  build          the warehouse build from that raw layer (SQL layers, mart checks); seconds inside the stage
  run            `tthc run` on the CSV from an empty warehouse: the whole nightly job (Prefect's start-up,
                 ingest, build, reports, warnings, publish), wall time of the command; reports folder size
  delta          `tthc run` again after one day's delta export (100 changed cases) over that warehouse
  run-3m         `tthc run` on --big-rows cases of the same generator, as exports of --rows rows each: memory
                 must not grow with the input
  demo           `tthc run` on the demo exports (two years, cases + ratings + directives + PAKN), from empty
  demo-cases     the same with the case and rating exports only: the difference is what the two record
                 kinds (directives, PAKN) cost
  quiet          `tthc run` again on the demo with nothing new (ephemeral Prefect API; its start-up apart)
  quiet-served   the same run through the served deployment (`prefect server` + `tthc serve`), timed from
                 the flow run's Pending state to its Completed state
  hostile        bench/hostile.py: the worst hostile files through the isolated readers (the process tree
                 must stay under 1.5 GB), and what isolation costs on the big CSV

Prints a table (seconds, rows/s, peak MB, × floor, target) and writes bench/out/figures.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from measure import Measured, folder_mb, run_measured  # noqa: E402

PYTHON = sys.executable
TTHC = [PYTHON, "-m", "pipeline"]
AS_OF = "2025-12-31"  # the big CSV's cases are received 2024-01-01 … 2025-12-01
DEMO_AS_OF = "2026-06-30"

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

FLOOR = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute(FLOOR_SQL, [sys.argv[1]]).fetchall()
print("SECONDS", time.perf_counter() - t)
"""

INGEST = """
import sys, time
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.ingest.stage import run_ingest
s = load_settings(raw_dir=Path(sys.argv[1]).parent, warehouse=Path(sys.argv[2]))
t = time.perf_counter()
out = run_ingest(s, [Path(sys.argv[1])], "bench-ingest")
seconds = time.perf_counter() - t
assert not out.rejected_files, [o.reason for o in out.rejected_files]
print("ROWS", out.rows_loaded)
print("SECONDS", seconds)
"""

BUILD = """
import sys, time
from pathlib import Path
from pipeline.settings import load_settings
from pipeline.warehouse.build import build_warehouse
s = load_settings(warehouse=Path(sys.argv[1]), as_of=sys.argv[2])
t = time.perf_counter()
counts = build_warehouse(s, "bench-build")
print("ROWS", counts["core.case"])
print("SECONDS", time.perf_counter() - t)
"""

# Targets of the issue that set them (ratios to the floor, seconds, MB); None: a figure without a target.
TARGETS = {
    "ingest": ("× floor", 8), "build": ("× floor", 6), "run": ("× floor", 25), "run memory": ("MB", 2048),
    "run reports": ("MB", 150), "delta": ("s", 20), "run-3m memory": ("MB", 2560), "quiet-served": ("s", 10),
    "hostile memory": ("MB", 1536),
}


def python_stage(code: str, *args: str) -> tuple[Measured, dict[str, float]]:
    """A stage run as `python -c`, with what it printed as NAME value lines."""
    measured = run_measured([PYTHON, "-c", f"FLOOR_SQL = {FLOOR_SQL!r}\n{code}", *args], cwd=ROOT)
    if measured.returncode != 0:
        raise SystemExit(f"stage failed: {measured.stderr.strip().splitlines()[-1:]}")
    values = {}
    for line in measured.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name.isupper() and value:
            values[name] = float(value)
    return measured, values


def tthc_run(raw: Path, warehouse: Path, reports: Path, as_of: str, env: dict | None = None) -> tuple[Measured, dict]:
    """`tthc run`, measured; its step seconds (prefect start-up included) parsed from its output."""
    command = [*TTHC, "run", "--raw", str(raw), "--warehouse", str(warehouse), "--reports", str(reports),
               "--as-of", as_of]
    measured = run_measured(command, cwd=ROOT, env=env)
    if measured.returncode != 0:
        raise SystemExit(f"tthc run failed: {(measured.stdout + measured.stderr).strip().splitlines()[-3:]}")
    steps = {}
    for line in measured.stdout.splitlines():
        if line.startswith("step seconds: "):
            for part in line.removeprefix("step seconds: ").split(", "):
                name, _, seconds = part.rpartition(" ")
                steps[name] = float(seconds)
    return measured, steps


def write_delta(big_csv: Path, target: Path, changed: int = 100) -> None:
    """One day's delta export: the `changed` most recently received cases of the big CSV that were open, now
    returned on the as-of day (a day's changes concern recent cases, as in a real one-stop system)."""
    import duckdb

    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        """
        copy (
            select * replace (
                '31/12/2025 09:15' as "Ngày kết thúc xử lý", '31/12/2025 10:00' as "Ngày trả kết quả",
                'Đã trả kết quả' as "Trạng thái")
            from read_csv($csv, all_varchar = true)
            where "Trạng thái" = 'Đang xử lý'
            order by strptime("Ngày tiếp nhận", '%d/%m/%Y %H:%M') desc, "Mã hồ sơ"
            limit $changed
        ) to $target (header, delimiter ',')
        """,
        {"csv": str(big_csv), "target": str(target), "changed": changed},
    )
    con.close()


def split_exports(csv: Path, folder: Path, rows_per_file: int) -> None:
    """The big CSV as several exports of `rows_per_file` rows each (an export larger than the max_rows setting
    is rejected: a province's cases arrive as several exports)."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("create table big as select *, row_number() over () - 1 as row_no from read_csv($csv, all_varchar = true)",
                {"csv": str(csv)})
    parts = con.execute("select max(row_no) // $n + 1 from big", {"n": rows_per_file}).fetchone()[0]
    for part in range(parts):
        con.execute("copy (select * exclude (row_no) from big where row_no // $n = $part order by row_no) "
                    "to $target (header, delimiter ',')",
                    {"n": rows_per_file, "part": part, "target": str(folder / f"ho_so_{part + 1}.csv")})
    con.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_quiet_run(raw: Path, warehouse: Path, reports: Path, as_of: str, work: Path) -> tuple[float, float]:
    """(seconds from Pending to Completed, seconds from the trigger to completion) of one nightly run through the
    served deployment, with a Prefect server on loopback."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(work / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false")
    work.mkdir(parents=True, exist_ok=True)
    prefect = str(Path(PYTHON).with_name("prefect"))
    with open(work / "server.log", "wb") as log:
        server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=work)
    serving = None
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"prefect server did not start: see {work / 'server.log'}")
            time.sleep(0.5)
        serve_env = dict(env, PREFECT_API_URL=url, TTHC_RAW_DIR=str(raw), TTHC_WAREHOUSE=str(warehouse),
                         TTHC_REPORTS_DIR=str(reports), TTHC_AS_OF=as_of, PREFECT_RUNNER_POLL_FREQUENCY="1")
        with open(work / "serve.log", "wb") as log:
            serving = subprocess.Popen([*TTHC, "serve"], env=serve_env, cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        code = """
import time
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
deadline = time.monotonic() + 120
while True:
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name("nightly/tthc-nightly"); break
        except Exception:
            if time.monotonic() > deadline: raise
            time.sleep(0.5)
t = time.perf_counter()
run = run_deployment("nightly/tthc-nightly", timeout=600, poll_interval=0.5, as_subflow=False)
wall = time.perf_counter() - t
assert run.state.is_completed(), run.state
with get_client(sync_client=True) as client:
    states = client.read_flow_run_states(run.id)
pending = min(s.timestamp for s in states if s.type.value == "PENDING")
done = max(s.timestamp for s in states if s.type.value == "COMPLETED")
print("RUN", (done - pending).total_seconds())
print("WALL", wall)
"""
        done = subprocess.run([PYTHON, "-c", code], env=dict(env, PREFECT_API_URL=url), capture_output=True,
                              text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"served run failed: {done.stderr.strip()[-500:]}")
        values = dict(line.split() for line in done.stdout.splitlines() if line.startswith(("RUN", "WALL")))
        return float(values["RUN"]), float(values["WALL"])
    finally:
        for process in (serving, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGINT if process is serving else signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def make_csv(rows: int, out: Path) -> Path:
    if not out.exists():
        subprocess.run([PYTHON, str(HERE / "make_big_csv.py"), str(rows), str(out)], check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=3_000_000, help="rows of the run-3m stage (0 skips it)")
    parser.add_argument("--skip", default="", help="comma-separated stages to skip")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out = args.out.resolve()
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    big_csv = make_csv(args.rows, args.out / f"big_{args.rows}.csv")
    # the export lands in a dated folder (its export time), as a department's would
    raw = work / "raw"
    (raw / "2025-12-30").mkdir(parents=True)
    os.link(big_csv, raw / "2025-12-30" / "ho_so.csv")

    figures: dict[str, dict] = {"cores": {"value": os.cpu_count()}}
    rows_of: dict[str, int] = {}

    def note(name: str, seconds: float, peak_mb: float | None = None, rows: int | None = None, **extra) -> None:
        figures[name] = {"seconds": round(seconds, 2), "peak_mb": round(peak_mb) if peak_mb else None, **extra}
        if rows:
            rows_of[name] = rows
        print(f"  {name}: {seconds:.2f} s" + (f", peak {peak_mb:,.0f} MB" if peak_mb else "")
              + "".join(f", {k} {v}" for k, v in extra.items()), flush=True)

    print(f"{os.cpu_count()} cores; {args.rows:,}-row CSV {big_csv}", flush=True)
    measured, values = python_stage(FLOOR, str(big_csv))
    note("floor", values["SECONDS"], measured.peak_mb, args.rows)
    floor = figures["floor"]["seconds"]

    if "ingest" not in skip or "build" not in skip:
        warehouse = work / "stages" / "tthc.duckdb"
        measured, values = python_stage(INGEST, str(raw / "2025-12-30" / "ho_so.csv"), str(warehouse))
        note("ingest", values["SECONDS"], measured.peak_mb, int(values["ROWS"]))
        measured, values = python_stage(BUILD, str(warehouse), AS_OF)
        note("build", values["SECONDS"], measured.peak_mb, int(values["ROWS"]))

    if "run" not in skip:
        warehouse, reports = work / "run" / "tthc.duckdb", work / "run" / "reports"
        measured, steps = tthc_run(raw, warehouse, reports, AS_OF)
        note("run", measured.seconds, measured.peak_mb, args.rows, reports_mb=round(folder_mb(reports), 1),
             steps=steps)
        if "delta" not in skip:
            write_delta(big_csv, raw / "2025-12-31" / "ho_so_thay_doi.csv")
            measured, steps = tthc_run(raw, warehouse, reports, AS_OF)
            note("delta", measured.seconds, measured.peak_mb, steps=steps)

    if args.big_rows and "run-3m" not in skip:
        csv_3m = make_csv(args.big_rows, args.out / f"big_{args.big_rows}.csv")
        raw_3m = work / "raw3m" / "2025-12-30"
        split_exports(csv_3m, raw_3m, args.rows)
        measured, values = python_stage(FLOOR, str(csv_3m))
        figures["floor-3m"] = {"seconds": round(values["SECONDS"], 2)}
        measured, steps = tthc_run(raw_3m.parent, work / "run3m" / "tthc.duckdb", work / "run3m" / "reports", AS_OF)
        note("run-3m", measured.seconds, measured.peak_mb, args.big_rows, steps=steps,
             floor_3m=figures["floor-3m"]["seconds"])
        shutil.rmtree(work / "run3m", ignore_errors=True)

    if "demo" not in skip:
        demo_raw = args.out / "demo-raw"
        if not (demo_raw / "_generator_truth.json").exists():
            shutil.rmtree(demo_raw, ignore_errors=True)
            subprocess.run([*TTHC, "demo-data", "--out", str(demo_raw), "--seed", "2025", "--end", DEMO_AS_OF],
                           check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        demo = work / "demo"
        measured, steps = tthc_run(demo_raw, demo / "tthc.duckdb", demo / "reports", DEMO_AS_OF)
        note("demo", measured.seconds, measured.peak_mb, steps=steps)
        cases_only = work / "demo-cases-raw"
        shutil.copytree(demo_raw, cases_only, ignore=shutil.ignore_patterns("directives", "feedback"),
                        copy_function=os.link)
        measured, steps = tthc_run(cases_only, work / "demo-cases" / "tthc.duckdb", work / "demo-cases" / "reports",
                                   DEMO_AS_OF)
        note("demo-cases", measured.seconds, measured.peak_mb, steps=steps)
        with_kinds, without = figures["demo"], figures["demo-cases"]
        figures["record-kinds"] = {
            "seconds": round(with_kinds["seconds"] - without["seconds"], 2),
            "steps": {k: round(v - without["steps"].get(k, 0), 2) for k, v in with_kinds["steps"].items()},
        }
        print(f"  record kinds (directives + PAKN) add {figures['record-kinds']['seconds']:.2f} s: "
              f"{figures['record-kinds']['steps']}", flush=True)
        if "quiet" not in skip:
            measured, steps = tthc_run(demo_raw, demo / "tthc.duckdb", demo / "reports", DEMO_AS_OF)
            note("quiet", measured.seconds, measured.peak_mb, steps=steps)
        if "quiet-served" not in skip:
            run_seconds, wall = served_quiet_run(demo_raw, demo / "tthc.duckdb", demo / "reports", DEMO_AS_OF,
                                                 work / "served")
            note("quiet-served", run_seconds, trigger_to_done=round(wall, 2))

    if "hostile" not in skip:
        measured = run_measured([PYTHON, str(HERE / "hostile.py"), "--out", str(work / "hostile"),
                                 "--big-csv", str(big_csv)], cwd=ROOT)
        lines = measured.stdout.strip().splitlines()
        tree_kb = next((int(line.split()[1]) for line in lines if line.startswith("TREE_PEAK_KB")), 0)
        summary = [line for line in lines if "hostile files" in line or line.startswith("isolation")]
        note("hostile", measured.seconds, tree_kb / 1024, rejected_all=measured.returncode == 0)
        for line in summary:
            print(f"    {line}")

    report(figures, rows_of, floor)
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")


def _verdict(key: str, value: float | None) -> str:
    if key not in TARGETS or value is None:
        return ""
    unit, limit = TARGETS[key]
    mark = "met" if value <= limit else "NOT MET"
    return f"≤ {limit:g} {unit}: {mark}"


def report(figures: dict, rows_of: dict[str, int], floor: float) -> None:
    """The table of figures: seconds, rows/s, peak MB, ratio to the floor, target."""
    print()
    print(f"machine: {figures['cores']['value']} cores; floor (bare DuckDB, {rows_of.get('floor', 0):,} rows) {floor:.2f} s")
    print(f"{'stage':<14}{'seconds':>9}{'rows/s':>12}{'peak MB':>9}{'× floor':>9}  target")
    for name, figure in figures.items():
        if name in ("cores", "floor-3m", "record-kinds"):
            continue
        seconds, peak = figure["seconds"], figure.get("peak_mb")
        rows = rows_of.get(name)
        stage_floor = figure.get("floor_3m", floor)
        ratio = seconds / stage_floor if rows else None
        rate = f"{rows / seconds:,.0f}" if rows else "-"
        targets = [_verdict(name, ratio if name in ("ingest", "build", "run") else seconds)]
        if name in ("run", "run-3m", "hostile"):
            targets.append(_verdict(f"{name} memory", peak))
        if name == "run":
            targets.append(_verdict("run reports", figure.get("reports_mb")) + f" ({figure.get('reports_mb')} MB)")
        ratio_text = f"{ratio:.1f}" if ratio is not None else "-"
        print(f"{name:<14}{seconds:>9.2f}{rate:>12}{(peak or 0):>9,.0f}{ratio_text:>9}  "
              + "; ".join(t for t in targets if t and not t.startswith(" (")))
        if figure.get("steps"):
            print(f"{'':<14}steps: " + ", ".join(f"{k} {v:.1f}" for k, v in figure["steps"].items()))
    if "record-kinds" in figures:
        kinds = figures["record-kinds"]
        print(f"record kinds: directives + PAKN add {kinds['seconds']:.2f} s to the demo run ("
              + ", ".join(f"{k} {v:+.1f}" for k, v in kinds["steps"].items()) + ")")
    if "quiet-served" in figures:
        print(f"quiet-served: {figures['quiet-served']['seconds']:.2f} s from Pending to Completed; "
              f"{figures['quiet-served']['trigger_to_done']:.2f} s from the trigger (includes the runner's poll)")


if __name__ == "__main__":
    main()
