"""Targets per year: the real targets file (pipeline/config/targets.toml) through pipeline/targets.py, and a 2023
scorecard's objectives strip showing the directive objective with its target.

Seed 004 (Quyết định 2302/QĐ-SGTVT, Mục tiêu chất lượng năm 2023) objective III: "phấn đấu 100% ý kiến chỉ đạo
hoàn thành đúng hạn". Seed 000 (Mục tiêu chất lượng năm 2025) objective 4: "Nghiêm túc xử lý 100% các trường hợp".

The 2023 fixture (written below) holds two tasks of Phòng Quản lý vận tải and two cases, all in February 2023.
Judged at the end of Quý I/2023 (01/04/2023 00:00), by DESIGN §10: T1 (due 17/02, completed 15/02) on time, T2
(due 24/02, completed 03/03) late; no extension, so on either deadline basis 1 of the 2 due tasks was completed on
time: the directive objective (the strict rate) is 50,0%, against ≥ 100%: Không đạt.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from html_dom import parse

from pipeline.settings import load_settings
from pipeline.targets import load_targets, targets_for, targets_frame

CONFIG = Path(__file__).resolve().parents[1] / "pipeline" / "config" / "targets.toml"
SOURCE_2023 = "Quyết định số 2302/QĐ-SGTVT ngày 29/12/2022 của Sở GTVT"
VT = "Phòng Quản lý vận tải, phương tiện và người lái"


def test_the_settings_read_the_versioned_targets_file():
    assert load_settings().targets_file.resolve() == CONFIG


def test_2023_directives_finished_on_time_100_percent():
    config = load_targets(CONFIG)
    target = targets_for(config, 2023)["directive_on_time_rate"]
    assert (target.op, target.value, target.text_vi) == (">=", 1.0, "≥ 100%")
    assert target.met(1.0) and not target.met(0.99)
    # the year's own table (seed 004), not the default
    assert "directive_on_time_rate" in config["years"]["2023"]["targets"]
    rows = targets_frame(config, [2023], [])
    row = rows[rows.measure == "directive_on_time_rate"].iloc[0]
    assert SOURCE_2023 in row.source and row.target_text == "≥ 100%"


def test_2025_pakn_handled_100_percent():
    config = load_targets(CONFIG)
    target = targets_for(config, 2025)["feedback_handled_rate"]
    assert (target.op, target.value, target.text_vi) == (">=", 1.0, "≥ 100%")
    assert "feedback_handled_rate" in config["years"]["2025"]["targets"]
    rows = targets_frame(config, [2025], [])
    assert rows[rows.measure == "feedback_handled_rate"].iloc[0].source.startswith("Mục tiêu chất lượng năm 2025")


def _write_csv(path: Path, lines: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(lines)


@pytest.fixture(scope="module")
def scorecard_2023(tmp_path_factory):
    from pipeline.jobs import ingest_and_build
    from pipeline.report import render_all

    root = tmp_path_factory.mktemp("targets_2023")
    leader = "Phó Chủ tịch UBND tỉnh"
    _write_csv(root / "raw" / "nhiem_vu" / "giao_viec_2023-06-30.csv", [
        ["ID", "Tên nhiệm vụ", "Ngày tạo", "Người giao việc", "Đơn vị chủ trì", "Đơn vị phối hợp",
         "Thời hạn hoàn thành", "Tình trạng", "Ngày hoàn thành"],
        ["T1", "Báo cáo tình hình vận tải hành khách dịp Tết", "06/02/2023", leader, VT, "", "17/02/2023",
         "Đã hoàn thành trong hạn", "15/02/2023 10:00"],
        ["T2", "Rà soát các tuyến vận tải khách cố định", "08/02/2023", leader, VT, "", "24/02/2023",
         "Đã hoàn thành quá hạn", "03/03/2023 10:00"],
    ])
    _write_csv(root / "raw" / "ho_so" / "ho_so_2023-06-30.csv", [
        ["Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Đơn vị xử lý", "Hình thức nộp", "Ngày tiếp nhận",
         "Ngày hẹn trả", "Ngày kết thúc xử lý", "Trạng thái"],
        ["000.00.20.H55-230206-0001", "1.002835", "Cấp giấy phép lái xe quốc tế", "Giấy phép lái xe", VT,
         "Trực tuyến", "06/02/2023 08:00", "13/02/2023 08:00", "09/02/2023 10:00", "Đã trả kết quả"],
        ["000.00.20.H55-230213-0002", "1.002835", "Cấp giấy phép lái xe quốc tế", "Giấy phép lái xe", VT,
         "Trực tiếp", "13/02/2023 08:00", "20/02/2023 08:00", "16/02/2023 10:00", "Đã trả kết quả"],
    ])
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "w" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of="2023-06-30")
    result = ingest_and_build(settings)
    assert not result.rejected_files, [o.reason for o in result.rejected_files]
    render_all(settings, grains=["quarter"])
    return parse(settings.reports_dir / "scorecards" / "calendar" / "2023-Q1.html")


def test_a_2023_strip_shows_the_directive_objective_and_its_target(scorecard_2023):
    tile = scorecard_2023.find("div", cls="tiles").find("article", cls="tile", data_measure="directive_on_time_rate")
    assert tile.attrs["data-kind"] == "directive"
    assert tile.find("h3").clean_text() == "Ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn"
    assert tile.find("p", cls="value").clean_text() == "50,0%"
    assert tile.find("p", cls="target").clean_text() == "Mục tiêu: ≥ 100%"
    assert tile.find("span", cls="verdict").clean_text() == "✗ Không đạt"
    assert [a.clean_text() for a in tile.find("p", cls="detail").find_all("a", cls="n")] == ["1", "2"]
    summary = scorecard_2023.find("div", cls="summary")
    assert "Ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn" in summary.find("p", cls="missed").clean_text()
    assert f"Mục tiêu năm 2023 (nguồn: {SOURCE_2023}" in summary.clean_text()
