"""Demo feedback and complaints about TTHC (PAKN, DESIGN §11): a few a month over the demo window, most about
a demo case (often a late one), answered, refused or answered with a request for more information, some late,
some published late, some disliked, and a repeated complaint now and then. Senders are fake people whose
names, phones, e-mails, addresses and complaint texts are written into the exports and must never reach the
warehouse. Exports:

- ``feedback/danh_sach_pakn_<year>_Q<n>.xlsx``: the provincial PAKN system's quarterly list "DANH SÁCH PHẢN
  ÁNH, KIẾN NGHỊ VỀ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" (title rows, a two-row header with the sender's columns
  grouped, a group row per handling unit, total, signature), exported a few days after the quarter;
- ``feedback/pakn_<date>.csv``: the national portal's list of every PAKN in its state at the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.demo.catalogue import fake_applicants, strip_accents
from pipeline.demo.directives import quarters, write_csv, write_report_workbook
from pipeline.settings import Settings
from pipeline.workcal import WorkCalendar

CATEGORIES = ["Kết cấu hạ tầng giao thông", "Vận tải", "An toàn giao thông", "Đăng kiểm"]
LINKED_TITLES = ["Phản ánh việc chậm trả kết quả thủ tục {procedure}", "Kiến nghị về thời gian giải quyết hồ sơ {procedure}",
                 "Phản ánh về việc yêu cầu bổ sung giấy tờ không đúng quy định khi làm thủ tục {procedure}",
                 "Hỏi về tiến độ giải quyết hồ sơ {procedure}"]
NAMED_TITLE = "Phản ánh của {title} {name} về việc chậm giải quyết hồ sơ"
OTHER_TITLES = ["Phản ánh hư hỏng mặt đường tại {place}", "Kiến nghị lắp đặt đèn tín hiệu giao thông tại {place}",
                "Phản ánh xe khách đón trả khách không đúng nơi quy định tại {place}",
                "Hỏi về quy định cấp phù hiệu xe tải"]
PLACES = ["ngã ba Thạch Trụ", "cầu Trà Khúc", "đường Lê Thánh Tôn", "Quốc lộ 24B đoạn qua xã Tịnh Hà", "bến xe Quảng Ngãi"]
COMPLAINTS = [
    "Tôi là {name}, số điện thoại {phone}. Hồ sơ của tôi đã quá hẹn nhiều ngày nhưng chưa nhận được kết quả, "
    "cũng không được thông báo lý do. Đề nghị Sở kiểm tra, trả lời.",
    "Gia đình tôi ở {address}. Cán bộ yêu cầu nộp thêm giấy tờ không có trong danh mục thành phần hồ sơ. "
    "Liên hệ: {email}.",
    "Kính gửi Sở: đoạn đường gần nhà tôi ({address}) hư hỏng nặng, nhiều lần xảy ra tai nạn. Tôi là {name}.",
]
SATISFIED, UNSATISFIED, NO_REACTION = 1, 2, 3
REACTION_WORDS = {SATISFIED: "Hài lòng", UNSATISFIED: "Không hài lòng", NO_REACTION: "Chưa đánh giá"}


@dataclass
class Pakn:
    """One PAKN of the demo world (its sender's identity included: it only ever goes to the exports)."""

    feedback_id: str
    title: str
    category: str
    case_id: str | None
    unit: str  # the unit handling it
    unit_written: bool  # whether the exports name the unit (else only its case does)
    sent_at: datetime
    received_at: datetime
    handling: str | None  # answered | refused | more_info; None while open
    handled_at: datetime | None
    published_at: datetime | None
    reaction: int | None
    likes: int
    dislikes: int
    repeated: bool
    sender: tuple[str, str, str, str]  # name, phone, e-mail, address
    complaint: str


def _moment(rng: np.random.Generator, day: date) -> datetime:
    minute = int(rng.integers(6 * 60, 22 * 60))
    return datetime.combine(day, time(minute // 60, minute % 60))


def _email(name: str, number: int) -> str:
    words = strip_accents(name).lower().split()
    return f"{words[-1]}.{''.join(w[0] for w in words[:-1])}{number}@mail.example.vn"


def _after(cal: WorkCalendar, start: datetime, working_days: float) -> datetime:
    return cal.add_working_hours(start, working_days * cal.minutes_per_day / 60)


def simulate_feedback(cal: WorkCalendar, cases: pd.DataFrame, units: list[str], seed: int, start: date, end: date,
                      snapshot: datetime) -> list[Pakn]:
    """About four PAKN a month from ``start`` to the snapshot, with what happened to them by the snapshot."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7002]))
    n_days = (min(end, snapshot.date()) - start).days + 1
    n = int(rng.poisson(4 * n_days / 30.4)) if n_days > 0 else 0
    names, phones, _, addresses = fake_applicants(rng, np.zeros(n, dtype=bool))
    received = cases["received_at"].to_numpy()
    late = (cases["outcome"].to_numpy() == "late").astype(float)
    items: list[Pakn] = []
    for i, offset in enumerate(sorted(int(d) for d in rng.integers(0, max(n_days, 1), n))):
        sent_at = _moment(rng, start + timedelta(days=offset))
        received_at = cal.next_working_moment(sent_at)
        if rng.random() < 0.3:
            received_at = _after(cal, received_at, float(rng.uniform(0.1, 1.5)))
        sender = (str(names[i]), str(phones[i]), _email(str(names[i]), int(rng.integers(1, 99))), str(addresses[i]))
        earlier = np.flatnonzero(received < np.datetime64(sent_at - timedelta(days=1), "s"))
        case_id, unit, category = None, units[int(rng.integers(0, len(units)))], CATEGORIES[int(rng.integers(0, 4))]
        if len(earlier) and rng.random() < 0.65:  # about a case, more often a late one
            weights = 1.0 + 6.0 * late[earlier]
            row = cases.iloc[int(earlier[int(rng.choice(len(earlier), p=weights / weights.sum()))])]
            case_id, unit, category = str(row["case_id"]), str(row["unit"]), str(row["sector"])
            if rng.random() < 0.15:
                honorific = "bà" if " Thị " in sender[0] else "ông"
                title = NAMED_TITLE.format(title=honorific, name=sender[0])
            else:
                title = LINKED_TITLES[int(rng.integers(0, len(LINKED_TITLES)))].format(procedure=row["procedure_name"])
        else:
            title = OTHER_TITLES[int(rng.integers(0, len(OTHER_TITLES)))].format(
                place=PLACES[int(rng.integers(0, len(PLACES)))])
        complaint = COMPLAINTS[int(rng.integers(0, len(COMPLAINTS)))].format(
            name=sender[0], phone=sender[1], email=sender[2], address=sender[3])
        item = Pakn(f"PAKN-{sent_at:%Y%m}-{i + 1:04d}", title, category, case_id, unit, bool(case_id is None or
                    rng.random() < 0.8), sent_at, received_at, None, None, None, None, 0, 0, False, sender, complaint)
        _handle(item, cal, rng)
        items.append(item)
    items += _repeats(items, cal, rng)
    visible = []
    for item in sorted(items, key=lambda p: (p.sent_at, p.feedback_id)):
        if item.sent_at > snapshot:
            continue
        if item.received_at > snapshot:
            item.received_at = None
        if item.handled_at is not None and item.handled_at > snapshot:
            item.handling = item.handled_at = item.published_at = item.reaction = None
            item.likes = item.dislikes = 0
        if item.published_at is not None and item.published_at > snapshot:
            item.published_at = None
        visible.append(item)
    return visible


def _handle(item: Pakn, cal: WorkCalendar, rng: np.random.Generator) -> None:
    draw = rng.random()
    if draw < 0.08:
        item.handling = "refused"
        days = rng.uniform(0.3, 2.0) if rng.random() < 0.8 else rng.uniform(2.3, 4.5)
    elif draw < 0.15:
        item.handling = "more_info"
        days = rng.uniform(0.5, 5.0) if rng.random() < 0.85 else rng.uniform(5.3, 8.0)
    else:
        item.handling = "answered"
        days = rng.uniform(2.0, 14.8) if rng.random() < 0.82 else rng.uniform(15.3, 28.0)
    item.handled_at = _after(cal, item.received_at, float(days))
    if item.handling != "answered":
        return
    publish = rng.random()
    if publish < 0.85:
        item.published_at = _after(cal, item.handled_at, float(rng.uniform(0.1, 1.9)))
    elif publish < 0.93:
        item.published_at = _after(cal, item.handled_at, float(rng.uniform(2.5, 6.0)))
    reaction = rng.random()
    unsatisfied = 0.25 if item.case_id else 0.12  # a complaint about a (late) case is harder to satisfy
    item.reaction = SATISFIED if reaction < 0.55 else UNSATISFIED if reaction < 0.55 + unsatisfied else NO_REACTION
    if rng.random() < 0.15:
        item.reaction = None  # the sender never reacted: the export leaves the cell empty
    item.likes = int(rng.integers(0, 4)) + (2 if item.reaction == SATISFIED else 0)
    item.dislikes = int(rng.integers(0, 2)) + (item.likes + 1 if item.reaction == UNSATISFIED else 0)


def _repeats(items: list[Pakn], cal: WorkCalendar, rng: np.random.Generator) -> list[Pakn]:
    """Repeated complaints: a sender unsatisfied with an answer about a case complains again about it."""
    candidates = [p for p in items if p.case_id and p.handling == "answered"]
    candidates.sort(key=lambda p: (p.reaction != UNSATISFIED, p.sent_at))  # the unsatisfied complain again first
    count = max(1, len(items) // 40) if candidates else 0
    out = []
    for k, first in enumerate(candidates[:count], start=1):
        sent_at = first.handled_at + timedelta(days=int(rng.integers(7, 30)), hours=int(rng.integers(0, 8)))
        again = Pakn(f"{first.feedback_id}-L{k}", "Tiếp tục phản ánh: " + first.title, first.category, first.case_id,
                     first.unit, first.unit_written, sent_at, cal.next_working_moment(sent_at), None, None, None, None,
                     0, 0, True, first.sender, first.complaint + " Đây là lần thứ hai tôi phản ánh.")
        _handle(again, cal, rng)
        out.append(again)
    return out


# --- the state an export shows -----------------------------------------------------------------------

def _state(item: Pakn, moment: datetime) -> tuple[str, str, datetime | None, datetime | None]:
    """(status, handling words, handled at, published at) as the system shows them at a moment."""
    if item.received_at is None or item.received_at > moment:
        return "Chờ tiếp nhận", "", None, None
    if item.handled_at is None or item.handled_at > moment:
        return "Đang xử lý", "", None, None
    published = item.published_at if item.published_at is not None and item.published_at <= moment else None
    if item.handling == "refused":
        return "Từ chối tiếp nhận", "Từ chối", item.handled_at, None
    if item.handling == "more_info":
        return "Yêu cầu bổ sung thông tin", "Yêu cầu bổ sung thông tin", item.handled_at, None
    return ("Đã công khai" if published else "Đã trả lời"), "Trả lời", item.handled_at, published


def _text(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%d/%m/%Y %H:%M")


REPORT_COLUMNS = [
    (None, "STT"), (None, "Mã PAKN"), (None, "Tiêu đề"), ("Thông tin người gửi", "Người gửi"),
    ("Thông tin người gửi", "Số điện thoại"), ("Thông tin người gửi", "Email"), ("Thông tin người gửi", "Địa chỉ"),
    (None, "Nội dung phản ánh"), (None, "Mã hồ sơ liên quan"), (None, "Lĩnh vực"), (None, "Đơn vị xử lý"),
    (None, "Ngày gửi"), (None, "Ngày tiếp nhận"), (None, "Trạng thái"), (None, "Hình thức xử lý"),
    (None, "Ngày trả lời"), (None, "Ngày công khai"), (None, "Đánh giá của người gửi"), (None, "Lượt thích"),
    (None, "Lượt không thích"), (None, "Phản ánh lặp lại"),
]


def _reaction_cells(item: Pakn, handled: datetime | None) -> list[str]:
    if handled is None or item.handling != "answered":
        return ["", "", ""]
    words = REACTION_WORDS.get(item.reaction, "") if item.reaction else ""
    return [words, str(item.likes), str(item.dislikes)]


def write_feedback_exports(out_dir: Path, items: list[Pakn], start: date, snapshot: datetime, province: str,
                           department: str) -> dict[str, int]:
    """Every PAKN export of the demo; returns {relative path: data rows}."""
    files: dict[str, int] = {}
    for year, quarter, first, last, exported in quarters(start, snapshot):
        chosen = [p for p in items if first <= p.sent_at.date() <= last]
        if not chosen:
            continue
        groups: dict[str, list[list[str]]] = {}
        for item in chosen:
            status, handling, handled, published = _state(item, exported)
            groups.setdefault(item.unit, []).append([
                item.feedback_id, item.title, *item.sender, item.complaint, item.case_id or "", item.category,
                item.unit if item.unit_written else "", _text(item.sent_at),
                _text(item.received_at if item.received_at and item.received_at <= exported else None), status,
                handling, _text(handled), _text(published), *_reaction_cells(item, handled),
                "Có" if item.repeated else "",
            ])
        relative = f"feedback/danh_sach_pakn_{year}_Q{quarter}.xlsx"
        files[relative] = write_report_workbook(
            out_dir / relative, "DANH SÁCH PHẢN ÁNH, KIẾN NGHỊ VỀ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", first, last,
            exported, REPORT_COLUMNS, sorted(groups.items()), province, department, signer="GIÁM ĐỐC")
    lines = [["Mã phản ánh", "Tiêu đề", "Họ tên người gửi", "Điện thoại", "Thư điện tử", "Địa chỉ người gửi", "Nội dung",
              "Lĩnh vực", "Cơ quan xử lý", "Ngày gửi", "Ngày tiếp nhận", "Tình trạng", "Hình thức xử lý",
              "Ngày trả lời", "Ngày công khai", "Hài lòng", "Không hài lòng", "Phản ánh lặp lại", "Mã hồ sơ"]]
    for item in items:
        status, handling, handled, published = _state(item, snapshot)
        _, likes, dislikes = _reaction_cells(item, handled)
        lines.append([item.feedback_id, item.title, *item.sender, item.complaint, item.category,
                      item.unit if item.unit_written else "", _text(item.sent_at), _text(item.received_at), status,
                      handling, _text(handled), _text(published), likes, dislikes, "x" if item.repeated else "",
                      item.case_id or ""])
    relative = f"feedback/pakn_{snapshot:%Y-%m-%d}.csv"
    write_csv(out_dir / relative, lines, bom=False)
    files[relative] = len(lines) - 1
    return files


# --- truth -------------------------------------------------------------------------------------------

def limit_days(settings: Settings) -> dict[str, float]:
    """Working days allowed per way of handling, and for publishing an answer (the settings' values)."""
    return {"answered": settings.feedback_answer_working_days, "refused": settings.feedback_refusal_working_days,
            "more_info": settings.feedback_more_info_working_days,
            "published": settings.feedback_publication_working_days}


def pakn_class(item: Pakn, judged_at: datetime, cal: WorkCalendar, limits: dict[str, float]) -> str | None:
    """The PAKN's class at a period's judging moment (None when it was not received, or sent, by then)."""
    clock = item.received_at or item.sent_at  # the limits run from the receipt, else from the sending
    if clock >= judged_at:
        return None
    day = cal.minutes_per_day
    if item.handled_at is not None and item.handled_at < judged_at:
        within = cal.working_minutes_between(clock, item.handled_at) <= limits[item.handling] * day
        published_late = (item.handling == "answered" and item.published_at is not None
                          and cal.working_minutes_between(item.handled_at, item.published_at) > limits["published"] * day)
        return "handled_on_time" if within and not published_late else "handled_late"
    overdue = cal.working_minutes_between(clock, judged_at) > limits["answered"] * day
    return "open_overdue" if overdue else "open_in_time"


def feedback_truth(items: list[Pakn], cal: WorkCalendar, end: date, settings: Settings
                   ) -> tuple[dict[str, float], list[dict], dict]:
    """Counts, per-PAKN facts and the sender identities of the demo's PAKN, judged at ``end`` 24:00 with the
    settings' time limits."""
    limits = limit_days(settings)
    judged_at = datetime.combine(end + timedelta(days=1), time())
    month_start = datetime.combine(end.replace(day=1), time())
    followed = {p.feedback_id for p in items for q in items
                if p.case_id and q.case_id == p.case_id and q.sender == p.sender and q.sent_at > p.sent_at}
    counts: dict[str, float] = {
        "feedback_total": len(items), "feedback_linked": sum(p.case_id is not None for p in items),
        "feedback_unit_from_case": sum(not p.unit_written for p in items),
        "feedback_refused": sum(p.handling == "refused" for p in items),
        "feedback_more_info": sum(p.handling == "more_info" for p in items),
        "feedback_answered": sum(p.handling == "answered" for p in items),
        "feedback_unpublished": sum(p.handling == "answered" and p.published_at is None for p in items),
        "feedback_disliked": sum(p.reaction == UNSATISFIED or p.dislikes > p.likes for p in items),
        "feedback_repeated": sum(p.repeated for p in items),
        "feedback_named_titles": sum(p.sender[0] in p.title for p in items),
    }
    rows = []
    month = {"received_total": 0, "handled_on_time": 0, "handled_late": 0, "open_in_time": 0, "open_overdue": 0,
             "unsatisfied_5_3": 0}
    for item in items:
        value = pakn_class(item, judged_at, cal, limits)
        member = value is not None and not (item.handled_at is not None and item.handled_at < month_start)
        received_in_month = month_start <= (item.received_at or item.sent_at) < judged_at
        if member:
            month[value] += 1
            counts[f"feedback_{value}_at_end"] = counts.get(f"feedback_{value}_at_end", 0) + 1
        if received_in_month:
            month["received_total"] += 1
            disliked = item.reaction == UNSATISFIED or item.dislikes > item.likes
            if disliked or item.repeated or item.feedback_id in followed or value in ("handled_late", "open_overdue"):
                month["unsatisfied_5_3"] += 1
        rows.append({"feedback_id": item.feedback_id, "unit": item.unit, "case_id": item.case_id or "",
                     "received_at": "" if item.received_at is None else item.received_at.isoformat(sep=" "),
                     "handling": item.handling or "",
                     "handled_at": "" if item.handled_at is None else item.handled_at.isoformat(sep=" "),
                     "class_at_end": value if member else ""})
    judged = sum(month[k] for k in ("handled_on_time", "handled_late", "open_in_time", "open_overdue"))
    month["rate_5_2"] = (month["handled_on_time"] + month["open_in_time"]) / judged if judged else None
    month["rate_5_3"] = ((month["received_total"] - month["unsatisfied_5_3"]) / month["received_total"]
                         if month["received_total"] else None)
    senders = {"sender_names": sorted({p.sender[0] for p in items}), "sender_phones": sorted({p.sender[1] for p in items}),
               "sender_emails": sorted({p.sender[2] for p in items}),
               "sender_addresses": sorted({p.sender[3] for p in items}),
               "complaint_texts": sorted({p.complaint for p in items})}
    return counts, rows, {"end_month": month, **senders}
