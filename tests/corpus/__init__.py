"""A corpus of export layouts of real one-stop systems, built in code (DESIGN §8.1).

Each layout is a small writer function that builds one export in a folder, and the cases in it,
labelled by hand from the rules of DESIGN §4 and §8.1 at the as-of date :data:`AS_OF`: the class each
case has in a calendar month (early / on_time / late / open_in_time / open_overdue) or the reason it is
quarantined, the times ``core.case`` must hold once the date and time columns are combined (and a date
without a time is placed on the working day, §8.1), and the fate of the columns that matter.

Nothing here is computed by the code under test: every expected value is written out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

AS_OF = date(2025, 4, 30)  # periods: 2025-03 ends 01/04 00:00, 2025-04 is judged at 01/05/2025 00:00

# Applicant identity planted in the corpus; no output of the reader may contain any of these.
PLANTED_PII = (
    "Nguyễn Thị Bí Mật", "Trần Văn Kín", "Lê Hoàng Ẩn", "0912345678", "0987 654 321", "079123456789",
    "212345678", "bimat@example.vn", "kin.tran@mail.vn", "45 Hùng Vương, Quảng Ngãi",
)


@dataclass(frozen=True)
class Case:
    """One hand-labelled case of a layout."""

    case_id: str
    expected: str  # early | on_time | late | open_in_time | open_overdue | quarantined
    period: str | None = None  # calendar month whose class is asserted ("2025-03")
    reason: str | None = None  # for quarantined cases: a text the quarantine reason contains
    times: dict[str, datetime] = field(default_factory=dict)  # core.case columns -> the value they must hold
    time_unknown_finding: bool = False  # resolved on the due day with a date-only end (§8.1)
    values: dict[str, object] = field(default_factory=dict)  # other core.case columns (status, unit, …)


@dataclass(frozen=True)
class Layout:
    """One export layout: how to write it, its cases and the fates of its notable columns."""

    name: str
    file_name: str
    write: Callable[[Path], None]
    cases: tuple[Case, ...]
    width: int  # number of columns of the header: each must have a recorded fate
    fates: dict[str, tuple[str, str | None]]  # header as written -> (fate, field)
    findings: tuple[str, ...] = ()  # texts the reader's file findings must contain
    xfail: str | None = None  # why read_export cannot read it yet (the test is xfail strict)


def all_layouts() -> list[Layout]:
    """Every layout of the corpus."""
    from .excel import biff_status_codes, logbook_mau06, logbook_mau07_no_status, report_with_title_rows
    from .text import (
        excel2003_xml,
        html_table_xls,
        national_json,
        split_date_time_csv,
        vendor_csv_time_first,
    )

    return [
        report_with_title_rows(),
        logbook_mau06(),
        vendor_csv_time_first(),
        html_table_xls(),
        excel2003_xml(),
        biff_status_codes(),
        national_json(),
        logbook_mau07_no_status(),
        split_date_time_csv(),
    ]
