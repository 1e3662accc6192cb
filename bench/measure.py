"""Measuring a process tree: resident memory sampled every 10 ms, and a command's wall time.

The product's readers parse each export in a child process, so a stage's memory is the whole tree's: the
process itself, the reader's forkserver and its workers, a Prefect flow's subprocess.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root: int) -> list[int]:
    """The process and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


class TreeMemory:
    """Samples the resident memory of a process tree (default: this process's); keeps the peak of the tree's
    sum and each process's high-water mark (VmHWM)."""

    def __init__(self, root: int | None = None, interval: float = 0.01) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self.peak_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self) -> None:
        total = 0
        for pid in tree(self.root):
            total += _status_kb(pid, "VmRSS")
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), _status_kb(pid, "VmHWM"))
        self.peak_kb = max(self.peak_kb, total)

    @property
    def peak_mb(self) -> float:
        """The sampled peak of the tree, or the largest single process's high-water mark if that is higher."""
        return max(self.peak_kb, max(self.hwm_kb.values(), default=0)) / 1024

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()


@dataclass
class Measured:
    """One command's wall time, its process tree's peak memory and what it printed."""

    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    returncode: int


def run_measured(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Measured:
    """Run a command to its end, sampling its process tree's memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory(process.pid) as memory:
        stdout, stderr = process.communicate()
    return Measured(time.perf_counter() - start, memory.peak_mb, stdout, stderr, process.returncode)


def folder_mb(path: Path) -> float:
    """Bytes of every file under a folder (hard links counted once), in MB."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for file in Path(path).rglob("*"):
        if file.is_file() and not file.is_symlink():
            stat = file.stat()
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total / 1e6
