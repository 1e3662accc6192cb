"""Shared fixtures: the report warehouse, built once per test session by the real pipeline and rendered once;
headless Chromium for the browser tests; a local SMTP server. Plain helpers shared by several modules are in
``helpers.py`` (and the browser's in ``offline_browser.py``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import SMTPServer
from offline_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
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


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (skipped without it, failed in CI); pages open with offline_browser.OfflinePage."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 for the test (``.server_address[1]`` its port, ``.messages`` what it got)."""
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
