"""The demo-export generator: determinism, realistic proportions, the Excel report layout, the JSON and CSV
formats, the snapshot rule, the recorded dirty rows and the next day's delta."""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipeline.demo import generate_demo_exports, write_next_day_delta
from pipeline.settings import load_settings
from pipeline.warehouse.build import legal_due_times
from pipeline.workcal import WorkCalendar

SETTINGS = load_settings()
START, END = date(2025, 1, 1), date(2025, 6, 30)  # six months, Tết 2025 included


def sheet_rows(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def nfc(value) -> str:
    return unicodedata.normalize("NFC", str(value))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    truth = generate_demo_exports(out, SETTINGS, seed=7, start=START, end=END, delta_days=3)
    return out, truth


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    """Three short runs: two with the same seed (one written by worker processes), one with another seed."""
    window = {"start": date(2025, 3, 3), "end": date(2025, 3, 14), "delta_days": 2}
    a, b, c = (tmp_path_factory.mktemp(name) for name in ("a", "b", "c"))
    generate_demo_exports(a, SETTINGS, seed=11, workers=1, **window)
    generate_demo_exports(b, SETTINGS, seed=11, workers=2, **window)
    generate_demo_exports(c, SETTINGS, seed=12, workers=1, **window)
    return a, b, c


def _files(folder: Path, pattern: str) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob(pattern))}


# --- determinism -------------------------------------------------------------------------------------

def test_same_seed_same_bytes_and_cells(small_runs):
    a, b, _ = small_runs
    for pattern in ("*.csv", "*.json"):
        files_a, files_b = _files(a, pattern), _files(b, pattern)
        assert files_a.keys() == files_b.keys() and files_a
        for name, path in files_a.items():
            if name == "_generator_truth.json":
                truth_a, truth_b = json.loads(path.read_text()), json.loads(files_b[name].read_text())
                for volatile in ("elapsed_seconds", "out_dir"):
                    truth_a.pop(volatile), truth_b.pop(volatile)
                assert truth_a == truth_b
            else:
                assert path.read_bytes() == files_b[name].read_bytes(), name
    xlsx_a, xlsx_b = _files(a, "*.xlsx"), _files(b, "*.xlsx")
    assert xlsx_a.keys() == xlsx_b.keys() and len(xlsx_a) >= 8
    for name, path in xlsx_a.items():
        assert sheet_rows(path) == sheet_rows(xlsx_b[name]), name
        assert path.read_bytes() == xlsx_b[name].read_bytes(), name  # the export time is the creation time


def test_other_seed_differs(small_runs):
    a, _, c = small_runs
    assert (a / "_generator_cases.csv").read_bytes() != (c / "_generator_cases.csv").read_bytes()
    json_a, json_c = (next((x / "json").glob("*.json")).read_bytes() for x in (a, c))
    assert json_a != json_c


# --- proportions -------------------------------------------------------------------------------------

def test_proportions(demo):
    _, truth = demo
    c = truth.counts
    assert 12_000 < c["cases_total"] < 18_000  # about 60,000 per two years
    assert 0.35 <= c["online_share"] <= 0.75
    assert c["online_share_first_quarter"] < c["online_share_last_quarter"]
    assert 0.02 <= c["late_share"] <= 0.05
    assert c["early_share"] > 0.6 and c["on_time"] > 0
    assert c["late_by_minutes"] > 0
    assert 0.003 <= c["dirty_share"] <= 0.008
    assert 0.07 <= c["supplement_share"] <= 0.13 and c["two_supplement_cases"] > 0
    assert 0.005 <= c["withdrawn"] / c["cases_total"] <= 0.02 and 0.005 <= c["stopped"] / c["cases_total"] <= 0.02
    assert c["status_10"] > c["status_9"] > 0
    assert c["open_total"] > 0 and c["open_pending_supplement"] > 0
    assert 0.75 <= c["apology_share"] <= 0.95 and c["apology_timely"] < c["late_with_apology"]
    assert 0.22 <= c["rating_coverage"] <= 0.38
    assert 0.93 <= c["satisfaction_rate"] <= 0.99
    for kind in ("missing_received", "end_before_receipt", "unknown_status", "bad_date", "duplicate_row"):
        assert c[f"dirty_{kind}"] > 0, kind


