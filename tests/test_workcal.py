"""The working-time calendar against real Vietnamese dates (DESIGN §7)."""

from datetime import date, datetime

import pytest

from pipeline.settings import load_settings
from pipeline.workcal import WorkCalendar, load_overrides, parse_sessions


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_settings(load_settings())


def test_tet_2025_is_off(cal):
    assert [cal.is_working_day(date(2025, 1, d)) for d in range(27, 32)] == [False] * 5
    assert cal.is_working_day(date(2025, 1, 24))
    assert cal.is_working_day(date(2025, 2, 3))


def test_swapped_saturday_2025(cal):
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday worked ...
    assert not cal.is_working_day(date(2025, 5, 2))  # ... for Friday 2/5 off
    assert not cal.is_working_day(date(2025, 4, 30)) and not cal.is_working_day(date(2025, 5, 1))


def test_national_day_with_extra_day(cal):
    assert not cal.is_working_day(date(2025, 9, 1)) and not cal.is_working_day(date(2025, 9, 2))
    assert cal.is_working_day(date(2025, 9, 3))
    assert not cal.is_working_day(date(2024, 9, 3))


def test_new_year_on_weekend_is_observed(cal):
    # 1/1/2022 was a Saturday, 1/1/2023 a Sunday: the Monday after is off.
    assert not cal.is_working_day(date(2022, 1, 3))
    assert not cal.is_working_day(date(2023, 1, 2))
    assert cal.is_working_day(date(2022, 1, 4))


def test_receipt_after_hours_starts_next_session(cal):
    assert cal.next_working_moment(datetime(2025, 1, 24, 18, 0)) == datetime(2025, 2, 3, 7, 0)
    assert cal.next_working_moment(datetime(2025, 3, 3, 12, 0)) == datetime(2025, 3, 3, 13, 30)
    # 4 working hours from Friday 18:00 before Tết: Monday 3/2 07:00 + 4 h = 11:00.
    assert cal.add_working_hours(datetime(2025, 1, 24, 18, 0), 4) == datetime(2025, 2, 3, 11, 0)
    # Over the lunch break: 10:00 + 4 h = 16:00 (11:30-13:30 is not worked).
    assert cal.add_working_hours(datetime(2025, 3, 3, 10, 0), 4) == datetime(2025, 3, 3, 16, 0)


def test_working_hours_between(cal):
    assert cal.working_hours_between(datetime(2025, 1, 24, 10, 0), datetime(2025, 2, 3, 9, 0)) == 7.0
    assert cal.working_hours_between(datetime(2025, 3, 3, 7, 0), datetime(2025, 3, 3, 17, 0)) == 8.0
    assert cal.working_hours_between(datetime(2025, 3, 4, 7, 0), datetime(2025, 3, 3, 7, 0)) == -8.0


# The legal time limits (working days, calendar days, hours) are the warehouse's: tests/test_legal_due.py.


def test_is_working_time(cal):
    assert cal.is_working_time(datetime(2025, 3, 3, 7, 0))
    assert not cal.is_working_time(datetime(2025, 3, 3, 12, 0))
    assert not cal.is_working_time(datetime(2025, 3, 3, 17, 0))
    assert not cal.is_working_time(datetime(2025, 3, 8, 9, 0))


def test_overrides_file_and_sessions(tmp_path):
    path = tmp_path / "overrides.toml"
    path.write_text('[years.2025]\ndays_off = [2025-03-03]\nworking_days = ["2025-03-08"]\n', encoding="utf-8")
    days_off, working = load_overrides(path)
    cal = WorkCalendar(sessions=parse_sessions("08:00-12:00"), extra_days_off=frozenset(days_off),
                       extra_working_days=frozenset(working))
    assert not cal.is_working_day(date(2025, 3, 3))
    assert cal.is_working_day(date(2025, 3, 8))
    assert cal.minutes_per_day == 240
    assert cal.add_working_hours(datetime(2025, 3, 7, 9, 0), 4) == datetime(2025, 3, 8, 9, 0)
    with pytest.raises(ValueError):
        parse_sessions("12:00-08:00")
