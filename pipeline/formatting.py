"""Numbers, percentages and dates as a Vietnamese reader expects them (DESIGN §2): the one place.

``12.345`` (dot groups thousands), ``95,3%`` (comma is the decimal mark), dates ``dd/mm/yyyy``.
The grouping and decimal symbols and the percent pattern come from Babel's ``vi`` locale; rounding
is half-up on the decimal value that is shown. Missing values print as an en dash. Every function
takes ``None``/NaN. Scorecards, Biểu 06, the warning list, e-mails and ``tthc kpi`` all format here.
This module also holds the one rule that makes spreadsheet cells safe (:func:`spreadsheet_safe`).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import format_percent as _babel_percent
from babel.numbers import get_decimal_symbol, get_group_symbol

LOCALE = "vi"
DECIMAL_SYMBOL = get_decimal_symbol(LOCALE)  # ","
GROUP_SYMBOL = get_group_symbol(LOCALE)  # "."
MISSING = "–"

CLASS_VI = {
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "open_in_time": "Đang giải quyết trong hạn",
    "open_overdue": "Đang giải quyết quá hạn",
}
CHANNEL_VI = {"1": "Trực tiếp", "2": "Trực tuyến", "3": "Bưu chính công ích"}
# Classes of directive tasks (mart.directive_timeliness) and PAKN (mart.feedback_timeliness) at a period end.
DIRECTIVE_CLASS_VI = {
    "completed_on_time": "Hoàn thành đúng hạn",
    "completed_late": "Hoàn thành quá hạn",
    "open_in_time": "Đang thực hiện trong hạn",
    "open_overdue": "Đang thực hiện quá hạn",
    "suspended": "Tạm hoãn",
    "no_deadline": "Không có hạn",
}
FEEDBACK_CLASS_VI = {
    "handled_on_time": "Xử lý đúng hạn",
    "handled_late": "Xử lý quá hạn",
    "open_in_time": "Đang xử lý trong hạn",
    "open_overdue": "Đang xử lý quá hạn",
}
FEEDBACK_HANDLING_VI = {"answered": "Trả lời", "refused": "Từ chối tiếp nhận", "more_info": "Yêu cầu bổ sung thông tin"}
DEADLINE_BASIS_VI = {"original": "hạn ban đầu", "extended": "hạn đã gia hạn (nếu có)"}
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
    """``value`` rounded half-up to ``digits`` decimals (on its shortest decimal representation)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def fmt_number(value: object, digits: int = 0) -> str:
    """``12345`` → ``12.345``; ``1234.5`` with one digit → ``1.234,5``."""
    if is_missing(value):
        return MISSING
    shown = _decimal(float(value), digits)
    if shown == 0:
        shown = abs(shown)  # never "-0,0"
    return _locale_decimal(shown, digits)


@functools.lru_cache(maxsize=65536)
def _locale_decimal(shown: Decimal, digits: int) -> str:
    """A decimal already rounded to ``digits`` places, with the locale's symbols (Babel is slow: cached)."""
    return _babel_decimal(shown, format=_pattern(digits), locale=LOCALE)


def fmt_number_short(value: object, digits: int = 1) -> str:
    """Like :func:`fmt_number` without trailing zero decimals: ``3,5``, ``12`` (not ``12,0``)."""
    text = fmt_number(value, digits)
    if DECIMAL_SYMBOL in text:
        text = text.rstrip("0").removesuffix(DECIMAL_SYMBOL)
    return text


def fmt_int(value: object) -> str:
    """A count: ``12.345``."""
    return fmt_number(value, 0)


def fmt_pct(value: object, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.953`` → ``95,3%``.

    A value that is not exactly 1 (or 0) never prints as ``100,0%`` (``0,0%``), so a rate just
    under a 100% target does not look as if it met it: 1999/2000 prints ``99,9%``.
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
    elif shown == 0:
        shown = abs(shown)
    return _babel_percent(shown / 100, format=_pattern(digits) + "%", locale=LOCALE)


def fmt_pct_short(value: object) -> str:
    """A target percentage with no more decimals than it needs: ``1.0`` → ``100%``, ``0.995`` → ``99,5%``."""
    if is_missing(value):
        return MISSING
    for digits in (0, 1, 2):
        if _decimal(float(value) * 100, digits) == _decimal(float(value) * 100, 3):
            return fmt_pct(value, digits)
    return fmt_pct(value, 3)


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


def fmt_decimal(value: object, digits: int = 2) -> str:
    """A score or a mean with fixed decimals: ``12345.678`` → ``12.345,68``."""
    return fmt_number(value, digits)


def plain_decimal(value: object, digits: int = 2) -> str:
    """A number for a machine-readable column (CSV): ``3.50``, no grouping, ``.`` as decimal mark."""
    if is_missing(value):
        return ""
    return f"{_decimal(float(value), digits):f}"


def fmt_date(value: object) -> str:
    """``31/03/2025``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.Timestamp(value)
    return f"{value:%d/%m/%Y}"


def fmt_date_words(value: object) -> str:
    """``ngày 31 tháng 03 năm 2025`` (the date line of an official form)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.Timestamp(value)
    return f"ngày {value:%d} tháng {value:%m} năm {value:%Y}"


def fmt_datetime(value: object, seconds: bool = False) -> str:
    """``31/03/2025 16:45`` (``31/03/2025 16:45:09`` with seconds)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return fmt_date(value)
    return f"{value:%d/%m/%Y %H:%M:%S}" if seconds else f"{value:%d/%m/%Y %H:%M}"


def fmt_stamp(value: object) -> str:
    """A moment that may have been given as a date only: ``31/03/2025`` at midnight, else ``31/03/2025 16:45``."""
    if is_missing(value):
        return MISSING
    moment = pd.Timestamp(value)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return fmt_date(moment)
    return fmt_datetime(moment.to_pydatetime())


def fmt_dates_range(first_day: object, last_day: object) -> str:
    """``Từ ngày 01/01/2025 đến ngày 31/03/2025`` (DESIGN §5)."""
    return f"Từ ngày {fmt_date(first_day)} đến ngày {fmt_date(last_day)}"


def fmt_moment(value: object) -> str:
    """A judging moment: ``24:00 ngày 31/03/2025`` for midnight (the end of the day before), else date and time."""
    if is_missing(value):
        return MISSING
    moment = pd.Timestamp(value).to_pydatetime()
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return f"24:00 ngày {fmt_date(moment - timedelta(days=1))}"
    return fmt_datetime(moment)


def last_day_of_data(judged_at: object) -> date | None:
    """The last day whose data a judging moment includes (a midnight moment closes the day before)."""
    if is_missing(judged_at):
        return None
    moment = pd.Timestamp(judged_at).to_pydatetime()
    return (moment - timedelta(minutes=1)).date() if moment.time() == datetime.min.time() else moment.date()


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


# --- spreadsheet safety (OWASP "CSV injection") -------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


def spreadsheet_safe(value: object) -> object:
    """A cell value that Excel or LibreOffice will not run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single
    quote, as OWASP recommends. Numbers, dates, other text and a plain negative number written as
    text (``-60.00`` in a CSV column of numbers) are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NEGATIVE_NUMBER.fullmatch(value):
        return "'" + value
    return value
