"""Identical inputs give identical marts: the report fixture's exports are ingested and built twice by the
real pipeline, into two warehouse files, and every table and view of the ``mart`` schema is compared row
by row, ordered by all its columns, with exact equality (floats included: no tolerance)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import build_report_warehouse

from pipeline import db
from pipeline.warehouse.build import MART_TABLES

MART_RELATIONS = ("select table_name from duckdb_tables() where schema_name = 'mart' "
                  "union all select view_name from duckdb_views() where schema_name = 'mart' order by 1")


def mart_contents(warehouse: Path) -> dict[str, tuple[list, list]]:
    """Each mart relation's (column names and types, rows ordered by all columns)."""
    con = db.connect_existing(warehouse)
    try:
        out = {}
        for (name,) in con.execute(MART_RELATIONS).fetchall():
            columns = con.execute(f'describe mart."{name}"').fetchall()
            rows = con.execute(f'select * from mart."{name}" order by all').fetchall()
            out[f"mart.{name}"] = ([(c[0], c[1]) for c in columns], rows)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[dict, dict]:
    first = build_report_warehouse(tmp_path_factory.mktemp("first"))
    second = build_report_warehouse(tmp_path_factory.mktemp("second"))
    assert first.warehouse != second.warehouse
    return mart_contents(first.warehouse), mart_contents(second.warehouse)


def test_both_builds_hold_every_mart_with_rows(two_builds):
    first, second = two_builds
    assert set(first) == set(second)
    assert set(MART_TABLES) <= set(first)
    empty = [name for name in MART_TABLES if not first[name][1]]
    assert not empty, f"nothing to compare in {empty}"


def test_every_mart_is_identical_value_for_value(two_builds):
    first, second = two_builds
    for name, (columns, rows) in first.items():
        other_columns, other_rows = second[name]
        assert columns == other_columns, name
        assert len(rows) == len(other_rows), name
        for n, (row, other) in enumerate(zip(rows, other_rows, strict=True)):
            # == on Python floats is exact; repr shows the last bits when they differ
            assert row == other, f"{name} row {n}: {row!r} != {other!r}"
