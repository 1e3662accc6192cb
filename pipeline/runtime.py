"""Prefect's environment for this project, and the temporary Prefect API a run without a server uses.

Prefect keeps its state in the project's ``.prefect/`` whatever the working directory (``PREFECT_HOME``
is set before Prefect is imported) and sends nothing anywhere (analytics off).

Without ``PREFECT_API_URL`` Prefect would start its own "ephemeral" API server as a child process, and a
run killed with ``kill -9`` would leave that server behind, still listening. :func:`local_api` instead
serves the Prefect API from a thread of the running process, on a free loopback port, for the length of
the run: whatever ends the process ends the API with it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 120.0
SCHEDULE_TIMEZONE = "Asia/Ho_Chi_Minh"
SECRET_SETTINGS = ("pii_salt", "smtp_password")


def prefect_home_path(prefect_home: Path | str) -> Path:
    """Prefect's home as an absolute path; a relative one is taken from the project folder."""
    path = Path(prefect_home).expanduser()
    if path.is_absolute():
        return path
    base = PROJECT_DIR if (PROJECT_DIR / "pyproject.toml").exists() else Path.cwd()
    return (base / path).resolve()


def configure_prefect_environment(prefect_home: Path | str | None = None) -> None:
    """Set ``PREFECT_HOME`` (unless already set) and turn analytics off; call before importing prefect."""
    if not os.environ.get("PREFECT_HOME"):
        if prefect_home is None:
            prefect_home = os.environ.get("TTHC_PREFECT_HOME") or ".prefect"
        os.environ["PREFECT_HOME"] = str(prefect_home_path(prefect_home))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_UI_ENABLED", "false")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_api() -> Iterator[float]:
    """A Prefect API for this process (yields its start-up seconds); nothing when PREFECT_API_URL is set."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield 0.0
        return
    import httpx
    import uvicorn
    from prefect.server.api.server import create_app

    started = time.perf_counter()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ephemeral=True), host="127.0.0.1", port=port,
                                           log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, name="prefect-api", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/api"
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if not thread.is_alive() or time.perf_counter() - started > STARTUP_TIMEOUT_SECONDS:
            server.should_exit = True
            raise RuntimeError("the local Prefect API did not start")
        time.sleep(0.05)
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield time.perf_counter() - started
            _drain_prefect_workers()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _drain_prefect_workers() -> None:
    """Send Prefect's queued logs and events before the API stops."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=5)


# --- a real Prefect server, for the schedule ------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def deployment_overrides(settings) -> dict[str, Any]:
    """The settings a served deployment's runs use: every non-secret value, paths made absolute (secrets
    are read from the serving process's environment, never stored in Prefect)."""
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    for name, value in list(values.items()):
        if isinstance(getattr(settings, name), Path):
            values[name] = str(Path(value).expanduser().resolve())
    return values


def check_prefect_server(timeout: float = 5.0) -> str:
    """The API URL of a reachable Prefect server, else a one-line error."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise RuntimeError(
            "no Prefect server: schedules need one (the ephemeral API of 'tthc run' cannot run them); "
            "run 'prefect server start' and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api, or use cron/systemd with 'tthc run' (see README)"
        )
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except Exception as exc:
        raise RuntimeError(f"Prefect server at {url} is not reachable ({_first_line(exc)}); "
                           "start it with 'prefect server start'") from None
    return url


def build_schedule(cron: str):
    """The cron schedule of the nightly deployment, in Asia/Ho_Chi_Minh."""
    from prefect.schedules import Cron

    return Cron(cron, timezone=SCHEDULE_TIMEZONE)
