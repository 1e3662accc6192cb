"""End to end on demo exports: no personal data anywhere, identities hold, planted dirt is caught."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.demo import generate_demo_exports
from pipeline.jobs import ingest_and_build
from pipeline.settings import load_settings

END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of=END)
    truth = generate_demo_exports(settings.raw_dir, settings, seed=7, start=END - timedelta(days=150), end=END)
    result = ingest_and_build(settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    yield settings, truth, result, con
    con.close()


def test_no_file_rejected_and_nothing_lost(demo):
    _, truth, result, con = demo
    assert not result.rejected_files, [o.reason for o in result.rejected_files]
    bad = con.execute(
        "select file_name from ops.file where rows_read <> rows_loaded + rows_quarantined + rows_skipped"
    ).fetchall()
    assert bad == []


def test_no_personal_data_in_any_table_or_column(demo):
    settings, truth, _, con = demo
    needles = [n for n in truth.applicant_names if len(n) > 6][:300] + truth.applicant_phones[:300]
    assert needles
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('raw', 'core', 'mart', 'ops')"
    ).fetchall()
    con.execute("create temp table needle (value varchar)")
    con.executemany("insert into needle values (?)", [[n] for n in needles])
    for schema, table in tables:
        columns = [c[0] for c in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchall()]
        for column in columns:
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" as t join needle '
                f'on contains(cast(t."{column}" as varchar), needle.value)'
            ).fetchone()[0]
            assert hits == 0, f"personal data found in {schema}.{table}.{column}"


def test_no_personal_data_in_parquet_layer(demo):
    settings, truth, _, _ = demo
    con = duckdb.connect()
    pattern = str(settings.raw_parquet_dir / "**" / "*.parquet")
    text = con.execute(
        "select string_agg(cast(columns(*) as varchar), '|') from read_parquet(?, union_by_name = true)", [pattern]
    ).fetchall()
    blob = " ".join(str(v) for row in text for v in row)
    for needle in truth.applicant_phones[:200]:
        assert needle not in blob


def test_identities_on_demo_data(demo):
    _, _, _, con = demo
    broken = con.execute(
        """
        select period_scheme, period, dimension, dimension_value from mart.kpi_period
        where received_total <> resolved_total + open_total
           or received_total <> carried_over + received_online + received_offline
           or resolved_total <> early + on_time + late
           or open_total <> open_in_time + open_overdue
        """
    ).fetchall()
    assert broken == []
    sums = con.execute(
        """
        with units as (
            select period_scheme, period, sum(received_total) as received, sum(resolved_total) as resolved,
                   sum(late) as late, sum(open_overdue) as overdue
            from mart.kpi_period where dimension = 'unit' group by all
        )
        select count(*) from units join mart.kpi_period as k using (period_scheme, period)
        where k.dimension = 'all'
          and (k.received_total, k.resolved_total, k.late, k.open_overdue)
              <> (units.received, units.resolved, units.late, units.overdue)
        """
    ).fetchone()[0]
    assert sums == 0


def test_kpi_covers_every_period_up_to_as_of(demo):
    _, _, _, con = demo
    periods = {r[0] for r in con.execute(
        "select period from mart.kpi_period where dimension = 'all' and period_scheme = 'calendar'"
    ).fetchall()}
    assert {"2025-02", "2025-06", "2025-Q1", "2025-Q2", "2025-H1", "2025"} <= periods
    assert "2025-07" not in periods


def test_generator_class_at_end_matches_the_engine(demo):
    settings, truth, _, con = demo
    truth_file = Path(truth.out_dir) / "_generator_cases.csv"
    assert truth_file.exists(), "the generator wrote no per-case truth"
    with open(truth_file, encoding="utf-8") as handle:
        expected = {row["case_id"]: row["class_at_end"] for row in csv.DictReader(handle) if row.get("class_at_end")}
    con.execute("create temp table expected (case_id varchar, class_at_end varchar)")
    con.executemany("insert into expected values (?, ?)", list(expected.items()))
    mismatches = con.execute(
        """
        select e.case_id, e.class_at_end, t.timeliness_class
        from expected as e
        join mart.case_timeliness as t
          on t.case_id = e.case_id and t.period_scheme = 'calendar' and t.period = '2025-06'
        where e.class_at_end <> t.timeliness_class
        """
    ).fetchall()
    assert len(mismatches) <= 0.001 * len(expected), mismatches[:10]


def test_every_planted_dirty_row_is_quarantined_or_reported(demo):
    settings, truth, _, con = demo
    caught = {
        (Path(f).name, Path(f).parent.name, int(r))
        for f, r in con.execute(
            "select source_file, source_row from ops.quarantine union select source_file, source_row from ops.finding"
        ).fetchall()
    }
    missed = [d for d in truth.dirty_rows if (Path(d.file).name, Path(d.file).parent.name, d.row) not in caught]
    assert missed == [], missed[:10]


def test_no_clean_row_is_quarantined(demo):
    settings, truth, _, con = demo
    planted = {(Path(d.file).name, Path(d.file).parent.name, d.row) for d in truth.dirty_rows}
    quarantined = {
        (Path(f).name, Path(f).parent.name, int(r))
        for f, r in con.execute("select distinct source_file, source_row from ops.quarantine").fetchall()
    }
    assert quarantined - planted == set()


# --- directives and PAKN of the demo ------------------------------------------------------------------


def _classes(con, sql: str, params: list) -> dict[str, str]:
    return dict(con.execute(sql, params).fetchall())


@pytest.mark.parametrize("basis", ["original", "extended"])
def test_directive_classes_in_the_last_month_match_the_generator(demo, basis):
    _, truth, _, con = demo
    with open(Path(truth.out_dir) / "_generator_directives.csv", encoding="utf-8") as handle:
        expected = {r["task_id"]: r[f"class_at_end_{basis}"] for r in csv.DictReader(handle)
                    if r[f"class_at_end_{basis}"]}
    found = _classes(con, "select task_id, timeliness_class from mart.directive_timeliness where period_scheme = "
                          "'calendar' and period = ? and deadline_basis = ?", [f"{END:%Y-%m}", basis])
    assert len(expected) >= 10 and found == expected


def test_feedback_classes_and_month_figures_match_the_generator(demo):
    _, truth, _, con = demo
    with open(Path(truth.out_dir) / "_generator_feedback.csv", encoding="utf-8") as handle:
        expected = {r["feedback_id"]: r["class_at_end"] for r in csv.DictReader(handle) if r["class_at_end"]}
    found = _classes(con, "select feedback_id, timeliness_class from mart.feedback_timeliness where period_scheme = "
                          "'calendar' and period = ?", [f"{END:%Y-%m}"])
    assert expected and found == expected
    month = truth.feedback_end_month
    row = con.execute(
        "select received_total, handled_on_time, handled_late, open_in_time, open_overdue, rate_5_2, rate_5_3 "
        "from mart.feedback_kpi_period where period_scheme = 'calendar' and period = ? and dimension = 'all'",
        [f"{END:%Y-%m}"]).fetchone()
    assert row[:5] == tuple(month[k] for k in ("received_total", "handled_on_time", "handled_late", "open_in_time",
                                               "open_overdue"))
    for actual, wanted in zip(row[5:], (month["rate_5_2"], month["rate_5_3"]), strict=True):
        assert (actual is None and wanted is None) or actual == pytest.approx(wanted)


def test_directive_and_feedback_exports_are_read_whole(demo):
    _, truth, _, con = demo
    files = dict(con.execute(
        "select file_name, kind from ops.file where kind in ('directives', 'directive_extensions', 'feedback')"
    ).fetchall())
    expected = {Path(name).name for name in truth.files if name.startswith(("directives/", "feedback/"))}
    assert set(files) == expected and len(expected) >= 4
    counts = truth.counts
    tasks, extensions, feedback = con.execute(
        "select (select count(*) from core.directive), (select count(*) from core.directive_extension), "
        "(select count(*) from core.feedback)").fetchone()
    assert (tasks, extensions, feedback) == (counts["directive_tasks"], counts["directive_extensions"],
                                            counts["feedback_total"])
    no_deadline = con.execute("select count(*) from core.directive where deadline_original is null").fetchone()[0]
    assert no_deadline == (counts["directive_no_deadline_placeholder"] + counts["directive_no_deadline_words"]
                           + counts["directive_no_deadline_empty"])


def test_no_sender_data_anywhere(demo):
    settings, truth, _, con = demo
    needles = truth.sender_names + truth.sender_phones + truth.sender_emails + truth.sender_addresses
    needles += [text[:40] for text in truth.complaint_texts]
    assert len(truth.sender_names) >= 10
    con.execute("create temp table sender (value varchar)")
    con.executemany("insert into sender values (?)", [[n] for n in needles])
    for schema, table in con.execute("select schema_name, table_name from duckdb_tables() where not temporary").fetchall():
        for (column,) in con.execute("select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                                     [schema, table]).fetchall():
            hits = con.execute(f'select count(*) from "{schema}"."{table}" as t join sender '
                               f'on contains(cast(t."{column}" as varchar), sender.value)').fetchone()[0]
            assert hits == 0, f"sender data found in {schema}.{table}.{column}"
    parquet = duckdb.connect()
    for folder in ("feedback", "skipped", "quarantine", "findings"):
        pattern = settings.raw_parquet_dir / folder / "*.parquet"
        if not list(pattern.parent.glob("*.parquet")):
            continue
        blob = " ".join(str(v) for row in parquet.execute(
            "select * from read_parquet(?, union_by_name = true)", [str(pattern)]).fetchall() for v in row)
        assert not any(needle in blob for needle in needles), folder
