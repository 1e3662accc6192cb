"""Shared fixtures: the report warehouse is built once per test session and rendered once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from report_fixtures import AS_OF, build_report_warehouse

from pipeline.settings import Settings, load_settings


@dataclass(frozen=True)
class ReportBuild:
    """The fixture warehouse, the settings that point at it and one render of every report page."""

    settings: Settings
    warehouse: Path
    reports: Path
    written: list[Path]


@pytest.fixture(scope="session")
def report_build(tmp_path_factory) -> ReportBuild:
    from pipeline.report import render_all

    base = tmp_path_factory.mktemp("report-build")
    warehouse = build_report_warehouse(base / "warehouse" / "tthc.duckdb")
    settings = load_settings(warehouse=warehouse, reports_dir=base / "reports", as_of=AS_OF)
    written = render_all(settings, units=True)
    return ReportBuild(settings, warehouse, base / "reports", written)
