"""Reporting periods (DESIGN §5): months, quarters, halves and years in two schemes.

``calendar``: ordinary calendar periods. ``official``: the cut-off of the reporting regime
(Decree 09/2019/NĐ-CP): a month runs from the 15th of the previous month to the 14th, a quarter
from the 15th of the month before it to the 14th of its last month, a year from 15/12 to 14/12.
Labels are the same in both schemes: ``2025-01``, ``2025-Q1``, ``2025-H1``, ``2025``.
A period ends at 24:00 of its last day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd

from pipeline.formatting import fmt_dates_range

SCHEMES = ("calendar", "official")
GRAINS = ("month", "quarter", "half", "year")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

_LABEL = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])|H(?P<half>[12])))?$")


@dataclass(frozen=True)
class Period:
    """One reporting period: its scheme, grain, label and first and last days (inclusive)."""

    scheme: str
    grain: str
    label: str
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        """The period's first moment (00:00 of its first day)."""
        return datetime.combine(self.first_day, time())

    @property
    def end(self) -> datetime:
        """The period's end: 24:00 of its last day, i.e. 00:00 of the next day."""
        return datetime.combine(self.last_day + timedelta(days=1), time())

    @property
    def dates_text(self) -> str:
        """'Từ ngày 01/01/2025 đến ngày 31/03/2025'."""
        return fmt_dates_range(self.first_day, self.last_day)

    @property
    def name_vi(self) -> str:
        """Vietnamese name: 'Tháng 01/2025', 'Quý I/2025', '6 tháng đầu năm 2025', 'Năm 2025'."""
        year = self.label[:4]
        if self.grain == "month":
            return f"Tháng {self.label[5:7]}/{year}"
        if self.grain == "quarter":
            return f"Quý {ROMAN[int(self.label[-1])]}/{year}"
        if self.grain == "half":
            return f"6 tháng {'đầu' if self.label.endswith('1') else 'cuối'} năm {year}"
        return f"Năm {year}"

    def previous(self) -> Period:
        """The period of the same grain and scheme just before this one."""
        return period_containing(self.first_day - timedelta(days=1), self.grain, self.scheme)


def _calendar_bounds(year: int, first_month: int, months: int) -> tuple[date, date]:
    first = date(year, first_month, 1)
    end_month = first_month + months
    after = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def _official_bounds(year: int, first_month: int, months: int) -> tuple[date, date]:
    start_month = first_month - 1
    first = date(year, start_month, 15) if start_month >= 1 else date(year - 1, 12, 15)
    last_month = first_month + months - 1
    return first, date(year, last_month, 14)


def parse_period(label: str, scheme: str = "calendar") -> Period:
    """The period a label names in a scheme; ValueError for a malformed label or unknown scheme."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown period scheme {scheme!r}; use calendar or official")
    match = _LABEL.match(label.strip())
    if not match:
        raise ValueError(f"period {label!r} is not like 2025-01, 2025-Q1, 2025-H1 or 2025")
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"period {label!r}: month must be 01..12")
        grain, first_month, months = "month", month, 1
    elif match["quarter"]:
        grain, first_month, months = "quarter", 3 * int(match["quarter"]) - 2, 3
    elif match["half"]:
        grain, first_month, months = "half", 6 * int(match["half"]) - 5, 6
    else:
        grain, first_month, months = "year", 1, 12
    bounds = _calendar_bounds if scheme == "calendar" else _official_bounds
    first, last = bounds(year, first_month, months)
    return Period(scheme, grain, label.strip(), first, last)


def label_for(day: date, grain: str, scheme: str) -> str:
    """The label of the period of a grain containing a day."""
    year, month = day.year, day.month
    if scheme == "official" and day.day >= 15:
        month += 1
        if month == 13:
            year, month = year + 1, 1
    if grain == "month":
        return f"{year}-{month:02d}"
    if grain == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    if grain == "half":
        return f"{year}-H{(month - 1) // 6 + 1}"
    return f"{year}"


def period_containing(day: date, grain: str, scheme: str) -> Period:
    """The period of a grain and scheme that contains a day."""
    return parse_period(label_for(day, grain, scheme), scheme)


def periods_between(first: date, last: date, schemes=SCHEMES, grains=GRAINS) -> list[Period]:
    """Every period of the given schemes and grains that overlaps the days first..last."""
    found: list[Period] = []
    for scheme in schemes:
        for grain in grains:
            period = period_containing(first, grain, scheme)
            while period.first_day <= last:
                found.append(period)
                period = period_containing(period.last_day + timedelta(days=1), grain, scheme)
    return found


def periods_frame(first: date, last: date, as_of: date) -> pd.DataFrame:
    """Table of periods (both schemes, all grains) from first to last, with the moment each is judged at.

    A period that has ended is judged at its own end; the period containing the as-of date at
    the end of the as-of day.
    """
    as_of_end = datetime.combine(as_of + timedelta(days=1), time())
    rows = [
        {
            "period_scheme": p.scheme,
            "grain": p.grain,
            "period": p.label,
            "period_name": p.name_vi,
            "first_day": p.first_day,
            "last_day": p.last_day,
            "period_start": p.start,
            "period_end": p.end,
            "judged_at": min(p.end, as_of_end),
            "is_complete": p.end <= as_of_end,
        }
        for p in periods_between(first, last)
    ]
    return pd.DataFrame(rows)