def test_weekday_pattern_and_tet_lull(demo):
    out, _ = demo
    cases = pd.read_csv(out / "_generator_cases.csv", dtype=str, keep_default_na=False)
    assert cases["case_id"].is_unique
    assert cases["case_id"].str.fullmatch(r"000\.00\.20\.H55-\d{6}-\d{4}").all()
    received = pd.to_datetime(cases["received_at"])
    by_weekday = received.dt.day_of_week.value_counts()
    assert by_weekday[0] == by_weekday.max() and by_weekday.get(6, 0) == 0
    cal = WorkCalendar.from_settings(SETTINGS)
    assert received.map(lambda t: cal.is_working_time(t.to_pydatetime())).all()
    per_day = received.dt.date.value_counts()
    lull = per_day[[d for d in per_day.index if date(2025, 1, 20) <= d <= date(2025, 2, 9)]].mean()
    surge = per_day[[d for d in per_day.index if date(2025, 2, 12) <= d <= date(2025, 3, 4)]].mean()
    assert lull < 0.7 * surge


# --- Excel layout ------------------------------------------------------------------------------------

def test_excel_layout(demo):
    out, _ = demo
    paths = sorted((out / "excel").rglob("*.xlsx"))
    assert len(paths) >= 40
    for path in paths[::9]:
        rows = sheet_rows(path)
        texts = [[nfc(v) for v in row] for row in rows]
        flat = [v for row in texts for v in row if v]
        for title in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND TỈNH QUẢNG NGÃI",
                      "SỞ GIAO THÔNG VẬN TẢI", "DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT", "NGƯỜI LẬP BIỂU",
                      "THỦ TRƯỞNG ĐƠN VỊ"):
            assert title in flat, (path, title)
        assert any(v.startswith("Từ ngày ") and " đến ngày " in v for v in flat)
        assert any(v.startswith("Ngày xuất: ") for v in flat)
        numbers = next(i for i, row in enumerate(texts) if row[0] == "(1)")
        assert texts[numbers] == [f"({k})" for k in range(1, len(texts[numbers]) + 1)]
        header_top, header_bottom = texts[numbers - 2], texts[numbers - 1]
        assert header_top[0] == "STT" and header_bottom[0] == ""
        assert "Chủ hồ sơ" in header_bottom and "Số điện thoại" in header_bottom
        assert {"Ngày tiếp nhận", "Ngày nhận"} & set(header_bottom)
        assert texts[numbers + 1][0].startswith("I. Lĩnh vực ")
        total = next(i for i, row in enumerate(texts) if row[0] == "Tổng cộng")
        data = [row for row in rows[numbers + 1:total] if isinstance(row[0], float)]
        assert rows[total][2] == len(data) > 0
        merged = {str(r) for r in openpyxl.load_workbook(path, read_only=False).active.merged_cells.ranges}
        top = numbers - 1  # 1-based row of the first header row
        assert f"A{top}:A{top + 1}" in merged  # STT spans both header rows
        assert any(r.endswith(str(top)) and r.startswith("H") for r in merged)  # a group header on one row


def test_excel_codes_stay_text_and_dates_are_mixed(demo):
    out, _ = demo
    kinds, codes = set(), set()
    for path in sorted((out / "excel").rglob("*.xlsx")):
        rows = sheet_rows(path)
        numbers = next(i for i, row in enumerate(rows) if row[0] == "(1)")
        header = [nfc(b or t) for t, b in zip(rows[numbers - 2], rows[numbers - 1], strict=True)]
        code_col = header.index("Mã TTHC") if "Mã TTHC" in header else header.index("Mã thủ tục")
        phone_col = header.index("Số điện thoại")
        received_col = header.index("Ngày tiếp nhận") if "Ngày tiếp nhận" in header else header.index("Ngày nhận")
        for row in rows[numbers + 1:]:
            if isinstance(row[0], float):
                assert isinstance(row[code_col], str) and isinstance(row[phone_col], str)
                assert row[phone_col].startswith("0") and len(row[phone_col]) == 10
                codes.add(row[code_col])
                kinds.add(type(row[received_col]).__name__)
    assert "1.000250" in codes and all(len(c.split(".")[1]) == 6 for c in codes)
    assert {"str", "float", "datetime"} <= kinds


