"""The schedule for real: a local Prefect server on loopback, ``tthc serve`` serving the nightly deployment,
a run triggered through the API that completes, then everything stopped.

Slow by nature (the server migrates a fresh database; the served run is a new Python process), so the
raw folder is tiny and every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from fixtures_exports import write_csv
from helpers import AS_OF, CASE_HEADER, FIRST_EXPORT

from pipeline import flows, runtime
from pipeline.cli import main

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).with_name("prefect")
SERVER_START_TIMEOUT = 180
REGISTER_TIMEOUT = 120
RUN_TIMEOUT = 420


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process this test started, and its children (it was started in its own process group)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {timeout} s\n{tail}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def prefect_server(tmp_path):
    """A real Prefect server on 127.0.0.1, its home in tmp_path, analytics off; stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false")
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: healthy(url), SERVER_START_TIMEOUT, "Prefect server start", process, log)
        yield url, env
    finally:
        stop(process)


def test_served_deployment_runs_through_the_api(tmp_path, prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url, server_env = prefect_server
    raw = tmp_path / "raw"
    write_csv(raw / "2025-03-28" / "ho_so.csv", CASE_HEADER, FIRST_EXPORT[:3], bom=True)
    warehouse = tmp_path / "warehouse" / "tthc.duckdb"
    reports = tmp_path / "reports"
    env = dict(server_env, PREFECT_API_URL=url, TTHC_RAW_DIR=str(raw), TTHC_WAREHOUSE=str(warehouse),
               TTHC_REPORTS_DIR=str(reports), TTHC_AS_OF=AS_OF, PYTHONUNBUFFERED="1")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serving = subprocess.Popen([sys.executable, "-m", "pipeline", "serve"], env=env, cwd=PROJECT_DIR,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            def registered():
                with get_client(sync_client=True) as client:
                    try:
                        return client.read_deployment_by_name(f"{flows.FLOW_NAME}/{flows.DEPLOYMENT_NAME}")
                    except Exception:
                        return None

            deployment = wait_for(registered, REGISTER_TIMEOUT, "deployment registration", serving, log)
            schedule = deployment.schedules[0].schedule
            assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Asia/Ho_Chi_Minh")
            assert deployment.parameters["overrides"]["warehouse"] == str(warehouse)
            assert "pii_salt" not in deployment.parameters["overrides"]

            flow_run = run_deployment(f"{flows.FLOW_NAME}/{flows.DEPLOYMENT_NAME}", timeout=RUN_TIMEOUT,
                                      poll_interval=2, as_subflow=False)
            assert flow_run.state is not None
            assert flow_run.state.is_completed(), (flow_run.state, log.read_text(errors="replace")[-4000:])
            artifacts = httpx.post(f"{url}/artifacts/filter", timeout=10, json={
                "artifacts": {"key": {"any_": [flows.ARTIFACT_KEY]}},
                "flow_runs": {"id": {"any_": [str(flow_run.id)]}},
            }).json()
            assert len(artifacts) == 1 and "thành công" in artifacts[0]["data"]
    finally:
        stop(serving, signal.SIGINT)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = con.execute("select status, files_loaded, cases from ops.run").fetchall()
    finally:
        con.close()
    assert runs == [("success", 1, 3)]
    assert (reports / "index.html").exists() and (reports / "warnings" / "warnings.csv").exists()


def test_serve_without_server_is_one_line_error(tmp_path, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        code = main(["serve", "--warehouse", str(tmp_path / "w.duckdb")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "is not reachable" in err and "prefect server start" in err

    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(RuntimeError, match="ephemeral"):
        runtime.check_prefect_server()


def test_schedule_is_the_setting_in_vietnam_time():
    from pipeline.settings import load_settings

    schedule = runtime.build_schedule(load_settings(schedule_cron="30 1 * * 1-5").schedule_cron)
    assert (schedule.cron, schedule.timezone) == ("30 1 * * 1-5", "Asia/Ho_Chi_Minh")
