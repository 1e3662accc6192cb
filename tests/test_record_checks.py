"""Validation of directive and feedback exports with the GX suites: every row expectation passes a good row
and catches a bad one, saying why; files are rejected whole when empty or incomplete; suites list exactly
the records' columns; findings name the record's own id."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest.check import RecordExport, check_directives_many, check_feedback_many
from pipeline.ingest.readers import empty_records
from pipeline.records import DIRECTIVE, DIRECTIVE_EXTENSION, FEEDBACK, RECORDS, Record
from pipeline.settings import load_settings
from pipeline.validate.suites import SEVERITIES, load_suite_specs

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = pd.Timestamp("2025-03-05 17:00")  # rows may carry times up to 18:00 (60 minutes tolerance)


def frame(record: Record, rows: list[dict]) -> pd.DataFrame:
    """Rows shaped like a reader's output for the record (its columns and dtypes)."""
    empty = empty_records(record)
    if not rows:
        return empty
    data = pd.DataFrame(rows, columns=list(record.columns))
    return pd.DataFrame({c: data[c].astype(empty[c].dtype) for c in record.columns})


def ts(text: str | None):
    return pd.Timestamp(text) if text else pd.NaT


def task(row: int, **values) -> dict:
    """A clean task: assigned 03/02/2025, deadline 28/02/2025, completed 26/02/2025 15:00."""
    base = {"task_id": f"NV-{row:03d}", "title": "Kiểm tra an toàn cầu", "assigned_by": "UBND tỉnh",
            "leader": "Phó Chủ tịch UBND tỉnh", "source_document": "123/UBND-KT", "assigned_at": ts("2025-02-03"),
            "lead_unit": "Phòng Quản lý kết cấu hạ tầng giao thông", "co_units": "Văn phòng Sở",
            "deadline": ts("2025-02-28"), "deadline_text": None, "completed_at": ts("2025-02-26 15:00"), "status": 3,
            "status_text": "Đã hoàn thành", "source_row": row}
    base.update(values)
    return base


def extension(row: int, **values) -> dict:
    base = {"task_id": f"NV-{row:03d}", "extension_seq": 1, "old_deadline": ts("2025-02-28"),
            "new_deadline": ts("2025-03-14"), "extension_reason": "Chờ ý kiến các sở", "extended_at": ts("2025-02-25"),
            "source_row": row}
    base.update(values)
    return base


def pakn(row: int, **values) -> dict:
    """A clean PAKN: sent 03/02/2025, received 04/02 09:00, answered 14/02, published 17/02."""
    base = {"feedback_id": f"PA-{row:03d}", "title": "Chậm trả kết quả cấp đổi giấy phép lái xe",
            "category": "Đường bộ", "case_id": "000.00.20.H55-250101-0001", "unit": "Phòng Quản lý vận tải",
            "sent_at": ts("2025-02-03 20:15"), "received_at": ts("2025-02-04 09:00"), "status": 4,
            "status_text": "Đã công khai", "handling": 1, "answered_at": ts("2025-02-14 10:00"),
            "published_at": ts("2025-02-17 08:00"), "reaction": 1, "likes": 2, "dislikes": 0, "repeated": False,
            "sender_hash": f"s{row}", "source_row": row}
    base.update(values)
    return base


