"""Working-time calendar (DESIGN §7): Vietnamese public holidays, yearly overrides, working sessions.

All times are naive local times in the department's time zone. Working time is measured on a
"working-minute index": the number of working minutes between the calendar's origin and a moment.
Adding working time and counting it between two moments are both differences on that index, which
makes the same arithmetic cheap on whole columns (numpy) and reproducible in SQL (``core.work_day``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path

import holidays as holidays_lib
import numpy as np
import pandas as pd

LIMIT_UNITS = ("working_days", "calendar_days", "hours")


def parse_sessions(text: str) -> tuple[tuple[time, time], ...]:
    """Sessions from 'HH:MM-HH:MM,HH:MM-HH:MM', sorted and checked not to overlap."""
    sessions = []
    for part in text.split(","):
        start_text, end_text = part.strip().split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        if end <= start:
            raise ValueError(f"working session {part!r} ends before it starts")
        sessions.append((start, end))
    sessions.sort()
    for (_, prev_end), (next_start, _) in zip(sessions, sessions[1:], strict=False):
        if next_start < prev_end:
            raise ValueError(f"working sessions overlap: {text!r}")
    return tuple(sessions)


def load_overrides(path: Path | None) -> tuple[set[date], set[date]]:
    """(extra days off, extra working days) from the yearly overrides TOML file."""
    days_off: set[date] = set()
    working: set[date] = set()
    if path is None or not Path(path).exists():
        return days_off, working
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    for year_table in data.get("years", {}).values():
        days_off.update(date.fromisoformat(str(d)) for d in year_table.get("days_off", []))
        working.update(date.fromisoformat(str(d)) for d in year_table.get("working_days", []))
    return days_off, working


def _minute_of_day(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class WorkCalendar:
    """A working-time calendar covering ``first_year``..``last_year`` (inclusive)."""

    sessions: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    country: str = "VN"
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    first_year: int = 2015
    last_year: int = 2035

    @classmethod
    def from_settings(cls, settings, first_year: int = 2015, last_year: int = 2035) -> WorkCalendar:
        """The calendar the settings describe."""
        days_off, working = load_overrides(settings.calendar_overrides_file)
        return cls(
            sessions=parse_sessions(settings.work_sessions),
            weekdays=frozenset(int(d) for d in settings.work_weekdays.split(",") if d.strip()),
            country=settings.holidays_country,
            extra_days_off=frozenset(days_off),
            extra_working_days=frozenset(working),
            first_year=first_year,
            last_year=last_year,
        )

    # --- day level ------------------------------------------------------------------------
    @cached_property
    def _holidays(self) -> holidays_lib.HolidayBase:
        return holidays_lib.country_holidays(self.country, years=range(self.first_year, self.last_year + 1))

    @cached_property
    def _official_working_weekends(self) -> frozenset[date]:
        return frozenset(getattr(self._holidays, "weekend_workdays", set()))

    @cached_property
    def origin(self) -> date:
        return date(self.first_year, 1, 1)

    @cached_property
    def minutes_per_day(self) -> int:
        """Working minutes of a full working day (480 for the default sessions)."""
        return sum(_minute_of_day(end) - _minute_of_day(start) for start, end in self.sessions)

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name for a day, if any (overrides first)."""
        if day in self.extra_days_off:
            return "Nghỉ theo quyết định bổ sung"
        return self._holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether a date is a working day: a working weekday that is not a holiday, or a swapped working day."""
        if day in self.extra_working_days or day in self._official_working_weekends:
            return True
        if day in self.extra_days_off or day in self._holidays:
            return False
        return day.weekday() in self.weekdays

    @cached_property
    def days(self) -> pd.DataFrame:
        """One row per calendar day: date, is_working_day, work_minutes, cum_minutes_before (index origin)."""
        dates = pd.date_range(self.origin, date(self.last_year, 12, 31), freq="D")
        working = np.fromiter((self.is_working_day(d.date()) for d in dates), dtype=bool, count=len(dates))
        minutes = np.where(working, self.minutes_per_day, 0).astype(np.int64)
        cum_before = np.concatenate([[0], np.cumsum(minutes)[:-1]])
        return pd.DataFrame(
            {"day": dates.date, "is_working_day": working, "work_minutes": minutes, "cum_minutes_before": cum_before}
        )

    @cached_property
    def _cum_before(self) -> np.ndarray:
        return self.days["cum_minutes_before"].to_numpy()

    @cached_property
    def _work_minutes(self) -> np.ndarray:
        return self.days["work_minutes"].to_numpy()

    # --- the working-minute index -----------------------------------------------------------
    def _day_offsets(self, moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(day number since origin, minute of day) for datetime64[m] values."""
        origin = np.datetime64(self.origin, "D")
        day_number = (moments.astype("datetime64[D]") - origin).astype(np.int64)
        minute = (moments - moments.astype("datetime64[D]")).astype("timedelta64[m]").astype(np.int64)
        if day_number.size and (day_number.min() < 0 or day_number.max() >= len(self._cum_before)):
            raise ValueError(f"a moment lies outside the calendar's years {self.first_year}–{self.last_year}")
        return day_number, minute

    def working_index(self, moments) -> np.ndarray:
        """Working-minute index of each moment (array-like of datetimes; NaT gives -1)."""
        values = pd.to_datetime(pd.Series(moments)).to_numpy().astype("datetime64[m]")
        missing = np.isnat(values)
        safe = np.where(missing, np.datetime64(self.origin, "m"), values)
        day_number, minute = self._day_offsets(safe)
        in_day = np.zeros_like(minute)
        for start, end in self.sessions:
            s, e = _minute_of_day(start), _minute_of_day(end)
            in_day += np.clip(minute - s, 0, e - s)
        in_day = np.where(self._work_minutes[day_number] > 0, in_day, 0)
        result = self._cum_before[day_number] + in_day
        return np.where(missing, -1, result)

    def moment_at_index(self, indexes) -> np.ndarray:
        """Earliest moment (datetime64[m]) whose working-minute index equals each given index."""
        idx = np.asarray(indexes, dtype=np.int64)
        cum_end = self._cum_before + self._work_minutes
        day_number = np.searchsorted(cum_end, idx, side="left")
        if idx.size and day_number.max() >= len(cum_end):
            raise ValueError(f"a moment lies beyond the calendar's last year {self.last_year}")
        remainder = idx - self._cum_before[day_number]
        minute = np.full_like(idx, _minute_of_day(self.sessions[0][0]))
        left = remainder.copy()
        placed = np.zeros(idx.shape, dtype=bool)
        for start, end in self.sessions:
            s, e = _minute_of_day(start), _minute_of_day(end)
            fits = ~placed & (left <= e - s)
            minute = np.where(fits, s + left, minute)
            placed |= fits
            left = np.where(placed, left, left - (e - s))
        origin = np.datetime64(self.origin, "D")
        return (origin + day_number.astype("timedelta64[D]")).astype("datetime64[m]") + minute.astype("timedelta64[m]")

    # --- scalar helpers ----------------------------------------------------------------------
    def is_working_time(self, moment: datetime) -> bool:
        """Whether a moment falls inside a working session of a working day."""
        if not self.is_working_day(moment.date()):
            return False
        minute = moment.hour * 60 + moment.minute
        return any(_minute_of_day(s) <= minute < _minute_of_day(e) for s, e in self.sessions)

    def next_working_moment(self, moment: datetime) -> datetime:
        """The moment itself if it is working time, else the start of the next working session."""
        if self.is_working_time(moment):
            return moment
        day = moment.date()
        minute = moment.hour * 60 + moment.minute
        while True:
            if self.is_working_day(day):
                for start, _ in self.sessions:
                    if _minute_of_day(start) >= minute:
                        return datetime.combine(day, start)
            day += timedelta(days=1)
            minute = -1

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes from start to end (negative when end is before start)."""
        a, b = self.working_index([start, end])
        return int(b - a)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from start to end (negative when end is before start)."""
        return self.working_minutes_between(start, end) / 60

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start`` (after-hours starts count from the next session)."""
        return self.add_working_hours_many([start], hours)[0]

    # --- column helpers ----------------------------------------------------------------------
    def add_working_hours_many(self, starts: Iterable, hours) -> list[datetime]:
        """``add_working_hours`` over a column; ``hours`` is a scalar or a column."""
        index = self.working_index(list(starts))
        minutes = np.rint(np.asarray(hours, dtype=float) * 60).astype(np.int64)
        return [pd.Timestamp(m).to_pydatetime() for m in self.moment_at_index(index + minutes)]
