"""Demo directives: tasks the provincial People's Committee gives the department (DESIGN §10), simulated over
the demo window, and the exports the executive-management software writes of them:

- ``directives/bao_cao_nhiem_vu_<year>_Q<n>.xlsx``: the quarterly report "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM
  VỤ DO UBND TỈNH GIAO" of the tasks assigned in the quarter, exported a few days after it (Quốc hiệu, title,
  "Từ ngày … đến ngày …", export time, a two-row header with the extension columns, column numbers, a group
  row per lead unit, a total row, the signature block), and its second sheet "Lịch sử gia hạn";
- ``directives/giao_viec_<date>.csv``: the flat task list of the "giao việc" module at the snapshot, every
  task in its state then, titles cut at 100 characters, the latest extension in columns;
- ``directives/lich_su_gia_han_<date>.csv``: every extension granted up to the snapshot.

Deadlines are mostly dates; some tasks have none: an empty cell, the 01/01/1970 placeholder or words
("Quý IV/2025", "Thường xuyên").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import xlsxwriter

from pipeline.workcal import WorkCalendar

TITLE_CUT = 100  # the flat list cuts titles at this many characters, then writes "..."
PROVINCE_BODIES = ["UBND tỉnh", "UBND tỉnh", "UBND tỉnh", "Văn phòng UBND tỉnh"]
LEADERS = ["Chủ tịch UBND tỉnh Lê Quang Vinh", "Phó Chủ tịch UBND tỉnh Võ Thanh Hải",
           "Phó Chủ tịch UBND tỉnh Trần Minh Khoa", "Phó Chủ tịch UBND tỉnh Nguyễn Thị Thu Vân"]
DOCUMENT_KINDS = ["UBND-KTN", "UBND-KTN", "UBND-KT", "UBND-NC", "UBND-TH", "TB-UBND"]
PARTNERS = ["Công an tỉnh", "Sở Xây dựng", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Tài nguyên và Môi trường",
            "UBND huyện Bình Sơn", "UBND thị xã Đức Phổ", "UBND thành phố Quảng Ngãi", "Ban An toàn giao thông tỉnh"]
ROADS = ["Quốc lộ 1", "Quốc lộ 24", "Quốc lộ 24B", "đường Hoàng Sa - Dốc Sỏi", "tuyến ĐT 622", "tuyến ĐT 623B",
         "đường ven biển Dung Quất - Sa Huỳnh", "đường Trì Bình - cảng Dung Quất"]
PROJECTS = ["đường ven biển Dung Quất - Sa Huỳnh giai đoạn II", "cầu Trà Khúc 3", "nâng cấp Quốc lộ 24B",
            "bến xe khách phía Nam thành phố Quảng Ngãi", "cải tạo nút giao thông Quảng Ngãi - Nghĩa Hành"]
TOPICS = ["tình trạng xe quá tải trên các tuyến đường huyện", "việc chậm bồi thường giải phóng mặt bằng dự án đường",
          "hệ thống chiếu sáng trên tuyến tránh thành phố", "hoạt động của bến khách ngang sông",
          "việc cấp đổi giấy phép lái xe quá hạn"]
ISSUES = ["lấn chiếm hành lang an toàn đường bộ", "xe chở cát gây rơi vãi", "ùn tắc giờ cao điểm", "ngập úng mùa mưa"]
HOLIDAYS = ["Tết Nguyên đán", "Lễ 30/4 - 1/5", "Quốc khánh 2/9"]
DRAFTS = ["Quyết định quy định quản lý, vận hành khai thác bến xe khách", "Kế hoạch cải cách hành chính năm sau",
          "Quy chế phối hợp quản lý hành lang an toàn đường bộ", "Nghị quyết quy định mức thu phí sử dụng bến bãi"]
TITLE_TEMPLATES = [
    "Kiểm tra, rà soát hệ thống biển báo, đèn tín hiệu giao thông trên {road} và đề xuất phương án xử lý các "
    "điểm đen, điểm tiềm ẩn nguy cơ tai nạn giao thông",
    "Báo cáo tình hình triển khai dự án {project}",
    "Tham mưu UBND tỉnh trả lời kiến nghị của cử tri về {topic}",
    "Chủ trì, phối hợp với {partner} xử lý tình trạng {issue} trên {road}",
    "Đề xuất phương án sửa chữa, khắc phục hư hỏng mặt đường {road}",
    "Xây dựng kế hoạch bảo đảm trật tự, an toàn giao thông dịp {holiday} năm {year}",
    "Góp ý dự thảo {draft}",
    "Tổng hợp, báo cáo kết quả thực hiện nhiệm vụ trọng tâm quý, đề xuất giải pháp tháo gỡ khó khăn, vướng mắc "
    "trong công tác giải phóng mặt bằng dự án {project}",
]
NO_DEADLINE_WORDS = ["Quý IV/{year}", "Thường xuyên", "Trong năm {year}", "Theo tiến độ dự án"]
EXTENSION_REASONS = ["Chờ ý kiến của các sở, ngành liên quan", "Chờ số liệu báo cáo của các địa phương",
                     "Nội dung phức tạp, cần khảo sát thực địa", "Chờ kết quả kiểm định chất lượng công trình"]
STATUS_DONE = ["Đã hoàn thành", "Hoàn thành"]


@dataclass
class Extension:
    """One extension of a task's deadline."""

    extended_at: datetime
    old: datetime
    new: datetime
    reason: str


