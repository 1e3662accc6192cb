"""Warnings for directive tasks and PAKN (DESIGN §10, §11): their own groups in the warning list, the CSV,
the terminal text and the units' e-mails, through the real pipeline.

The warehouse holds the hand-made exports of tests/records_fixtures.py and one more task list of 31/03/2025
with task D11 (Phòng Quản lý vận tải, assigned 20/03, due 28/03, open) whose title looks like a spreadsheet
formula. Judged at 24:00 on 31/03/2025 (by hand, working days Monday to Friday, 8 working hours):

- D6 (KCHT, due 25/03 17:00, still open): overdue by 26, 27, 28 and 31/03 = 32 working hours;
- D11 (VT, due 28/03, a date: until 24:00): overdue by 31/03 = 8 working hours;
- D7 (VT, due 02/04): due soon (within 3 working days), 16 working hours left (01 and 02/04);
- D2 and D10 are done, D3 and D4 have no deadline: no warning;
- P9 (KCHT, received 03/02 09:00, answer due 24/02 09:00): overdue by 6 h on 24/02, 4 days in February and
  the 21 working days of March = 206 working hours; P1, P2 (due 22/04) and P8 (due 16/04) are not within
  2 working days; nothing else is open.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest
from helpers import decoded, starts_formula
from html_dom import parse_text
from records_fixtures import KCHT, VT, pii_needles, write_directive_exports, write_feedback_exports

from pipeline.cli import main
from pipeline.jobs import ingest_and_build
from pipeline.notify import send_warning_emails
from pipeline.report.warnings import format_warnings_text, load_warnings, write_warning_reports
from pipeline.settings import load_settings

FORMULA_TITLE = '=HYPERLINK("http://x.example";"Bấm vào đây")'


def build(root: Path, **overrides):
    raw = root / "raw"
    write_directive_exports(raw)
    write_feedback_exports(raw)
    lines = [["ID", "Tên nhiệm vụ", "Ngày tạo", "Đơn vị chủ trì", "Thời hạn hoàn thành", "Tình trạng"],
             ["D11", FORMULA_TITLE, "20/03/2025", VT, "28/03/2025", "Đang thực hiện"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    (raw / "nhiem_vu" / "giao_viec_2025-03-31.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
    settings = load_settings(raw_dir=raw, warehouse=root / "w" / "tthc.duckdb", reports_dir=root / "reports",
                             as_of="2025-03-31", **overrides)
    result = ingest_and_build(settings)
    assert not result.rejected_files, [o.reason for o in result.rejected_files]
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build(tmp_path_factory.mktemp("record_warnings"))


def test_tasks_and_pakn_are_grouped_per_unit_by_urgency(settings):
    warnings = load_warnings(settings)
    assert warnings.has_directives and warnings.has_feedback
    assert warnings.case_units == [] and warnings.total == 0
    assert [u.unit for u in warnings.units] == [KCHT, VT]
    shown = {u.unit: {"directive": [(w.record_id, w.warning_kind, w.hours_left, w.time_left) for w in u.directives],
                      "feedback": [(w.record_id, w.warning_kind, w.hours_left, w.time_left) for w in u.feedback]}
             for u in warnings.units}
    assert shown == {
        KCHT: {"directive": [("D6", "overdue", -32.0, "quá hạn 32 giờ làm việc (4 ngày)")],
               "feedback": [("P9", "overdue", -206.0, "quá hạn 206 giờ làm việc (25,8 ngày)")]},
        VT: {"directive": [("D11", "overdue", -8.0, "quá hạn 8 giờ làm việc (1 ngày)"),
                           ("D7", "due_soon", 16.0, "còn 16 giờ làm việc (2 ngày)")],
             "feedback": []},
    }
    d6 = warnings.unit(KCHT).directives[0]
    assert (d6.started_text, d6.due_text, d6.kinds_text) == ("10/03/2025", "25/03/2025 17:00", "Quá hạn")
    assert warnings.unit(KCHT).feedback[0].kinds_text == "Quá hạn trả lời"
    assert warnings.unit(VT).directive_counts_text == "1 quá hạn, 1 sắp đến hạn"
    assert (warnings.directive_within_text, warnings.feedback_within_text) == ("3 ngày làm việc", "2 ngày làm việc")


def test_counts_equal_the_current_period(settings):
    """The same rules as the marts: the warnings are the March 2025 period's open overdue and due-soon tasks
    (on the extended deadlines) and its open overdue PAKN."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        overdue, soon = con.execute(
            "select open_overdue, due_soon from mart.directive_kpi_period where period_scheme = 'calendar' "
            "and period = '2025-03' and dimension = 'all' and deadline_basis = 'extended'").fetchone()
        warned = dict(con.execute("select warning_kind, count(*) from mart.directive_warnings group by 1").fetchall())
        pakn_overdue = con.execute(
            "select open_overdue from mart.feedback_kpi_period where period_scheme = 'calendar' "
            "and period = '2025-03' and dimension = 'all'").fetchone()[0]
        pakn_warned = dict(con.execute("select warning_kind, count(*) from mart.feedback_warnings group by 1").fetchall())
        rule = con.execute("select value from mart.timeliness_rules where rule = 'feedback_due_soon_minutes'").fetchone()
    finally:
        con.close()
    assert (overdue, soon) == (2, 1) and warned == {"overdue": 2, "due_soon": 1}
    assert pakn_overdue == 1 and pakn_warned == {"overdue": 1}
    assert rule == ("960",)  # 2 working days of 480 minutes