# failing row per row expectation (suite, key) -> (row, expected raw value or None)
TASK_FAILURES = {
    "task_id_present": task(3, task_id=None),
    "assigned_present": task(4, assigned_at=pd.NaT),
    "status_known": task(5, status=7),
    "assigned_not_after_export": task(6, assigned_at=ts("2025-03-10"), deadline=ts("2025-03-20"), completed_at=pd.NaT,
                                      status=2),
    "completed_not_after_export": task(7, completed_at=ts("2025-03-05 18:30")),
    "completed_after_assigned": task(8, assigned_at=ts("2025-02-10"), completed_at=ts("2025-02-05")),
    "completed_on_completed_status": task(9, completed_at=pd.NaT),
    "not_exact_duplicate": task(10),  # row 11 repeats it below
    "deadline_after_assigned": task(12, deadline=ts("2025-01-31")),
    "deadline_is_a_date": task(13, deadline=pd.NaT, deadline_text="quý IV/2025"),
    "no_completion_on_open_status": task(14, status=2, status_text="Đang thực hiện"),
    "task_id_unique_in_file": task(15),  # row 16 shares its id with another title below
}
TASK_ROW = {"not_exact_duplicate": 11, "task_id_unique_in_file": 16}
EXTENSION_FAILURES = {
    "task_id_present": extension(20, task_id=None),
    "extended_not_after_export": extension(21, extended_at=ts("2025-03-06")),
    "new_after_old": extension(22, new_deadline=ts("2025-02-20")),
    "new_deadline_with_reason": extension(23, new_deadline=pd.NaT),
}
FEEDBACK_FAILURES = {
    "feedback_id_present": pakn(3, feedback_id=None),
    "received_or_sent_present": pakn(4, sent_at=pd.NaT, received_at=pd.NaT),
    "status_known": pakn(5, status=9),
    "handling_known": pakn(6, handling=4),
    "reaction_known": pakn(7, reaction=5),
    "sent_not_after_export": pakn(8, sent_at=ts("2025-03-06"), received_at=pd.NaT, status=2, handling=None,
                                  answered_at=pd.NaT, published_at=pd.NaT, reaction=None),
    "received_not_after_export": pakn(9, received_at=ts("2025-03-06"), status=2, handling=None, answered_at=pd.NaT,
                                      published_at=pd.NaT, reaction=None),
    "answered_not_after_export": pakn(10, answered_at=ts("2025-03-06"), published_at=pd.NaT),
    "published_not_after_export": pakn(11, published_at=ts("2025-03-07")),
    "answered_after_received": pakn(12, answered_at=ts("2025-02-04 08:00")),
    "answered_on_handled_status": pakn(13, answered_at=pd.NaT, published_at=pd.NaT),
    "not_exact_duplicate": pakn(14),  # row 15 repeats it below
    "received_after_sent": pakn(16, received_at=ts("2025-02-02 10:00")),
    "published_after_answered": pakn(17, published_at=ts("2025-02-13 10:00")),
    "no_answer_on_open_status": pakn(18, status=2, status_text="Đang xử lý", handling=None, published_at=pd.NaT),
    "feedback_id_unique_in_file": pakn(19),  # row 20 shares its id with another title below
}
FEEDBACK_ROW = {"not_exact_duplicate": 15, "feedback_id_unique_in_file": 20}
CLEAN_TASK, CLEAN_PAKN = 2, 2


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("record_checks")
    return load_settings(expectations_dir=ROOT / "expectations", warehouse=folder / "w" / "tthc.duckdb")


@pytest.fixture(scope="module")
def specs(settings):
    return load_suite_specs(settings.expectations_dir)


@pytest.fixture(scope="module")
def directive_checks(settings):
    tasks = [task(CLEAN_TASK), *TASK_FAILURES.values(), task(11, source_row=11, task_id="NV-010"),
             task(16, task_id="NV-015", title="Kiểm tra an toàn cầu Trà Khúc")]
    extensions = [extension(CLEAN_TASK), *EXTENSION_FAILURES.values()]
    export = RecordExport("directives", {"directive": frame(DIRECTIVE, tasks),
                                         "directive_extension": frame(DIRECTIVE_EXTENSION, extensions)},
                          EXPORTED, "nhiem_vu.xlsx")
    return check_directives_many([export], settings)[0]


