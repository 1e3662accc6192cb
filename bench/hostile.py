#!/usr/bin/env python3
"""Hostile exports read through the isolated readers, and what isolation costs on a big CSV.

usage: python bench/hostile.py [--out bench/out/hostile] [--big-csv PATH] [--limit-mb 1536]

Part 1 builds the worst files we know (a 1 GiB shared string in a ~1 MB xlsx, the same with its zip
sizes forged, a zip bomb, a sheet with a cell at XFD1048576, an ODS repeating a million rows, a BIFF
file claiming two billion shared strings, a 200 MB CSV line, a CSV with a million columns, an XML
entity bomb) and reads them through a ReaderPool. Each must be rejected with a one-line reason while
the whole process tree (this process, the forkserver, the workers) stays under --limit-mb: the tree's
resident memory is sampled every 10 ms, and the sum of every process's high-water mark is reported
as an upper bound. Exit status 1 when a file is not rejected or the limit is passed.

Part 2 (with --big-csv) reads the same CSV in this process and in a warm worker and prints both.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from measure import TreeMemory  # noqa: E402


# ----------------------------------------------------------------------------- the worst files
def _streamed_member(path: Path, parts: dict[str, bytes], name: str, head: bytes, block: bytes, times: int, tail: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for part, data in parts.items():
            if part != name:
                archive.writestr(part, data)
        with archive.open(name, "w", force_zip64=True) as handle:
            handle.write(head)
            for _ in range(times):
                handle.write(block)
            handle.write(tail)


def _forge_sizes(path: Path, target: Path, member: bytes) -> None:
    """A copy of a zip whose directory says `member` unpacks to 5,000 bytes (its real size is much larger)."""
    data = bytearray(path.read_bytes())
    for signature, name_len_at, name_at, size_at in ((b"PK\x01\x02", 28, 46, 24), (b"PK\x03\x04", 26, 30, 22)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_len_at)[0]
            if data[at + name_at : at + name_at + length] == member:
                size = struct.unpack_from("<I", data, at + size_at)[0]
                if size not in (0, 0xFFFFFFFF):
                    struct.pack_into("<I", data, at + size_at, 5000)
            at = data.find(signature, at + 4)
    target.write_bytes(bytes(data))


def build_worst_files(out: Path) -> list[Path]:
    """The hostile files of part 1, built in `out` (a few seconds; ~250 MB on disk for the long CSV line)."""
    from fixtures_formats import (
        biff_workbook,
        ods_cell,
        ods_document,
        write_zip,
        xlsx_cells,
        xlsx_parts,
        xml2003_document,
    )

    out.mkdir(parents=True, exist_ok=True)
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái"]
    parts = xlsx_parts(xlsx_cells([header, ["A1", "02/01/2025", "06/01/2025", "Đang xử lý"]]))
    files = []

    path = out / "shared_string_1gib.xlsx"
    if not path.exists():
        _streamed_member(path, parts, "xl/sharedStrings.xml", b'<sst xmlns="x"><si><t>', b"A" * (1 << 20), 1024, b"</t></si></sst>")
    files.append(path)
    forged = out / "shared_string_1gib_forged_sizes.xlsx"
    _forge_sizes(path, forged, b"xl/sharedStrings.xml")
    files.append(forged)
    path = out / "zip_bomb_4gib.xlsx"
    if not path.exists():
        _streamed_member(path, parts, "xl/worksheets/sheet1.xml", b"<worksheet>", b"\0" * (1 << 24), 256, b"</worksheet>")
    files.append(path)
    path = write_zip(out / "cell_at_XFD1048576.xlsx", xlsx_parts(
        xlsx_cells([header]) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', dimension="A1:XFD1048576"))
    files.append(path)
    rows = "<table:table-row>" + ods_cell("Mã hồ sơ") + "</table:table-row>"
    rows += "<table:table-row table:number-rows-repeated='1048575'>" + ods_cell("x", repeat=16384) + "</table:table-row>"
    path = out / "ods_million_rows.ods"
    path.write_bytes(ods_document({"S": rows}))
    files.append(path)
    book = bytearray(biff_workbook([("S", [header, ["A1", "02/01/2025", "06/01/2025", "Đang xử lý"]], [])]))
    at = book.find(b"\xfc\x00")  # the SST record: claim 2,147,483,647 unique strings
    struct.pack_into("<i", book, at + 8, 2**31 - 1)
    path = out / "biff_two_billion_strings.xls"
    path.write_bytes(bytes(book))
    files.append(path)
    path = out / "csv_line_200mb.csv"
    if not path.exists():
        with path.open("wb") as handle:
            handle.write(",".join(header).encode() + b"\n")
            for _ in range(200):
                handle.write(b"x" * (1 << 20))
            handle.write(b"\n")
    files.append(path)
    path = out / "csv_million_columns.csv"
    path.write_text("Mã hồ sơ," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n", encoding="utf-8")
    files.append(path)
    laughs = '<!DOCTYPE W [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"
    document = xml2003_document({"S": "<Row><Cell><Data ss:Type='String'>&j;</Data></Cell></Row>"})
    path = out / "xml_entity_bomb.xml"
    path.write_text(document.replace("<Workbook", laughs + "<Workbook", 1), encoding="utf-8")
    files.append(path)
    return files


# ----------------------------------------------------------------------------- run
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "hostile")
    parser.add_argument("--big-csv", type=Path, default=None)
    parser.add_argument("--limit-mb", type=float, default=1536)
    args = parser.parse_args()

    from pipeline.ingest import FileRejected
    from pipeline.ingest.isolate import ReaderPool
    from pipeline.ingest.readers import read_export
    from pipeline.settings import load_settings

    files = build_worst_files(args.out)
    settings = load_settings(warehouse=args.out / "warehouse" / "tthc.duckdb")
    failures = 0
    start = time.perf_counter()
    with TreeMemory() as memory, ReaderPool(1) as pool:
        for path, outcome in pool.read_many(files, settings):
            ok = isinstance(outcome, FileRejected) and str(outcome).startswith(path.name + ": ")
            failures += not ok
            print(f"{'rejected' if ok else 'NOT REJECTED'}: {outcome if ok else path.name}")
        memory.sample()
    seconds = time.perf_counter() - start
    tree_mb = memory.peak_kb / 1024
    hwm_mb = sum(memory.hwm_kb.values()) / 1024
    print(f"{len(files)} hostile files in {seconds:.1f} s; process tree peak {tree_mb:,.0f} MB sampled, "
          f"{hwm_mb:,.0f} MB summing each process's high-water mark (limit {args.limit_mb:,.0f} MB)")
    failures += hwm_mb > args.limit_mb

    if args.big_csv:
        in_process, isolated, moving = [], [], []
        with ReaderPool(1) as pool:
            pool.read(args.big_csv, settings)  # warm the worker and the page cache
            for _ in range(3):  # alternate, so both see the same machine load
                t = time.perf_counter()
                result = read_export(args.big_csv, settings)
                in_process.append(time.perf_counter() - t)
                rows = result.rows_read
                del result
                t = time.perf_counter()
                result = pool.read(args.big_csv, settings)
                isolated.append(time.perf_counter() - t)
                moving.append(pool.last_timing[1] if pool.last_timing else float("nan"))
                del result
        best_in, best_iso = sorted(in_process)[1], sorted(isolated)[1]
        print(f"isolation on {rows:,} CSV rows (median of 3): in process {best_in:.2f} s, in a warm worker "
              f"{best_iso:.2f} s; moving the result out of the worker {sorted(moving)[1]:.2f} s")
    print(f"TREE_PEAK_KB {int(max(memory.peak_kb, sum(memory.hwm_kb.values())))}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
