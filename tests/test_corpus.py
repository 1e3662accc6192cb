"""The corpus of layouts (tests/corpus) through the real path: each export is written into a raw folder,
the nightly loader ingests it and builds the warehouse, and every hand-labelled case must have its class
in ``mart.case_timeliness`` (or be quarantined for its reason in ``ops.quarantine``) and its times in
``core.case``. Each file's columns all have a recorded fate and no planted personal data comes out."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from corpus import AS_OF, PLANTED_PII, Layout, all_layouts

from pipeline.ingest import read_export
from pipeline.jobs import ingest_and_build
from pipeline.settings import Settings, load_settings

LAYOUTS = all_layouts()
FATES = {"mapped", "personal_data_dropped", "ignored", "unmapped"}
READER_FRAMES = ("cases", "supplements", "ratings", "quarantine", "skipped", "column_fates", "findings")


def layout_params() -> list:
    return [
        pytest.param(layout, id=layout.name,
                     marks=[pytest.mark.xfail(strict=True, reason=layout.xfail)] if layout.xfail else [])
        for layout in LAYOUTS
    ]


def export_path(settings: Settings, layout: Layout) -> Path:
    return settings.raw_dir / layout.name / layout.file_name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Settings:
    """Every layout written into one raw folder, ingested and built once (as of AS_OF)."""
    root = tmp_path_factory.mktemp("corpus")
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of=AS_OF)
    for layout in LAYOUTS:
        path = export_path(settings, layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        layout.write(path)
    ingest_and_build(settings)
    return settings


def query(settings: Settings, sql: str, params: list) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.mark.parametrize("layout", layout_params())
def test_each_case_has_its_hand_labelled_class(built, layout):
    wrong = []
    for case in layout.cases:
        if case.expected == "quarantined":
            reasons = [r for (r,) in query(
                built, "select reason from ops.quarantine where source_file like ? and (case_id = ? or raw_value = ?)",
                [f"%{layout.file_name}", case.case_id, case.case_id])]
            loaded = query(built, "select count(*) from core.case where case_id = ?", [case.case_id])[0][0]
            if loaded or not any(case.reason in r for r in reasons):
                wrong.append((case.case_id, "quarantined", reasons, loaded))
            continue
        found = query(
            built,
            "select timeliness_class, time_unknown_finding from mart.case_timeliness "
            "where period_scheme = 'calendar' and period = ? and case_id = ?",
            [case.period, case.case_id],
        )
        got = found[0][0] if found else None
        finding = bool(found and found[0][1])
        if got != case.expected or finding != case.time_unknown_finding:
            wrong.append((case.case_id, case.expected, got, finding))
    assert not wrong, wrong


@pytest.mark.parametrize("layout", layout_params())
def test_no_date_or_time_part_is_lost(built, layout):
    checked = 0
    for case in layout.cases:
        wanted = {**case.times, **case.values}
        if not wanted:
            continue
        columns = list(wanted)
        row = query(built, f"select {', '.join(columns)} from core.case where case_id = ?", [case.case_id])
        assert row, f"{case.case_id} is not in core.case"
        got = dict(zip(columns, row[0], strict=True))
        assert got == wanted, case.case_id
        checked += 1
    assert checked


@pytest.mark.parametrize("layout", layout_params())
def test_every_column_has_a_recorded_fate(built, layout):
    result = read_export(export_path(built, layout), built)
    fates = result.column_fates
    assert set(fates["column_index"]) == set(range(1, layout.width + 1))  # no column without a fate
    assert set(fates["fate"]) <= FATES
    assert fates.loc[fates["fate"] == "ignored", "note"].notna().all()  # every ignored column says why
    by_header = {h: (f, None if pd.isna(x) else x) for h, f, x in fates[["header", "fate", "field"]].itertuples(index=False)}
    assert {h: by_header.get(h) for h in layout.fates} == layout.fates
    for text in layout.findings:
        assert result.findings["finding"].str.contains(text, regex=False).any(), text
    # the same fates are stored in the warehouse, per file
    stored = query(built, "select column_index from ops.column_fate where source_file like ?",
                   [f"%{layout.name}/{layout.file_name}"])
    assert sorted(i for (i,) in stored) == sorted(fates["column_index"])


@pytest.mark.parametrize("layout", layout_params())
def test_no_planted_personal_data_comes_out(built, layout):
    result = read_export(export_path(built, layout), built)
    texts = []
    for name in READER_FRAMES:
        frame = getattr(result, name)
        texts += [str(v) for v in frame.astype(object).to_numpy().ravel()]
    texts += list(result.header_map) + result.unmapped_headers + [result.layout]
    joined = "\n".join(texts)
    assert [value for value in PLANTED_PII if value in joined] == []


@pytest.mark.parametrize("layout", layout_params())
def test_inspect_explains_each_corpus_file(built, layout):
    """`tthc inspect` on the file: its kind, every column header with its fate, and what it quarantines."""
    from io import StringIO

    from pipeline.ingest.inspect import inspect_exports

    out = StringIO()
    code = inspect_exports([export_path(built, layout)], built, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "kind: cases" in text and "columns (" in text
    for header, (fate, _field) in layout.fates.items():  # the notable columns, each with its fate
        row = re.compile(rf"^\s*(?:\S+\s+)?\d+\s+{re.escape(header)}\s{{2,}}(\S+)")
        shown = [m.group(1) for m in map(row.match, text.splitlines()) if m]
        assert fate in shown, (header, fate, shown)
    quarantined = [c for c in layout.cases if c.expected == "quarantined"]
    if quarantined:
        assert "would be quarantined" in text and "(0 lines)" not in text
    assert not [marker for marker in PLANTED_PII if marker in text]
