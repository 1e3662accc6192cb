"""``tthc kpi --kind directive|feedback`` against the report fixture's directive and PAKN figures of Quý I/2025,
labelled by hand in tests/test_report_records.py (its module docstring gives the derivation)."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from records_fixtures import KCHT, TTR, VT

from pipeline.cli import main


@pytest.fixture(scope="module")
def warehouse(report_build) -> str:
    return str(report_build.warehouse)


def run(capsys, warehouse: str, *args: str) -> tuple[int, str, str]:
    code = main(["kpi", "--warehouse", warehouse, "--period", "2025-Q1", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mart_columns(warehouse: str, table: str) -> list[str]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'mart' and table_name = ? "
            "order by ordinal_position", [table]).fetchall()]
    finally:
        con.close()


def test_directive_json_rows_use_the_marts_column_names(capsys, warehouse):
    code, out, _ = run(capsys, warehouse, "--kind", "directive", "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in rows] == [mart_columns(warehouse, "directive_kpi_period")] * 2
    figures = {r["deadline_basis"]: (r["assigned_total"], r["due_total"], r["completed_on_time"], r["completed_late"],
                                     r["open_in_time"], r["open_overdue"], r["no_deadline"]) for r in rows}
    assert figures == {"original": (9, 6, 2, 3, 1, 1, 2), "extended": (9, 6, 4, 1, 1, 1, 2)}
    extended = next(r for r in rows if r["deadline_basis"] == "extended")
    assert extended["strict_rate"] == pytest.approx(4 / 6) and extended["headline_rate"] == pytest.approx(5 / 6)


def test_feedback_by_unit_json_and_csv(capsys, warehouse):
    code, out, _ = run(capsys, warehouse, "--kind", "feedback", "--by", "unit", "--format", "json")
    assert code == 0
    rows = {r["dimension_value"]: r for r in map(json.loads, out.splitlines())}
    assert list(next(iter(rows.values()))) == mart_columns(warehouse, "feedback_kpi_period")
    assert {u: (r["received_total"], r["handled_on_time"], r["handled_late"], r["open_in_time"], r["open_overdue"])
            for u, r in rows.items()} == {KCHT: (3, 1, 0, 1, 1), VT: (6, 3, 1, 2, 0), "(không xác định)": (1, 1, 0, 0, 0)}
    code, out, _ = run(capsys, warehouse, "--kind", "feedback", "--format", "csv")
    assert code == 0
    read = list(csv.reader(io.StringIO(out)))
    assert read[0] == mart_columns(warehouse, "feedback_kpi_period")
    row = dict(zip(read[0], read[1], strict=True))
    assert (row["received_total"], row["open_overdue"]) == ("10", "1")
    assert float(row["score_5_2"]) == pytest.approx(4.8)


def test_tables_are_vietnamese(capsys, warehouse):
    code, out, _ = run(capsys, warehouse, "--kind", "directive")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Quý I/2025 (kỳ dương lịch): Từ ngày 01/01/2025 đến ngày 31/03/2025"
    assert lines[2].split("  ")[0] == "Chỉ tiêu" and "Theo hạn ban đầu" in lines[2]
    assert "Theo hạn đã gia hạn (nếu có)" in lines[2]
    strict = next(line for line in lines if line.startswith("Tỷ lệ hoàn thành đúng hạn"))
    assert strict.split()[-2:] == ["33,3%", "66,7%"]
    code, out, _ = run(capsys, warehouse, "--kind", "directive", "--by", "unit")
    assert code == 0
    units = [line for line in out.splitlines() if line.startswith((KCHT, VT, TTR, "Tổng cộng"))]
    assert len(units) == 8  # three lead units and the total, each on both deadline bases
    assert next(line for line in units if line.startswith(TTR) and "đã gia hạn" in line).split()[-2:] == [
        "100,0%", "100,0%"]
    code, out, _ = run(capsys, warehouse, "--kind", "feedback")
    assert code == 0
    assert any(line.startswith("Điểm mục 5.2 (tối đa 6)") and line.endswith("4,80") for line in out.splitlines())
    assert any(line.startswith("Tỷ lệ xử lý, không để quá hạn") and line.endswith("90,0%") for line in out.splitlines())


def test_case_is_the_default_kind(capsys, warehouse):
    _, default, _ = run(capsys, warehouse, "--format", "json")
    _, explicit, _ = run(capsys, warehouse, "--kind", "case", "--format", "json")
    assert default == explicit and list(json.loads(default.splitlines()[0])) == mart_columns(warehouse, "kpi_period")


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "feedback", "--by", "sector"], "--by sector is not available for --kind feedback; use unit"),
    (["--kind", "directive", "--period", "2024-Q4"], "period 2024-Q4 (calendar) has no directive measures"),
])
def test_one_line_errors(capsys, warehouse, args, message):
    code = main(["kpi", "--warehouse", warehouse, "--period", "2025-Q1", *args])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1 and message in err