@pytest.fixture(scope="module")
def feedback_checks(settings):
    rows = [pakn(CLEAN_PAKN), *FEEDBACK_FAILURES.values(), pakn(15, feedback_id="PA-014", sender_hash="s14"),
            pakn(20, feedback_id="PA-019", title="Chậm trả kết quả đăng ký xe")]
    export = RecordExport("feedback", {"feedback": frame(FEEDBACK, rows)}, EXPORTED, "pakn.csv")
    return check_feedback_many([export], settings)[0]


def _entries(checks, spec, prefix=""):
    """The quarantine or finding rows one expectation produced (its type, field and reason)."""
    table = checks.quarantine if spec.severity == "reject_row" else checks.findings
    text = table["reason" if spec.severity == "reject_row" else "finding"]
    return table[(table["expectation"] == spec.type) & (table["field"] == f"{prefix}{spec.report_field}")
                 & text.str.startswith(spec.reason.split("{")[0])]


def _result(checks, spec):
    results = checks.results
    match = results[(results["suite"] == spec.suite) & (results["expectation"] == spec.type)
                    & (results["column"].fillna("") == (spec.column or ""))]
    assert len(match) == 1, f"{spec.suite}.{spec.key}: {len(match)} result rows"
    return match.iloc[0]


# --- the suites themselves --------------------------------------------------------------------------


def test_suite_columns_are_the_records_columns(specs):
    for suite, record in (("directives", "directive"), ("directive_extensions", "directive_extension"),
                          ("feedback", "feedback")):
        assert tuple(specs[suite].meta["columns"]) == RECORDS[record].columns
        assert RECORDS[record].suite == suite


def test_suites_are_gx_json_with_severity_and_descriptions(specs):
    for name in ("directives", "directive_extensions", "feedback"):
        suite = specs[name]
        raw = json.loads(suite.path.read_text(encoding="utf-8"))
        assert raw["name"] == name and raw["meta"]["suite_version"] >= 1
        for item in raw["expectations"]:
            assert item["meta"]["severity"] in SEVERITIES and item["meta"]["description_en"]
            marks = unicodedata.normalize("NFD", item["description"])  # Vietnamese, with its diacritics
            assert any(unicodedata.combining(ch) for ch in marks) or "đ" in marks.lower(), item["description"]
        assert len({(e.type, e.column) for e in suite.expectations}) == len(suite.expectations)


def test_every_row_expectation_is_covered_here(specs):
    covered = ({("directives", k) for k in TASK_FAILURES} | {("directive_extensions", k) for k in EXTENSION_FAILURES}
               | {("feedback", k) for k in FEEDBACK_FAILURES})
    row_specs = {(s.suite, s.key) for suite in ("directives", "directive_extensions", "feedback")
                 for s in specs[suite].stage("rows")}
    assert row_specs == covered


# --- one failing and one passing row per expectation ------------------------------------------------


@pytest.mark.parametrize("key", list(TASK_FAILURES))
def test_directive_expectation(key, directive_checks, specs):
    spec = next(s for s in specs["directives"].expectations if s.key == key)
    entries = _entries(directive_checks, spec)
    row = TASK_ROW.get(key, TASK_FAILURES[key]["source_row"])
    assert entries["source_row"].tolist() == ([15, 16] if key == "task_id_unique_in_file" else [row]), entries
    text = entries.iloc[-1]["reason" if spec.severity == "reject_row" else "finding"]
    assert spec.type in text and spec.reason.split("{")[0] in text
    assert CLEAN_TASK not in entries["source_row"].tolist()
    assert _result(directive_checks, spec)["success"] == False  # noqa: E712


@pytest.mark.parametrize("key", list(EXTENSION_FAILURES))
def test_extension_expectation(key, directive_checks, specs):
    spec = next(s for s in specs["directive_extensions"].expectations if s.key == key)
    entries = _entries(directive_checks, spec, "extension.")
    assert entries["source_row"].tolist() == [EXTENSION_FAILURES[key]["source_row"]], entries
    assert _result(directive_checks, spec)["success"] == False  # noqa: E712


