"""Reporting periods in both schemes (DESIGN §5)."""

from datetime import date, datetime

import pytest

from pipeline.periods import label_for, parse_period, periods_between, periods_frame


@pytest.mark.parametrize(
    ("label", "scheme", "first", "last"),
    [
        ("2025-Q1", "calendar", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025-Q1", "official", date(2024, 12, 15), date(2025, 3, 14)),
        ("2025-01", "official", date(2024, 12, 15), date(2025, 1, 14)),
        ("2025-02", "calendar", date(2025, 2, 1), date(2025, 2, 28)),
        ("2025-H2", "official", date(2025, 6, 15), date(2025, 12, 14)),
        ("2025", "official", date(2024, 12, 15), date(2025, 12, 14)),
        ("2024", "calendar", date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_bounds(label, scheme, first, last):
    period = parse_period(label, scheme)
    assert (period.first_day, period.last_day) == (first, last)


def test_period_ends_at_midnight_and_prints_dates():
    q1 = parse_period("2025-Q1")
    assert q1.end == datetime(2025, 4, 1)
    assert q1.dates_text == "Từ ngày 01/01/2025 đến ngày 31/03/2025"
    assert q1.name_vi == "Quý I/2025"


def test_label_for_official_cutoff():
    assert label_for(date(2024, 12, 15), "quarter", "official") == "2025-Q1"
    assert label_for(date(2024, 12, 14), "quarter", "official") == "2024-Q4"
    assert label_for(date(2024, 12, 20), "year", "official") == "2025"


def test_periods_between_tile_without_gaps():
    months = [p for p in periods_between(date(2024, 11, 1), date(2025, 2, 10), grains=["month"])
              if p.scheme == "official"]
    for before, after in zip(months, months[1:], strict=False):
        assert (after.first_day - before.last_day).days == 1
    assert months[0].label == "2024-11" and months[-1].label == "2025-02"


def test_current_period_judged_at_as_of():
    frame = periods_frame(date(2025, 1, 1), date(2025, 2, 10), as_of=date(2025, 2, 10))
    row = frame[(frame.period == "2025-Q1") & (frame.period_scheme == "calendar")].iloc[0]
    assert row.judged_at == datetime(2025, 2, 11) and not row.is_complete
    january = frame[(frame.period == "2025-01") & (frame.period_scheme == "calendar")].iloc[0]
    assert january.judged_at == datetime(2025, 2, 1) and january.is_complete


def test_bad_labels():
    with pytest.raises(ValueError):
        parse_period("2025-Q5")
    with pytest.raises(ValueError):
        parse_period("2025-13")
    with pytest.raises(ValueError):
        parse_period("2025-Q1", "fiscal")
