"""``tthc kpi``: print the measures of one period from a kind's kpi mart: ``--kind case`` (default)
mart.kpi_period, ``--kind directive`` mart.directive_kpi_period (both deadline bases), ``--kind feedback``
mart.feedback_kpi_period.

Formats: ``table`` (Vietnamese headings, numbers the Vietnamese way: ``12.345``, ``95,3%``),
``json`` (one object per line, with exactly the column names of the kind's mart) and ``csv``
(a header, then the rows; text that would start a spreadsheet formula gets a leading ``'``).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from datetime import date, datetime
from typing import TextIO

from pipeline import db
from pipeline.formatting import (
    MISSING,
    channel_vi,
    fmt_date,
    fmt_dates_range,
    fmt_datetime,
    fmt_decimal,
    fmt_int,
    fmt_pct,
    last_day_of_data,
    spreadsheet_safe,
)
from pipeline.periods import parse_period
from pipeline.settings import Settings

# Vietnamese headings of mart.kpi_period's columns (also used by the table format).
LABELS_VI = {
    "period_scheme": "Cách tính kỳ",
    "period": "Kỳ báo cáo",
    "dimension": "Chiều phân tích",
    "dimension_value": "Giá trị",
    "received_total": "Tổng số hồ sơ tiếp nhận",
    "received_online": "Tiếp nhận trực tuyến",
    "received_offline": "Tiếp nhận trực tiếp, bưu chính",
    "carried_over": "Kỳ trước chuyển qua",
    "resolved_total": "Đã giải quyết",
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "withdrawn": "Rút hồ sơ",
    "stopped": "Dừng xử lý",
    "open_total": "Đang giải quyết",
    "open_in_time": "Đang giải quyết trong hạn",
    "open_overdue": "Đang giải quyết quá hạn",
    "on_time_rate": "Tỷ lệ đúng hạn (trước hạn + đúng hạn)",
    "early_rate": "Tỷ lệ trước hạn",
    "late_rate": "Tỷ lệ quá hạn",
    "ratings": "Lượt đánh giá",
    "satisfied": "Hài lòng, rất hài lòng",
    "satisfaction_rate": "Tỷ lệ hài lòng",
    "score_766_progress": "Điểm tiến độ (QĐ 766, tối đa 20)",
    "grain": "Loại kỳ",
    "period_name": "Tên kỳ",
    "first_day": "Từ ngày",
    "last_day": "Đến ngày",
    "judged_at": "Thời điểm chốt số liệu",
    "unsatisfied": "Không hài lòng",
    "rating_coverage": "Tỷ lệ hồ sơ được đánh giá",
    "score_766_satisfaction": "Điểm hài lòng (QĐ 766 mục 5.4, tối đa 6)",
    "mean_resolution_working_days": "Thời gian giải quyết trung bình (ngày làm việc)",
    "median_resolution_working_days": "Thời gian giải quyết trung vị (ngày làm việc)",
    "late_with_apology": "Hồ sơ quá hạn có văn bản xin lỗi",
    "apology_rate": "Tỷ lệ hồ sơ quá hạn có văn bản xin lỗi",
    "apology_timely": "Văn bản xin lỗi gửi trước hạn ≥ 1 ngày làm việc",
    "rescheduled_more_than_once": "Hồ sơ hẹn lại quá 01 lần",
    "due_beyond_legal_limit": "Hồ sơ hẹn trả vượt thời hạn quy định",
}

DIMENSION_VI = {"unit": "Đơn vị", "sector": "Lĩnh vực", "procedure": "Mã thủ tục", "channel": "Kênh thực hiện"}

RATE_COLUMNS = {"on_time_rate", "early_rate", "late_rate", "satisfaction_rate", "rating_coverage", "apology_rate"}
SCORE_COLUMNS = {"score_766_progress", "score_766_satisfaction", "mean_resolution_working_days",
                 "median_resolution_working_days"}
# The wide table of ``--by``: the Biểu 06 columns, then the rates.
WIDE_COLUMNS = ["received_total", "carried_over", "received_online", "received_offline", "resolved_total",
                "early", "on_time", "late", "open_total", "open_in_time", "open_overdue", "on_time_rate",
                "early_rate", "satisfaction_rate"]
WIDE_HEADINGS_VI = {"received_total": "Tiếp nhận", "carried_over": "Kỳ trước", "received_online": "Trực tuyến",
                    "received_offline": "Trực tiếp/BC", "resolved_total": "Đã giải quyết", "early": "Trước hạn",
                    "on_time": "Đúng hạn", "late": "Quá hạn", "open_total": "Đang giải quyết",
                    "open_in_time": "Trong hạn", "open_overdue": "Quá hạn (đang GQ)",
                    "on_time_rate": "Tỷ lệ đúng hạn", "early_rate": "Tỷ lệ trước hạn",
                    "satisfaction_rate": "Tỷ lệ hài lòng"}

# The kinds of record ``--kind`` chooses: their kpi mart and the dimensions it is broken down by.
KIND_TABLES = {"case": "mart.kpi_period", "directive": "mart.directive_kpi_period",
               "feedback": "mart.feedback_kpi_period"}
KIND_DIMENSIONS = {"case": ("unit", "sector", "procedure", "channel"), "directive": ("unit",), "feedback": ("unit",)}
KIND_NOUN = {"case": "case", "directive": "directive", "feedback": "PAKN"}
DIRECTIVE_LABELS_VI = {
    "assigned_total": "Nhiệm vụ được giao trong kỳ",
    "due_total": "Nhiệm vụ đến hạn (hoàn thành + đang thực hiện quá hạn)",
    "completed_on_time": "Hoàn thành đúng hạn",
    "completed_late": "Hoàn thành quá hạn",
    "open_in_time": "Đang thực hiện trong hạn",
    "open_overdue": "Đang thực hiện quá hạn",
    "no_deadline": "Không có hạn",
    "headline_rate": "Tỷ lệ hoàn thành (đúng hạn + quá hạn) / đến hạn",
    "strict_rate": "Tỷ lệ hoàn thành đúng hạn / đến hạn",
    "completed_total": "Đã hoàn thành",
    "open_total": "Đang thực hiện",
    "due_soon": "Đang thực hiện, sắp đến hạn",
    "suspended": "Tạm hoãn",
    "with_extension": "Có gia hạn",
}
FEEDBACK_LABELS_VI = {
    "received_total": "PAKN tiếp nhận trong kỳ",
    "handled_on_time": "Xử lý đúng hạn",
    "handled_late": "Xử lý quá hạn",
    "open_in_time": "Đang xử lý trong hạn",
    "open_overdue": "Đang xử lý quá hạn",
    "rate_5_2": "Tỷ lệ mục 5.2 (QĐ 766)",
    "score_5_2": "Điểm mục 5.2 (tối đa 6)",
    "rate_5_3": "Tỷ lệ mục 5.3 (QĐ 766)",
    "score_5_3": "Điểm mục 5.3 (tối đa 6)",
    "handled_total": "Đã xử lý",
    "open_total": "Đang xử lý",
    "handled_rate": "Tỷ lệ xử lý, không để quá hạn",
    "on_time_rate": "Tỷ lệ xử lý đúng hạn",
    "unsatisfied_5_3": "Tính là không hài lòng (mục 5.3)",
    "handled_answered": "Đã trả lời",
    "handled_refused": "Từ chối tiếp nhận",
    "handled_more_info": "Yêu cầu bổ sung thông tin",
    "published_late": "Công khai chậm",
    "answered_unpublished": "Đã trả lời, chưa công khai",
    "disliked": "Người gửi không hài lòng",
    "repeated": "Phản ánh lặp lại",
    "linked_to_case": "Gắn với hồ sơ trong kho",
}
KIND_LABELS_VI = {"case": LABELS_VI, "directive": DIRECTIVE_LABELS_VI, "feedback": FEEDBACK_LABELS_VI}
KIND_RATE_COLUMNS = {"case": RATE_COLUMNS,
                     "directive": {"headline_rate", "strict_rate"},
                     "feedback": {"rate_5_2", "rate_5_3", "handled_rate", "on_time_rate"}}
KIND_SCORE_COLUMNS = {"case": SCORE_COLUMNS, "directive": set(), "feedback": {"score_5_2", "score_5_3"}}
KIND_WIDE_COLUMNS = {
    "directive": ["assigned_total", "due_total", "completed_on_time", "completed_late", "open_in_time",
                  "open_overdue", "no_deadline", "headline_rate", "strict_rate"],
    "feedback": ["received_total", "handled_on_time", "handled_late", "open_in_time", "open_overdue", "handled_rate",
                 "on_time_rate", "score_5_2", "score_5_3"],
}
KIND_WIDE_HEADINGS_VI = {
    "directive": {"assigned_total": "Được giao", "due_total": "Đến hạn", "completed_on_time": "Đúng hạn",
                  "completed_late": "Quá hạn", "open_in_time": "Đang trong hạn", "open_overdue": "Đang quá hạn",
                  "no_deadline": "Không có hạn", "headline_rate": "Tỷ lệ hoàn thành",
                  "strict_rate": "Tỷ lệ đúng hạn"},
    "feedback": {"received_total": "Tiếp nhận", "handled_on_time": "Xử lý đúng hạn",
                 "handled_late": "Xử lý quá hạn", "open_in_time": "Đang trong hạn", "open_overdue": "Đang quá hạn",
                 "handled_rate": "Không để quá hạn", "on_time_rate": "Tỷ lệ đúng hạn", "score_5_2": "Điểm 5.2",
                 "score_5_3": "Điểm 5.3"},
}
BASIS_VI = {"original": "Theo hạn ban đầu", "extended": "Theo hạn đã gia hạn (nếu có)"}
_IDENTITY_COLUMNS = {"period_scheme", "period", "dimension", "dimension_value", "deadline_basis", "grain",
                     "period_name", "first_day", "last_day", "judged_at"}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value_vi(column: str, value: object, kind: str = "case") -> str:
    """A kpi value as leadership reads it (formatted by :mod:`pipeline.formatting`)."""
    if column in KIND_RATE_COLUMNS[kind]:
        return fmt_pct(value)
    if column in KIND_SCORE_COLUMNS[kind]:
        return fmt_decimal(value, 2)
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, bool | str) or value is None:
        return MISSING if value is None else str(value)
    return fmt_int(value)


def _plain(value: object) -> object:
    """A JSON/CSV-friendly value: ISO dates, None for NULL/NaN, Python numbers."""
    if _missing(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _render_table(headings: list[str], rows: list[list[str]], left_columns: int = 1) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headings)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left_columns else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headings), rule, *(line(r) for r in rows)])


def _dimension_label(dimension: str, value: str) -> str:
    if dimension == "channel":
        return channel_vi(value)
    return value


def kpi_rows(con, period: str, scheme: str, by: str | None, kind: str = "case") -> tuple[list[str], list[tuple]]:
    """(columns, rows) of a kind's kpi mart for a period, for the department or by a dimension."""
    if kind not in KIND_TABLES:
        raise ValueError(f"unknown kind {kind!r}; use {', '.join(KIND_TABLES)}")
    if by is not None and by not in KIND_DIMENSIONS[kind]:
        raise ValueError(f"--by {by} is not available for --kind {kind}; use {' or '.join(KIND_DIMENSIONS[kind])}")
    parse_period(period, scheme)  # a one-line ValueError for a malformed label or scheme
    table = KIND_TABLES[kind]  # a name from the constant above, never from data
    present = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'mart' and table_name = ?", [table.split(".")[1]],
    ).fetchone()[0]
    if not present:
        raise ValueError(f"the warehouse has no {table} yet; run 'tthc run' first")
    known = con.execute(
        f"select count(*), min(period), max(period) from {table} where period_scheme = ? and dimension = 'all'",
        [scheme],
    ).fetchone()
    exists = con.execute(
        f"select count(*) from {table} where period_scheme = ? and period = ? and dimension = 'all'",
        [scheme, period],
    ).fetchone()[0]
    if not exists:
        held = f"it holds {known[1]} … {known[2]}" if known[0] else "it holds no period yet"
        if kind == "case":
            raise ValueError(f"period {period} ({scheme}) is not in the warehouse; {held}")
        raise ValueError(f"period {period} ({scheme}) has no {KIND_NOUN[kind]} measures in the warehouse; {held}")
    order = "dimension_value collate vi" + (", deadline_basis desc" if kind == "directive" else "")
    cursor = con.execute(
        f"select * from {table} where period_scheme = ? and period = ? and dimension = ? order by {order}",
        [scheme, period, by or "all"],
    )
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def write_kpi(con, period: str, scheme: str, by: str | None, output_format: str, out: TextIO,
              kind: str = "case") -> None:
    """Write the measures of a period of a kind (case, directive, feedback) in a format to a stream."""
    columns, rows = kpi_rows(con, period, scheme, by, kind)
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    if output_format == "json":
        for record in records:
            out.write(json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False) + "\n")
        return
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if _plain(v) is None else spreadsheet_safe(_plain(v)) for v in row])
        return
    if output_format != "table":
        raise ValueError(f"unknown format {output_format!r}; use table, json or csv")
    totals = records if by is None else [dict(zip(columns, r, strict=True))
                                         for r in kpi_rows(con, period, scheme, None, kind)[1]]
    total = totals[0]
    out.write(f"{total['period_name']} ({'kỳ chính thức' if scheme == 'official' else 'kỳ dương lịch'}): "
              f"{fmt_dates_range(total['first_day'], total['last_day'])}\n")
    data_until = last_day_of_data(total["judged_at"])
    if data_until < total["last_day"]:  # the current period, judged at the end of the as-of day
        out.write(f"Số liệu đến hết ngày {fmt_date(data_until)} (kỳ chưa kết thúc)\n")
    out.write("\n")
    if kind != "case":
        out.write(_record_table(kind, by, records, totals) + "\n")
        return
    if by is None:
        shown = [c for c in columns if c not in _IDENTITY_COLUMNS]
        table = [[LABELS_VI[c], format_value_vi(c, total[c])] for c in shown]
        out.write(_render_table(["Chỉ tiêu", "Giá trị"], table) + "\n")
        return
    table = [[_dimension_label(by, r["dimension_value"]), *(format_value_vi(c, r[c]) for c in WIDE_COLUMNS)]
             for r in records]
    table.append(["Tổng cộng", *(format_value_vi(c, total[c]) for c in WIDE_COLUMNS)])
    out.write(_render_table([DIMENSION_VI[by], *(WIDE_HEADINGS_VI[c] for c in WIDE_COLUMNS)], table) + "\n")