@dataclass
class Task:
    """One directive task of the demo world."""

    task_id: str
    title: str
    assigned_by: str
    leader: str
    source_document: str
    assigned_at: datetime
    lead_unit: str
    co_units: list[str]
    deadline: datetime | None  # the original deadline (00:00 for a date without a time)
    no_deadline_text: str | None  # what the export writes when there is no deadline ("" for an empty cell)
    extensions: list[Extension] = field(default_factory=list)
    completed_at: datetime | None = None
    completed_date_only: bool = False
    stopped: str | None = None  # "suspended" | "returned"
    stopped_at: datetime | None = None

    def deadline_at(self, moment: datetime) -> datetime | None:
        """The deadline in force at a moment (after the extensions granted by then)."""
        granted = [e.new for e in self.extensions if e.extended_at <= moment]
        return granted[-1] if granted else self.deadline

    def completed_by(self, moment: datetime) -> bool:
        return self.completed_at is not None and self.completed_at <= moment


def deadline_end(deadline: datetime) -> datetime:
    """A deadline without a time (00:00) ends at 24:00 of its day (DESIGN §10)."""
    return deadline + timedelta(days=1) if deadline.time() == time() else deadline


def completed_on_time(task: Task, deadline: datetime) -> bool:
    """Completed by the deadline; a completion date without a time is on time on any day up to the deadline's."""
    if task.completed_date_only:
        return task.completed_at.date() <= (deadline_end(deadline) - timedelta(microseconds=1)).date()
    return task.completed_at <= deadline_end(deadline)


def _working_day_after(cal: WorkCalendar, day: date, n: int) -> date:
    """The n-th working day after a day."""
    while n > 0:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            n -= 1
    return day


def _working_days(cal: WorkCalendar, first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)
            if cal.is_working_day(first + timedelta(days=i))]


