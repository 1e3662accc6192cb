"""The demo's directives and PAKN: two years of realistic volumes and the features the exports must carry
(extensions and their history sheet, placeholder and free-text deadlines, truncated titles, PAKN about
cases, late, disliked and repeated ones, senders' identities in the exports only)."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipeline.demo.directives import TITLE_CUT, directive_truth, simulate_directives, write_directive_exports
from pipeline.demo.feedback import feedback_truth, simulate_feedback, write_feedback_exports
from pipeline.settings import load_settings
from pipeline.workcal import WorkCalendar

SETTINGS = load_settings()
START, END = date(2023, 7, 1), date(2025, 6, 30)
SNAPSHOT = datetime.combine(END, time(17, 30))
UNITS = ["Phòng Quản lý kết cấu hạ tầng giao thông", "Phòng Quản lý vận tải, phương tiện và người lái",
         "Văn phòng Sở", "Thanh tra Sở"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    cal = WorkCalendar.from_settings(SETTINGS)
    rng = np.random.default_rng(5)
    cases = pd.DataFrame({
        "case_id": [f"000.00.20.H55-{i:06d}" for i in range(600)], "unit": rng.choice(UNITS, 600),
        "sector": "Đường bộ", "procedure_name": "Cấp phù hiệu xe ô tô kinh doanh vận tải",
        "received_at": (np.datetime64("2023-07-01T08:00") + rng.integers(0, 720 * 1440, 600).astype("timedelta64[m]")
                        ).astype("datetime64[s]"),
        "outcome": np.where(rng.random(600) < 0.05, "late", "on_time"),
    })
    tasks = simulate_directives(cal, UNITS, 2025, START, END, SNAPSHOT)
    items = simulate_feedback(cal, cases, UNITS, 2025, START, END, SNAPSHOT)
    out = tmp_path_factory.mktemp("records_demo")
    files = write_directive_exports(out, tasks, START, SNAPSHOT, "Quảng Ngãi", "Sở Giao thông vận tải",
                                    np.random.default_rng(3))
    files |= write_feedback_exports(out, items, START, SNAPSHOT, "Quảng Ngãi", "Sở Giao thông vận tải")
    return cal, tasks, items, out, files


def test_two_years_of_directives(world):
    _, tasks, _, _, _ = world
    counts, _ = directive_truth(tasks, END, SNAPSHOT)
    assert 250 <= counts["directive_tasks"] <= 500  # a few hundred tasks
    assert counts["directive_with_extension"] >= 20 and counts["directive_two_extensions"] >= 3
    for key in ("directive_no_deadline_placeholder", "directive_no_deadline_words", "directive_no_deadline_empty",
                "directive_truncated_titles", "directive_returned", "directive_suspended"):
        assert counts[key] > 0, key
    assert {t.assigned_by for t in tasks} >= {"UBND tỉnh"} and len({t.leader for t in tasks}) >= 3
    assert any(t.co_units for t in tasks) and len({t.lead_unit for t in tasks}) == len(UNITS)
    late = [t for t in tasks if t.completed_at is not None and t.deadline is not None
            and t.completed_at.date() > t.deadline_at(datetime.max).date()]
    assert 0.05 <= len(late) / counts["directive_completed"] <= 0.35


def test_directive_exports_carry_history_placeholders_and_cut_titles(world):
    _, tasks, _, out, files = world
    reports = sorted(out.glob("directives/bao_cao_nhiem_vu_*.xlsx"))
    assert len(reports) == 7  # 2023-Q3 … 2025-Q1: each quarter reported (5 days after it) before the snapshot
    book = CalamineWorkbook.from_path(str(reports[-1]))
    assert book.sheet_names == ["Báo cáo", "Lịch sử gia hạn"]
    first = book.get_sheet_by_index(0).to_python()
    assert first[3][0] == "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ DO UBND TỈNH GIAO"
    assert str(first[4][0]).startswith("Từ ngày 01/01/2025 đến ngày 31/03/2025")
    histories = sum(len(CalamineWorkbook.from_path(str(p)).get_sheet_by_index(1).to_python()) - 1 for p in reports)
    assert histories > 0
    flat = pd.read_csv(next(out.glob("directives/giao_viec_*.csv")), dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    assert len(flat) == len(tasks) == files[f"directives/giao_viec_{END:%Y-%m-%d}.csv"]
    assert (flat["Tên nhiệm vụ"].str.len() <= TITLE_CUT + 3).all() and flat["Tên nhiệm vụ"].str.endswith("...").any()
    deadlines = set(flat["Thời hạn hoàn thành"])
    assert "01/01/1970" in deadlines and any(d.startswith(("Quý", "Thường", "Trong", "Theo")) for d in deadlines)
    history = pd.read_csv(next(out.glob("directives/lich_su_gia_han_*.csv")), dtype=str)
    assert len(history) == sum(len(t.extensions) for t in tasks)


def test_two_years_of_feedback(world):
    cal, _, items, _, _ = world
    counts, _, extra = feedback_truth(items, cal, END, SETTINGS)
    assert 60 <= counts["feedback_total"] <= 160  # a few a month
    assert 0.4 <= counts["feedback_linked"] / counts["feedback_total"] <= 0.85
    for key in ("feedback_refused", "feedback_more_info", "feedback_disliked", "feedback_repeated",
                "feedback_unit_from_case", "feedback_named_titles"):
        assert counts[key] > 0, key
    late = [p for p in items if p.handled_at is not None
            and cal.working_minutes_between(p.received_at or p.sent_at, p.handled_at) > 15 * cal.minutes_per_day]
    assert late
    assert len(extra["sender_names"]) >= 50 and all("@" in e for e in extra["sender_emails"])


def test_feedback_exports_carry_the_senders(world):
    _, _, items, out, _ = world
    portal = pd.read_csv(next(out.glob("feedback/pakn_*.csv")), dtype=str, keep_default_na=False)
    assert len(portal) == len(items)
    assert set(portal["Họ tên người gửi"]) == {p.sender[0] for p in items}
    assert portal["Nội dung"].str.len().min() > 40 and (portal["Phản ánh lặp lại"] == "x").any()
    lists = sorted(out.glob("feedback/danh_sach_pakn_*.xlsx"))
    rows = CalamineWorkbook.from_path(str(lists[0])).get_sheet_by_index(0).to_python()
    assert rows[3][0] == "DANH SÁCH PHẢN ÁNH, KIẾN NGHỊ VỀ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    assert rows[7][3] == "Thông tin người gửi" and rows[8][3] == "Người gửi"
