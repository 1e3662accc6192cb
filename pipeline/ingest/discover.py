"""Discover: the export files under the raw folder, their content hashes, and which of them to read.

Nothing here opens a file as an export; it only finds files, hashes their bytes and decides which files
stand for which content. The raw folder is walked without following links out of it, names starting
with ``.``, ``_`` or ``~$`` are ignored (hidden files, the demo generator's truth file, Excel lock
files), and identical copies of one content (``x.xlsx`` and ``x.xlsx.bak``) are read once, under the
name that looks most like an export.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

EXPORT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".xml", ".htm", ".html", ".csv", ".tsv", ".txt", ".json",
                   ".jsonl", ".ndjson")
_PATH_DATE = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})(?:[T_ -]?(\d{2})[:h]?(\d{2}))?")
_IGNORED_PREFIXES = (".", "_", "~$")


@dataclass(frozen=True)
class Found:
    """A file under the raw folder, or one that cannot be used as an export (``problem`` says why)."""

    path: Path
    problem: str | None = None


def discover_exports(paths: Iterable[Path]) -> list[Found]:
    """Files under the given files or folders, at any depth, in a stable order.

    A link is followed only when its target stays inside the folder searched; a link leading out of it
    is reported as a problem, never read.
    """
    found: dict[Path, Found] = {}
    for root in (Path(p) for p in paths):
        if root.is_file() or (root.is_symlink() and not root.is_dir()):
            found.setdefault(root, Found(root))
            continue
        top = root.resolve()
        for folder, dirs, files in os.walk(root, followlinks=False):
            base = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith(_IGNORED_PREFIXES))
            for linked in [d for d in dirs if (base / d).is_symlink()]:
                dirs.remove(linked)
                if _inside(base / linked, top):
                    for inner in discover_exports([base / linked]):
                        found.setdefault(inner.path, inner)
                else:
                    found[base / linked] = Found(base / linked, "link to a folder outside the raw folder")
            for name in sorted(files):
                if name.startswith(_IGNORED_PREFIXES):
                    continue
                path = base / name
                if path.is_symlink() and not _inside(path, top):
                    found[path] = Found(path, "link to a file outside the raw folder")
                elif path.is_symlink() and not path.exists():
                    found[path] = Found(path, "broken link")
                else:
                    found.setdefault(path, Found(path))
    return [found[p] for p in sorted(found)]


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preferred(paths: Iterable[Path]) -> list[Path]:
    """Copies of one content, the one to read first: a known export suffix, then the shorter name."""
    return sorted(paths, key=lambda p: (p.suffix.lower() not in EXPORT_SUFFIXES, len(p.name), str(p)))


def export_time_from_path(path: Path) -> datetime | None:
    """An export time written in the file's name or folders (…/2025-01-14/…, …_20250114_1800…)."""
    for part in reversed(path.parts):
        match = _PATH_DATE.search(part)
        if match:
            year, month, day, hour, minute = match.groups()
            try:
                if hour is None:
                    return datetime(int(year), int(month), int(day), 23, 59, 59)
                return datetime(int(year), int(month), int(day), int(hour), int(minute))
            except ValueError:
                continue
    return None
