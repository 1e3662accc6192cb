"""Validation with the GX suites: every expectation passes a good row and catches a bad one, saying why
(expectation, column, value); files are rejected whole when empty, incomplete or mostly bad; the marts
identities hold; the offline report shows every expectation."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline import db
from pipeline.ingest.check import (
    CaseExport,
    RatingExport,
    check_cases,
    check_cases_many,
    check_ratings,
    check_ratings_many,
    latest_allowed,
    normalise_text,
    rating_scale,
)
from pipeline.reference import PROCEDURE_COLUMNS, load_procedures
from pipeline.settings import load_settings
from pipeline.validate.marts import check_marts, check_marts_detailed, unknown_rated_cases
from pipeline.validate.report import summarise_quarantine, write_validation_report
from pipeline.validate.suites import SEVERITIES, load_suite_specs

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = pd.Timestamp("2025-06-01 10:00")
CASE_TIMES = ["received_at", "due_at", "finished_at", "returned_at", "apology_at", "new_due_at"]
TEXT_COLUMNS = ["case_id", "procedure_code", "procedure_name", "sector_code", "sector", "unit", "agency", "status_text",
                "applicant_hash", "time_unknown"]
PROCEDURES = [
    ("1.000250", "Cấp giấy phép lái xe", "DB", "Đường bộ", "Phòng Quản lý vận tải", 5, "working_days"),
    ("2.000400", "Chấp thuận vị trí đấu nối", "HT", "Kết cấu hạ tầng", "Phòng Kết cấu hạ tầng", 7, "calendar_days"),
    ("3.000001", "Cấp phù hiệu xe", "VT", "Vận tải", "Phòng Quản lý vận tải", 4, "hours"),
]


# --- frames shaped like the readers' output ------------------------------------------------------


def t(text: str | None):
    return pd.Timestamp(text) if text else pd.NaT


def case(row: int, **values) -> dict:
    """A clean, resolved, in-scope case (received Mon 03/03/2025 08:00, due 5 working days later)."""
    base = {
        "case_id": f"000.00.20.H55-{row:06d}", "procedure_code": "1.000250", "procedure_name": "Cấp giấy phép lái xe",
        "sector_code": "DB", "sector": "Đường bộ", "unit": "Phòng Quản lý vận tải", "agency": None, "channel": 2,
        "received_at": t("2025-03-03 08:00"), "due_at": t("2025-03-10 08:00"), "finished_at": t("2025-03-06 10:00"),
        "returned_at": t("2025-03-06 15:00"), "status": 10, "status_text": "Đã trả kết quả", "apology_at": pd.NaT,
        "new_due_at": pd.NaT, "applicant_hash": f"h{row}", "time_unknown": None, "source_row": row,
    }
    base.update(values)
    return base


def cases_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(case(0)))
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("string")
    for column in CASE_TIMES:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["channel"] = frame["channel"].astype("Int8")
    frame["status"] = frame["status"].astype("Int8")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def supplements_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["case_id", "seq", "requested_at", "received_at", "new_due_at", "source_row"])
    frame["case_id"] = frame["case_id"].astype("string")
    for column in ("requested_at", "received_at", "new_due_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def ratings_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["case_id", "rated_at", "rating", "source_row"])
    frame["case_id"] = frame["case_id"].astype("string")
    frame["rating"] = frame["rating"].astype("string")
    frame["rated_at"] = pd.to_datetime(frame["rated_at"]).astype("datetime64[us]")
    return frame


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("validation")
    with open(path / "procedures.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROCEDURE_COLUMNS)
        writer.writerows(PROCEDURES)
    return path


@pytest.fixture(scope="module")
def settings(folder):
    return load_settings(procedures_file=folder / "procedures.csv", expectations_dir=ROOT / "expectations",
                         reports_dir=folder / "reports")


@pytest.fixture(scope="module")
def lenient(settings):
    """Settings that never reject a file for its share of bad rows (one frame tests every expectation)."""
    return settings.model_copy(update={"max_bad_row_share": 1.0})


@pytest.fixture(scope="module")
def procedures(settings):
    return load_procedures(settings)


# One row per expectation that fails only that expectation (row numbers name them), plus clean rows
# and rows that look suspicious but pass (out-of-scope without receipt, known procedure without due).
CASE_FAILURES = {
    "case_id_present": case(10, case_id=None),
    "status_present": case(11, status=None),
    "status_known": case(12, status=11),
    "channel_known": case(13, channel=4),
    "received_present": case(14, received_at=None, status=4, finished_at=None, returned_at=None),
    "due_or_known_procedure": case(15, due_at=None, procedure_code="9.999999"),
    "received_within_calendar": case(30, received_at=t("2014-12-31 09:00"), due_at=t("2015-01-08 09:00"),
                                     finished_at=None, returned_at=None, status=4),
    "received_not_after_export": case(16, received_at=t("2025-06-01 12:00"), due_at=t("2025-06-09 12:00"),
                                      finished_at=None, returned_at=None, status=4),
    "finished_not_after_export": case(17, finished_at=t("2025-06-02 09:00"), returned_at=None, status=9),
    "returned_not_after_export": case(18, returned_at=t("2025-06-02 09:00")),
    "apology_not_after_export": case(19, apology_at=t("2025-06-02 09:00")),
    "finished_after_received": case(20, finished_at=t("2025-03-01 09:00"), returned_at=None, status=9),
    "due_after_received": case(21, due_at=t("2025-03-02 08:00")),
    "returned_after_received": case(22, finished_at=None, returned_at=t("2025-03-01 09:00"), status=7),
    "not_exact_duplicate": None,  # filled below: an exact copy of row 2
    "channel_present": case(24, channel=None),
    "finished_on_finished_status": case(25, finished_at=None),
    "returned_after_finished": case(26, returned_at=t("2025-03-05 09:00")),
    "procedure_in_catalogue": case(27, procedure_code="9.999998"),
    "case_id_unique_in_file": case(29, case_id="000.00.20.H55-000003", status=9),
}
CASE_FAILURES["not_exact_duplicate"] = case(2, source_row=23)
FAILING_ROW = {key: row["source_row"] for key, row in CASE_FAILURES.items()}
FAILING_ROW["case_id_unique_in_file"] = 29
PASSING_ROWS = [2, 3, 4, 5, 6, 7]
CLEAN_CASES = [
    case(2),
    case(3),
    case(4, received_at=None, due_at=None, finished_at=None, returned_at=None, status=1),  # not yet accepted
    case(5, due_at=None),  # known procedure: the due time is computed later (rule 7)
    case(6, procedure_code="2.000400", due_at=t("2025-03-10 17:00")),  # 7 calendar days → Mon 10/03
    case(7, channel=1, finished_at=None, returned_at=None, status=4, received_at=t("2025-05-30 16:00"),
         due_at=t("2025-06-06 16:00")),
]
# the row shown as failing for case_id_unique is 29 together with 3 (same id, different status)
EXPECTED_VALUE = {
    "case_id_present": None,
    "status_known": "11",
    "channel_known": "4",
    "due_or_known_procedure": "9.999999",
    "received_within_calendar": "2014-12-31 09:00:00",
    "received_not_after_export": "received_at=2025-06-01 12:00:00; latest_allowed=2025-06-01 11:00:00",
    "finished_not_after_export": "finished_at=2025-06-02 09:00:00; latest_allowed=2025-06-01 11:00:00",
    "returned_not_after_export": "returned_at=2025-06-02 09:00:00; latest_allowed=2025-06-01 11:00:00",
    "apology_not_after_export": "apology_at=2025-06-02 09:00:00; latest_allowed=2025-06-01 11:00:00",
    "finished_after_received": "finished_at=2025-03-01 09:00:00; received_at=2025-03-03 08:00:00",
    "due_after_received": "due_at=2025-03-02 08:00:00; received_at=2025-03-03 08:00:00",
    "returned_after_received": "returned_at=2025-03-01 09:00:00; received_at=2025-03-03 08:00:00",
    "not_exact_duplicate": "000.00.20.H55-000002",
    "returned_after_finished": "returned_at=2025-03-05 09:00:00; finished_at=2025-03-06 10:00:00",
    "procedure_in_catalogue": "9.999998",
    "case_id_unique_in_file": "000.00.20.H55-000003 (rows 3, 29)",
    "finished_on_finished_status": "finished_at=; status=10",
}
SUPPLEMENT_CASES = [case(40), case(41), case(42), case(43), case(44), case(45), case(46)]
SUPPLEMENT_FAILURES = {
    "case_id_present": (None, 1, "2025-03-04 08:00", "2025-03-04 10:00", 40),
    "requested_present": ("000.00.20.H55-000041", 1, None, "2025-03-04 10:00", 41),
    "requested_not_after_export": ("000.00.20.H55-000042", 1, "2025-06-03 08:00", None, 42),
    "received_not_after_export": ("000.00.20.H55-000043", 1, "2025-03-04 08:00", "2025-06-03 08:00", 43),
    "received_after_requested": ("000.00.20.H55-000044", 1, "2025-03-04 08:00", "2025-03-03 10:00", 44),
    "requested_after_case_received": ("000.00.20.H55-000045", 1, "2025-03-01 08:00", "2025-03-03 09:00", 45),
}
SUPPLEMENT_PASSING = [("000.00.20.H55-000046", 1, "2025-03-04 08:00", "2025-03-05 08:00", 46),
                      ("000.00.20.H55-000046", 2, "2025-03-05 09:00", None, 46)]


@pytest.fixture(scope="module")
def case_checks(lenient, procedures):
    cases = cases_frame(CLEAN_CASES + [r for r in CASE_FAILURES.values()] + SUPPLEMENT_CASES)
    supplements = supplements_frame([
        dict(zip(["case_id", "seq", "requested_at", "received_at", "source_row"], values, strict=True))
        for values in list(SUPPLEMENT_FAILURES.values()) + SUPPLEMENT_PASSING
    ])
    return check_cases(cases, supplements, EXPORTED, "data/raw/ho_so.xlsx", lenient, procedures)


@pytest.fixture(scope="module")
def specs(settings):
    return load_suite_specs(settings.expectations_dir)


def _entries(checks, spec):
    """The quarantine or finding rows an expectation produced."""
    table = checks.quarantine if spec.severity == "reject_row" else checks.findings
    prefix = "supplement." if spec.suite == "supplements" else ""
    field = f"{prefix}{spec.report_field}"
    return table[(table["expectation"] == spec.type) & (table["field"] == field)]


def _result(checks, spec):
    results = checks.results
    match = results[(results["suite"] == spec.suite) & (results["expectation"] == spec.type)
                    & (results["column"].fillna("") == (spec.column or ""))]
    assert len(match) == 1, f"{spec.suite}.{spec.key}: {len(match)} result rows"
    return match.iloc[0]


# --- the suites themselves -------------------------------------------------------------------------


def test_suites_are_gx_json_with_severity_and_descriptions(specs):
    assert set(specs) == {"cases", "supplements", "ratings", "directives", "directive_extensions", "feedback",
                          "built_cases", "marts"}
    for suite in specs.values():
        raw = json.loads(suite.path.read_text(encoding="utf-8"))
        assert raw["name"] == suite.name and raw["meta"]["suite_version"] >= 1
        for item in raw["expectations"]:
            assert item["type"].startswith("expect_")
            assert item["meta"]["severity"] in SEVERITIES
            assert re.search(r"[àáảãạăâđêôơưếệồộớờụứừ]", item["description"].lower()), item["description"]
            assert item["meta"]["description_en"]
        # results rows name an expectation by (type, column): that pair is unique in a suite
        assert len({(e.type, e.column) for e in suite.expectations}) == len(suite.expectations)


def test_every_row_expectation_is_covered_by_a_case_here(specs):
    covered = {("cases", k) for k in CASE_FAILURES} | {("supplements", k) for k in SUPPLEMENT_FAILURES}
    covered |= {("ratings", k) for k in RATING_FAILURES}
    row_specs = {(s.suite, s.key) for suite in ("cases", "supplements", "ratings")
                 for s in specs[suite].stage("rows")}
    assert row_specs == covered


# --- cases: one failing and passing row per expectation -------------------------------------------


@pytest.mark.parametrize("key", list(CASE_FAILURES))
def test_case_expectation(key, case_checks, specs):
    spec = next(s for s in specs["cases"].expectations if s.key == key)
    entries = _entries(case_checks, spec)
    row = FAILING_ROW[key]
    failing = entries[entries["source_row"] == row]
    assert len(failing) == 1, f"{key}: row {row} not reported\n{entries}"
    entry = failing.iloc[0]
    text = entry["reason"] if spec.severity == "reject_row" else entry["finding"]
    assert spec.type in text and spec.reason.split("{")[0] in text
    if key in EXPECTED_VALUE:
        assert entry["raw_value"] == EXPECTED_VALUE[key]
    assert not entries["source_row"].isin(PASSING_ROWS).any() or key == "case_id_unique_in_file"
    result = _result(case_checks, spec)
    assert result["success"] == False  # noqa: E712 (nullable boolean)
    assert result["unexpected_count"] >= 1 and result["severity"] == spec.severity


def test_conflicting_duplicate_is_reported_on_every_copy(case_checks):
    findings = case_checks.findings
    rows = findings.loc[findings["expectation"] == "expect_compound_columns_to_be_unique", "source_row"].tolist()
    assert sorted(rows) == [3, 29]
    assert not case_checks.quarantine["source_row"].isin([3, 29]).any()


def test_exact_duplicate_keeps_first_row(case_checks):
    quarantine = case_checks.quarantine
    duplicate = quarantine[quarantine["source_row"] == 23]
    assert duplicate["reason"].tolist() == ["exact duplicate of row 2 (expect_column_values_to_be_null)"]
    assert 2 not in quarantine["source_row"].tolist()


def test_clean_rows_pass_everything(case_checks):
    assert not case_checks.quarantine["source_row"].isin(PASSING_ROWS).any()
    findings = case_checks.findings[case_checks.findings["source_row"].isin(PASSING_ROWS)]
    # row 3 shares its case id with row 29 (a conflicting duplicate, reported on both)
    assert set(findings["source_row"]) == {3}
    assert case_checks.rejected_reason is None


def test_quarantine_and_findings_never_show_applicant_data(case_checks):
    for table in (case_checks.quarantine, case_checks.findings):
        assert not table["raw_value"].dropna().str.contains(r"\bh\d+\b").any()
        assert list(table.columns) == (["source_row", "case_id", "field", "raw_value", "reason", "expectation"]
                                       if table is case_checks.quarantine else
                                       ["source_row", "case_id", "field", "raw_value", "finding", "expectation"])


@pytest.mark.parametrize("key", list(SUPPLEMENT_FAILURES))
def test_supplement_expectation(key, case_checks, specs):
    spec = next(s for s in specs["supplements"].expectations if s.key == key)
    entries = _entries(case_checks, spec)
    row = SUPPLEMENT_FAILURES[key][-1]
    assert entries["source_row"].tolist() == [row], f"{key}\n{entries}"
    text = entries.iloc[0]["reason" if spec.severity == "reject_row" else "finding"]
    assert spec.type in text and text.startswith(spec.reason)
    assert _result(case_checks, spec)["success"] == False  # noqa: E712
    # the case with two clean supplement cycles is not reported
    assert 46 not in case_checks.quarantine["source_row"].tolist()
    assert 46 not in case_checks.findings["source_row"].tolist()


def test_every_expectation_has_a_result_row(case_checks, specs):
    for suite in ("cases", "supplements"):
        for spec in specs[suite].expectations:
            result = _result(case_checks, spec)
            assert result["severity"] == spec.severity
            if spec.stage == "file":
                assert result["success"] == True  # noqa: E712


def test_all_clean_file_passes_every_expectation(settings, procedures):
    checks = check_cases(cases_frame([case(2), case(3)]), supplements_frame([]), EXPORTED, "ok.csv", settings,
                         procedures)
    assert checks.rejected_reason is None and checks.quarantine.empty and checks.findings.empty
    assert checks.results["success"].all()


# --- file-level rejection ---------------------------------------------------------------------


def _no_source_row(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["source_row"] = pd.array([None] + list(frame["source_row"].iloc[1:]), dtype="Int64")
    return frame


# per file-level expectation, a file that fails it (checked together in one batch)
FILE_FAILURES = {
    ("cases", "has_rows"): lambda: CaseExport(cases_frame([]), None, EXPORTED, "f/has_rows.csv"),
    ("cases", "has_columns"): lambda: CaseExport(cases_frame([case(2)]).drop(columns=["due_at"]), None, EXPORTED,
                                                 "f/has_columns.csv"),
    ("cases", "source_row_present"): lambda: CaseExport(_no_source_row(cases_frame([case(2), case(3)])), None,
                                                        EXPORTED, "f/source_row_present.csv"),
    ("cases", "source_row_unique"): lambda: CaseExport(cases_frame([case(2), case(3, source_row=2)]), None, EXPORTED,
                                                       "f/source_row_unique.csv"),
    ("supplements", "has_columns"): lambda: CaseExport(
        cases_frame([case(2)]), supplements_frame([]).drop(columns=["requested_at"]), EXPORTED, "f/s_has_columns.csv"),
    ("supplements", "source_row_present"): lambda: CaseExport(
        cases_frame([case(2)]), supplements_frame([{"case_id": "x", "seq": 1, "requested_at": t("2025-03-04"),
                                                    "source_row": None}]), EXPORTED, "f/s_source_row_present.csv"),
    ("ratings", "has_rows"): lambda: RatingExport(ratings_frame([]), EXPORTED, "f/r_has_rows.csv"),
    ("ratings", "has_columns"): lambda: RatingExport(ratings_frame([("C1", "2025-03-07", "Hài lòng", 2)])
                                                     .drop(columns=["rated_at"]), EXPORTED, "f/r_has_columns.csv"),
    ("ratings", "source_row_present"): lambda: RatingExport(
        _no_source_row(ratings_frame([("C1", "2025-03-07", "Hài lòng", 2), ("C2", "2025-03-07", "Hài lòng", 3)])),
        EXPORTED, "f/r_source_row_present.csv"),
    ("ratings", "source_row_unique"): lambda: RatingExport(
        ratings_frame([("C1", "2025-03-07", "Hài lòng", 2), ("C2", "2025-03-07", "Hài lòng", 2)]), EXPORTED,
        "f/r_source_row_unique.csv"),
}


@pytest.fixture(scope="module")
def file_checks(settings, procedures):
    case_keys = [k for k in FILE_FAILURES if k[0] != "ratings"]
    rating_keys = [k for k in FILE_FAILURES if k[0] == "ratings"]
    checked = check_cases_many([FILE_FAILURES[k]() for k in case_keys], settings, procedures)
    checked += check_ratings_many([FILE_FAILURES[k]() for k in rating_keys], settings)
    return dict(zip(case_keys + rating_keys, checked, strict=True))


def test_every_file_expectation_is_covered_by_a_case_here(specs):
    file_specs = {(s.suite, s.key) for suite in ("cases", "supplements", "ratings") for s in specs[suite].stage("file")}
    assert file_specs == set(FILE_FAILURES)


@pytest.mark.parametrize("suite, key", list(FILE_FAILURES))
def test_file_expectation(suite, key, file_checks, case_checks, rating_checks, specs):
    spec = next(s for s in specs[suite].expectations if s.key == key)
    checks = file_checks[(suite, key)]
    path = f"f/{'s_' if suite == 'supplements' else 'r_' if suite == 'ratings' else ''}{key}.csv"
    assert checks.rejected_reason.startswith(f"{path}: {spec.reason}")
    assert checks.rejected_reason.endswith(f"({spec.type})")
    assert _result(checks, spec)["success"] == False  # noqa: E712
    assert checks.quarantine.empty
    passing = rating_checks if suite == "ratings" else case_checks  # files that pass every file-level check
    assert _result(passing, spec)["success"] == True  # noqa: E712


def test_date_only_end_times_stand_for_their_whole_day(settings, procedures):
    rows = [case(2, finished_at=t("2025-03-03"), returned_at=t("2025-03-03")),  # same day as the receipt: fine
            case(3, finished_at=t("2025-03-02"), returned_at=None, status=9)]  # the day before: not fine
    checks = check_cases(cases_frame(rows), None, EXPORTED, "d.csv", settings, procedures)
    assert checks.quarantine[["source_row", "raw_value"]].values.tolist() == [
        [3, "finished_at=2025-03-02 00:00:00; received_at=2025-03-03 08:00:00"]]
    assert checks.findings.empty


def test_reader_and_checks_read_a_date_only_time_alike(tmp_path, settings):
    """One rule (values.date_only) for the reader's time_unknown and the checks' end-of-day reading: a finish
    written as a date only on the day of receipt is listed as date only and passes; the day before does not."""
    from fixtures_exports import write_csv

    from pipeline.ingest import read_export
    from pipeline.ingest.check import check_reads

    header = ["Mã hồ sơ", "Mã thủ tục", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả",
              "Trạng thái"]
    rows = [["H55-000002", "1.000250", "03/03/2025 09:21", "10/03/2025 08:00", "03/03/2025", "03/03/2025 15:00",
             "Đã trả kết quả"],
            ["H55-000003", "1.000250", "03/03/2025 09:21", "10/03/2025 08:00", "02/03/2025", "03/03/2025 15:00",
             "Đã trả kết quả"]]
    path = write_csv(tmp_path / "hs_20250601_1000.csv", header, rows)
    local = settings.model_copy(update={"warehouse": tmp_path / "warehouse" / "tthc.duckdb"})
    result = read_export(path, local)
    assert result.cases["time_unknown"].tolist() == ["finished_at", "finished_at"]
    [checks] = check_reads([(result, result.exported_at, "hs.csv")], local)
    assert checks.quarantine[["source_row", "field"]].values.tolist() == [[3, "finished_at"]]


def test_zero_rows_reject_the_file(settings, procedures):
    checks = check_cases(cases_frame([]), supplements_frame([]), EXPORTED, "data/raw/empty.xlsx", settings,
                         procedures)
    assert checks.rejected_reason == "data/raw/empty.xlsx: no case rows (expect_column_values_to_be_between)"
    results = checks.results
    assert results.loc[results["column"] == "row_count", "success"].tolist() == [False]
    assert results.loc[results["severity"] == "reject_row", "success"].isna().all()  # not evaluated, but listed


def test_missing_columns_reject_the_file(settings, procedures):
    frame = cases_frame([case(2)]).drop(columns=["received_at", "status"])
    checks = check_cases(frame, supplements_frame([]), EXPORTED, "bad.csv", settings, procedures)
    assert checks.rejected_reason == ("bad.csv: missing case columns: received_at, status "
                                      "(expect_column_values_to_be_null)")


def test_repeated_source_rows_reject_the_file(settings, procedures):
    checks = check_cases(cases_frame([case(2), case(3, source_row=2)]), supplements_frame([]), EXPORTED, "r.csv",
                         settings, procedures)
    assert checks.rejected_reason.startswith("r.csv: source row numbers repeated")


def test_too_many_bad_rows_reject_the_file(settings, procedures):
    rows = [case(2), case(3, status=None), case(4, status=None), case(5, case_id=None)]
    checks = check_cases(cases_frame(rows), supplements_frame([]), EXPORTED, "data/raw/mostly_bad.csv", settings,
                         procedures)
    assert checks.rejected_reason == ("data/raw/mostly_bad.csv: 3 of 4 rows quarantined (75.0%) > "
                                      "max_bad_row_share 50% (expect_column_values_to_be_between)")
    share = checks.results[checks.results["column"] == "bad_row_share"].iloc[0]
    assert (share["success"], share["element_count"], share["unexpected_count"]) == (False, 4, 3)


def test_half_bad_is_not_too_many_and_exact_duplicates_do_not_count(settings, procedures):
    rows = [case(2), case(3), case(4, status=None), case(5, status=None), case(3, source_row=6), case(3, source_row=7)]
    checks = check_cases(cases_frame(rows), supplements_frame([]), EXPORTED, "half.csv", settings, procedures)
    assert checks.rejected_reason is None
    assert sorted(checks.quarantine["source_row"]) == [4, 5, 6, 7]


# --- batches of files -----------------------------------------------------------------------------


def test_a_batch_of_files_is_judged_file_by_file(settings, procedures):
    exports = [
        # A: exported on 01/06, one row after its export time, one exact duplicate
        CaseExport(cases_frame([case(2), case(3, finished_at=t("2025-06-05 09:00"), returned_at=None), case(2, source_row=4)]),
                   None, EXPORTED, "a.xlsx"),
        # B: the same case ids as A (another export of them, not a conflict), exported later: no problem
        CaseExport(cases_frame([case(2), case(3, finished_at=t("2025-06-05 09:00"), returned_at=None)]),
                   supplements_frame([{"case_id": "000.00.20.H55-000003", "seq": 1, "requested_at": t("2025-03-04"),
                                       "received_at": t("2025-03-03 10:00"), "source_row": 3}]),
                   pd.Timestamp("2025-06-10 18:00"), "b.xlsx"),
        CaseExport(cases_frame([]), None, EXPORTED, "c.xlsx"),  # C: empty
        CaseExport(cases_frame([case(2, status=None), case(3, status=None)]), None, EXPORTED, "d.xlsx"),  # D: bad
    ]
    a, b, c, d = check_cases_many(exports, settings, procedures)
    assert a.rejected_reason is None
    assert a.quarantine[["source_row", "expectation"]].values.tolist() == [
        [3, "expect_column_pair_values_a_to_be_greater_than_b"], [4, "expect_column_values_to_be_null"]]
    assert b.rejected_reason is None and b.quarantine.empty
    assert b.findings[["source_row", "field"]].values.tolist() == [[3, "supplement.received_at"]]
    assert c.rejected_reason == "c.xlsx: no case rows (expect_column_values_to_be_between)"
    assert d.rejected_reason.startswith("d.xlsx: 2 of 2 rows quarantined")
    for checks, rows in ((a, 3), (b, 2)):
        counts = checks.results.set_index(["suite", "expectation", "column"])
        assert counts.loc[("cases", "expect_column_values_to_not_be_null", "case_id"), "element_count"] == rows
    assert check_cases_many([], settings, procedures) == [] and check_ratings_many([], settings) == []
    one, two = check_ratings_many([RatingExport(ratings_frame([("C1", "2025-03-07", "Hài lòng", 2)]), EXPORTED, "r1"),
                                   RatingExport(ratings_frame([("C1", "2025-03-07", "xấu", 2)]), EXPORTED, "r2")],
                                  settings)
    assert one.rejected_reason is None and two.rejected_reason.startswith("r2: 1 of 1 rows quarantined")


# --- ratings ------------------------------------------------------------------------------------

RATING_FAILURES = {
    "case_id_present": ((None, "2025-03-07 09:00", "Hài lòng", 10), None),
    "rated_present": (("C11", None, "Hài lòng", 11), None),
    "rated_not_after_export": (("C12", "2025-06-02 09:00", "Hài lòng", 12),
                               "rated_at=2025-06-02 09:00:00; latest_allowed=2025-06-01 11:00:00"),
    "rating_on_scale": (("C13", "2025-03-07 09:00", "Tuyệt vời", 13), "Tuyệt vời"),
    "not_exact_duplicate": (("C2", "2025-03-07 09:00", "Rất hài lòng", 14), "C2"),
}
RATING_PASSING = [("C2", "2025-03-07 09:00", "Rất hài lòng", 2), ("C3", "2025-03-07 09:00", "RAT HAI LONG", 3),
                  ("C4", "2025-03-07 09:00", "hai  long", 4), ("C5", "2025-03-07 09:00", "Không hài lòng", 5),
                  ("C6", "2025-03-07 09:00", "3", 6), ("C7", "2025-03-07 09:00", "Chấp nhận được", 7)]


@pytest.fixture(scope="module")
def rating_checks(lenient):
    rows = RATING_PASSING + [values for values, _ in RATING_FAILURES.values()]
    return check_ratings(ratings_frame(rows), EXPORTED, "data/raw/danh_gia.csv", lenient)


@pytest.mark.parametrize("key", list(RATING_FAILURES))
def test_rating_expectation(key, rating_checks, specs):
    spec = next(s for s in specs["ratings"].expectations if s.key == key)
    values, expected_value = RATING_FAILURES[key]
    entries = _entries(rating_checks, spec)
    assert entries["source_row"].tolist() == [values[-1]], f"{key}\n{entries}"
    entry = entries.iloc[0]
    assert spec.type in entry["reason"]
    assert entry["raw_value"] == expected_value
    assert not entries["source_row"].isin([r[-1] for r in RATING_PASSING]).any()
    assert _result(rating_checks, spec)["success"] == False  # noqa: E712


def test_rating_file_rejections(settings):
    empty = check_ratings(ratings_frame([]), EXPORTED, "r0.csv", settings)
    assert empty.rejected_reason == "r0.csv: no rating rows (expect_column_values_to_be_between)"
    bad = check_ratings(ratings_frame([("C1", "2025-03-07", "???", 2), ("C2", "2025-03-07", "x", 3)]), EXPORTED,
                        "r1.csv", settings)
    assert bad.rejected_reason.startswith("r1.csv: 2 of 2 rows quarantined (100.0%)")


def test_rating_scale_is_accent_and_case_insensitive(settings):
    scale = rating_scale(settings)
    assert scale[normalise_text("RẤT HÀI LÒNG")] == "satisfied"
    assert normalise_text("Chấp nhận  được") == "chap nhan duoc" and scale["chap nhan duoc"] == "neutral"
    assert normalise_text("Hài lòng") == normalise_text("Ha\u0300i lo\u0300ng")  # NFD input


# --- helpers -------------------------------------------------------------------------------------


def test_export_time_tolerance(settings):
    meta = {"export_time_tolerance_minutes": 60}
    assert latest_allowed(pd.Timestamp("2025-06-01 10:00"), meta, settings) == pd.Timestamp("2025-06-01 11:00")
    assert latest_allowed(datetime(2025, 6, 1), meta, settings) == pd.Timestamp("2025-06-02 01:00")  # a date only
    assert latest_allowed(None, meta, settings) > pd.Timestamp.now()


# --- marts -------------------------------------------------------------------------------------------

KPI_COLUMNS = ["period_scheme", "period", "dimension", "dimension_value", "received_total", "received_online",
               "received_offline", "carried_over", "resolved_total", "early", "on_time", "late", "withdrawn",
               "stopped", "open_total", "open_in_time", "open_overdue", "on_time_rate", "early_rate", "late_rate",
               "ratings", "satisfied", "satisfaction_rate", "score_766_progress"]


def kpi_row(**values) -> dict:
    row = dict(period_scheme="calendar", period="2025-Q1", dimension="all", dimension_value="all",
               received_total=10, received_online=6, received_offline=2, carried_over=2, resolved_total=7, early=2,
               on_time=4, late=1, withdrawn=0, stopped=0, open_total=3, open_in_time=2, open_overdue=1,
               on_time_rate=6 / 7, early_rate=2 / 7, late_rate=1 / 7, ratings=5, satisfied=4, satisfaction_rate=0.8,
               score_766_progress=20 * 8 / 10)
    row.update(values)
    return row


def mart_connection(rows):
    con = db.connect(":memory:")
    con.execute("create schema mart")
    con.register("kpi_frame", pd.DataFrame(rows, columns=KPI_COLUMNS))
    con.execute("create table mart.kpi_period as select * from kpi_frame")
    return con


MART_FAILURES = {
    "received_is_resolved_plus_open": dict(open_total=4, open_in_time=3),
    "received_is_new_plus_carried": dict(carried_over=3),
    "resolved_is_early_on_time_late": dict(early=3),
    "open_is_in_time_plus_overdue": dict(open_overdue=2),
    "counts_not_negative": dict(withdrawn=-1),
    "satisfied_within_ratings": dict(satisfied=6, satisfaction_rate=None),
    "on_time_rate_range": dict(on_time_rate=1.2),
    "early_rate_range": dict(early_rate=-0.1),
    "late_rate_range": dict(late_rate=2.0),
    "satisfaction_rate_range": dict(satisfaction_rate=1.5),
    "score_766_range": dict(score_766_progress=21.0),
    "dimension_known": dict(dimension="district"),
    "scheme_known": dict(period_scheme="fiscal"),
}


def test_mart_identities_hold_for_good_rows(settings):
    rows = [kpi_row(), kpi_row(dimension="unit", dimension_value="Phòng A", on_time_rate=None, early_rate=None,
                               late_rate=None, received_total=3, received_online=1, received_offline=1,
                               carried_over=1, resolved_total=0, early=0, on_time=0, late=0, open_total=3,
                               open_in_time=3, open_overdue=0)]
    results = check_marts(mart_connection(rows), settings.expectations_dir)
    assert results["success"].all() and set(results["suite"]) == {"marts"}


@pytest.fixture(scope="module")
def mart_checks(settings):
    """One good kpi row and, per expectation, a row in its own period that breaks only that expectation."""
    rows = [kpi_row()] + [kpi_row(period=f"2024-{key}", **values) for key, values in MART_FAILURES.items()]
    return check_marts_detailed(mart_connection(rows), settings.expectations_dir)


@pytest.mark.parametrize("key", list(MART_FAILURES))
def test_mart_expectation(key, mart_checks, specs):
    spec = next(s for s in specs["marts"].expectations if s.key == key)
    results, failures = mart_checks
    result = _result(SimpleNamespace(results=results), spec)
    assert result["success"] == False and result["unexpected_count"] == 1  # noqa: E712
    mine = failures[(failures["expectation"] == spec.type) & (failures["column"] == spec.column)]
    assert mine["period"].tolist() == [f"2024-{key}"] and mine["reason"].tolist() == [spec.reason]


def test_unknown_rated_cases():
    con = db.connect(":memory:")
    db.run_sql_file(con, "core/schema")
    con.execute("insert into core.rating values ('C1', null, 'Hài lòng', 'satisfied', true, 'a.csv', 2),"
                " ('C9', null, 'Hài lòng', 'satisfied', false, 'a.csv', 3)")
    findings = unknown_rated_cases(con)
    assert findings[["source_row", "case_id", "expectation"]].values.tolist() == [[3, "C9", "rated_case_exists"]]


# --- report and command ------------------------------------------------------------------------


def test_report_is_offline_escaped_and_lists_every_expectation(case_checks, rating_checks, settings, specs, folder):
    marts = check_marts(mart_connection([kpi_row()]), settings.expectations_dir)
    results = pd.concat([case_checks.results.assign(source_file="data/raw/ho_so.xlsx"),
                         rating_checks.results.assign(source_file="data/raw/danh_gia.csv"), marts])
    quarantine = pd.concat([case_checks.quarantine.assign(source_file="data/raw/ho_so.xlsx"),
                            pd.DataFrame([{"source_row": 9, "field": "status", "raw_value": "<b>",
                                           "reason": "unknown status '<script>alert(1)</script>'",
                                           "expectation": "reader", "source_file": "x.csv"}])])
    path = write_validation_report(results, summarise_quarantine(quarantine), settings.reports_dir,
                                   expectations_dir=settings.expectations_dir)
    assert path == settings.reports_dir / "validation" / "index.html"
    html = path.read_text(encoding="utf-8")
    for suite in specs.values():
        for spec in suite.expectations:
            assert spec.type in html and spec.description_vi in html
    assert "Báo cáo kiểm tra chất lượng dữ liệu" in html and "Không đạt" in html and "Đạt" in html
    assert "exact duplicate of row N" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?https?://", html, re.I)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html, re.I)


def test_validate_checks_every_file_without_storing_and_names_the_rejected_one(settings, tmp_path, capsys):
    from fixtures_exports import CSV_HEADER, csv_rows, write_csv

    from pipeline.cli import main

    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "cases.csv", CSV_HEADER, csv_rows())
    (raw / "notes.docx").write_bytes(b"PK\x03\x04 not an export at all")
    (raw / "ratings.csv").write_text("Mã hồ sơ,Thời gian đánh giá,Mức độ hài lòng\nC1,07/03/2025 09:00,Hài lòng\n",
                                     encoding="utf-8")
    warehouse = tmp_path / "wh" / "tthc.duckdb"
    code = main(["validate", "--raw", str(raw), "--reports", str(tmp_path / "reports"),
                 "--warehouse", str(warehouse), "--set", f"procedures_file={settings.procedures_file}"])
    out = capsys.readouterr().out
    assert code == 3
    lines = [line for line in out.splitlines() if line.startswith(("ok", "rejected"))]
    assert len(lines) == 3
    assert any(line.startswith("rejected") and "notes.docx" in line for line in lines)
    assert any(line.startswith("ok") and "cases.csv" in line for line in lines)
    assert (tmp_path / "reports" / "validation" / "index.html").exists()
    assert not (warehouse.parent / "raw_parquet" / "files").exists()  # nothing stored
