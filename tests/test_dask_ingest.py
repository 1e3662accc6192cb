"""The ingest stage under Prefect's Dask task runner: each group is a pure function of its files and the
settings, so mapping it over worker processes instead of threads changes nothing but where it runs."""

from __future__ import annotations

import duckdb
import pytest
from helpers import case_line, write_export

from pipeline import flows, publish
from pipeline.settings import load_settings


def raw_rows(settings) -> list[tuple]:
    con = duckdb.connect()
    try:
        pattern = str(settings.raw_parquet_dir / "cases" / "*.parquet")
        return con.execute(
            "select * exclude (source_file) from read_parquet($p) order by file_sha, source_row", {"p": pattern}
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def raw_folder(tmp_path_factory):
    raw = tmp_path_factory.mktemp("dask") / "raw"
    for day in range(1, 7):
        write_export(raw / f"2025-03-{day + 2:02d}" / "cases.csv", [  # exported after the cases ended
            case_line(f"H55-{day:02d}{i:03d}", f"{day:02d}/03/2025 08:00", f"{day + 3:02d}/03/2025 08:00",
                      f"{day + 1:02d}/03/2025 10:00" if i % 2 else "", "Đã trả kết quả" if i % 2 else "Đang xử lý")
            for i in range(30)])
    (raw / "broken.csv").write_text("not,an,export\n1,2,3\n", encoding="utf-8")
    return raw


def run_ingest_flow(settings, task_runner) -> publish.RunSummary:
    """The flow's own ingest step (flows.ingest) under the given task runner."""
    from prefect import flow

    summary = publish.start_summary(settings)

    @flow(task_runner=task_runner)
    def ingest_only():
        flows.ingest(settings, summary)

    ingest_only()
    return summary


def test_dask_worker_processes_give_the_same_rows_as_threads(raw_folder, tmp_path):
    from distributed import LocalCluster
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.testing.utilities import prefect_test_harness
    from prefect_dask import DaskTaskRunner

    threads = load_settings(raw_dir=raw_folder, warehouse=tmp_path / "threads" / "tthc.duckdb", as_of="2025-03-31",
                            pii_salt="one salt for both runs")
    processes = load_settings(raw_dir=raw_folder, warehouse=tmp_path / "dask" / "tthc.duckdb", as_of="2025-03-31",
                              pii_salt="one salt for both runs")
    import dask

    with prefect_test_harness(server_startup_timeout=180):
        by_threads = run_ingest_flow(threads, ThreadPoolTaskRunner(max_workers=2))
        # each export is parsed in a child process of its worker (pipeline.ingest.isolate): Dask's workers
        # must not be daemonic for that (the README's Dask note says the same)
        with dask.config.set({"distributed.worker.daemon": False}), \
                LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            by_processes = run_ingest_flow(processes, DaskTaskRunner(address=cluster.scheduler_address))
    for summary in (by_threads, by_processes):
        assert (summary.files_seen, summary.files_loaded, summary.files_rejected) == (7, 6, 1)
        assert summary.rows_loaded == 180
    assert raw_rows(processes) == raw_rows(threads) != []
