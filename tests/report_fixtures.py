"""The report tests' warehouse, built by the real pipeline from exports written in code.

:func:`write_exports` writes, into a raw folder, a one-stop CSV export of about 3,300 deterministic
cases received 01/07/2024–31/03/2025 (with an applicant column the pipeline must drop, three rows
with an impossible date that it must quarantine, and a procedure named
``<script>alert(1)</script>``), a ratings export, and a file it must reject. :func:`build_report_warehouse`
runs ``pipeline.jobs.ingest_and_build`` on them: every mart row comes from the real SQL.

A small unit, ``Thanh tra Sở``, has five hand-written cases in March 2025 whose classes at the end of
Quý I/2025 are derived by hand from DESIGN §4 (see ``HAND_CASES``).

The raw folder also holds the hand-made directive and PAKN exports of ``tests/records_fixtures.py``
(tasks D1–D10 and PAKN P1–P11, February–June 2025; described there), without their two related cases:
judged at the end of Quý I/2025, their figures are labelled by hand in ``tests/test_report_records.py``.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.settings import Settings, load_settings

AS_OF = date(2025, 3, 31)
EXPORTED_AT = datetime(2025, 3, 31, 17, 45)  # the cases export; ratings at 17:50
SCRIPT_NAME = "Cấp giấy phép <script>alert(1)</script> liên vận"
APPLICANT = "Nguyễn Văn Bí Mật"

UNITS = [
    "Phòng Quản lý vận tải, phương tiện và người lái",
    "Phòng Quản lý kết cấu hạ tầng giao thông",
    "Văn phòng Sở",
]
HAND_UNIT = "Thanh tra Sở"
# code, name, sector, unit, legal limit in calendar days
PROCEDURES = [
    ("1.000250", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "Đường bộ", UNITS[0], 2),
    ("1.002835", "Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "Đào tạo, sát hạch lái xe", UNITS[0], 5),
    ("1.001777", "Cấp giấy phép kinh doanh vận tải bằng xe ô tô", "Đường bộ", UNITS[0], 5),
    ("2.001001", SCRIPT_NAME, "Đường bộ", UNITS[0], 3),
    ("1.004088", "Cấp giấy phép thi công công trình trên đường bộ đang khai thác", "Đường bộ", UNITS[1], 7),
    ("1.003658", "Chấp thuận xây dựng cùng thời điểm với cấp giấy phép thi công", "Đường bộ", UNITS[1], 7),
    ("1.004359", "Đăng ký phương tiện thủy nội địa lần đầu", "Đường thủy nội địa", UNITS[1], 3),
    ("1.010708", "Cấp giấy chứng nhận kiểm định xe cơ giới cải tạo", "Đăng kiểm", UNITS[2], 3),
]
HAND_PROCEDURE = ("9.000001", "Giải quyết kiến nghị về kết quả thanh tra", "Thanh tra", HAND_UNIT, 30)

COLUMNS = [
    "Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Đơn vị xử lý", "Kênh thực hiện", "Ngày tiếp nhận",
    "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả", "Trạng thái", "Ngày yêu cầu bổ sung",
    "Ngày nhận bổ sung", "Ngày xin lỗi", "Ngày hẹn trả mới", "Chủ hồ sơ",
]
CHANNELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}

# Hand-written cases of Thanh tra Sở, all received in March 2025 (working days, working hours), with
# their class at the end of Quý I/2025 (24:00 on 31/03/2025) by DESIGN §4:
HAND_CASES = [
    # ends on 07/03, a calendar day before the due day 10/03: early
    {"case_id": "TT-0001", "channel": 2, "received": "03/03/2025 08:00", "due": "10/03/2025 17:00",
     "finished": "07/03/2025 10:00", "returned": "07/03/2025 15:00", "status": "Đã trả kết quả", "class": "early"},
    # ends on the due day before the due time: on time
    {"case_id": "TT-0002", "channel": 1, "received": "03/03/2025 08:00", "due": "10/03/2025 17:00",
     "finished": "10/03/2025 16:00", "returned": "", "status": "Đã xử lý xong", "class": "on_time"},
    # ends five minutes after the due time, no apology: late
    {"case_id": "TT-0003", "channel": 1, "received": "04/03/2025 08:00", "due": "11/03/2025 17:00",
     "finished": "11/03/2025 17:05", "returned": "12/03/2025 08:00", "status": "Đã trả kết quả", "class": "late"},
    # still being processed, due 12/03: open and overdue at the period end
    {"case_id": "TT-0004", "channel": 1, "received": "05/03/2025 08:00", "due": "12/03/2025 17:00",
     "finished": "", "returned": "", "status": "Đang xử lý", "class": "open_overdue"},
    # still being processed, due 04/04 (after the period end): open in time
    {"case_id": "TT-0005", "channel": 3, "received": "28/03/2025 09:00", "due": "04/04/2025 17:00",
     "finished": "", "returned": "", "status": "Đang xử lý", "class": "open_in_time"},
]
# Rows of the export with an impossible receipt date (31/02): the pipeline quarantines them.
BAD_DATE_ROWS = ["BAD-1", "BAD-2", "BAD-3"]
CASES_FILE = "2025-03-31/hoso_mot_cua_20250331_1745.csv"
RATINGS_FILE = "2025-03-31/danhgia_20250331_1750.csv"
REJECTED_FILE = "2025-03-31/ghichu_20250331_1755.csv"


def _text(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%d/%m/%Y %H:%M")


def make_cases(count: int = 3300, seed: int = 7) -> list[dict]:
    """Deterministic export rows received 01/07/2024–31/03/2025 (as the export writes them)."""
    rng = random.Random(seed)
    start = datetime(2024, 7, 1, 7, 30)
    span_days = (datetime(2025, 3, 31) - start).days
    rows = []
    for n in range(count):
        code, name, sector, unit, limit = PROCEDURES[rng.choices(range(len(PROCEDURES)),
                                                                  weights=[30, 25, 10, 3, 8, 6, 10, 8])[0]]
        received = start + timedelta(days=rng.randrange(span_days + 1), minutes=rng.randrange(0, 540))
        due = received + timedelta(days=limit)
        roll = rng.random()
        late_share = 0.05 if received < datetime(2025, 1, 1) else 0.07
        if roll < 0.45:
            end = due - timedelta(days=rng.randint(1, max(1, limit)), minutes=rng.randrange(0, 300))
            end = max(end, received + timedelta(hours=1))
        elif roll < 0.45 + late_share:
            end = due + timedelta(minutes=rng.choice([5, 30, 90, 240, 600, 1500, 3000, 9000]))
        else:
            end = due - timedelta(minutes=rng.randrange(0, 240))
            end = max(end, received + timedelta(hours=1))
        if received > datetime(2025, 3, 20) and rng.random() < 0.6:
            end = None  # still open at the as-of date
        elif rng.random() < 0.02:
            end = None  # long-open case, overdue
        if end is not None and end + timedelta(hours=1) > EXPORTED_AT:
            end = None  # not finished when the system exported the list
        paused = rng.choice([0] * 8 + [240, 960]) if end else 0
        returned_only = end is not None and rng.random() < 0.03
        terminal = rng.random()
        status = ("Đang xử lý" if end is None else "Công dân yêu cầu rút hồ sơ" if terminal < 0.02
                  else "Dừng xử lý" if terminal < 0.04 else "Đã trả kết quả")
        late = end is not None and end - timedelta(minutes=paused) > due
        apology = late and rng.random() < 0.7
        if rng.random() < 0.01:
            due += timedelta(days=limit + 3)  # an appointment later than the legal limit allows
        requested = received + timedelta(hours=2) if paused else None
        rows.append({
            "Mã hồ sơ": f"H55.{n + 1:06d}", "Mã TTHC": code, "Tên thủ tục": name, "Lĩnh vực": sector,
            "Đơn vị xử lý": unit, "Kênh thực hiện": CHANNELS[rng.choices([1, 2, 3], weights=[35, 60, 5])[0]],
            "Ngày tiếp nhận": _text(received), "Ngày hẹn trả": _text(due),
            "Ngày kết thúc xử lý": "" if end is None or returned_only else _text(end),
            "Ngày trả kết quả": "" if end is None else _text(end + timedelta(hours=1) if not returned_only else end),
            "Trạng thái": status,
            "Ngày yêu cầu bổ sung": _text(requested),
            "Ngày nhận bổ sung": _text(requested + timedelta(minutes=paused) if requested else None),
            "Ngày xin lỗi": _text(due - timedelta(days=1)) if apology else "",
            "Ngày hẹn trả mới": _text(due + timedelta(days=3)) if apology else "",
            "Chủ hồ sơ": APPLICANT,
        })
    return rows


def hand_rows() -> list[dict]:
    """The export rows of ``HAND_CASES``."""
    code, name, sector, unit, _ = HAND_PROCEDURE
    return [{
        "Mã hồ sơ": c["case_id"], "Mã TTHC": code, "Tên thủ tục": name, "Lĩnh vực": sector, "Đơn vị xử lý": unit,
        "Kênh thực hiện": CHANNELS[c["channel"]], "Ngày tiếp nhận": c["received"], "Ngày hẹn trả": c["due"],
        "Ngày kết thúc xử lý": c["finished"], "Ngày trả kết quả": c["returned"], "Trạng thái": c["status"],
        "Ngày yêu cầu bổ sung": "", "Ngày nhận bổ sung": "", "Ngày xin lỗi": "", "Ngày hẹn trả mới": "",
        "Chủ hồ sơ": APPLICANT,
    } for c in HAND_CASES]


def bad_rows() -> list[dict]:
    """Rows whose receipt date cannot exist (31/02/2025)."""
    return [{**hand_rows()[1], "Mã hồ sơ": case_id, "Ngày tiếp nhận": "31/02/2025 09:00"} for case_id in BAD_DATE_ROWS]


def rating_rows(cases: list[dict]) -> list[list[str]]:
    """Ratings of two in five finished cases: one in 25 unsatisfied, one in 40 neutral, others satisfied."""
    out = []
    finished = [c for c in cases if c["Ngày trả kết quả"] and c["Trạng thái"] == "Đã trả kết quả"]
    for n, case in enumerate(finished):
        if n % 5 not in (0, 2):
            continue
        rated = datetime.strptime(case["Ngày trả kết quả"], "%d/%m/%Y %H:%M") + timedelta(hours=3)
        if rated > EXPORTED_AT:
            continue
        rating = ("Không hài lòng" if n % 25 == 0 else "Bình thường" if n % 40 == 2
                  else "Rất hài lòng" if n % 2 else "Hài lòng")
        out.append([case["Mã hồ sơ"], _text(rated), rating])
    return out


def write_procedures(path: Path) -> Path:
    """The procedure catalogue of the fixture (legal limits in calendar days)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["procedure_code", "procedure_name", "sector_code", "sector", "unit", "limit_amount",
                         "limit_unit"])
        for code, name, sector, unit, limit in [*PROCEDURES, HAND_PROCEDURE]:
            writer.writerow([code, name, "", sector, unit, limit, "calendar_days"])
    return path