@pytest.mark.parametrize("key", list(FEEDBACK_FAILURES))
def test_feedback_expectation(key, feedback_checks, specs):
    spec = next(s for s in specs["feedback"].expectations if s.key == key)
    entries = _entries(feedback_checks, spec)
    row = FEEDBACK_ROW.get(key, FEEDBACK_FAILURES[key]["source_row"])
    assert entries["source_row"].tolist() == ([19, 20] if key == "feedback_id_unique_in_file" else [row]), entries
    assert CLEAN_PAKN not in entries["source_row"].tolist()
    assert _result(feedback_checks, spec)["success"] == False  # noqa: E712


def test_values_and_names_in_quarantine_and_findings(directive_checks, feedback_checks):
    q = directive_checks.quarantine.set_index("source_row")
    assert q.loc[7, "raw_value"] == "completed_at=2025-03-05 18:30:00; latest_allowed=2025-03-05 18:00:00"
    assert q.loc[11, "reason"] == "exact duplicate of row 10 (expect_column_values_to_be_null)"
    found = directive_checks.findings.set_index("source_row")
    assert (found.loc[13, "raw_value"], found.loc[13, "case_id"]) == ("quý IV/2025", "NV-013")
    pakn_found = feedback_checks.findings.set_index("source_row")
    assert pakn_found.loc[16, "case_id"] == "PA-016"  # the PAKN, not its related case
    assert not feedback_checks.quarantine["raw_value"].dropna().str.contains(r"\bs\d+\b").any()  # no sender hash


def test_clean_files_pass_everything(settings):
    tasks = RecordExport("directives", {"directive": frame(DIRECTIVE, [task(2), task(3, deadline=ts("2025-03-20"),
                                                                                        completed_at=pd.NaT, status=2)]),
                                        "directive_extension": frame(DIRECTIVE_EXTENSION, [extension(3)])},
                         EXPORTED, "ok.xlsx")
    history = RecordExport("directive_extensions", {"directive_extension": frame(DIRECTIVE_EXTENSION, [extension(2)])},
                           EXPORTED, "gia_han.csv")
    feedback = RecordExport("feedback", {"feedback": frame(FEEDBACK, [pakn(2), pakn(3, status=2, handling=None,
                                                                                  answered_at=pd.NaT, published_at=pd.NaT,
                                                                                  reaction=None)])},
                            EXPORTED, "pakn.csv")
    for checks in (*check_directives_many([tasks, history], settings), *check_feedback_many([feedback], settings)):
        assert checks.rejected_reason is None and checks.quarantine.empty and checks.findings.empty
        assert checks.results["success"].all(), checks.results
    suites = set(check_directives_many([history], settings)[0].results["suite"])
    assert suites == {"directive_extensions"}  # an extension history alone is not a task list


def test_files_rejected_whole(settings):
    empty = RecordExport("directives", {}, EXPORTED, "f/empty.xlsx")
    no_deadline = RecordExport("directives", {"directive": frame(DIRECTIVE, [task(2)]).drop(columns=["deadline"])},
                               EXPORTED, "f/columns.xlsx")
    mostly_bad = RecordExport("feedback", {"feedback": frame(FEEDBACK, [pakn(2, feedback_id=None),
                                                                        pakn(3, feedback_id=None), pakn(4)])},
                              EXPORTED, "f/bad.csv")
    first, second = check_directives_many([empty, no_deadline], settings)
    assert first.rejected_reason == "f/empty.xlsx: no task rows (expect_column_values_to_be_between)"
    assert second.rejected_reason == ("f/columns.xlsx: missing task columns: deadline "
                                      "(expect_column_values_to_be_null)")
    bad = check_feedback_many([mostly_bad], settings)[0]
    assert bad.rejected_reason.startswith("f/bad.csv: 2 of 3 rows quarantined (66.7%) > max_bad_row_share 50%")
