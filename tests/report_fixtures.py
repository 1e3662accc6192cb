"""A small, internally consistent warehouse for the report tests, built in code.

The tables have exactly the columns of the warehouse contract the report reads (mart.kpi_period,
mart.case_timeliness, mart.bieu06, mart.objective, core.period, ops.file, ops.quarantine,
ops.validation_result). Cases are made deterministically; the marts are aggregated from them here,
following DESIGN §4–§6, so every figure can be traced to its cases. One procedure's name holds
``<script>alert(1)</script>``.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from pipeline import db
from pipeline.periods import parse_period
from pipeline.targets import Target

SCHEME = "calendar"
AS_OF = date(2025, 3, 31)
QUARTERS = ["2024-Q3", "2024-Q4", "2025-Q1"]
MONTHS = [f"2024-{m:02d}" for m in range(7, 13)] + [f"2025-{m:02d}" for m in range(1, 4)]
YEARS = ["2024", "2025"]
SCRIPT_NAME = "Cấp giấy phép <script>alert(1)</script> liên vận"

UNITS = [
    "Phòng Quản lý vận tải, phương tiện và người lái",
    "Phòng Quản lý kết cấu hạ tầng giao thông",
    "Văn phòng Sở",
]
# code, name, sector, unit index, legal limit in days
PROCEDURES = [
    ("1.000250", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "Đường bộ", 0, 2),
    ("1.002835", "Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "Đào tạo, sát hạch lái xe", 0, 5),
    ("1.001777", "Cấp giấy phép kinh doanh vận tải bằng xe ô tô", "Đường bộ", 0, 5),
    ("2.001001", SCRIPT_NAME, "Đường bộ", 0, 3),
    ("1.004088", "Cấp giấy phép thi công công trình trên đường bộ đang khai thác", "Đường bộ", 1, 7),
    ("1.003658", "Chấp thuận xây dựng cùng thời điểm với cấp giấy phép thi công", "Đường bộ", 1, 7),
    ("1.004359", "Đăng ký phương tiện thủy nội địa lần đầu", "Đường thủy nội địa", 1, 3),
    ("1.010708", "Cấp giấy chứng nhận kiểm định xe cơ giới cải tạo", "Đăng kiểm", 2, 3),
]

KPI_COLUMNS = [
    "period_scheme", "period", "dimension", "dimension_value", "received_total", "received_online",
    "received_offline", "carried_over", "resolved_total", "early", "on_time", "late", "withdrawn", "stopped",
    "open_total", "open_in_time", "open_overdue", "on_time_rate", "early_rate", "late_rate", "ratings",
    "satisfied", "satisfaction_rate", "score_766_progress", "grain", "period_name", "first_day", "last_day",
    "judged_at", "unsatisfied", "rating_coverage", "score_766_satisfaction", "mean_resolution_working_days",
    "median_resolution_working_days", "late_with_apology", "apology_rate", "apology_timely",
    "rescheduled_more_than_once", "due_beyond_legal_limit",
]

DDL = """
create schema if not exists core;
create schema if not exists mart;
create schema if not exists ops;
create schema if not exists raw;
create table core.period (
    period_scheme varchar, grain varchar, period varchar, period_name varchar, first_day date, last_day date,
    period_start timestamp, period_end timestamp, judged_at timestamp, is_complete boolean
);
create table mart.kpi_period (
    period_scheme varchar, period varchar, dimension varchar, dimension_value varchar,
    received_total bigint, received_online bigint, received_offline bigint, carried_over bigint,
    resolved_total bigint, early bigint, on_time bigint, late bigint, withdrawn bigint, stopped bigint,
    open_total bigint, open_in_time bigint, open_overdue bigint, on_time_rate double, early_rate double,
    late_rate double, ratings bigint, satisfied bigint, satisfaction_rate double, score_766_progress double,
    grain varchar, period_name varchar, first_day date, last_day date, judged_at timestamp, unsatisfied bigint,
    rating_coverage double, score_766_satisfaction double, mean_resolution_working_days double,
    median_resolution_working_days double, late_with_apology bigint, apology_rate double,
    apology_timely bigint, rescheduled_more_than_once bigint, due_beyond_legal_limit bigint
);
create table mart.case_timeliness (
    period_scheme varchar, grain varchar, period varchar, case_id varchar, unit varchar, sector varchar,
    procedure_code varchar, procedure_name varchar, channel tinyint, received_at timestamp, due_at timestamp,
    end_at timestamp, end_at_source varchar, paused_minutes bigint, supplement_count integer,
    adjusted_end_at timestamp, is_received_in_period boolean, is_carried_over boolean,
    is_resolved_in_period boolean, timeliness_class varchar, is_withdrawn boolean, is_stopped boolean,
    late_minutes bigint, late_working_hours double, resolution_working_days double, has_apology boolean,
    apology_timely boolean, reschedule_count integer, due_beyond_legal_limit boolean
);
create table mart.bieu06 (
    period_scheme varchar, period varchar, row_no integer, sector varchar, c3_received_total bigint,
    c4_received_online bigint, c5_received_offline bigint, c6_carried_over bigint, c7_resolved_total bigint,
    c8_early bigint, c9_on_time bigint, c10_late bigint, c11_open_total bigint, c12_open_in_time bigint,
    c13_open_overdue bigint, is_total boolean
);
create table mart.objective (
    period_scheme varchar, period varchar, dimension varchar, dimension_value varchar, measure varchar,
    value double, target_op varchar, target_value double, target_text varchar, met boolean, verdict varchar
);
"""

TARGETS = {
    "on_time_rate": Target("on_time_rate", ">=", 1.0),
    "early_rate": Target("early_rate", ">=", 0.20),
    "satisfaction_rate": Target("satisfaction_rate", ">", 0.95),
    "apology_rate": Target("apology_rate", ">=", 1.0),
}


def make_cases(count: int = 3300, seed: int = 7) -> list[dict]:
    """Deterministic cases received 01/07/2024–31/03/2025 (no personal data)."""
    rng = random.Random(seed)
    start = datetime(2024, 7, 1, 7, 30)
    span_days = (datetime(2025, 3, 31) - start).days
    cases = []
    for n in range(count):
        code, name, sector, unit_index, limit = PROCEDURES[rng.choices(range(len(PROCEDURES)),
                                                                        weights=[30, 25, 10, 3, 8, 6, 10, 8])[0]]
        received = start + timedelta(days=rng.randrange(span_days + 1), minutes=rng.randrange(0, 540))
        due = received + timedelta(days=limit)
        roll = rng.random()
        late_share = 0.05 if received < datetime(2025, 1, 1) else 0.07
        if roll < 0.45:
            end = due - timedelta(days=rng.randint(1, max(1, limit)), minutes=rng.randrange(0, 300))
            end = max(end, received + timedelta(hours=1))
        elif roll < 0.45 + late_share:
            end = due + timedelta(minutes=rng.choice([5, 30, 90, 240, 600, 1500, 3000, 9000]))
        else:
            end = due - timedelta(minutes=rng.randrange(0, 240))
            end = max(end, received + timedelta(hours=1))
        if received > datetime(2025, 3, 20) and rng.random() < 0.6:
            end = None  # still open at the as-of date
        elif rng.random() < 0.02:
            end = None  # long-open case, overdue
        paused = rng.choice([0] * 8 + [240, 960]) if end else 0
        late = end is not None and end - timedelta(minutes=paused) > due
        cases.append({
            "case_id": f"H55.{n + 1:06d}",
            "unit": UNITS[unit_index],
            "sector": sector,
            "procedure_code": code,
            "procedure_name": name,
            "channel": rng.choices([1, 2, 3], weights=[35, 60, 5])[0],
            "received_at": received,
            "due_at": due,
            "end_at": end,
            "end_at_source": None if end is None else ("returned_at" if rng.random() < 0.03 else "finished_at"),
            "paused_minutes": paused,
            "supplement_count": 0 if paused == 0 else 1,
            "adjusted_end_at": None if end is None else end - timedelta(minutes=paused),
            "is_withdrawn": end is not None and rng.random() < 0.02,
            "is_stopped": end is not None and rng.random() < 0.02,
            "has_apology": late and rng.random() < 0.7,
            "reschedule_count": (rng.choice([1, 1, 1, 2]) if late else 0),
            "due_beyond_legal_limit": rng.random() < 0.01,
        })
        cases[-1]["apology_timely"] = cases[-1]["has_apology"] and rng.random() < 0.8
    return cases


def period_rows() -> list[dict]:
    """core.period rows of the fixture (calendar scheme), judged as of 31/03/2025."""
    as_of_end = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time())
    rows = []
    for label in MONTHS + QUARTERS + YEARS:
        p = parse_period(label, SCHEME)
        rows.append({
            "period_scheme": SCHEME, "grain": p.grain, "period": p.label, "period_name": p.name_vi,
            "first_day": p.first_day, "last_day": p.last_day, "period_start": p.start, "period_end": p.end,
            "judged_at": min(p.end, as_of_end), "is_complete": p.end <= as_of_end,
        })
    return rows


def _working_hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600 / 3, 2)  # about 8 working hours per 24 calendar hours


def case_timeliness_rows(cases: list[dict], periods: list[dict]) -> list[dict]:
    """One row per case and period of its workload, classed at the period's judging moment."""
    rows = []
    for p in periods:
        start, judged = p["period_start"], p["judged_at"]
        for c in cases:
            received, end = c["received_at"], c["end_at"]
            if received >= judged:
                continue
            in_period = received >= start
            carried = received < start and (end is None or end >= start)
            if not (in_period or carried):
                continue
            resolved = end is not None and start <= end < judged
            if resolved:
                adjusted = c["adjusted_end_at"]
                if adjusted > c["due_at"]:
                    klass = "late"
                elif adjusted.date() < c["due_at"].date():
                    klass = "early"
                else:
                    klass = "on_time"
            else:
                klass = "open_in_time" if c["due_at"] >= judged else "open_overdue"
            late_minutes = int((c["adjusted_end_at"] - c["due_at"]).total_seconds() // 60) if klass == "late" else None
            rows.append({
                "period_scheme": SCHEME, "grain": p["grain"], "period": p["period"],
                **{k: c[k] for k in ("case_id", "unit", "sector", "procedure_code", "procedure_name", "channel",
                                     "received_at", "due_at", "end_at", "end_at_source", "paused_minutes",
                                     "supplement_count", "adjusted_end_at")},
                "is_received_in_period": in_period, "is_carried_over": carried, "is_resolved_in_period": resolved,
                "timeliness_class": klass,
                "is_withdrawn": resolved and c["is_withdrawn"], "is_stopped": resolved and c["is_stopped"],
                "late_minutes": late_minutes,
                "late_working_hours": None if late_minutes is None else round(late_minutes / 60 / 3, 2),
                "resolution_working_days": (round(_working_hours(c["adjusted_end_at"] - received) / 8, 2)
                                            if resolved else None),
                "has_apology": c["has_apology"] if klass == "late" else False,
                "apology_timely": c["apology_timely"] if klass == "late" else False,
                "reschedule_count": c["reschedule_count"],
                "due_beyond_legal_limit": c["due_beyond_legal_limit"],
            })
    return rows


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _aggregate(rows: list[dict], period: dict, dimension: str, value: str) -> dict:
    received = [r for r in rows if r["is_received_in_period"]]
    resolved = [r for r in rows if r["is_resolved_in_period"]]
    count = {k: sum(1 for r in resolved if r["timeliness_class"] == k) for k in ("early", "on_time", "late")}
    open_in_time = sum(1 for r in rows if r["timeliness_class"] == "open_in_time")
    open_overdue = sum(1 for r in rows if r["timeliness_class"] == "open_overdue")
    late_rows = [r for r in resolved if r["timeliness_class"] == "late"]
    n_resolved = len(resolved)
    # ratings by a fixed rule: 40% of resolved cases rate, one in 25 unsatisfied, one in 40 neutral
    ratings = (n_resolved * 2) // 5
    unsatisfied = ratings // 25
    satisfied = ratings - unsatisfied - ratings // 40
    days = [r["resolution_working_days"] for r in resolved]
    late_rate = _ratio(count["late"], n_resolved)
    sat_766 = None if late_rate is None or ratings == 0 else 1 - late_rate - unsatisfied / ratings
    return {
        "period_scheme": SCHEME, "period": period["period"], "dimension": dimension, "dimension_value": value,
        "received_total": len(rows),
        "received_online": sum(1 for r in received if r["channel"] == 2),
        "received_offline": sum(1 for r in received if r["channel"] != 2),
        "carried_over": sum(1 for r in rows if r["is_carried_over"]),
        "resolved_total": n_resolved, **count,
        "withdrawn": sum(1 for r in resolved if r["is_withdrawn"]),
        "stopped": sum(1 for r in resolved if r["is_stopped"]),
        "open_total": open_in_time + open_overdue, "open_in_time": open_in_time, "open_overdue": open_overdue,
        "on_time_rate": _ratio(count["early"] + count["on_time"], n_resolved),
        "early_rate": _ratio(count["early"], n_resolved),
        "late_rate": late_rate,
        "ratings": ratings, "satisfied": satisfied, "satisfaction_rate": _ratio(satisfied, ratings),
        "score_766_progress": (None if not rows else
                               20 * (count["early"] + count["on_time"] + open_in_time) / len(rows)),
        "grain": period["grain"], "period_name": period["period_name"], "first_day": period["first_day"],
        "last_day": period["last_day"], "judged_at": period["judged_at"], "unsatisfied": unsatisfied,
        "rating_coverage": _ratio(ratings, n_resolved),
        "score_766_satisfaction": None if sat_766 is None else min(6.0, 6 * sat_766 / 0.9),
        "mean_resolution_working_days": statistics.fmean(days) if days else None,
        "median_resolution_working_days": statistics.median(days) if days else None,
        "late_with_apology": sum(1 for r in late_rows if r["has_apology"]),
        "apology_rate": _ratio(sum(1 for r in late_rows if r["has_apology"]), len(late_rows)),
        "apology_timely": sum(1 for r in late_rows if r["apology_timely"]),
        "rescheduled_more_than_once": sum(1 for r in rows if r["reschedule_count"] > 1),
        "due_beyond_legal_limit": sum(1 for r in rows if r["due_beyond_legal_limit"]),
    }


DIMENSION_KEYS = {"unit": "unit", "sector": "sector", "procedure": "procedure_code", "channel": "channel"}


def kpi_rows(case_rows: list[dict], periods: list[dict]) -> list[dict]:
    """mart.kpi_period rows: every period, dimension and value."""
    out = []
    for p in periods:
        rows = [r for r in case_rows if r["period"] == p["period"]]
        out.append(_aggregate(rows, p, "all", "all"))
        for dimension, key in DIMENSION_KEYS.items():
            for value in sorted({str(r[key]) for r in rows}):
                out.append(_aggregate([r for r in rows if str(r[key]) == value], p, dimension, value))
    return out


def bieu06_rows(kpi: list[dict]) -> list[dict]:
    """mart.bieu06 rows: sectors in name order, then the Tổng cộng row."""
    out = []
    fields = ["received_total", "received_online", "received_offline", "carried_over", "resolved_total", "early",
              "on_time", "late", "open_total", "open_in_time", "open_overdue"]
    columns = ["c3_received_total", "c4_received_online", "c5_received_offline", "c6_carried_over",
               "c7_resolved_total", "c8_early", "c9_on_time", "c10_late", "c11_open_total", "c12_open_in_time",
               "c13_open_overdue"]
    for period in sorted({k["period"] for k in kpi}):
        sectors = sorted((k for k in kpi if k["period"] == period and k["dimension"] == "sector"),
                         key=lambda k: k["dimension_value"])
        for n, k in enumerate(sectors, start=1):
            out.append({"period_scheme": SCHEME, "period": period, "row_no": n, "sector": k["dimension_value"],
                        **{c: k[f] for c, f in zip(columns, fields, strict=True)}, "is_total": False})
        total = next(k for k in kpi if k["period"] == period and k["dimension"] == "all")
        out.append({"period_scheme": SCHEME, "period": period, "row_no": None, "sector": "Tổng cộng",
                    **{c: total[f] for c, f in zip(columns, fields, strict=True)}, "is_total": True})
    return out


def objective_rows(kpi: list[dict]) -> list[dict]:
    """mart.objective rows for the department and each unit."""
    out = []
    for k in kpi:
        if k["dimension"] not in ("all", "unit"):
            continue
        for measure, target in TARGETS.items():
            met = target.met(k[measure])
            out.append({
                "period_scheme": SCHEME, "period": k["period"], "dimension": k["dimension"],
                "dimension_value": k["dimension_value"], "measure": measure, "value": k[measure],
                "target_op": target.op, "target_value": target.value, "target_text": target.text_vi,
                "met": met, "verdict": None if met is None else ("Đạt" if met else "Không đạt"),
            })
    return out


def ops_rows() -> dict[str, list[dict]]:
    """Files, quarantined rows and validation results of two nightly runs."""
    files = [
        {"sha256": "a" * 64, "file_path": "data/raw/2025-03-30/hoso_quy1.xlsx", "file_name": "hoso_quy1.xlsx",
         "size_bytes": 812_345, "file_format": "xlsx", "kind": "cases", "layout": "report", "exported_at":
         datetime(2025, 3, 30, 17, 5), "period_text": "Từ ngày 01/01/2025 đến ngày 30/03/2025", "status": "loaded",
         "reason": None, "rows_read": 2210, "rows_loaded": 2204, "rows_skipped": 3, "rows_quarantined": 3,
         "ingested_at": datetime(2025, 3, 31, 2, 10), "run_id": "r1"},
        {"sha256": "b" * 64, "file_path": "data/raw/2025-03-31/dongbo.json", "file_name": "dongbo.json",
         "size_bytes": 95_000, "file_format": "json", "kind": "cases", "layout": "national", "exported_at":
         datetime(2025, 3, 31, 17, 45), "period_text": None, "status": "loaded", "reason": None,
         "rows_read": 1100, "rows_loaded": 1098, "rows_skipped": 0, "rows_quarantined": 2,
         "ingested_at": datetime(2025, 4, 1, 2, 12), "run_id": "r2"},
        {"sha256": "c" * 64, "file_path": "data/raw/2025-03-31/danhgia.csv", "file_name": "danhgia.csv",
         "size_bytes": 10_000, "file_format": "csv", "kind": "ratings", "layout": "table", "exported_at":
         datetime(2025, 3, 31, 17, 50), "period_text": None, "status": "rejected",
         "reason": "Không nhận ra cột Mã hồ sơ", "rows_read": 0, "rows_loaded": 0, "rows_skipped": 0,
         "rows_quarantined": 0, "ingested_at": datetime(2025, 4, 1, 2, 12), "run_id": "r2"},
    ]
    quarantine = [
        {"source_row": 17, "field": "received_at", "raw_value": "31/02/2025 09:00", "reason": "Ngày không hợp lệ",
         "expectation": "reader", "file_sha": "a" * 64, "source_file": "hoso_quy1.xlsx",
         "exported_at": datetime(2025, 3, 30, 17, 5)},
        {"source_row": 18, "field": "received_at", "raw_value": "2025-13-01", "reason": "Ngày không hợp lệ",
         "expectation": "reader", "file_sha": "a" * 64, "source_file": "hoso_quy1.xlsx",
         "exported_at": datetime(2025, 3, 30, 17, 5)},
        {"source_row": 40, "field": "procedure_code", "raw_value": "9.999999",
         "reason": "Thiếu ngày hẹn trả và không rõ thủ tục", "expectation": "due_or_procedure",
         "file_sha": "a" * 64, "source_file": "hoso_quy1.xlsx", "exported_at": datetime(2025, 3, 30, 17, 5)},
        {"source_row": 3, "field": "case_id", "raw_value": "", "reason": "Thiếu mã hồ sơ",
         "expectation": "expect_column_values_to_not_be_null", "file_sha": "b" * 64,
         "source_file": "dongbo.json", "exported_at": datetime(2025, 3, 31, 17, 45)},
        {"source_row": 9, "field": "received_at", "raw_value": "x", "reason": "Ngày không hợp lệ",
         "expectation": "reader", "file_sha": "b" * 64, "source_file": "dongbo.json",
         "exported_at": datetime(2025, 3, 31, 17, 45)},
    ]
    validation = []
    for sha, name, exported in (("a" * 64, "hoso_quy1.xlsx", datetime(2025, 3, 30, 17, 5)),
                                ("b" * 64, "dongbo.json", datetime(2025, 3, 31, 17, 45))):
        for expectation, column, success, unexpected in (
            ("expect_column_values_to_not_be_null", "case_id", name != "dongbo.json", 0 if name != "dongbo.json" else 1),
            ("expect_column_values_to_be_unique", "case_id", True, 0),
            ("expect_column_values_to_be_between", "received_at", name != "hoso_quy1.xlsx",
             2 if name == "hoso_quy1.xlsx" else 0),
            ("expect_column_pair_values_a_to_be_greater_than_b", "due_at", True, 0),
        ):
            validation.append({"suite": "case_export", "expectation": expectation, "column": column,
                               "success": success, "element_count": 1000, "unexpected_count": unexpected,
                               "severity": "warning", "file_sha": sha, "source_file": name, "exported_at": exported})
    return {"ops.file": files, "ops.quarantine": quarantine, "ops.validation_result": validation}


def build_report_warehouse(path: Path) -> Path:
    """Write the fixture warehouse to ``path`` and return it."""
    periods = period_rows()
    cases = make_cases()
    timeliness = case_timeliness_rows(cases, periods)
    kpi = kpi_rows(timeliness, periods)
    tables = {
        "core.period": pd.DataFrame(periods),
        "mart.case_timeliness": pd.DataFrame(timeliness),
        "mart.kpi_period": pd.DataFrame(kpi, columns=KPI_COLUMNS),
        "mart.bieu06": pd.DataFrame(bieu06_rows(kpi)),
        "mart.objective": pd.DataFrame(objective_rows(kpi)),
        **{name: pd.DataFrame(rows) for name, rows in ops_rows().items()},
    }
    con = db.connect(path)
    try:
        for statement in db.split_statements(DDL):
            con.execute(statement)
        db.run_sql_file(con, "raw/schema")  # the real raw and ops tables, so the fixture cannot drift from them
        for table, frame in tables.items():
            if "channel" in frame.columns:
                frame["channel"] = frame["channel"].astype("Int8")
            db.insert_frame(con, table, frame)
        con.execute("checkpoint")
    finally:
        con.close()
    return path
