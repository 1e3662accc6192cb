"""Reading in worker processes: a native abort, a crash, runaway memory or time rejects that one file
with a one-line reason naming it, and the next file is read as if nothing happened."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from fixtures_exports import FRAMES, settings_for, write_csv, write_report_xlsx
from fixtures_formats import write_zip, xlsx_cells, xlsx_parts

from pipeline.ingest import FileRejected, read_export
from pipeline.ingest.isolate import ReaderPool, read_isolated

HEADER = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"]


def many_rows(n: int) -> list[list[str]]:
    return [[f"H55-{i:07d}", "02/01/2025 08:00", "06/01/2025 17:00", "Đang xử lý", f"Phòng {i % 7}"] for i in range(n)]


@pytest.fixture(scope="module")
def pool():
    with ReaderPool(1) as readers:
        yield readers


def assert_same(a, b) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.findings, b.findings)
    assert (a.kind, a.file_format, a.layout, a.rows_read) == (b.kind, b.file_format, b.layout, b.rows_read)


def test_isolated_read_gives_the_same_result(tmp_path):
    write_report_xlsx(tmp_path / "r.xlsx")
    settings = settings_for(tmp_path)
    assert_same(read_isolated(tmp_path / "r.xlsx", settings), read_export(tmp_path / "r.xlsx", settings))


def test_a_large_result_comes_back_out_of_band_and_is_writable(tmp_path, pool):
    path = write_csv(tmp_path / "lon.csv", HEADER, many_rows(40_000))
    settings = settings_for(tmp_path)
    result = pool.read(path, settings)
    assert_same(result, read_export(path, settings))
    result.cases.loc[0, "unit"] = "đổi được"  # the parent owns writable frames
    result.cases["source_row"] += 1
    assert result.cases.loc[0, "unit"] == "đổi được" and result.cases.loc[0, "source_row"] == 3


def test_a_native_abort_rejects_that_file_only(tmp_path, pool):
    # limits opened wide so python-calamine itself meets a cell at XFD1048576 and asks for 512 GB
    settings = settings_for(tmp_path, max_columns=20_000, max_rows=2_000_000, max_cells=10**13, read_memory_mb=2048)
    far = write_zip(tmp_path / "far.xlsx", xlsx_parts(xlsx_cells([HEADER]) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))
    good = write_csv(tmp_path / "good.csv", HEADER, many_rows(3))
    outcomes = dict(pool.read_many([far, good, far], settings))
    assert str(outcomes[far]) == "far.xlsx: exceeded 2,048 MB while reading"
    assert outcomes[good].cases["case_id"].tolist() == ["H55-0000000", "H55-0000001", "H55-0000002"]


def test_a_crashing_reader_is_reported_with_its_signal(tmp_path, pool):
    path = write_csv(tmp_path / "crash.csv", HEADER, many_rows(300_000))
    settings = settings_for(tmp_path, read_timeout_seconds=120)

    def crash() -> None:
        deadline = time.monotonic() + 60
        while not pool.busy_pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(pool.busy_pids()[0], signal.SIGSEGV)

    killer = threading.Thread(target=crash)
    killer.start()
    with pytest.raises(FileRejected) as caught:
        pool.read(path, settings)
    killer.join()
    assert str(caught.value) == "crash.csv: parser crashed (signal 11, SIGSEGV)"
    assert pool.read(write_csv(tmp_path / "after.csv", HEADER, many_rows(2)), settings).rows_read == 2


def test_time_and_memory_limits(tmp_path, pool):
    path = write_csv(tmp_path / "cham.csv", HEADER, many_rows(300_000))
    with pytest.raises(FileRejected) as caught:
        pool.read(path, settings_for(tmp_path, read_timeout_seconds=0.05))
    assert str(caught.value) == "cham.csv: took longer than 0.05 s"
    with pytest.raises(FileRejected) as caught:
        pool.read(path, settings_for(tmp_path, read_memory_mb=40))
    assert str(caught.value) == "cham.csv: exceeded 40 MB while reading"
    assert pool.read(path, settings_for(tmp_path)).rows_read == 300_000


def test_parallel_workers_keep_the_order_given(tmp_path):
    paths = [write_csv(tmp_path / f"f{i}.csv", HEADER, many_rows(i + 1)) for i in range(6)]
    (tmp_path / "rong.csv").write_bytes(b"")
    paths.insert(3, tmp_path / "rong.csv")
    with ReaderPool(2) as readers:
        outcomes = list(readers.read_many(paths, settings_for(tmp_path)))
    assert [p for p, _ in outcomes] == paths
    assert str(outcomes[3][1]) == "rong.csv: file is empty"
    assert [o.rows_read for p, o in outcomes if p.name != "rong.csv"] == [1, 2, 3, 4, 5, 6]


def test_relative_paths_mean_the_callers_folder(tmp_path, pool, monkeypatch):
    (tmp_path / "nhan").mkdir()
    write_csv(tmp_path / "nhan" / "x.csv", HEADER, many_rows(2))
    monkeypatch.chdir(tmp_path / "nhan")  # the worker was started in another folder
    result = pool.read(Path("x.csv"), settings_for(tmp_path))
    assert result.path == Path("x.csv") and result.rows_read == 2
