"""The canonical records are declared once (pipeline/records.py): the readers' output, the raw tables, the
expectation suites' column lists and the synonyms' field names all follow that declaration."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import duckdb

from pipeline.ingest.readers import empty_records
from pipeline.records import DROPPED_SOURCES, FAMILIES, IGNORE, LINEAGE_COLUMNS, PII_SOURCES, RECORDS
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
