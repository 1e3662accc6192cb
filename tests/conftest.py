"""Shared fixtures: the report warehouse, built once per test session by the real pipeline and rendered once,
and a local SMTP server. Plain helpers shared by several modules are in ``helpers.py``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import SMTPServer
from report_fixtures import build_report_warehouse

from pipeline.settings import Settings


@dataclass(frozen=True)
class ReportBuild:
    """The fixture warehouse, the settings that point at it and one render of every report page."""

    settings: Settings
    warehouse: Path
    reports: Path
    written: list[Path]


@pytest.fixture(scope="session")
def report_build(tmp_path_factory) -> ReportBuild:
    """Exports written in code → ``ingest_and_build`` → ``render_all(units=True)``; shared, never modified."""
    from pipeline.report import render_all

    settings = build_report_warehouse(tmp_path_factory.mktemp("report-build"))
    written = render_all(settings, units=True)
    return ReportBuild(settings, settings.warehouse, settings.reports_dir, written)


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 for the test (``.server_address[1]`` its port, ``.messages`` what it got)."""
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
