"""A nightly run killed with kill -9 part-way: nothing published half-done, no process left behind (the
Prefect API of a run lives in the run's own process), and the next run completes and records the killed
one as interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
from helpers import case_line, write_export

from pipeline import publish
from pipeline.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
FILES = 12


def test_a_run_killed_mid_ingest_leaves_no_process_and_the_next_run_completes(tmp_path):
    raw = tmp_path / "raw"
    for day in range(1, FILES + 1):
        write_export(raw / f"2025-03-{(day % 28) + 1:02d}" / f"batch_{day:02d}.csv", [
            case_line(f"H55-{day:02d}{i:03d}", "03/02/2025 08:00", "10/02/2025 08:00", "05/02/2025 10:00",
                      "Đã trả kết quả") for i in range(200)])
    settings = load_settings(raw_dir=raw, warehouse=tmp_path / "wh" / "tthc.duckdb", reports_dir=tmp_path / "reports",
                             as_of="2025-03-31")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    command = [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--warehouse", str(settings.warehouse),
               "--reports", str(settings.reports_dir), "--as-of", "2025-03-31"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifests = settings.raw_parquet_dir / "files"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None and len(list(manifests.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    loaded_at_kill = len(list(manifests.glob("*.parquet")))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    # the kill landed mid-run: some exports were stored, not all, and nothing was published
    assert loaded_at_kill >= 3 and len(list(manifests.glob("*.parquet"))) < FILES
    assert not settings.warehouse.exists() and not settings.reports_dir.exists()
    assert [r["status"] for r in publish.read_run_history(settings)] == ["running"]
    # no process of the killed run survives it (reader workers, the Prefect API, anything it started)
    time.sleep(1.0)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    history = {r["status"] for r in publish.read_run_history(settings)}
    assert history == {"failed", "success"}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from core.case").fetchone()[0] == FILES * 200
        [(reason,)] = con.execute("select reason from ops.run where status = 'failed'").fetchall()
    finally:
        con.close()
    assert reason.startswith("interrupted")
    leftovers = [p.name for p in settings.warehouse.parent.iterdir() if ".next-" in p.name or ".building-" in p.name]
    assert leftovers == []
