"""Which report files were rendered from which inputs, so that a night's render rewrites only what changed.

``reports/.render-manifest.json``::

    {
      "format": 1,
      "code_version": "<sha256 of the report code, templates, assets and library versions>",
      "files": {
        "scorecards/calendar/2025-Q1.html": {"scheme": "calendar", "period": "2025-Q1", "part": "pages",
                                              "fingerprint": "<sha256>"},
        "bieu06/calendar/2025-Q1.xlsx":     {… "part": "pages" …},
        "cases/calendar/2025-Q1.js":        {… "part": "cases" …},
        "cases/calendar/2025-Q1.directive.js": {… "part": "directive" …},
        "cases/calendar/2025-Q1.feedback.js":  {… "part": "feedback" …}
      }
    }

Each period has four parts: ``pages`` (its scorecard, the unit scorecards and the Biểu 06 workbook),
``cases`` (its case-data file), ``directive`` and ``feedback`` (its directive-task and PAKN data files). A
part's fingerprint is a SHA-256 over everything the part shows (see ``render.py``; the pages' includes the
directive and PAKN measures and records they count); a part is rewritten when its fingerprint differs from
the manifest's or one of its files is missing. Files the manifest lists that this render does not produce
are deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

MANIFEST = ".render-manifest.json"
FORMAT = 1
_PACKAGE = Path(__file__).parent
_CODE_FILES = ("*.py", "templates/*.j2", "assets/*")
_SHARED_CODE = ("formatting.py", "periods.py")
_LIBRARIES = ("plotly", "duckdb", "babel", "jinja2", "xlsxwriter")


def code_version() -> str:
    """SHA-256 of the code that shapes the report files: this package, its templates and assets, the shared
    formatting and period modules, and the versions of the libraries that write or hash them."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in _CODE_FILES for p in _PACKAGE.glob(pattern) if p.is_file()})
    files += [_PACKAGE.parent / name for name in _SHARED_CODE]
    for path in files:
        digest.update(path.relative_to(_PACKAGE.parent).as_posix().encode())
        digest.update(path.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


def fingerprint(*parts: object) -> str:
    """SHA-256 of JSON-serialisable parts (dates and other values as their text)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Manifest:
    """The files of the last render and the fingerprints they were made from."""

    files: dict[str, dict] = field(default_factory=dict)
    code_version: str = ""

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The manifest in a reports folder; empty when there is none or it cannot be read."""
        path = Path(folder) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
            return cls()
        return cls(dict(data["files"]), str(data.get("code_version", "")))

    def unchanged(self, folder: Path, paths: list[str], part_fingerprint: str) -> bool:
        """Whether every file of a part is on disk and was made from the same inputs."""
        return all(
            path in self.files and self.files[path].get("fingerprint") == part_fingerprint
            and (Path(folder) / path).is_file()
            for path in paths
        )

    def record(self, paths: list[str], scheme: str, period: str, part: str, part_fingerprint: str) -> None:
        """Note the files of a part and the fingerprint they were made from."""
        for path in paths:
            self.files[path] = {"scheme": scheme, "period": period, "part": part, "fingerprint": part_fingerprint}

    def save(self, folder: Path) -> Path:
        """Write the manifest (atomically)."""
        path = Path(folder) / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps({"format": FORMAT, "code_version": self.code_version,
                                         "files": dict(sorted(self.files.items()))},
                                        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return path
