"""The marts add up: DESIGN §6 identities on a few hundred synthetic cases, for every period and
dimension; mart.kpi_period against mart.case_timeliness and against an independent recomputation in
pandas; Biểu 06; the published columns; and ``tthc kpi``'s output formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from marts_fixtures import Warehouse, add_synthetic_cases

from pipeline.formatting import fmt_int, fmt_pct
from pipeline.periods import parse_period
from pipeline.report.kpi import print_kpi, write_kpi
from pipeline.warehouse.build import run_sql_layers, table_counts

AS_OF = date(2025, 5, 20)  # inside 2025-05 / 2025-Q2: the current periods are judged at 21/05 00:00
COUNTS = ["received_total", "received_online", "received_offline", "carried_over", "resolved_total", "early",
          "on_time", "late", "withdrawn", "stopped", "open_total", "open_in_time", "open_overdue", "ratings",
          "satisfied", "unsatisfied", "late_with_apology", "apology_timely", "rescheduled_more_than_once",
          "due_beyond_legal_limit"]
RATES = ["on_time_rate", "early_rate", "late_rate", "satisfaction_rate", "rating_coverage", "apology_rate"]
KPI_CONTRACT = ["period_scheme", "period", "dimension", "dimension_value", "received_total", "received_online",
                "received_offline", "carried_over", "resolved_total", "early", "on_time", "late", "withdrawn",
                "stopped", "open_total", "open_in_time", "open_overdue", "on_time_rate", "early_rate", "late_rate",
                "ratings", "satisfied", "satisfaction_rate", "score_766_progress"]
CASE_CONTRACT = ["period_scheme", "grain", "period", "case_id", "unit", "sector", "procedure_code", "procedure_name",
                 "channel", "received_at", "due_at", "end_at", "end_at_source", "paused_minutes", "supplement_count",
                 "adjusted_end_at", "is_received_in_period", "is_carried_over", "is_resolved_in_period",
                 "timeliness_class", "is_withdrawn", "is_stopped", "late_minutes", "late_working_hours",
                 "resolution_working_days", "has_apology", "apology_timely", "reschedule_count",
                 "due_beyond_legal_limit"]
BIEU06 = ["period_scheme", "period", "row_no", "sector", "c3_received_total", "c4_received_online",
          "c5_received_offline", "c6_carried_over", "c7_resolved_total", "c8_early", "c9_on_time", "c10_late",
          "c11_open_total", "c12_open_in_time", "c13_open_overdue", "is_total"]


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Warehouse:
    w = Warehouse.under(tmp_path_factory.mktemp("synthetic"), AS_OF)
    add_synthetic_cases(w)
    w.counts = w.build()
    return w


@pytest.fixture(scope="module")
def kpi(wh) -> pd.DataFrame:
    return wh.query("select * from mart.kpi_period")


def test_the_synthetic_cases_cover_every_class(wh):
    classes = set(wh.query("select distinct timeliness_class from mart.case_timeliness").timeliness_class)
    assert classes == {"early", "on_time", "late", "open_in_time", "open_overdue"}
    facts = wh.query("select count(*) filter (where is_withdrawn) w, count(*) filter (where is_stopped) s, "
                     "count(*) filter (where is_carried_over) c, count(*) filter (where has_apology) a, "
                     "count(*) filter (where end_at_source = 'returned_at') r, "
                     "count(*) filter (where supplement_count > 1) m from mart.case_timeliness").iloc[0]
    assert (facts > 0).all(), facts.to_dict()


def test_identities_hold_for_every_period_and_dimension(kpi):
    assert (kpi.received_total == kpi.carried_over + kpi.received_online + kpi.received_offline).all()
    assert (kpi.received_total == kpi.resolved_total + kpi.open_total).all()
    assert (kpi.resolved_total == kpi.early + kpi.on_time + kpi.late).all()
    assert (kpi.open_total == kpi.open_in_time + kpi.open_overdue).all()
    assert (kpi.withdrawn + kpi.stopped <= kpi.resolved_total).all()
    assert (kpi[COUNTS] >= 0).all().all()


def test_rates_are_fractions_or_null(kpi):
    for rate in RATES:
        values = kpi[rate].dropna()
        assert ((values >= 0) & (values <= 1)).all(), rate
    assert kpi.loc[kpi.resolved_total == 0, "on_time_rate"].isna().all()
    assert kpi.loc[kpi.ratings == 0, "satisfaction_rate"].isna().all()
    resolved = kpi[kpi.resolved_total > 0]
    assert np.allclose(resolved.on_time_rate, (resolved.early + resolved.on_time) / resolved.resolved_total)
    score = kpi.score_766_progress.dropna()
    assert ((score >= 0) & (score <= 20)).all()
    assert ((kpi.score_766_satisfaction.dropna() >= 0) & (kpi.score_766_satisfaction.dropna() <= 6)).all()


@pytest.mark.parametrize("dimension", ["unit", "sector", "procedure", "channel"])
def test_each_dimension_adds_up_to_the_department(kpi, dimension):
    parts = kpi[kpi.dimension == dimension].groupby(["period_scheme", "period"])[COUNTS].sum()
    whole = kpi[kpi.dimension == "all"].set_index(["period_scheme", "period"])[COUNTS]
    parts = parts.reindex(whole.index, fill_value=0)
    pd.testing.assert_frame_equal(parts.astype("int64"), whole.astype("int64"), check_names=False)


def test_every_period_appears_for_the_department(wh, kpi):
    periods = wh.query("select period_scheme, period from core.period")
    department = kpi[kpi.dimension == "all"]
    assert len(department) == len(periods)
    assert set(zip(department.period_scheme, department.period, strict=True)) == set(
        zip(periods.period_scheme, periods.period, strict=True))


@pytest.mark.parametrize("scheme", ["calendar", "official"])
def test_kpi_equals_a_count_over_case_timeliness(wh, kpi, scheme):
    rows = wh.query("select * from mart.case_timeliness where period_scheme = ? and period = '2025-Q1'", [scheme])
    rows["unit"] = rows["unit"].fillna("(không xác định)")
    counted = rows.assign(
        received_total=1,
        received_online=rows.is_received_in_period & (rows.channel == 2),
        received_offline=rows.is_received_in_period & (rows.channel != 2),
        carried_over=rows.is_carried_over,
        resolved_total=rows.is_resolved_in_period,
        early=rows.timeliness_class == "early",
        on_time=rows.timeliness_class == "on_time",
        late=rows.timeliness_class == "late",
        withdrawn=rows.is_withdrawn,
        stopped=rows.is_stopped,
        open_total=~rows.is_resolved_in_period,
        open_in_time=rows.timeliness_class == "open_in_time",
        open_overdue=rows.timeliness_class == "open_overdue",
        late_with_apology=(rows.timeliness_class == "late") & rows.has_apology,
    )
    columns = ["received_total", "received_online", "received_offline", "carried_over", "resolved_total", "early",
               "on_time", "late", "withdrawn", "stopped", "open_total", "open_in_time", "open_overdue",
               "late_with_apology"]
    quarter = kpi[(kpi.period_scheme == scheme) & (kpi.period == "2025-Q1")]
    by_unit = counted.groupby("unit")[columns].sum().astype("int64").sort_index()
    expected = quarter[quarter.dimension == "unit"].set_index("dimension_value")[columns].astype("int64").sort_index()
    pd.testing.assert_frame_equal(by_unit, expected, check_names=False)
    department = quarter[quarter.dimension == "all"].iloc[0]
    assert counted[columns].sum().astype("int64").to_dict() == department[columns].astype("int64").to_dict()
    resolved = rows[rows.is_resolved_in_period]
    assert department.mean_resolution_working_days == pytest.approx(resolved.resolution_working_days.mean())
    assert department.median_resolution_working_days == pytest.approx(resolved.resolution_working_days.median())
    for dimension, column in (("unit", "unit"), ("procedure", "procedure_code"), ("channel", "channel")):
        medians = resolved.groupby(resolved[column].astype(str))["resolution_working_days"].median()
        stored = quarter[quarter.dimension == dimension].set_index("dimension_value").median_resolution_working_days
        for value, median in medians.items():
            assert stored[value] == pytest.approx(median), (dimension, value)


def _independent_classes(wh: Warehouse, scheme: str, label: str) -> pd.Series:
    """DESIGN §4 recomputed case by case in plain Python from the core tables (calendar-day early rule)."""
    period = parse_period(label, scheme)
    start, judged = period.start, min(period.end, datetime(AS_OF.year, AS_OF.month, AS_OF.day) + pd.Timedelta(days=1))
    cases = wh.query("select * from core.case where in_scope")
    supplements = wh.query("select * from core.supplement order by case_id, requested_at, seq")
    cycles = {k: list(zip(g.requested_at, g.received_at, strict=True)) for k, g in supplements.groupby("case_id")}
    classes = {}
    for case in cases.itertuples():
        end = None if pd.isna(case.end_at) else case.end_at.to_pydatetime()
        received = case.received_at.to_pydatetime()
        placed_end = None if end is None else max(end, received)
        if not (received < judged and (placed_end is None or placed_end >= start)):
            continue
        resolved = placed_end is not None and placed_end < judged
        moment = end if resolved else judged
        own = [(r.to_pydatetime(), None if pd.isna(a) else a.to_pydatetime()) for r, a in cycles.get(case.case_id, [])]
        requested = [(r, a) for r, a in own if r <= moment]
        paused = pd.Timedelta(0)
        compared = None
        for r, a in requested:
            if a is None or a > moment:  # still waiting at the moment judged: the clock stopped at the request
                compared = r - paused
                break
            paused += a - r
        if compared is None:
            compared = moment - paused
        due = case.due_at.to_pydatetime()
        past_due = compared.replace(second=0, microsecond=0) > due.replace(second=0, microsecond=0) or len(requested) > 1
        if resolved:
            classes[case.case_id] = "late" if past_due else "early" if compared.date() < due.date() else "on_time"
        else:
            classes[case.case_id] = "open_overdue" if past_due else "open_in_time"
    return pd.Series(classes, name="independent").sort_index()


@pytest.mark.parametrize("scheme", ["calendar", "official"])
@pytest.mark.parametrize("label", ["2025-Q1", "2025-05", "2025"])
def test_classes_match_an_independent_recomputation(wh, scheme, label):
    expected = _independent_classes(wh, scheme, label)
    got = wh.query("select case_id, timeliness_class from mart.case_timeliness where period_scheme = ? and period = ?",
                   [scheme, label]).set_index("case_id").timeliness_class.sort_index()
    assert len(got) > 50
    mismatch = pd.concat([got, expected], axis=1)
    mismatch = mismatch[mismatch.iloc[:, 0] != mismatch.iloc[:, 1]]
    assert mismatch.empty, mismatch


def test_build_counts_match_the_marts(wh):
    assert wh.counts["mart.case_timeliness"] == wh.query("select count(*) n from mart.case_timeliness").n[0]
    assert wh.counts["mart.kpi_period"] == wh.query("select count(*) n from mart.kpi_period").n[0]


def test_rebuilding_on_the_same_connection_gives_the_same_marts(wh, kpi):
    run_sql_layers(wh.con, wh.settings, ("intermediate", "marts"))
    assert table_counts(wh.con) == wh.counts
    again = wh.query("select * from mart.kpi_period")
    pd.testing.assert_frame_equal(again, kpi)


def test_published_columns(wh):
    def columns(table: str) -> list[str]:
        return wh.query(f"select * from {table} limit 0").columns.tolist()

    assert columns("mart.kpi_period")[: len(KPI_CONTRACT)] == KPI_CONTRACT
    assert columns("mart.case_timeliness")[: len(CASE_CONTRACT)] == CASE_CONTRACT
    assert columns("mart.bieu06")[: len(BIEU06)] == BIEU06
    assert columns("mart.objective")[:11] == ["period_scheme", "period", "dimension", "dimension_value", "measure",
                                             "value", "target_op", "target_value", "target_text", "met", "verdict"]
    assert columns("mart.warnings")[:9] == ["unit", "case_id", "procedure_code", "procedure_name", "received_at",
                                           "due_at", "warning_kind", "working_hours_left", "urgency_rank"]
    types = wh.query("describe mart.kpi_period").set_index("column_name").column_type
    assert (types[COUNTS] == "BIGINT").all(), types[COUNTS]
    assert (types[RATES] == "DOUBLE").all(), types[RATES]
    documented = wh.query("select table_name, comment from duckdb_tables() where schema_name = 'mart' "
                          "union all select view_name, comment from duckdb_views() where schema_name = 'mart'")
    assert documented.comment.notna().all() and (documented.comment.str.len() > 20).all(), documented


def test_bieu06_columns_add_up(wh, kpi):
    b = wh.query("select * from mart.bieu06")
    assert (b.c3_received_total == b.c4_received_online + b.c5_received_offline + b.c6_carried_over).all()
    assert (b.c3_received_total == b.c7_resolved_total + b.c11_open_total).all()
    assert (b.c7_resolved_total == b.c8_early + b.c9_on_time + b.c10_late).all()
    assert (b.c11_open_total == b.c12_open_in_time + b.c13_open_overdue).all()
    counts = [c for c in b.columns if c.startswith("c") and c[1:2].isdigit()]
    sectors = b[~b.is_total].groupby(["period_scheme", "period"])[counts].sum()
    totals = b[b.is_total].set_index(["period_scheme", "period"])[counts]
    pd.testing.assert_frame_equal(sectors.reindex(totals.index, fill_value=0).astype("int64"),
                                  totals.astype("int64"), check_names=False)
    quarter = b[(b.period_scheme == "calendar") & (b.period == "2025-Q1")]
    assert quarter.sector.tolist()[0] == "Tổng cộng" and quarter.row_no.isna().tolist()[0]
    assert quarter.row_no.dropna().astype(int).tolist() == list(range(1, len(quarter)))
    assert len(b[b.is_total]) == len(kpi[kpi.dimension == "all"])


@pytest.fixture(scope="module")
def warehouse_file(wh, tmp_path_factory):
    path = wh.save(tmp_path_factory.mktemp("file") / "tthc.duckdb")
    return wh.settings.model_copy(update={"warehouse": path})


def test_tthc_kpi_json_has_exactly_the_kpi_columns(wh, warehouse_file, capsys):
    assert print_kpi(warehouse_file, "2025-Q1", "calendar", "unit", "json") == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    columns = wh.query("select * from mart.kpi_period limit 0").columns.tolist()
    assert records and all(list(r) == columns for r in records)
    assert {r["dimension"] for r in records} == {"unit"}
    department = wh.kpi("2025-Q1", "calendar")
    assert sum(r["received_total"] for r in records) == department["received_total"]


def test_tthc_kpi_csv_and_table(warehouse_file, wh, capsys):
    print_kpi(warehouse_file, "2025-Q1", "official", None, "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["period_scheme", "period", "dimension", "dimension_value"]
    assert len(rows) == 2 and rows[1][:4] == ["official", "2025-Q1", "all", "all"]

    print_kpi(warehouse_file, "2025-Q1", "calendar", None, "table")
    table = capsys.readouterr().out
    department = wh.kpi("2025-Q1", "calendar")
    assert "Quý I/2025" in table and "Từ ngày 01/01/2025 đến ngày 31/03/2025" in table
    assert "Tỷ lệ đúng hạn" in table and fmt_pct(department["on_time_rate"]) in table

    print_kpi(warehouse_file, "2025-Q2", "calendar", "channel", "table")
    table = capsys.readouterr().out
    assert "Số liệu đến hết ngày 20/05/2025" in table
    assert "Trực tuyến" in table and "Tổng cộng" in table


def test_vietnamese_number_formats():
    assert fmt_int(12345) == "12.345"
    assert fmt_pct(0.953) == "95,3%"
    assert fmt_pct(None) == "–"


def test_tthc_kpi_unknown_period_is_one_line(warehouse_file):
    with pytest.raises(ValueError, match=r"^period 2030-Q1 \(calendar\) is not in the warehouse") as info:
        print_kpi(warehouse_file, "2030-Q1", "calendar", None, "json")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError):
        write_kpi(None, "2025-Q5", "calendar", None, "json", io.StringIO())