def _record_table(kind: str, by: str | None, records: list[dict], totals: list[dict]) -> str:
    """The table format of the directive or PAKN measures: one column per deadline basis (directives) for the
    department; one row per unit (and deadline basis) with ``--by unit``."""
    labels = KIND_LABELS_VI[kind]
    if by is None:
        shown = [c for c in totals[0] if c not in _IDENTITY_COLUMNS and c in labels]
        if kind == "directive":
            bases = [r["deadline_basis"] for r in totals]
            table = [[labels[c], *(format_value_vi(c, r[c], kind) for r in totals)] for c in shown]
            return _render_table(["Chỉ tiêu", *(BASIS_VI[b] for b in bases)], table)
        table = [[labels[c], format_value_vi(c, totals[0][c], kind)] for c in shown]
        return _render_table(["Chỉ tiêu", "Giá trị"], table)
    wide = KIND_WIDE_COLUMNS[kind]
    headings = KIND_WIDE_HEADINGS_VI[kind]
    first = ["Đơn vị chủ trì" if kind == "directive" else "Đơn vị xử lý"]
    if kind == "directive":
        first.append("Cách tính hạn")
    rows = [*records, *({**r, "dimension_value": "Tổng cộng"} for r in totals)]
    table = []
    for r in rows:
        lead = [r["dimension_value"]] + ([BASIS_VI[r["deadline_basis"]]] if kind == "directive" else [])
        table.append([*lead, *(format_value_vi(c, r[c], kind) for c in wide)])
    return _render_table([*first, *(headings[c] for c in wide)], table, left_columns=len(first))


def print_kpi(settings: Settings, period: str, scheme: str, by: str | None, output_format: str,
              kind: str = "case") -> int:
    """``tthc kpi``: print a period's measures of a kind from the warehouse (read-only); 0 on success."""
    con = db.connect_existing(settings.warehouse)
    try:
        write_kpi(con, period, scheme, by, output_format, sys.stdout, kind)
    finally:
        con.close()
    return 0
