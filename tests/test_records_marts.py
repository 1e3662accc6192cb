"""Directive and PAKN measures through the real path (exports written in code, then
pipeline.jobs.ingest_and_build), against figures labelled by hand from DESIGN §10 and §11.

The tasks and PAKN are described in tests/records_fixtures.py. Calendar facts used by the labels:
07/04/2025 (Hùng Kings day) is a day off; working days are Monday to Friday, 07:00-11:30 and 13:30-17:00.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from records_fixtures import KCHT, LONG_TITLE, TTR, VT, write_all

from pipeline.jobs import ingest_and_build
from pipeline.settings import load_settings

DIRECTIVE_COLUMNS = ["assigned_total", "due_total", "completed_on_time", "completed_late", "open_in_time",
                     "open_overdue", "no_deadline", "headline_rate", "strict_rate"]
FEEDBACK_COLUMNS = ["received_total", "handled_on_time", "handled_late", "open_in_time", "open_overdue", "rate_5_2",
                    "score_5_2", "rate_5_3", "score_5_3"]

# (scheme, period, dimension, value, basis) -> assigned, due, on time, late, open in time, overdue, no deadline,
# headline, strict
DIRECTIVES = {
    # March: D1 late (due 14/03, done 18/03: counted in the headline rate only), D2 late against its original
    # 10/03 but on time against the extension to 21/03, D10 the same (14/03, later 28/03), D5 done on its
    # deadline day (a date without a time), D9 (assigned in February) done early, D6 open past 25/03 17:00,
    # D7 open and due 02/04, D3 (01/01/1970) and D4 ("quý IV/2025") without a deadline, D8 returned.
    ("calendar", "2025-03", "all", "all", "original"): (8, 6, 2, 3, 1, 1, 2, 5 / 6, 2 / 6),
    ("calendar", "2025-03", "all", "all", "extended"): (8, 6, 4, 1, 1, 1, 2, 5 / 6, 4 / 6),
    ("calendar", "2025-03", "unit", KCHT, "original"): (3, 3, 0, 2, 0, 1, 0, 2 / 3, 0.0),
    ("calendar", "2025-03", "unit", KCHT, "extended"): (3, 3, 1, 1, 0, 1, 0, 2 / 3, 1 / 3),
    ("calendar", "2025-03", "unit", TTR, "original"): (1, 1, 0, 1, 0, 0, 0, 1.0, 0.0),
    ("calendar", "2025-03", "unit", TTR, "extended"): (1, 1, 1, 0, 0, 0, 0, 1.0, 1.0),
    # February: only D9, open and due 10/03; nothing due
    ("calendar", "2025-02", "all", "all", "original"): (1, 0, 0, 0, 1, 0, 0, None, None),
    # April: nothing assigned; D7 done 02/04 16:00 (due 02/04, ends at 24:00), D6 done 15/04 (late)
    ("calendar", "2025-04", "all", "all", "original"): (0, 2, 1, 1, 0, 0, 2, 1.0, 0.5),
    # Official March (15/02-14/03, judged 15/03 00:00): D1 and D10 due 14/03 end at 24:00, exactly when the
    # period is judged: still in time; D2's original 10/03 has passed, its extension to 21/03 has not.
    ("official", "2025-03", "all", "all", "original"): (8, 3, 2, 0, 3, 1, 2, 2 / 3, 2 / 3),
    ("official", "2025-03", "all", "all", "extended"): (8, 2, 2, 0, 4, 0, 2, 1.0, 1.0),
}
DUE_SOON = {  # open, in time and due within 3 working days of the period's judging moment
    ("calendar", "2025-03", "original"): 1,  # D7 (02/04)
    ("calendar", "2025-02", "original"): 0,  # D9: 10/03 is 6 working days after 01/03
    ("official", "2025-03", "original"): 2,  # D1 and D10, due 14/03
    ("official", "2025-03", "extended"): 1,  # D1 (D10 extended to 28/03)
}

# (scheme, period, dimension, value) -> received, handled on time, late, open in time, overdue, rate 5.2,
# score 5.2, rate 5.3, score 5.3
FEEDBACK = {
    # March: handled P4, P5a, P5b, P6, P7 (more information within 5 working days) on time, P10 late
    # (published 4 working days after its answer); open at the end P1, P2 (received 31/03 17:30), P8 in
    # time and P9 (received 03/02) overdue. Against satisfaction: P4 (not satisfied), P5a (complained about
    # again), P5b (a repeated complaint), P10 (late).
    ("calendar", "2025-03", "all", "all"): (9, 5, 1, 3, 1, 8 / 10, 4.8, 5 / 9, 30 / 9),
    ("calendar", "2025-03", "unit", VT): (7, 4, 1, 2, 0, 6 / 7, 36 / 7, 3 / 7, 18 / 7),
    ("calendar", "2025-03", "unit", KCHT): (2, 1, 0, 1, 1, 2 / 3, 4.0, 1.0, 6.0),
    # April: P1 answered on the 15th working day (on time), P2 on the 16th (late), P3 refused after 3
    # working days (late), P8 on time; P9 still open past its limit. Received: P3 only.
    ("calendar", "2025-04", "all", "all"): (1, 2, 2, 0, 1, 0.4, 2.4, 0.0, 0.0),
    # February: P9 alone, open past 24/02 09:00
    ("calendar", "2025-02", "all", "all"): (1, 0, 0, 0, 1, 0.0, 0.0, 0.0, 0.0),
    # May: P9 answered late, nothing received; June: nothing at all (scores 6)
    ("calendar", "2025-05", "all", "all"): (0, 0, 1, 0, 0, 0.0, 0.0, None, 6.0),
    ("calendar", "2025-06", "all", "all"): (0, 0, 0, 0, 0, None, 6.0, None, 6.0),
    # Q1: March plus P9, received in February and overdue at the quarter's end
    ("calendar", "2025-Q1", "all", "all"): (10, 5, 1, 3, 1, 0.8, 4.8, 0.5, 3.0),
}


# DESIGN §9's minimum stable contract, copied by hand: these columns come first, in this order, then any extras.
DIRECTIVE_CONTRACT = ["period_scheme", "period", "dimension", "dimension_value", "deadline_basis", "assigned_total",
                      "due_total", "completed_on_time", "completed_late", "open_in_time", "open_overdue", "no_deadline",
                      "headline_rate", "strict_rate"]
FEEDBACK_CONTRACT = ["period_scheme", "period", "dimension", "dimension_value", "received_total", "handled_on_time",
                     "handled_late", "open_in_time", "open_overdue", "rate_5_2", "score_5_2", "rate_5_3", "score_5_3"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("records_marts")
    write_all(root / "raw")
    yield from _built(root)


def _built(root: Path):
    """The warehouse ingested and built from the exports under ``root / "raw"`` (as of 30/06/2025), opened
    read-only for the module's tests."""
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "w" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of="2025-06-30")
    result = ingest_and_build(settings)
    assert not result.rejected_files, [o.reason for o in result.rejected_files]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    yield con
    con.close()


