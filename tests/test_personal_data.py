"""Personal data planted in every free-text path of an export (DESIGN §8, Decree 13/2023/NĐ-CP) reaches
no warehouse table, no file of the Parquet raw layer, no log line and no report file of a nightly run:
applicant columns, a status text, a note row, an unknown column, a date cell, the file and folder names."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from pathlib import Path

import duckdb
import pytest

from pipeline import flows
from pipeline.settings import load_settings

NAME, PHONE, CCCD, EMAIL = "Trần Thị Bích Ngọc", "0912345678", "079123456789", "bichngoc.tran@example.vn"
OTHER_PHONE = "0987.654.321"
THIRD_PERSON = "Đỗ Quang Vinh"  # named in a notes column ("Ghi chú": kept nowhere), without a form of address
MARKERS = (NAME, PHONE, CCCD, EMAIL, "0987654321", OTHER_PHONE, THIRD_PERSON)
HEADER = ["Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Đơn vị xử lý", "Hình thức nộp", "Ngày tiếp nhận", "Ngày hẹn trả",
          "Ngày kết thúc xử lý", "Trạng thái", "Chủ hồ sơ", "Số điện thoại", "Số CCCD", "Ghi chú nội bộ", "Ghi chú"]


def row(case_id, received, due, finished="", status="Đang xử lý", note="", remark=""):
    return [case_id, "1.002835", "Cấp giấy phép lái xe quốc tế", "Phòng Quản lý vận tải", "Trực tuyến", received, due,
            finished, status, NAME, PHONE, CCCD, note, remark]


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


class Collected(logging.Handler):
    """Every log record of a run, formatted with its logger and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def captured_logs():
    """The log records (every level, every logger reaching the root, Prefect's run loggers included) and the
    stdout / stderr text of what runs inside; yields the list the lines go to."""
    handler, root, out = Collected(), logging.getLogger(), io.StringIO()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield handler.lines
    finally:
        root.setLevel(level)
        root.removeHandler(handler)
        handler.lines.append(out.getvalue())


@pytest.fixture(scope="module")
def run_and_logs(tmp_path_factory):
    """The nightly run over the planted export, and every line it logged."""
    root = tmp_path_factory.mktemp("pii")
    folder = root / "raw" / f"2025-03-28 hồ sơ của bà {NAME}"
    folder.mkdir(parents=True)
    rows = [
        row("TT-0001", "03/03/2025 08:00", "10/03/2025 08:00", "06/03/2025 10:00", "Đã trả kết quả"),
        row("TT-0002", "04/03/2025 09:00", "11/03/2025 09:00", status=f"Đang xử lý - đã gọi {PHONE}",
            note=f"liên hệ {EMAIL}"),
        row("TT-0003", "05/03/2025 09:00", PHONE,  # a phone typed into a date cell: quarantined
            remark=f"{THIRD_PERSON} nhận thay"),
        row("0025030002", "06/03/2025 09:00", "31/02/2025 09:00"),  # a numeric case code, quarantined
        row(PHONE, "07/03/2025 09:00", "31/02/2025 09:00"),  # the applicant's phone typed as the case id
        [f"Ghi chú: bà {NAME}, CCCD {CCCD}, điện thoại {OTHER_PHONE}"] + [""] * (len(HEADER) - 2)
        + [f"gửi {THIRD_PERSON}"],  # a note row
    ]
    path = folder / f"Hồ sơ {NAME} {PHONE}.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of="2025-03-31")
    with captured_logs() as logs:
        summary = flows.run_nightly(settings)
    assert summary.status == "success", summary.reason
    assert summary.rows_loaded == 2 and summary.rows_quarantined == 3  # the note row is skipped as layout
    return settings, "\n".join(logs)


@pytest.fixture(scope="module")
def run(run_and_logs):
    return run_and_logs[0]


