"""Read the list viewer's data files in tests, following the formats documented in
``pipeline/report/caselists.py`` (cases) and ``pipeline/report/records.py`` (directive tasks, PAKN),
independently of the code that writes them."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np

SLICE_DICTIONARIES = {"unit": "units", "sector": "sectors", "procedure": "procedures", "channel": "channels"}
_ASSIGNMENT = re.compile(r'^\(window\.TTHC_CASES=window\.TTHC_CASES\|\|\{\}\)\[("[^"]+")\]=(.*);\n$', re.S)
_RECORDS = re.compile(r'^\(window\.TTHC_RECORDS=window\.TTHC_RECORDS\|\|\{\}\)\[("[^"]+")\]=(.*);\n$', re.S)
_CONFIG = re.compile(r'<script type="application/json" id="viewer-config">(.*?)</script>', re.S)


def load(path: Path) -> dict:
    """The object a data file assigns to ``window.TTHC_CASES[...]``."""
    match = _ASSIGNMENT.match(path.read_text(encoding="utf-8"))
    assert match, f"{path} is not one assignment to window.TTHC_CASES"
    data = json.loads(match.group(2))
    assert json.loads(match.group(1)) == f"{data['scheme']}/{data['period']}"
    return data


TYPES = {"u8": "<u1", "u16": "<u2", "i32": "<i4", "f64": "<f8"}
NO_TIME = -2147483648


def unpack(column) -> list:
    """A packed column (``{"type", "base64"}``) as a list of Python numbers; a JSON list as it is."""
    if isinstance(column, list):
        return column
    values = np.frombuffer(base64.b64decode(column["base64"]), dtype=TYPES[column["type"]])
    return [int(v) for v in values]


def rows(data: dict) -> list[dict]:
    """Every row as the viewer shows it: code, unit, sector, procedure, channel, times, class, notes."""
    cols = {name: unpack(column) for name, column in data["columns"].items()}
    late = {r: data["late_texts"][t] for r, t in data["late"]}
    notes = {r: data["note_texts"][t] for r, t in data["notes"]}
    out, received = [], 0

    def moment(code):
        if code is None:
            return "–"
        day, minute = divmod(code, 1440)
        return f"{data['days'][day]} {minute // 60:02d}:{minute % 60:02d}"

    for i in range(data["rows"]):
        received += cols["received"][i]
        if "id_text" in cols:
            code = cols["id_text"][i]
        else:
            prefix, digits = data["id_prefixes"][cols["id_prefix"][i] if "id_prefix" in cols else 0]
            code = prefix + str(cols["id_number"][i]).zfill(digits)
        kind = data["kinds"][cols["kind"][i]]
        due, end = (None if v == NO_TIME else v for v in (cols["due"][i], cols["end"][i]))
        out.append({
            "case_id": code,
            "unit": data["units"][cols["unit"][i]][0], "sector": data["sectors"][cols["sector"][i]][0],
            "procedure": data["procedures"][cols["procedure"][i]][0],
            "channel": data["channels"][cols["channel"][i]][0],
            "unit_text": data["units"][cols["unit"][i]][1],
            "procedure_text": data["procedures"][cols["procedure"][i]][1],
            "received": moment(received), "due": moment(None if due is None else received + due),
            "end": moment(None if end is None else received + end),
            "filters": {f for bit, f in enumerate(data["filters"]) if kind[0] & (1 << bit)},
            "class": kind[1], "class_text": kind[2], "apology": kind[3],
            "late": late.get(i, ""), "notes": notes.get(i, ""),
        })
    return out


def load_records(path: Path) -> dict:
    """The object a record data file assigns to ``window.TTHC_RECORDS[...]``."""
    match = _RECORDS.match(path.read_text(encoding="utf-8"))
    assert match, f"{path} is not one assignment to window.TTHC_RECORDS"
    data = json.loads(match.group(2))
    assert json.loads(match.group(1)) == f"{data['kind']}/{data['scheme']}/{data['period']}"
    return data


def viewer_columns(reports: Path, kind: str) -> list[str]:
    """The column headings the viewer shows for a record kind (from the viewer page's configuration)."""
    match = _CONFIG.search((reports / "cases" / "index.html").read_text(encoding="utf-8"))
    return json.loads(match.group(1))["kinds"][kind]["columns"]


def record_rows(data: dict, columns: list[str]) -> list[dict]:
    """Every record as the viewer shows it: its cells by column heading, unit key, filters and class."""
    out = []
    for mask, unit, klass, *cells in data["records"]:
        assert len(cells) == len(columns)
        out.append({"unit": data["units"][unit][0], "unit_text": data["units"][unit][1], "class": klass,
                    "filters": {f for bit, f in enumerate(data["filters"]) if mask & (1 << bit)},
                    "cells": dict(zip(columns, cells, strict=True)), "id": cells[0]})
    return out


_LOADED: dict[tuple, tuple[dict, list[dict]]] = {}


def listed(reports: Path, href_fragment: str) -> list[dict]:
    """The rows the viewer lists for a link's fragment (``[kind=…&]scheme=…&period=…&unit=…&filter=…``)."""
    params = dict(parse_qsl(href_fragment, keep_blank_values=True))
    kind = params.get("kind", "case")
    if kind != "case":
        path = reports / "cases" / params["scheme"] / f"{params['period']}.{kind}.js"
        key = (path, path.stat().st_mtime_ns)
        if key not in _LOADED:
            data = load_records(path)
            assert data["kind"] == kind
            _LOADED[key] = (data, record_rows(data, viewer_columns(reports, kind)))
        selected = [r for r in _LOADED[key][1] if "unit" not in params or r["unit"] == params["unit"]]
        if "filter" in params:
            selected = [r for r in selected if params["filter"] in r["filters"]]
        return selected
    path = reports / "cases" / params["scheme"] / f"{params['period']}.js"
    key = (path, path.stat().st_mtime_ns)
    if key not in _LOADED:
        data = load(path)
        _LOADED[key] = (data, rows(data))
    _, all_rows = _LOADED[key]
    selected = [r for r in all_rows if all(r[name] == params[name] for name in SLICE_DICTIONARIES if name in params)]
    if "filter" in params:
        selected = [r for r in selected if params["filter"] in r["filters"]]
    return selected


def link_target(page: Path, href: str) -> tuple[Path, str]:
    """The viewer page a link opens and its fragment."""
    parts = urlsplit(href)
    return (page.parent / unquote(parts.path)).resolve(), parts.fragment
