"""Fuzz: hundreds of malformed and hostile exports read together with good ones (DESIGN §8.1 "Hostile
files"). Built in code from a fixed seed. Every file ends as a result or a one-line rejection naming
it; no reader crashes, hangs or runs out of memory; every row of the good files is loaded."""

from __future__ import annotations

import codecs
import io
import json
import random
import struct
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from fixtures_exports import (
    CSV_HEADER,
    assert_accounted,
    csv_rows,
    settings_for,
    sync_records,
    to_cp1258,
    write_csv,
    write_json,
    write_report_xlsx,
)
from fixtures_formats import (
    biff_workbook,
    html_export,
    ods_cell,
    ods_document,
    write_zip,
    xlsb_workbook,
    xlsx_cells,
    xlsx_parts,
    xml2003_document,
    xml_cell,
)

from pipeline.ingest import FileRejected
from pipeline.ingest.isolate import ReaderPool

SEED = 20250415
HEADER = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"]
ROWS = [
    ["007891", "02/04/2025 08:15", "06/04/2025 17:00", "Đang giải quyết", "Phòng Đăng kiểm"],
    ["007892", "03/04/2025 09:30", "10/04/2025 17:00", "Chờ bổ sung", "Phòng Quản lý vận tải"],
]
IDS = ["007891", "007892"]


# ----------------------------------------------------------------------------- good files
def good_files(folder: Path) -> dict[str, list[str]]:
    """Good exports of every kind, and the case ids each must load (written by hand)."""
    expected: dict[str, list[str]] = {}
    report = write_report_xlsx(folder / "good_report.xlsx")
    expected["good_report.xlsx"] = ["007891", "H55.25-0002", "H55.25-0010", "H55.25-0011", "H55.25-0012"]
    assert report  # the fixture describes the same file
    write_csv(folder / "good_cases.csv", CSV_HEADER, csv_rows()[:2], delimiter=";", bom=True)
    expected["good_cases.csv"] = ["007891", "007892"]
    write_json(folder / "good_sync.json", sync_records()[:2])
    expected["good_sync.json"] = ["000.00.20.H55-250101-0001", "000.00.20.H55-250101-0002"]
    (folder / "good_web.xls").write_bytes(to_cp1258(html_export()))
    expected["good_web.xls"] = ["007891", "007892", "000123"]
    xml_rows = "<Row>" + "".join(xml_cell(h) for h in HEADER) + "</Row>" + "".join(
        "<Row>" + "".join(xml_cell(v) for v in row) + "</Row>" for row in ROWS
    )
    (folder / "good_2003.xml").write_text(xml2003_document({"Hồ sơ": xml_rows}), encoding="utf-8")
    expected["good_2003.xml"] = IDS
    ods_rows = "<table:table-row>" + "".join(ods_cell(h) for h in HEADER) + "</table:table-row>" + "".join(
        "<table:table-row>" + "".join(ods_cell(v) for v in row) + "</table:table-row>" for row in ROWS
    )
    (folder / "good_calc.ods").write_bytes(ods_document({"Hồ sơ": ods_rows}))
    expected["good_calc.ods"] = IDS
    biff_rows = [HEADER, [ROWS[0][0], datetime(2025, 4, 2, 8, 15), *ROWS[0][2:]], ROWS[1]]
    (folder / "good_biff.xls").write_bytes(biff_workbook([("Hồ sơ", biff_rows, [])]))
    expected["good_biff.xls"] = IDS
    write_zip(folder / "good_inline.xlsx", xlsx_parts(xlsx_cells([HEADER, *ROWS])))
    expected["good_inline.xlsx"] = IDS
    return expected