def _close(actual, expected):
    return actual is None if expected is None else actual == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("key", list(DIRECTIVES))
def test_directive_measures(warehouse, key):
    scheme, period, dimension, value, basis = key
    row = warehouse.execute(
        f"select {', '.join(DIRECTIVE_COLUMNS)} from mart.directive_kpi_period where period_scheme = ? "
        "and period = ? and dimension = ? and dimension_value = ? and deadline_basis = ?", list(key)).fetchall()
    assert len(row) == 1, key
    for column, actual, expected in zip(DIRECTIVE_COLUMNS, row[0], DIRECTIVES[key], strict=True):
        assert _close(actual, expected), (key, column, actual, expected)


@pytest.mark.parametrize("key", list(DUE_SOON))
def test_directives_due_soon(warehouse, key):
    found = warehouse.execute(
        "select due_soon from mart.directive_kpi_period where period_scheme = ? and period = ? "
        "and deadline_basis = ? and dimension = 'all'", list(key)).fetchone()[0]
    assert found == DUE_SOON[key]


@pytest.mark.parametrize("key", list(FEEDBACK))
def test_feedback_measures(warehouse, key):
    row = warehouse.execute(
        f"select {', '.join(FEEDBACK_COLUMNS)} from mart.feedback_kpi_period where period_scheme = ? "
        "and period = ? and dimension = ? and dimension_value = ?", list(key)).fetchall()
    assert len(row) == 1, key
    for column, actual, expected in zip(FEEDBACK_COLUMNS, row[0], FEEDBACK[key], strict=True):
        assert _close(actual, expected), (key, column, actual, expected)