def _moment(rng: np.random.Generator, day: date, first: int = 7 * 60 + 30, last: int = 16 * 60 + 45) -> datetime:
    minute = int(rng.integers(first, last))
    if 11 * 60 + 30 <= minute < 13 * 60 + 30:  # the lunch break: move to the afternoon session
        minute += 120
    return datetime.combine(day, time(minute // 60, minute % 60))


def simulate_directives(cal: WorkCalendar, units: list[str], seed: int, start: date, end: date,
                        snapshot: datetime) -> list[Task]:
    """Tasks assigned from ``start`` to the snapshot (about 15 a month), with deadlines, extensions and
    completions (only what has happened by the snapshot is ever exported)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7001]))
    days = _working_days(cal, start, min(end, snapshot.date()))
    lead_weights = np.array([3.0 if "kết cấu hạ tầng" in u or "vận tải" in u.lower() else 1.0 for u in units])
    lead_weights /= lead_weights.sum()
    n = int(rng.poisson(15 * len(days) / 21.5)) if days else 0
    assigned_days = sorted(days[i] for i in rng.integers(0, len(days), n)) if days else []
    tasks: list[Task] = []
    serial: dict[int, int] = {}
    for day in assigned_days:
        serial[day.year] = serial.get(day.year, 0) + 1
        assigned_at = _moment(rng, day)
        if assigned_at > snapshot:
            continue
        template = TITLE_TEMPLATES[int(rng.integers(0, len(TITLE_TEMPLATES)))]
        title = template.format(
            road=ROADS[int(rng.integers(0, len(ROADS)))], project=PROJECTS[int(rng.integers(0, len(PROJECTS)))],
            topic=TOPICS[int(rng.integers(0, len(TOPICS)))], partner=PARTNERS[int(rng.integers(0, len(PARTNERS)))],
            issue=ISSUES[int(rng.integers(0, len(ISSUES)))], holiday=HOLIDAYS[int(rng.integers(0, len(HOLIDAYS)))],
            year=day.year, draft=DRAFTS[int(rng.integers(0, len(DRAFTS)))])
        lead = units[int(rng.choice(len(units), p=lead_weights))]
        co_units = [str(u) for u in rng.choice(PARTNERS + [u for u in units if u != lead],
                                                size=int(rng.integers(0, 3)), replace=False)]
        number = int(rng.integers(100, 6000))
        kind = DOCUMENT_KINDS[int(rng.integers(0, len(DOCUMENT_KINDS)))]
        task = Task(
            task_id=f"NV{day.year}-{serial[day.year]:04d}", title=title,
            assigned_by=PROVINCE_BODIES[int(rng.integers(0, len(PROVINCE_BODIES)))],
            leader=LEADERS[int(rng.integers(0, len(LEADERS)))], source_document=f"{number}/{kind}",
            assigned_at=assigned_at, lead_unit=lead, co_units=co_units, deadline=None, no_deadline_text=None)
        draw = rng.random()
        if draw < 0.03:
            task.no_deadline_text = "01/01/1970"
        elif draw < 0.06:
            words = NO_DEADLINE_WORDS[int(rng.integers(0, len(NO_DEADLINE_WORDS)))]
            task.no_deadline_text = words.format(year=day.year)
        elif draw < 0.075:
            task.no_deadline_text = ""
        else:
            due_day = _working_day_after(cal, day, int(rng.integers(5, 26)))
            task.deadline = (datetime.combine(due_day, time(17, 0)) if rng.random() < 0.2
                             else datetime.combine(due_day, time()))
        _extend_and_complete(task, cal, rng, snapshot)
        tasks.append(task)
    return tasks


def _extend_and_complete(task: Task, cal: WorkCalendar, rng: np.random.Generator, snapshot: datetime) -> None:
    fate = rng.random()
    if fate < 0.03:  # returned to the province, or suspended by it, a few days after assignment
        stopped_at = _moment(rng, _working_day_after(cal, task.assigned_at.date(), 2 + int(fate >= 0.015)))
        if stopped_at <= snapshot:
            task.stopped, task.stopped_at = ("returned" if fate < 0.015 else "suspended"), stopped_at
        return
    final = task.deadline
    if final is not None and rng.random() < 0.18:  # one extension, sometimes two
        for _ in range(1 + int(rng.random() < 0.2)):  # asked for a few days before the deadline
            asked = max(final.date() - timedelta(days=int(rng.integers(1, 5))), task.assigned_at.date() + timedelta(days=1))
            while not cal.is_working_day(asked):
                asked += timedelta(days=1)
            new = datetime.combine(_working_day_after(cal, final.date(), int(rng.integers(5, 21))), time())
            reason = EXTENSION_REASONS[int(rng.integers(0, len(EXTENSION_REASONS)))]
            extension = Extension(_moment(rng, asked), final, new, reason)
            if extension.extended_at <= snapshot:  # granted after the snapshot: nobody has seen it yet
                task.extensions.append(extension)
                final = new
    if final is None:
        done_day = _working_day_after(cal, task.assigned_at.date(), int(rng.integers(10, 60)))
    elif rng.random() < 0.8:  # on time: a working day from the day after assignment to the deadline's day
        span = _working_days(cal, task.assigned_at.date() + timedelta(days=1), final.date()) or [final.date()]
        done_day = span[int(rng.integers(max(0, len(span) // 3), len(span)))]
    else:
        done_day = _working_day_after(cal, final.date(), int(rng.integers(1, 16)))
    completed_at = _moment(rng, done_day)
    if final is not None and done_day == final.date() and final.time() != time():
        completed_at = min(completed_at, final)  # on its deadline day, before the deadline's hour
    task.completed_date_only = bool(rng.random() < 0.35)
    if task.completed_date_only:
        completed_at = datetime.combine(done_day, time())
    if completed_at <= snapshot:
        task.completed_at = completed_at


# --- the state an export shows -----------------------------------------------------------------------

def status_text(task: Task, moment: datetime, rng_draw: float) -> str:
    """The task's status as the software writes it at a moment."""
    deadline = task.deadline_at(moment)
    if task.completed_by(moment):
        if deadline is None or rng_draw < 0.4:
            return STATUS_DONE[int(rng_draw * 10) % 2]
        return "Đã hoàn thành trong hạn" if completed_on_time(task, deadline) else "Đã hoàn thành quá hạn"
    if task.stopped and task.stopped_at <= moment:
        return "Từ chối nhiệm vụ" if task.stopped == "returned" else "Tạm hoãn"
    if moment < task.assigned_at + timedelta(days=2):
        return "Chưa thực hiện"
    if deadline is not None and moment > deadline_end(deadline):
        return "Đang thực hiện quá hạn"
    return "Đang thực hiện" if rng_draw < 0.7 else "Đang thực hiện trong hạn"


def _text(moment: datetime | None, date_only: bool = False) -> str:
    if moment is None:
        return ""
    if date_only or moment.time() == time():
        return moment.strftime("%d/%m/%Y")
    return moment.strftime("%d/%m/%Y %H:%M")


def _deadline_text(task: Task, deadline: datetime | None) -> str:
    return task.no_deadline_text if deadline is None else _text(deadline)


# --- the exports -------------------------------------------------------------------------------------

REPORT_COLUMNS = [
    (None, "STT"), (None, "Số hiệu nhiệm vụ"), (None, "Trích yếu"), (None, "Văn bản chỉ đạo"), (None, "Cơ quan giao"),
    (None, "Lãnh đạo chỉ đạo"), (None, "Ngày giao"), (None, "Đơn vị chủ trì"), (None, "Đơn vị phối hợp"),
    ("Thời hạn", "Hạn xử lý"), ("Thời hạn", "Ngày hoàn thành"), (None, "Trạng thái"),
    ("Gia hạn", "Hạn cũ"), ("Gia hạn", "Hạn mới"), ("Gia hạn", "Lý do"),
]
HISTORY_COLUMNS = ["STT", "Số hiệu nhiệm vụ", "Trích yếu", "Lần gia hạn", "Hạn cũ", "Hạn mới", "Lý do gia hạn",
                   "Ngày gia hạn"]


def write_report_workbook(path: Path, title: str, first_day: date, last_day: date, exported_at: datetime,
                          columns: list[tuple[str | None, str]], groups: list[tuple[str, list[list[str]]]],
                          province: str, department: str, extra_sheet: tuple[str, list[str], list[list[str]]] | None = None,
                          signer: str = "CHÁNH VĂN PHÒNG") -> int:
    """A report workbook as Vietnamese government software writes it; returns the data rows written.

    Title rows (Quốc hiệu, title, period, export time), a two-row header (grouped columns under a merged cell),
    a column-number row, a group row per group, data (texts), a total row and the signature block; optionally a
    second sheet with a one-row header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    workbook.set_properties({"title": title, "author": "Phần mềm quản lý văn bản và điều hành", "created": exported_at})
    bold = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True})
    head = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True})
    cell = workbook.add_format({"border": 1, "valign": "top", "text_wrap": True})
    group_fmt = workbook.add_format({"bold": True, "border": 1})
    ws = workbook.add_worksheet("Báo cáo")
    width = len(columns)
    half = width // 2
    ws.merge_range(0, 0, 0, half - 1, f"UBND TỈNH {province.upper()}", bold)
    ws.merge_range(0, half, 0, width - 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    ws.merge_range(1, 0, 1, half - 1, department.upper(), bold)
    ws.merge_range(1, half, 1, width - 1, "Độc lập - Tự do - Hạnh phúc", bold)
    ws.merge_range(3, 0, 3, width - 1, title, bold)
    ws.merge_range(4, 0, 4, width - 1, f"Từ ngày {first_day:%d/%m/%Y} đến ngày {last_day:%d/%m/%Y}")
    ws.merge_range(5, 0, 5, width - 1, f"Ngày xuất: {exported_at:%d/%m/%Y %H:%M}")
    r, c = 7, 0
    while c < width:
        group = columns[c][0]
        if group is None:
            ws.merge_range(r, c, r + 1, c, columns[c][1], head)
            c += 1
            continue
        last = c
        while last + 1 < width and columns[last + 1][0] == group:
            last += 1
        ws.merge_range(r, c, r, last, group, head)
        for k in range(c, last + 1):
            ws.write_string(r + 1, k, columns[k][1], head)
        c = last + 1
    for k in range(width):
        ws.write_string(r + 2, k, f"({k + 1})", head)
    r += 3
    written = 0
    for number, (name, rows) in enumerate(groups, start=1):
        ws.merge_range(r, 0, r, width - 1, f"{_roman(number)}. {name}", group_fmt)
        r += 1
        for values in rows:
            written += 1
            ws.write_number(r, 0, written, cell)
            for k, value in enumerate(values, start=1):
                if value:
                    ws.write_string(r, k, value, cell)
            r += 1
    ws.merge_range(r, 0, r, 1, "Tổng cộng", group_fmt)
    ws.write_number(r, 2, written, group_fmt)
    r += 2
    ws.merge_range(r, half, r, width - 1,
                   f"{province}, ngày {exported_at:%d} tháng {exported_at:%m} năm {exported_at:%Y}")
    ws.merge_range(r + 1, 0, r + 1, half - 1, "NGƯỜI LẬP BIỂU", bold)
    ws.merge_range(r + 1, half, r + 1, width - 1, signer, bold)
    ws.merge_range(r + 2, 0, r + 2, half - 1, "(Ký, ghi rõ họ tên)")
    ws.merge_range(r + 2, half, r + 2, width - 1, "(Ký, ghi rõ họ tên, đóng dấu)")
    ws.set_column(0, 0, 5)
    ws.set_column(1, width - 1, 16)
    if extra_sheet is not None:
        name, header, rows = extra_sheet
        sheet = workbook.add_worksheet(name)
        for k, text in enumerate(header):
            sheet.write_string(0, k, text, head)
        for i, values in enumerate(rows, start=1):
            sheet.write_number(i, 0, i, cell)
            for k, value in enumerate(values, start=1):
                if value:
                    sheet.write_string(i, k, value, cell)
    workbook.close()
    return written


def _roman(number: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letter in numerals:
        while number >= value:
            out, number = out + letter, number - value
    return out


def write_csv(path: Path, lines: list[list[str]], bom: bool) -> None:
    """A CSV export (',' separated, UTF-8, optionally with a BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if bom else "\n").writerows(lines)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else "utf-8"))