# ----------------------------------------------------------------------------- hostile files
def _stream_zip(path: Path, name: str, prefix: bytes, filler: bytes, repeat: int, suffix: bytes) -> None:
    """A zip whose member `name` is prefix + filler × repeat + suffix, compressed as it is produced."""
    mode = "a" if path.exists() else "w"
    with (
        zipfile.ZipFile(path, mode, zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(name, "w", force_zip64=True) as handle,
    ):
        handle.write(prefix)
        for _ in range(repeat):
            handle.write(filler)
        handle.write(suffix)


def hostile_files(folder: Path) -> dict[str, str]:
    """Hostile exports and a piece of the reason each must be rejected with."""
    out: dict[str, str] = {}
    parts = xlsx_parts(xlsx_cells([HEADER, *ROWS]))

    # zip bomb: a 1.25 GiB sheet of zeros (declared in the zip directory, refused before inflating)
    bomb = folder / "bomb_sheet.xlsx"
    write_zip(bomb, {k: v for k, v in parts.items() if k != "xl/worksheets/sheet1.xml"})
    _stream_zip(bomb, "xl/worksheets/sheet1.xml", b"<worksheet>", b"\0" * (1 << 24), 80, b"</worksheet>")
    out["bomb_sheet.xlsx"] = "unpacks to 1,280 MB (limit 1,024 MB)"
    # a ~64 MiB shared string (compressed ~1000:1) and the same lying about its size in the zip directory
    sst = folder / "huge_string.xlsx"
    write_zip(sst, {k: v for k, v in parts.items() if k != "xl/sharedStrings.xml"})
    _stream_zip(sst, "xl/sharedStrings.xml", b'<sst xmlns="x"><si><t>', b"A" * (1 << 20), 64, b"</t></si></sst>")
    out["huge_string.xlsx"] = "is compressed"
    out["huge_string_lies.xlsx"] = "cannot open as a workbook"
    data = bytearray(sst.read_bytes())
    lied = 0
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = data.find(signature)
        while at >= 0:
            name_length = struct.unpack_from("<H", data, at + (28 if signature == b"PK\x01\x02" else 26))[0]
            name_at = at + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + name_length] == b"xl/sharedStrings.xml":
                size = struct.unpack_from("<I", data, at + offset)[0]
                if size not in (0, 0xFFFFFFFF):
                    struct.pack_into("<I", data, at + offset, 5000)
                    lied += 1
            at = data.find(signature, at + 4)
    (folder / "huge_string_lies.xlsx").write_bytes(bytes(data))
    # cells far away: python-calamine would allocate 512 GB (the abort that stopped every file)
    far = xlsx_cells([HEADER, *ROWS]) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    write_zip(folder / "far_cell.xlsx", xlsx_parts(far))
    out["far_cell.xlsx"] = "has cells up to column XFD"
    write_zip(folder / "many_rows.xlsx", xlsx_parts(xlsx_cells([HEADER]) + '<row r="9999999"><c r="A9999999"><v>1</v></c></row>'))
    out["many_rows.xlsx"] = "has cells down to row 9,999,999"
    (folder / "far_cell.xlsb").write_bytes(xlsb_workbook([(0, [(0, 1.0)]), (1_048_575, [(16_383, 2.0)])]))
    out["far_cell.xlsb"] = "has cells up to column XFD"
    # ODS: a million repeated rows holding a value, a cell repeated across 16,384 columns
    filled = "<table:table-row table:number-rows-repeated='1048575'>" + ods_cell("x", repeat=1024) + "</table:table-row>"
    (folder / "repeated.ods").write_bytes(ods_document({"S": "<table:table-row>" + ods_cell("Mã hồ sơ") + "</table:table-row>" + filled}))
    out["repeated.ods"] = "spans 1,048,576 rows × 1,024 columns = 1,073,741,824 cells (limit 30,000,000)"
    wide = "<table:table-row>" + ods_cell("x", repeat=16384) + "</table:table-row>"
    (folder / "wide.ods").write_bytes(ods_document({"S": wide}))
    out["wide.ods"] = "has cells up to column XFD"
    # HTML: colspan beyond the column limit, a 2 MB cell
    (folder / "colspan.xls").write_text("<table>" + "<tr><td colspan=1000>a</td><td colspan=1000>b</td></tr>" + "</table>", "utf-8")
    out["colspan.xls"] = "is wider than 1,024 columns"
    (folder / "long_cell.xls").write_text("<table><tr><td>" + "x" * 2_000_000 + "</td></tr></table>", "utf-8")
    out["long_cell.xls"] = "holds a text of more than"
    # Excel 2003 XML: a row index in the billions, an entity bomb, a MergeAcross of 16,383
    (folder / "row_index.xml").write_text(xml2003_document({"S": "<Row ss:Index='1000000000'><Cell/></Row>"}), "utf-8")
    out["row_index.xml"] = "has cells down to row 1,000,000,000"
    laughs = '<!DOCTYPE W [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    ) + "]>"
    bomb_xml = xml2003_document({"S": "<Row><Cell><Data ss:Type='String'>&j;</Data></Cell></Row>"})
    (folder / "laughs.xml").write_text(bomb_xml.replace("<Workbook", laughs + "<Workbook", 1), "utf-8")
    out["laughs.xml"] = "laughs.xml: "
    (folder / "merge_across.xml").write_text(xml2003_document({"S": "<Row><Cell ss:MergeAcross='16383'/></Row>"}), "utf-8")
    out["merge_across.xml"] = "has cells up to column XFD"
    # CSV: a 40 MB line, 5,000 columns, a row count beyond the limit
    with (folder / "long_line.csv").open("wb") as handle:
        handle.write(",".join(HEADER).encode() + b"\n")
        for _ in range(40):
            handle.write(b"x" * (1 << 20))
        handle.write(b"\n")
    out["long_line.csv"] = "line 2 is longer than"
    (folder / "wide.csv").write_text(",".join(["Mã hồ sơ"] + [f"c{i}" for i in range(5000)]) + "\n", "utf-8")
    out["wide.csv"] = "has more than 1,024 fields"
    # JSON: nested a million deep, 5,000 keys
    (folder / "deep.json").write_text("[" * 1_000_000 + "]" * 1_000_000, "utf-8")
    out["deep.json"] = "deep.json: "
    (folder / "keys.json").write_text(json.dumps([{f"k{i}": i for i in range(5000)} | {"MaHoSo": "1"}]), "utf-8")
    out["keys.json"] = "more than 1,024 distinct keys"
    # not exports at all; empty; HTML posing as Excel without a table
    (folder / "empty.xlsx").write_bytes(b"")
    out["empty.xlsx"] = "file is empty"
    (folder / "spaces.csv").write_bytes(b"\xef\xbb\xbf  \r\n  \n")
    out["spaces.csv"] = "file is empty"
    (folder / "no_table.xls").write_bytes(b"<html><head><title>Loi</title></head><body>Phien lam viec het han</body></html>")
    out["no_table.xls"] = "HTML export holds no table"
    (folder / "word.xlsx").write_bytes(_zip_of({"word/document.xml": b"<w/>"}))
    out["word.xlsx"] = "a zip archive without a workbook"
    (folder / "scan.pdf.xls").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    out["scan.pdf.xls"] = "a PDF document"
    (folder / "ole_without_workbook.xls").write_bytes(_ole_without_workbook())
    out["ole_without_workbook.xls"] = "cannot open as a workbook"
    return out