def test_answer_limit_crosses_a_holiday(warehouse):
    rows = dict(warehouse.execute(
        "select feedback_id, timeliness_class || ' ' || strftime(answer_due_at, '%d/%m/%Y %H:%M') "
        "from mart.feedback_timeliness where period_scheme = 'calendar' and period = '2025-04' "
        "and feedback_id in ('P1', 'P2', 'P3')").fetchall())
    # P1, P2 received 31/03 17:30, after hours: the 15 working days are 01/04 … 22/04 without 07/04.
    # P3 received 02/04 09:00: 03, 04, 08, 09, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24/04 (limit 09:00);
    # refused on 08/04 09:00, 3 working days after its receipt (the limit for a refusal is 2): late.
    assert rows == {"P1": "handled_on_time 22/04/2025 17:00", "P2": "handled_late 22/04/2025 17:00",
                    "P3": "handled_late 24/04/2025 09:00"}


def test_tasks_and_their_extension_history(warehouse):
    tasks = {r[0]: r[1:] for r in warehouse.execute(
        "select task_id, title, deadline_original, deadline_extended, deadline_text, extension_count, in_scope, "
        "co_units from core.directive order by task_id").fetchall()}
    assert set(tasks) == {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10"}
    assert tasks["D1"][0] == LONG_TITLE  # the flat list truncates it; the longest title seen is kept
    assert tasks["D1"][6] == "Công an tỉnh; Sở Xây dựng"
    assert tasks["D2"][1:4] == (datetime(2025, 3, 10), datetime(2025, 3, 21), None)
    assert tasks["D10"][1:5] == (datetime(2025, 3, 14), datetime(2025, 3, 28), None, 1)
    assert tasks["D3"][1:4] == (None, None, "01/01/1970")
    assert tasks["D4"][1:4] == (None, None, "quý IV/2025")
    assert tasks["D8"][5] is False
    history = warehouse.execute(
        "select task_id, seq, old_deadline, new_deadline, extension_reason, extended_at, source "
        "from core.directive_extension order by task_id").fetchall()
    assert history == [
        ("D10", 1, datetime(2025, 3, 14), datetime(2025, 3, 28), None, None, "deadline_change"),
        ("D2", 1, datetime(2025, 3, 10), datetime(2025, 3, 21), "Chờ số liệu của các huyện", datetime(2025, 3, 9),
         "export"),
    ]


def test_feedback_linked_to_cases_and_masked(warehouse):
    rows = {r[0]: r[1:] for r in warehouse.execute(
        "select feedback_id, case_id, case_known, unit, handling, title from core.feedback").fetchall()}
    assert "P11" not in rows  # its receipt date 31/02/2025 does not exist
    assert rows["P6"][:3] == ("000.00.20.H55-250106-0001", True, VT)  # no unit in the export: the case's
    assert rows["P5b"][:2] == ("000.00.20.H55-250303-0002", True)
    assert (rows["P3"][3], rows["P7"][3]) == ("refused", "more_info")
    assert rows["P4"][4] == "Phản ánh của bà [đã ẩn] về việc chậm trả kết quả"
    quarantined = warehouse.execute(
        "select field, raw_value from ops.quarantine where source_file like '%pakn_cong_quoc_gia%'").fetchall()
    assert quarantined == [("received_at", "31/02/2025 08:00")]


def test_objectives_list_directives_and_feedback(warehouse):
    rows = {r[0]: r[1:] for r in warehouse.execute(
        "select measure, value, target_value, verdict from mart.objective "
        "where period_scheme = 'calendar' and period = '2025-03' and dimension = 'all'").fetchall()}
    # strict rate on the extended deadlines (4 of 6 due tasks on time); PAKN: 9 of 10 handled or in time,
    # 5 of 6 handled on time
    assert rows["directive_on_time_rate"] == (pytest.approx(4 / 6), 1.0, "Không đạt")
    assert rows["feedback_handled_rate"] == (pytest.approx(0.9), 1.0, "Không đạt")
    assert rows["feedback_on_time_rate"] == (pytest.approx(5 / 6), 1.0, "Không đạt")
    unit = warehouse.execute(
        "select value, verdict from mart.objective where period_scheme = 'calendar' and period = '2025-03' "
        "and dimension = 'unit' and dimension_value = ? and measure = 'feedback_handled_rate'", [KCHT]).fetchone()
    assert unit == (pytest.approx(2 / 3), "Không đạt")


def test_rows_for_every_period_the_records_span(warehouse):
    for table, first in (("mart.directive_kpi_period", "2025-02"), ("mart.feedback_kpi_period", "2025-02")):
        months = [r[0] for r in warehouse.execute(
            f"select distinct period from {table} where period_scheme = 'calendar' and grain = 'month' "
            "order by 1").fetchall()]
        assert months == [first, "2025-03", "2025-04", "2025-05", "2025-06"], table


@pytest.mark.parametrize("table, contract", [("mart.directive_kpi_period", DIRECTIVE_CONTRACT),
                                             ("mart.feedback_kpi_period", FEEDBACK_CONTRACT)])
def test_contract_columns_come_first(warehouse, table, contract):
    columns = [d[0] for d in warehouse.execute(f"select * from {table} limit 0").description]
    assert columns[: len(contract)] == contract


def test_every_core_intermediate_and_mart_relation_is_commented(warehouse):
    relations = warehouse.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where schema_name in ('core', 'intermediate', 'mart') "
        "union all select schema_name, view_name, comment from duckdb_views() "
        "where schema_name in ('core', 'intermediate', 'mart') and not internal").fetchall()
    names = {f"{schema}.{name}" for schema, name, _ in relations}
    assert {"core.directive", "core.feedback", "intermediate.directive_facts", "intermediate.feedback_facts",
            "mart.directive_kpi_period", "mart.feedback_kpi_period", "mart.directive_timeliness",
            "mart.feedback_timeliness", "mart.kpi_period", "mart.case_timeliness"} <= names
    undocumented = sorted(f"{schema}.{name}" for schema, name, comment in relations
                          if not comment or len(comment.strip()) < 20)
    assert undocumented == []