def quarters(start: date, snapshot: datetime, days_after: int = 5) -> list[tuple[int, int, date, date, datetime]]:
    """(year, quarter, first day, last day, export time) of every quarter of the window reported before the
    snapshot: exported at 08:00 a few days after the quarter ends."""
    out = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while True:
        first = date(year, 3 * quarter - 2, 1)
        last = (date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - timedelta(days=1)
        exported = datetime.combine(last + timedelta(days=days_after), time(8, 0))
        if exported > snapshot:
            return out
        out.append((year, quarter, max(first, start), last, exported))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def write_directive_exports(out_dir: Path, tasks: list[Task], start: date, snapshot: datetime, province: str,
                            department: str, rng: np.random.Generator) -> dict[str, int]:
    """Every directive export of the demo; returns {relative path: data rows}."""
    files: dict[str, int] = {}
    draws = {t.task_id: float(rng.random()) for t in tasks}
    for year, quarter, first, last, exported in quarters(start, snapshot):
        chosen = [t for t in tasks if first <= t.assigned_at.date() <= last]
        if not chosen:
            continue
        groups: dict[str, list[list[str]]] = {}
        history: list[list[str]] = []
        for task in sorted(chosen, key=lambda t: (t.lead_unit, t.task_id)):
            granted = [e for e in task.extensions if e.extended_at <= exported]
            latest = granted[-1] if granted else None
            deadline = task.deadline_at(exported)
            completed = task.completed_at if task.completed_by(exported) else None
            groups.setdefault(task.lead_unit, []).append([
                task.task_id, task.title, task.source_document, task.assigned_by, task.leader,
                _text(task.assigned_at, date_only=True), task.lead_unit, "; ".join(task.co_units),
                _deadline_text(task, deadline), _text(completed, task.completed_date_only),
                status_text(task, exported, draws[task.task_id]),
                _text(latest.old) if latest else "", _text(latest.new) if latest else "",
                latest.reason if latest else "",
            ])
            history += [[task.task_id, task.title, str(n), _text(e.old), _text(e.new), e.reason,
                         _text(e.extended_at, date_only=True)] for n, e in enumerate(granted, start=1)]
        relative = f"directives/bao_cao_nhiem_vu_{year}_Q{quarter}.xlsx"
        files[relative] = write_report_workbook(
            out_dir / relative, "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ DO UBND TỈNH GIAO", first, last, exported,
            REPORT_COLUMNS, sorted(groups.items()), province, department,
            ("Lịch sử gia hạn", HISTORY_COLUMNS, history)) + len(history)
    lines = [["ID", "Tên nhiệm vụ", "Ngày tạo", "Người giao việc", "Văn bản chỉ đạo", "Đơn vị chủ trì",
              "Đơn vị phối hợp", "Thời hạn hoàn thành", "Tình trạng", "Ngày hoàn thành", "Hạn cũ", "Hạn mới",
              "Lý do gia hạn"]]
    for task in tasks:
        granted = [e for e in task.extensions if e.extended_at <= snapshot]
        latest = granted[-1] if granted else None
        title = task.title if len(task.title) <= TITLE_CUT else task.title[:TITLE_CUT] + "..."
        completed = task.completed_at if task.completed_by(snapshot) else None
        lines.append([task.task_id, title, _text(task.assigned_at), task.leader, task.source_document,
                      task.lead_unit, "; ".join(task.co_units), _deadline_text(task, task.deadline_at(snapshot)),
                      status_text(task, snapshot, draws[task.task_id]), _text(completed, task.completed_date_only),
                      _text(latest.old) if latest else "", _text(latest.new) if latest else "",
                      latest.reason if latest else ""])
    relative = f"directives/giao_viec_{snapshot:%Y-%m-%d}.csv"
    write_csv(out_dir / relative, lines, bom=True)
    files[relative] = len(lines) - 1
    history_lines = [["Mã nhiệm vụ", "Lần gia hạn", "Hạn cũ", "Hạn mới", "Lý do gia hạn", "Ngày gia hạn"]]
    for task in tasks:
        history_lines += [[task.task_id, str(n), _text(e.old), _text(e.new), e.reason, _text(e.extended_at)]
                          for n, e in enumerate(task.extensions, start=1) if e.extended_at <= snapshot]
    relative = f"directives/lich_su_gia_han_{snapshot:%Y-%m-%d}.csv"
    write_csv(out_dir / relative, history_lines, bom=False)
    files[relative] = len(history_lines) - 1
    return files


# --- truth -------------------------------------------------------------------------------------------

def task_class(task: Task, judged_at: datetime, extended: bool) -> str | None:
    """The task's class at a period's judging moment (None when it is not in that period or out of scope),
    on the original or the extended deadline, from what was exported at the snapshot."""
    if task.stopped == "returned" or task.assigned_at >= judged_at:  # a returned task is never counted
        return None
    deadline = task.deadline_at(datetime.max) if extended else task.deadline
    if deadline is None:
        return "no_deadline"
    if task.completed_at is not None and task.completed_at < judged_at:
        return "completed_on_time" if completed_on_time(task, deadline) else "completed_late"
    if task.stopped == "suspended":
        return "suspended"
    return "open_overdue" if judged_at > deadline_end(deadline) else "open_in_time"


def directive_truth(tasks: list[Task], end: date, snapshot: datetime) -> tuple[dict[str, float], list[dict]]:
    """Counts and per-task facts of the demo's directives, judged at ``end`` 24:00."""
    judged_at = datetime.combine(end + timedelta(days=1), time())
    month_start = datetime.combine(end.replace(day=1), time())
    counts: dict[str, float] = {
        "directive_tasks": len(tasks),
        "directive_returned": sum(t.stopped == "returned" for t in tasks),
        "directive_suspended": sum(t.stopped == "suspended" for t in tasks),
        "directive_with_extension": sum(bool(t.extensions) for t in tasks),
        "directive_two_extensions": sum(len(t.extensions) >= 2 for t in tasks),
        "directive_extensions": sum(len(t.extensions) for t in tasks),
        "directive_no_deadline_placeholder": sum(t.no_deadline_text == "01/01/1970" for t in tasks),
        "directive_no_deadline_words": sum(bool(t.no_deadline_text) and t.no_deadline_text != "01/01/1970"
                                           for t in tasks),
        "directive_no_deadline_empty": sum(t.no_deadline_text == "" for t in tasks),
        "directive_truncated_titles": sum(len(t.title) > TITLE_CUT for t in tasks),
        "directive_completed": sum(t.completed_at is not None for t in tasks),
        "directive_open_at_snapshot": sum(t.completed_at is None and t.stopped is None for t in tasks),
    }
    rows = []
    for task in tasks:
        row = {"task_id": task.task_id, "lead_unit": task.lead_unit, "assigned_at": _iso(task.assigned_at),
               "deadline_original": _iso(task.deadline), "deadline_extended": _iso(task.extensions[-1].new)
               if task.extensions else "", "extensions": len(task.extensions),
               "completed_at": _iso(task.completed_at), "stopped": task.stopped or ""}
        for basis in ("original", "extended"):
            value = task_class(task, judged_at, basis == "extended")
            member = value is not None and not (task.completed_at is not None and task.completed_at < month_start)
            row[f"class_at_end_{basis}"] = value if member else ""
            if member:
                key = f"directive_end_month_{basis}_{value}"
                counts[key] = counts.get(key, 0) + 1
        rows.append(row)
    return counts, rows


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(sep=" ")