def _zip_of(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _ole_without_workbook() -> bytes:
    from fixtures_formats import ole2_container

    return ole2_container("WordDocument", b"\0" * 4096)


def malformed_files(folder: Path, good: dict[str, list[str]], rng: random.Random) -> list[str]:
    """Truncated, byte-flipped, re-encoded and garbage variants of the good files."""
    names = []
    for name in sorted(good):
        data = (folder / name).read_bytes()
        stem, dot, suffix = name.partition(".")
        cuts = sorted({0, 1, 2, 7, len(data) // 2, len(data) - 1} | {rng.randrange(1, len(data)) for _ in range(8)})
        for i, cut in enumerate(cuts):
            names.append(f"trunc{i:02d}_{name}")
            (folder / names[-1]).write_bytes(data[:cut])
        for i in range(42):
            mutated = bytearray(data)
            for _ in range(rng.choice((1, 1, 2, 4, 16, 64))):
                at = rng.randrange(len(mutated))
                mutated[at] = rng.choice((0, 0xFF, mutated[at] ^ (1 << rng.randrange(8)), rng.randrange(256)))
            names.append(f"flip{i:02d}_{name}")
            (folder / names[-1]).write_bytes(bytes(mutated))
        for i in range(2):  # a block of the file repeated or dropped
            at, size = rng.randrange(len(data)), rng.randrange(1, 512)
            spliced = data[:at] + data[at : at + size] * 3 + data[at:] if i == 0 else data[:at] + data[at + size :]
            names.append(f"splice{i}_{name}")
            (folder / names[-1]).write_bytes(spliced)
    text = ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n"
    for encoding in ("utf-16-le", "utf-16-be", "utf-32", "cp1258", "latin-1"):
        names.append(f"enc_{encoding}.csv")
        try:
            raw = text.encode(encoding)
        except UnicodeEncodeError:
            raw = to_cp1258(text)[::-1]  # a text no decoder reads back as Vietnamese
        (folder / names[-1]).write_bytes(raw)
    names.append("enc_utf16_json.json")
    (folder / names[-1]).write_bytes(codecs.BOM_UTF16_BE + json.dumps(sync_records()[:1], ensure_ascii=False).encode("utf-16-be"))
    for i in range(24):
        names.append(f"garbage{i:02d}.{rng.choice(('xlsx', 'xls', 'csv', 'json', 'ods', 'txt'))}")
        prefix = rng.choice((b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<html>", b"{", b"<?xml "))
        (folder / names[-1]).write_bytes(prefix + rng.randbytes(rng.randrange(1, 20_000)))
    return names


# ----------------------------------------------------------------------------- the run
@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rng = random.Random(SEED)
    good = good_files(folder)
    hostile = hostile_files(folder)
    malformed = malformed_files(folder, good, rng)
    names = sorted(good) + sorted(hostile) + malformed
    rng.shuffle(names)
    settings = settings_for(folder, read_timeout_seconds=60)
    with ReaderPool(2) as pool:
        results = {path.name: outcome for path, outcome in pool.read_many([folder / n for n in names], settings)}
    return good, hostile, malformed, results


def test_enough_files(outcomes):
    good, hostile, malformed, results = outcomes
    assert len(malformed) + len(hostile) >= 500
    assert len(results) == len(good) + len(hostile) + len(malformed)


def test_every_good_row_is_loaded(outcomes):
    good, _, _, results = outcomes
    for name, ids in good.items():
        result = results[name]
        assert not isinstance(result, FileRejected), str(result)
        assert result.cases["case_id"].tolist() == ids, name
        assert_accounted(result)


def test_hostile_files_are_rejected_with_their_reason(outcomes):
    _, hostile, _, results = outcomes
    for name, reason in hostile.items():
        outcome = results[name]
        assert isinstance(outcome, FileRejected), name
        assert reason in str(outcome), (name, str(outcome))


def test_no_crash_hang_or_memory_blowup_and_one_line_reasons(outcomes):
    _, _, _, results = outcomes
    kinds = Counter()
    for name, outcome in results.items():
        if isinstance(outcome, FileRejected):
            message = str(outcome)
            assert message.startswith(f"{name}: ") and "\n" not in message and len(message) < 400, message
            safety_nets = ("parser crashed", "took longer than", "MB while reading", "reader process exited", "reader failed")
            for safety_net in safety_nets:
                assert safety_net not in message, message
            kinds["rejected"] += 1
        else:
            assert_accounted(outcome)
            kinds["loaded"] += 1
    assert kinds["rejected"] > 0 and kinds["loaded"] > 0


def test_the_ingest_stage_takes_the_whole_folder_in_one_run(outcomes, tmp_path_factory):
    """The same folder through the ingest stage the nightly run uses: the good exports are stored with all
    their rows, every other file is rejected with one line naming it, and nothing stops the run."""
    import duckdb

    from pipeline.ingest.stage import run_ingest

    good, hostile, malformed, _ = outcomes
    folder = next(iter(tmp_path_factory.getbasetemp().glob("hostile*")))
    settings = settings_for(tmp_path_factory.mktemp("hostile_stage"), raw_dir=folder, read_timeout_seconds=60)
    result = run_ingest(settings, [folder], "fuzz-run")
    by_name = {o.path.name: o for o in result.outcomes}
    assert set(good) | set(hostile) | set(malformed) <= set(by_name)
    for name in good:
        assert by_name[name].status in ("loaded", "duplicate"), (name, by_name[name].reason)
    stored = duckdb.sql("select case_id from read_parquet($p)",
                        params={"p": str(settings.raw_parquet_dir / "cases" / "*.parquet")}).fetchall()
    assert {case_id for ids in good.values() for case_id in ids} <= {case_id for (case_id,) in stored}
    for name in hostile:
        outcome = by_name[name]
        assert outcome.status == "rejected" and "\n" not in outcome.reason and name in outcome.reason, outcome
    assert len(result.rejected_files) >= len(hostile)