# --- JSON, ratings, deltas ---------------------------------------------------------------------------

JSON_KEYS = ["MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "NgayTiepNhan", "NgayHenTra",
             "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo", "DonViXuLy", "ChuHoSo", "SoDienThoai",
             "DanhSachHoSoBoSung"]


def test_sync_json_and_snapshot_rule(demo):
    out, truth = demo
    dirty = {(d.file, d.row) for d in truth.dirty_rows}
    relative = f"json/{next((out / 'json').glob('*.json')).name}"
    objects = json.loads((out / relative).read_text(encoding="utf-8"))
    assert objects and all(list(o) == JSON_KEYS for o in objects)
    exported = truth.export_time.strftime("%Y%m%d%H%M%S")
    assert any(len(o["DanhSachHoSoBoSung"]) == 2 for o in objects)
    for number, o in enumerate(objects, start=1):
        assert o["KenhThucHien"] in (1, 2, 3) and isinstance(o["TrangThaiHoSo"], str)
        if (relative, number) in dirty:
            continue
        assert o["NgayTiepNhan"] <= exported and len(o["NgayTiepNhan"]) == 14
        finished = o["NgayKetThucXuLy"]
        assert (finished == "") == (o["TrangThaiHoSo"] in {"2", "4", "5", "6"})
        assert finished <= exported
        for cycle in o["DanhSachHoSoBoSung"]:
            assert cycle["NgayBoSung"] <= exported
            assert cycle["NgayTiepNhanBoSung"] is None or cycle["NgayTiepNhanBoSung"] <= exported


def test_ratings_csv(demo):
    out, truth = demo
    paths = sorted((out / "ratings").glob("danh_gia_*.csv"))
    assert [p.stem[-7:] for p in paths][:2] == ["2025-01", "2025-02"]
    total = 0
    for path in paths:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
        assert rows[0] == ["Mã hồ sơ", "Thời gian đánh giá", "Mức độ hài lòng"]
        for case_id, rated_at, rating in rows[1:]:
            assert datetime.strptime(rated_at, "%d/%m/%Y %H:%M:%S") <= truth.export_time
            assert rating in {"Rất hài lòng", "Hài lòng", "Bình thường", "Chấp nhận được", "Không hài lòng"}
            assert case_id.startswith("000.00.20.H55-")
        total += len(rows) - 1
    assert total > 1000