# --- a dislike count alone counts against 5.3 (DESIGN §11: "applicant's reaction (hài lòng / không hài lòng, likes
# and dislikes)") ----------------------------------------------------------------------------------------------
# The national portal's CSV carries no reaction word, only its thumbs: "Hài lòng" and "Không hài lòng" counts.
# Three PAKN of VT received in May 2025, each answered within 5 working days and published the next working day
# (no holiday between 12/05 and 22/05), none repeated, none about a case:
#   Q1 received 12/05 09:00, answered 16/05 10:00, published 19/05; 3 thumbs up, none down
#   Q2 received 13/05 09:00, answered 20/05 10:00, published 21/05; none up, 2 down: the sender is not satisfied
#   Q3 received 14/05 09:00, answered 21/05 10:00, published 22/05; no thumbs at all
# Calendar May 2025: received 3, handled on time 3; 5.2 = 3/3 (score 6); against 5.3 only Q2: 5.3 = 2/3 (score 4).
DISLIKE_PAKN = [
    ["Mã phản ánh", "Tiêu đề", "Cơ quan xử lý", "Ngày gửi", "Ngày tiếp nhận", "Tình trạng", "Ngày trả lời",
     "Ngày công khai", "Hài lòng", "Không hài lòng"],
    ["Q1", "Hỏi về cấp phù hiệu xe tải", VT, "12/05/2025 08:30", "12/05/2025 09:00", "Đã công khai",
     "16/05/2025 10:00", "19/05/2025", "3", "0"],
    ["Q2", "Chậm cấp đổi giấy phép lái xe", VT, "13/05/2025 08:30", "13/05/2025 09:00", "Đã công khai",
     "20/05/2025 10:00", "21/05/2025", "0", "2"],
    ["Q3", "Hỏi về đăng ký xe máy chuyên dùng", VT, "14/05/2025 08:30", "14/05/2025 09:00", "Đã công khai",
     "21/05/2025 10:00", "22/05/2025", "", ""],
]


@pytest.fixture(scope="module")
def dislike_warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("pakn_dislikes")
    path = root / "raw" / "pakn" / "pakn_cong_quoc_gia_2025-06-30.csv"
    path.parent.mkdir(parents=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(DISLIKE_PAKN)
    yield from _built(root)


def test_a_dislike_count_alone_counts_against_5_3(dislike_warehouse):
    stored = {r[0]: r[1:] for r in dislike_warehouse.execute(
        "select feedback_id, reaction, likes, dislikes from core.feedback").fetchall()}
    assert stored == {"Q1": (None, 3, 0), "Q2": (None, 0, 2), "Q3": (None, None, None)}  # no reaction word
    against = dict(dislike_warehouse.execute(
        "select feedback_id, is_unsatisfied_5_3 from mart.feedback_timeliness "
        "where period_scheme = 'calendar' and period = '2025-05'").fetchall())
    assert against == {"Q1": False, "Q2": True, "Q3": False}
    row = dislike_warehouse.execute(
        f"select {', '.join(FEEDBACK_COLUMNS)} from mart.feedback_kpi_period where period_scheme = 'calendar' "
        "and period = '2025-05' and dimension = 'all'").fetchall()
    assert len(row) == 1
    for column, actual, expected in zip(FEEDBACK_COLUMNS, row[0], (3, 3, 0, 0, 0, 1.0, 6.0, 2 / 3, 4.0),
                                        strict=True):
        assert _close(actual, expected), (column, actual, expected)