def test_csv_has_a_group_per_kind_and_neutralises_a_formula_title(settings):
    _, table = write_warning_reports(settings)
    read = list(csv.reader(io.StringIO(table.read_bytes().decode("utf-8-sig"), newline="")))
    header, body = read[0], read[1:]
    rows = [dict(zip(header, row, strict=True)) for row in body]
    assert [(r["Nhóm"], r["Đơn vị"], r["STT"], r["Mã nhiệm vụ, PAKN"]) for r in rows] == [
        ("Nhiệm vụ UBND tỉnh giao", KCHT, "1", "D6"), ("Nhiệm vụ UBND tỉnh giao", VT, "1", "D11"),
        ("Nhiệm vụ UBND tỉnh giao", VT, "2", "D7"), ("Phản ánh, kiến nghị", KCHT, "1", "P9")]
    d11 = rows[1]
    assert d11["Trích yếu, tiêu đề"] == "'" + FORMULA_TITLE
    assert (d11["Hạn giải quyết"], d11["Giờ làm việc còn lại"], d11["Cảnh báo"]) == ("28/03/2025", "-8.00", "Quá hạn")
    hours = header.index("Giờ làm việc còn lại")
    for row in body:
        for column, cell in enumerate(row):
            if column != hours:
                assert not starts_formula(cell), (header[column], cell)


def test_html_and_text_show_each_kind_in_its_own_group(settings, capsys):
    index, _ = write_warning_reports(settings)
    html = index.read_text(encoding="utf-8")
    root = parse_text(html)
    assert root.find("div", id="ho-so").clean_text() == "Không có hồ sơ nào cần cảnh báo."
    directives = root.find("div", id="nhiem-vu")
    assert directives.find("h2").clean_text() == "Nhiệm vụ do UBND tỉnh giao"
    rows = [[td.clean_text() for td in tr.find_all("td")] for tr in directives.find("section", id="directive-phong-quan-ly-van-tai").find("tbody").find_all("tr")]
    assert rows == [["1", "D11", FORMULA_TITLE, "20/03/2025", "28/03/2025", "quá hạn 8 giờ làm việc (1 ngày)", "Quá hạn"],
                    ["2", "D7", "Báo cáo công tác phòng chống ùn tắc dịp lễ", "17/03/2025", "02/04/2025",
                     "còn 16 giờ làm việc (2 ngày)", "Sắp đến hạn"]]
    feedback = root.find("div", id="pakn")
    assert "so với hạn trả lời 15 ngày làm việc kể từ khi tiếp nhận; sắp đến hạn: còn hạn trong 2 ngày làm việc" in (
        feedback.clean_text())
    assert "P9" in feedback.clean_text() and "quá hạn 206 giờ làm việc (25,8 ngày)" in feedback.clean_text()
    for needle in pii_needles():
        assert needle not in html

    assert main(["warnings", "--warehouse", str(settings.warehouse)]) == 0
    out = capsys.readouterr().out
    assert out.index("Không có hồ sơ nào cần cảnh báo.") < out.index("NHIỆM VỤ DO UBND TỈNH GIAO") < out.index(
        "PHẢN ÁNH, KIẾN NGHỊ (PAKN)")
    assert f"== {VT}: 2 nhiệm vụ (1 quá hạn, 1 sắp đến hạn)" in out
    assert f"== {KCHT}: 1 PAKN (1 quá hạn)" in out
    assert "PHẢN ÁNH, KIẾN NGHỊ (PAKN); sắp đến hạn: trong 2 ngày làm việc" in out
    assert out == format_warnings_text(load_warnings(settings)) + "\n"


def test_each_unit_is_mailed_its_tasks_and_pakn(settings, smtp_server):
    mail = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_server.server_address[1], "smtp_tls": False,
        "unit_emails": f"{VT}=vantai@so.example.vn;{KCHT}=hatang@so.example.vn"})
    deliveries = send_warning_emails(mail)
    assert {d.unit: d.status for d in deliveries} == {KCHT: "sent", VT: "sent"}
    received = {tuple(rcpts): decoded(raw) for _, rcpts, raw in smtp_server.messages}
    _, subject, text, html = received[("hatang@so.example.vn",)]
    assert subject == (f"[TTHC] {KCHT}: 1 nhiệm vụ cần xử lý (1 quá hạn); 1 PAKN (1 quá hạn) – "
                       "24:00 ngày 31/03/2025")
    assert "NHIỆM VỤ DO UBND TỈNH GIAO" in text and "Nhiệm vụ D6 – Đề xuất sửa chữa cầu Trà Khúc" in text
    assert "PHẢN ÁNH, KIẾN NGHỊ" in text and "PAKN P9 – Phản ánh về thu phí bến xe" in text
    assert "HỒ SƠ THỦ TỤC HÀNH CHÍNH" not in text  # no case of the unit to warn about
    assert "D11" not in text  # another unit's task
    _, subject, text, html = received[("vantai@so.example.vn",)]
    assert subject.startswith(f"[TTHC] {VT}: 2 nhiệm vụ cần xử lý (1 quá hạn, 1 sắp đến hạn)")
    assert FORMULA_TITLE in text and "=HYPERLINK(&#34;http://x.example&#34;" in html  # text, escaped in HTML
    for _, (_, subject, text, html) in received.items():
        for needle in pii_needles():
            assert needle not in subject + text + html


def test_the_pakn_warning_window_is_a_setting(tmp_path):
    """With 11 working days, P8 (due 16/04 14:00: 10 working days and 5 hours after 31/03 24:00, 07/04 being a
    holiday) is due soon; P1 and P2 (due 22/04 17:00, 15 working days) are not."""
    wide = build(tmp_path, feedback_due_soon_working_days=11)
    warnings = load_warnings(wide)
    assert [(w.record_id, w.warning_kind, w.hours_left) for u in warnings.units for w in u.feedback] == [
        ("P9", "overdue", -206.0), ("P8", "due_soon", 85.0)]