def test_delta_files_and_due_dates(demo):
    out, truth = demo
    cal = WorkCalendar.from_settings(SETTINGS)
    procedures = pd.read_csv(SETTINGS.procedures_file, dtype=str).set_index("procedure_code")
    names = set(truth.applicant_names)
    assert [d.isoformat() for d in truth.delta_dates] == ["2025-06-28", "2025-06-29", "2025-06-30"]
    dirty = {(d.file, d.row) for d in truth.dirty_rows}
    written: list[tuple] = []
    for day in truth.delta_dates:
        folder = out / "delta" / day.isoformat()
        for path in folder.glob("*"):
            assert truth.files[str(path.relative_to(out))] > 0  # no empty export is written
        if not (folder / "cases.csv").exists():
            assert day.weekday() >= 5
            continue
        raw = (folder / "cases.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        frame = pd.read_csv(folder / "cases.csv", dtype=str, keep_default_na=False)
        assert list(frame.columns)[:3] == ["Mã hồ sơ", "Mã TTHC", "Tên TTHC"]
        assert set(frame["Chủ hồ sơ"]) <= names
        for line, row in enumerate(frame.itertuples(index=False), start=2):
            if (f"delta/{day.isoformat()}/cases.csv", line) in dirty:
                continue
            # the simulated system gives the first appointment at the legal limit (the warehouse's own rule,
            # whose hand-labelled cases are in test_legal_due.py)
            received = datetime.strptime(row[10], "%d/%m/%Y %H:%M:%S").replace(second=0)
            limit = procedures.loc[row[1]]
            written.append(((received, float(limit["limit_amount"]), limit["limit_unit"]), row[11]))
    assert written
    dues = legal_due_times(cal, [receipt for receipt, _ in written])
    assert [due.strftime("%d/%m/%Y %H:%M:%S") for due in dues] == [text for _, text in written]


def test_dirty_rows_point_at_the_right_rows(demo):
    out, truth = demo
    assert truth.dirty_rows
    cache: dict[str, list] = {}
    for d in truth.dirty_rows:
        path = out / d.file
        if d.file not in cache:
            if path.suffix == ".xlsx":
                cache[d.file] = [[nfc(v) for v in row] for row in sheet_rows(path)]
            elif path.suffix == ".json":
                cache[d.file] = json.loads(path.read_text(encoding="utf-8"))
            else:
                cache[d.file] = path.read_text(encoding="utf-8").split("\n")
        rows = cache[d.file]
        row = rows[d.row - 1]
        text = json.dumps(row, ensure_ascii=False) if isinstance(row, dict | list) else row
        assert d.case_id in text, d
        if d.kind == "duplicate_row":
            assert rows[d.duplicate_of_row - 1] == row
        elif d.value is not None and d.kind != "end_before_receipt":
            assert d.value in text, d
    saved = json.loads((out / "_generator_truth.json").read_text(encoding="utf-8"))
    assert len(saved["dirty_rows"]) == len(truth.dirty_rows)
    assert set(saved["dirty_rows"][0]) >= {"file", "row", "case_id", "kind"}


def test_truth_records_pii(demo):
    out, truth = demo
    assert len(truth.applicant_names) > 1000 and len(truth.applicant_phones) > 10_000
    assert all(len(p) == 10 and p.isdigit() and p.startswith("0") for p in truth.applicant_phones)
    assert all(len(i) == 12 and i.isdigit() for i in truth.applicant_ids)
    assert all(unicodedata.is_normalized("NFC", n) for n in truth.applicant_names)
    assert "applicant" not in (out / "_generator_cases.csv").read_text(encoding="utf-8").split("\n")[0]


def test_next_day_delta(demo):
    out, truth = demo
    folder = write_next_day_delta(out, SETTINGS, seed=7, end=END)
    assert folder == out / "delta" / "2025-07-01"
    frame = pd.read_csv(folder / "cases.csv", dtype=str, keep_default_na=False)
    summary = json.loads((out / "_generator_truth_next_day.json").read_text(encoding="utf-8"))
    json_rows = json.loads(next(folder.glob("*.json")).read_text(encoding="utf-8"))
    assert len(frame) + len(json_rows) == summary["changed_cases"] > 0
    new = frame[frame["Ngày tiếp nhận"].str.startswith("01/07/2025")]
    assert len(new) > 0
    known = set(pd.read_csv(out / "_generator_cases.csv", dtype=str)["case_id"])
    assert not set(new["Mã hồ sơ"]) & known
    # the world continues: a case already known keeps its receipt and appointment
    cases = pd.read_csv(out / "_generator_cases.csv", dtype=str, keep_default_na=False).set_index("case_id")
    old = frame[frame["Mã hồ sơ"].isin(known)]
    for row in old.itertuples(index=False):
        assert datetime.strptime(row[11], "%d/%m/%Y %H:%M:%S") == datetime.fromisoformat(cases.loc[row[0], "due_at"])


def test_catalogue():
    frame = pd.read_csv(SETTINGS.procedures_file, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["procedure_code", "procedure_name", "sector_code", "sector", "unit",
                                   "limit_amount", "limit_unit"]
    assert len(frame) >= 40 and frame["procedure_code"].is_unique
    assert "1.000250" in set(frame["procedure_code"])
    assert frame["unit"].nunique() >= 8
    assert set(frame["limit_unit"]) == {"working_days", "calendar_days", "hours"}
    assert frame["procedure_name"].str.contains(",").any()
    text = SETTINGS.procedures_file.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text)
