"""The legal time limit (DESIGN §4.7, §7) has one home, the warehouse's SQL (core.case.legal_due_at);
these cases are labelled by hand on the 2025 calendar (Tết 25/01–02/02 with the swapped days, Hùng Kings
day 07/04, 30/04–01/05, and the working Saturday 26/04/2025)."""

from __future__ import annotations

import csv
from datetime import date, datetime

from marts_fixtures import Warehouse

from pipeline.reference import PROCEDURE_COLUMNS
from pipeline.settings import load_settings

LIMITS = {  # procedure code -> (amount, unit)
    "WD1": (1, "working_days"), "WD3": (3, "working_days"), "WD05": (0.5, "working_days"),
    "H8": (8, "hours"), "H4": (4, "hours"), "CD7": (7, "calendar_days"), "CD10": (10, "calendar_days"),
    "CD2": (2, "calendar_days"),
}
# (case, procedure, received, legal due written by hand)
CASES = [
    ("a", "WD3", "2025-03-03 09:00", "2025-03-06 09:00"),   # Monday + 3 working days
    ("b", "H8", "2025-03-03 09:00", "2025-03-04 09:00"),    # 8 working hours = one working day
    ("c", "CD7", "2025-03-03 09:00", "2025-03-10 09:00"),   # calendar days land on a Monday
    ("d", "CD10", "2025-01-20 09:00", "2025-02-03 17:00"),  # 30/01 is Tết: end of the next working day
    ("e", "CD2", "2025-03-03 09:00", "2025-03-05 09:00"),
    ("f", "WD1", "2025-01-24 09:00", "2025-02-03 09:00"),   # Friday before Tết: next working day is 03/02
    ("g", "WD1", "2025-01-24 07:00", "2025-01-24 17:00"),   # a whole working day ends that evening, not next morning
    ("h", "WD1", "2025-04-25 10:00", "2025-04-26 10:00"),   # Saturday 26/04/2025 is a working day
    ("i", "H4", "2025-01-24 18:00", "2025-02-03 11:00"),    # received after hours: counts from the next session
    ("j", "WD05", "2025-03-03 10:00", "2025-03-03 16:00"),  # half a day (4 h): 90 min, lunch, 150 min
    ("k", "H4", "2025-03-03 12:00", "2025-03-04 07:30"),    # at lunch: 13:30-17:00 (3.5 h), then 30 min
]


def test_missing_due_dates_are_computed_from_the_legal_limit(tmp_path):
    catalogue = tmp_path / "procedures.csv"
    with open(catalogue, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROCEDURE_COLUMNS)
        for code, (amount, unit) in LIMITS.items():
            writer.writerow([code, f"Thủ tục {code}", "LV", "Lĩnh vực", "Phòng A", amount, unit])
    w = Warehouse(load_settings(procedures_file=catalogue, as_of=date(2025, 6, 30), warehouse=tmp_path / "w.duckdb"))
    for case_id, code, received, _ in CASES:
        w.case(case_id, received, procedure=code)
    w.case("given", "2025-03-03 09:00", "2025-03-20 17:00", procedure="WD3")
    w.build()
    got = {r.case_id: (r.due_at, r.legal_due_at, r.due_at_source)
           for r in w.query("select case_id, due_at, legal_due_at, due_at_source from core.case").itertuples()}
    for case_id, _, _, expected in CASES:
        moment = datetime.fromisoformat(expected)
        assert got[case_id] == (moment, moment, "computed"), case_id
    # an appointment written in the export is kept; the legal limit is still computed beside it
    assert got["given"] == (datetime(2025, 3, 20, 17), datetime(2025, 3, 6, 9), "export")
    beyond = w.query("select case_id, due_beyond_legal_limit from intermediate.case_facts order by 1")
    assert beyond.set_index("case_id")["due_beyond_legal_limit"].to_dict() == {
        **{case_id: False for case_id, *_ in CASES}, "given": True}