def write_exports(raw: Path, cases: list[dict] | None = None) -> list[Path]:
    """The exports of the fixture in a raw folder: cases, ratings, a file the pipeline must reject, and the
    directive and PAKN exports of ``records_fixtures``."""
    from records_fixtures import write_directive_exports, write_feedback_exports

    write_directive_exports(raw)
    write_feedback_exports(raw)
    cases = make_cases() if cases is None else cases
    rows = [*cases, *hand_rows(), *bad_rows()]
    paths = [raw / CASES_FILE, raw / RATINGS_FILE, raw / REJECTED_FILE]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(paths[0], "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with open(paths[1], "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Mã hồ sơ", "Thời gian đánh giá", "Mức độ hài lòng"])
        writer.writerows(rating_rows(cases))
    paths[2].write_text("Ghi chú,Nội dung\n1,Không phải tệp hồ sơ\n", encoding="utf-8")
    return paths


def fixture_settings(base: Path, **overrides) -> Settings:
    """Settings of a fixture build under ``base`` (raw exports, warehouse, reports, catalogue)."""
    return load_settings(raw_dir=base / "raw", warehouse=base / "warehouse" / "tthc.duckdb",
                         reports_dir=base / "reports", procedures_file=write_procedures(base / "procedures.csv"),
                         as_of=AS_OF, **overrides)


def build_report_warehouse(base: Path, cases: list[dict] | None = None) -> Settings:
    """Write the exports under ``base / "raw"`` and build the warehouse with the real pipeline."""
    from pipeline.jobs import ingest_and_build

    settings = fixture_settings(base)
    write_exports(settings.raw_dir, cases)
    ingest_and_build(settings)
    return settings