def leaks(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def test_no_warehouse_table_holds_planted_personal_data(run):
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        found = []
        for schema, table in tables:
            for values in con.execute(f'select * from "{schema}"."{table}"').fetchall():
                text = " | ".join(str(v) for v in values if v is not None)
                if leaks(text):
                    found.append((schema, table, leaks(text)))
    finally:
        con.close()
    assert found == []


def test_no_parquet_file_holds_planted_personal_data(run):
    files = list(run.raw_parquet_dir.rglob("*.parquet"))
    assert files
    found = []
    for path in files:
        for values in duckdb.sql("select * from read_parquet($p)", params={"p": str(path)}).fetchall():
            text = " | ".join(str(v) for v in values if v is not None)
            if leaks(text):
                found.append((path.name, leaks(text)))
        if leaks(str(path)):
            found.append((str(path), "in the path"))
    assert found == []


def xlsx_cells(path: Path) -> list[str]:
    """The text of every cell of every sheet of a workbook (and the sheet names)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return [text for sheet in workbook.worksheets for text in (sheet.title, *(
            str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None))]
    finally:
        workbook.close()


def test_no_report_file_holds_planted_personal_data(run):
    found, workbooks = [], 0
    for path in Path(run.reports_dir).rglob("*"):
        readable = path.is_file() and path.suffix in (".html", ".csv", ".js", ".json", ".txt")
        if readable and leaks(path.read_text(encoding="utf-8", errors="replace")):
            found.append(str(path.relative_to(run.reports_dir)))
        if path.is_file() and path.suffix == ".xlsx":
            workbooks += 1
            found += [(str(path.relative_to(run.reports_dir)), cell) for cell in xlsx_cells(path) if leaks(cell)]
        if leaks(str(path)):
            found.append(str(path))
    assert workbooks and found == []


def test_quarantine_names_the_case_and_masks_what_it_shows(run):
    """The phone typed into TT-0003's due date: its case id in clear, the phone masked wherever the row is
    shown, and no applicant column among the row's values."""
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        quarantined = con.execute("select field, raw_value, reason, row_values from ops.quarantine "
                                  "where case_id = 'TT-0003'").fetchall()
    finally:
        con.close()
    assert quarantined == [(
        "due_at", "[đã ẩn]", "due_at: cannot read date '[đã ẩn]'",
        "Mã hồ sơ=TT-0003; Mã TTHC=1.002835; Tên thủ tục=Cấp giấy phép lái xe quốc tế; "
        "Đơn vị xử lý=Phòng Quản lý vận tải; Hình thức nộp=Trực tuyến; Ngày tiếp nhận=05/03/2025 09:00; "
        "Ngày hẹn trả=[đã ẩn]; Trạng thái=Đang xử lý",
    )]


def test_quarantine_shows_numeric_case_ids_and_masks_an_id_that_is_personal_data(run):
    """A clerk finds a quarantined case by its id, even one that looks like a phone or ID number; an id that is
    the row's own applicant phone number is masked."""
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        quarantined = con.execute("select source_row, case_id, row_values from ops.quarantine").fetchall()
    finally:
        con.close()
    by_row = {source_row: (case_id, values) for source_row, case_id, values in quarantined}
    assert by_row[5][0] == "0025030002" and by_row[5][1].startswith("Mã hồ sơ=0025030002; ")
    assert by_row[6][0] == "[đã ẩn]" and by_row[6][1].startswith("Mã hồ sơ=[đã ẩn]; ")


def test_a_notes_column_is_kept_nowhere(run):
    """"Ghi chú" is ignored as free text that is not stored: the third person it names (no form of address, so
    no pattern finds the name) is in no quarantined row's values and no skipped row's text (the other tests
    look for the name in every table, Parquet file, log and report)."""
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        values = con.execute("select row_values from ops.quarantine where case_id = 'TT-0003'").fetchall()
        fate = con.execute("select fate from ops.column_fate where header = 'Ghi chú'").fetchall()
    finally:
        con.close()
    assert values and all("Ghi chú=" not in v for (v,) in values)
    assert fate == [("ignored",)]


def test_logs_of_the_run_that_reads_the_file_hold_no_planted_personal_data(run_and_logs):
    _, logs = run_and_logs
    assert "rows loaded 2, quarantined 3" in logs  # the ingest stage's summary line was captured
    assert leaks(logs) == []


def test_logs_of_the_next_run_hold_no_planted_personal_data(run, capfd, caplog):
    from pipeline.cli import main

    caplog.set_level("DEBUG")
    extra = Path(run.raw_dir) / "2025-03-31" / f"bổ sung {NAME}.csv"
    extra.parent.mkdir(parents=True)
    extra.write_text("not,an,export\n1,2,3\n", encoding="utf-8")  # rejected: its name is logged, masked
    code = main(["run", "--raw", str(run.raw_dir), "--warehouse", str(run.warehouse),
                 "--reports", str(run.reports_dir), "--as-of", "2025-03-31"])
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert code == 0
    assert "rejected" in logs
    assert leaks(logs) == []


@pytest.mark.parametrize("path, shown", [
    ("raw/bổ sung Trần Thị Bích Ngọc.csv", "raw/bổ sung [đã ẩn].csv"),
    ("raw/Nguyen_Van_An_hs.xlsx", "raw/[đã ẩn]_hs.xlsx"),
    ("raw/HS 0912345678.csv", "raw/HS [đã ẩn].csv"),
    ("raw/2025-03-28/ho_so.csv", "raw/2025-03-28/ho_so.csv"),
    ("raw/Phòng Quản lý vận tải/Lê Lợi.csv", "raw/Phòng Quản lý vận tải/Lê Lợi.csv"),  # a street, not a person
    ("raw/x\nINFO forged.csv", "raw/x\\x0aINFO forged.csv"),  # a newline in a name cannot forge a log line
])
def test_file_names_are_masked_and_kept_on_one_line(path, shown):
    from pipeline.ingest.store import masked_path

    assert masked_path(Path(path)) == shown
