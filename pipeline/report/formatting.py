"""Numbers, dates and words as a Vietnamese reader expects them (DESIGN §2).

``12.345`` (dot groups thousands), ``95,3%`` (comma is the decimal mark), dates ``dd/mm/yyyy``.
Missing values print as an en dash. Every function takes ``None``/NaN.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

MISSING = "–"

CLASS_VI = {
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "open_in_time": "Đang giải quyết trong hạn",
    "open_overdue": "Đang giải quyết quá hạn",
}
CHANNEL_VI = {"1": "Trực tiếp", "2": "Trực tuyến", "3": "Bưu chính công ích"}
SCHEME_VI = {
    "calendar": "Kỳ báo cáo theo lịch (tháng, quý, năm dương lịch)",
    "official": "Kỳ báo cáo theo thời điểm chốt số liệu (Nghị định 09/2019/NĐ-CP): từ ngày 15 tháng trước "
                "đến ngày 14 tháng cuối kỳ",
}
GRAIN_VI = {"month": "Tháng", "quarter": "Quý", "half": "6 tháng", "year": "Năm"}


def is_missing(value: object) -> bool:
    """True for None, NaN, NaT and pandas' NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _decimal(value: float, digits: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _group(integer_text: str) -> str:
    sign = "-" if integer_text.startswith("-") else ""
    digits = integer_text.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ".".join(groups)


def fmt_number(value: object, digits: int = 0) -> str:
    """``12345`` → ``12.345``; ``1234.5`` with one digit → ``1.234,5``."""
    if is_missing(value):
        return MISSING
    text = f"{_decimal(float(value), digits):f}"
    integer, _, fraction = text.partition(".")
    if integer in ("-0",) and not fraction.strip("0"):
        integer = "0"
    return _group(integer) + ("," + fraction if fraction else "")


def fmt_int(value: object) -> str:
    """A count: ``12.345``."""
    return fmt_number(value, 0)


def fmt_pct(value: object, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.953`` → ``95,3%``.

    A value that is not exactly 1 (or 0) never prints as ``100,0%`` (``0,0%``), so a rate just
    under a 100% target does not look as if it met it.
    """
    if is_missing(value):
        return MISSING
    number = float(value) * 100
    shown = _decimal(number, digits)
    step = Decimal(1).scaleb(-digits)
    if shown == 100 and number < 100:
        shown = Decimal(100) - step
    elif shown == 0 and number > 0:
        shown = step
    return fmt_number(float(shown), digits) + "%"


def fmt_pct_against(value: object, target_value: object) -> str:
    """A rate with enough digits (up to 3) that it does not print equal to a target it differs from."""
    if is_missing(value) or is_missing(target_value) or float(value) == float(target_value):
        return fmt_pct(value)
    for digits in (1, 2):
        if fmt_pct(value, digits) != fmt_pct(target_value, digits):
            return fmt_pct(value, digits)
    return fmt_pct(value, 3)


def fmt_pp(delta: object) -> str:
    """A change in percentage points: ``▲ 1,2 điểm %``, ``▼ 0,8 điểm %``, ``không đổi``."""
    if is_missing(delta):
        return MISSING
    points = float(delta) * 100
    if abs(points) < 0.05:
        return "= không đổi"
    arrow = "▲" if points > 0 else "▼"
    return f"{arrow} {fmt_number(abs(points), 1)} điểm %"


def fmt_count_change(delta: object, noun: str = "hồ sơ") -> str:
    """A change in a count: ``▲ 3 hồ sơ``, ``▼ 2 hồ sơ``, ``= không đổi``."""
    if is_missing(delta):
        return MISSING
    delta = int(delta)
    if delta == 0:
        return "= không đổi"
    return f"{'▲' if delta > 0 else '▼'} {fmt_int(abs(delta))} {noun}"


def fmt_date(value: object) -> str:
    """``31/03/2025``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.Timestamp(value)
    return f"{value:%d/%m/%Y}"


def fmt_datetime(value: object) -> str:
    """``31/03/2025 16:45``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return fmt_date(value)
    return f"{value:%d/%m/%Y %H:%M}"


def fmt_late(working_hours: object) -> str:
    """How late a case was, in working time: ``45 phút``, ``3,5 giờ``, ``2,1 ngày (17 giờ)``."""
    if is_missing(working_hours):
        return MISSING
    hours = float(working_hours)
    if hours < 1:
        return f"{max(1, math.ceil(hours * 60))} phút"
    if hours < 8:
        return f"{fmt_number(hours, 1)} giờ"
    return f"{fmt_number(hours / 8, 1)} ngày ({fmt_number(hours, 0)} giờ)"


def yes_no(value: object) -> str:
    """``Có`` / ``Không`` (``–`` when unknown)."""
    if is_missing(value):
        return MISSING
    return "Có" if bool(value) else "Không"


def channel_vi(value: object) -> str:
    """The channel code in words."""
    if is_missing(value):
        return "Không rõ"
    key = str(value).strip()
    if key.endswith(".0"):
        key = key[:-2]
    return CHANNEL_VI.get(key, key)


def slugify(text: object) -> str:
    """ASCII file-name slug of a Vietnamese name: ``Phòng Quản lý vận tải`` → ``phong-quan-ly-van-tai``."""
    if is_missing(text):
        return "khong-ro"
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-") or "x"


def nfc(text: object) -> str:
    """Text in Unicode NFC (exports may arrive NFD); empty for missing."""
    return "" if is_missing(text) else unicodedata.normalize("NFC", str(text))
