"""The canonical records are declared once (pipeline/records.py): the readers' output, the raw tables, the
expectation suites' column lists and the synonyms' field names all follow that declaration."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import duckdb
import pytest
from fixtures_exports import settings_for, write_csv, write_simple_xlsx

from pipeline.ingest import read_export
from pipeline.ingest.readers import empty_records
from pipeline.records import (
    CASE,
    DROPPED_SOURCES,
    FAMILIES,
    IGNORE,
    LINEAGE_COLUMNS,
    PII_SOURCES,
    RECORDS,
    SUPPLEMENT,
)
from pipeline.settings import load_settings
from pipeline.warehouse.build import create_schemas

ROOT = Path(__file__).resolve().parents[1]


def test_every_record_has_a_suite_whose_columns_are_the_records():
    for record in RECORDS.values():
        assert record.suite, record.name
        suite = json.loads((ROOT / "expectations" / f"{record.suite}.json").read_text(encoding="utf-8"))
        assert suite["meta"]["columns"] == list(record.columns), record.name


def test_raw_tables_have_the_records_columns_then_lineage():
    con = duckdb.connect()
    create_schemas(con)
    for record in RECORDS.values():
        schema, table = record.table.split(".")
        columns = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [schema, table]).fetchall()]
        assert columns == [*record.columns, *(name for name, _ in LINEAGE_COLUMNS)], record.name


def test_readers_produce_the_records_columns():
    for record in RECORDS.values():
        assert list(empty_records(record).columns) == list(record.columns)


def _columns(frame) -> list[tuple[str, str]]:
    return [(name, str(dtype)) for name, dtype in frame.dtypes.items()]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_real_read_gives_exactly_the_declared_case_columns(tmp_path, suffix):
    """A case export that names only some fields (plus personal data and a supplement cycle), read for real:
    its cases and supplements have exactly the declared columns, in order, with the declared dtypes."""
    header = ["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Chủ hồ sơ",
              "Ngày yêu cầu bổ sung"]
    rows = [["H55-000001", "1.000250", "03/03/2025 09:21", "10/03/2025", "Đang xử lý", "Nguyễn Văn A",
             "04/03/2025 10:00"]]
    path = tmp_path / f"hs_20250305_1000.{suffix}"
    if suffix == "csv":
        write_csv(path, header, rows)
    else:
        write_simple_xlsx(path, {"Hồ sơ": [header, *rows]})
    result = read_export(path, settings_for(tmp_path, pii_salt="test salt"))
    assert result.kind == "cases" and len(result.cases) == 1 and len(result.supplements) == 1
    assert _columns(result.cases) == _columns(empty_records(CASE))
    assert _columns(result.supplements) == _columns(empty_records(SUPPLEMENT))


# Columns of the case record that core.case does not carry, and why. Every other column of raw.case_row
# (the record's and the lineage columns) must be a column of core.case with the same name and type.
NOT_IN_CORE_CASE = {
    "status_text": "core.case keeps the coded status; the export's wording stays in the raw layer",
}


def _table_columns(con, qualified: str) -> dict[str, str]:
    schema, table = qualified.split(".")
    return dict(con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? "
        "order by column_index", [schema, table]).fetchall())


def test_core_case_carries_the_raw_case_columns_with_their_types():
    """raw.case_row is the case record's declaration plus lineage, with the declared SQL types; core.case
    (core/schema.sql: one current row per case) keeps every one of those columns under
    the same name and type, except those listed in NOT_IN_CORE_CASE. Its other columns are derived by the
    build (in_scope, legal_due_at, end_at, state_count, …) and are not declared by records.py."""
    con = duckdb.connect()
    create_schemas(con)
    raw = _table_columns(con, CASE.table)
    declared = [(f.name, f.sql_type) for f in CASE.fields] + list(LINEAGE_COLUMNS)
    assert [(name, kind.lower()) for name, kind in raw.items()] == declared
    core = _table_columns(con, "core.case")
    assert set(NOT_IN_CORE_CASE) <= set(CASE.columns)
    carried = {name: kind for name, kind in raw.items() if name not in NOT_IN_CORE_CASE}
    assert {name: core.get(name) for name in carried} == carried
    assert not set(NOT_IN_CORE_CASE) & set(core)  # listed as not carried, yet core.case has it: update the list


def test_synonyms_name_only_declared_fields():
    settings = load_settings()
    with open(settings.header_synonyms_file, "rb") as handle:
        synonyms = tomllib.load(handle)
    for family in FAMILIES.values():
        named = set(synonyms.get(family.section, {}))
        assert named, family.name
        assert named <= set(family.sources), (family.name, named - set(family.sources))
    assert set(synonyms.get("pii", {})) <= set(PII_SOURCES) | set(DROPPED_SOURCES)
    assert IGNORE not in {f for family in FAMILIES.values() for f in family.sources}
