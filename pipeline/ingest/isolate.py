"""Exports read in worker processes, so that a crash or abort of a native parser, runaway memory or
a parser that never ends rejects that one file and never stops the run.

`read_isolated(path, settings)` reads one file in a reused worker and returns its ReadResult, or
raises FileRejected with a one-line reason naming the file: "… parser crashed (signal 6, SIGABRT)",
"… exceeded 4,096 MB while reading", "… took longer than 300 s". `ReaderPool.read_many` reads many
files with `settings.read_workers` workers in parallel, yielding results in the order given.

Each worker is forked from a forkserver that has already imported the readers (pandas, pyarrow,
python-calamine, lxml), so a new or replaced worker costs milliseconds, not the ~1 s of a fresh
interpreter. While reading a file a worker runs under an address-space limit (RLIMIT_AS) of its
current size plus `read_memory_mb`; the parent enforces `read_timeout_seconds`. The result comes
back as a pickle (protocol 5) whose array buffers travel out of band through a shared-memory file
the parent maps, so a million-row result is not copied through a pipe.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import mmap
import multiprocessing as mp
import os
import pickle
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .sources import FileRejected

if TYPE_CHECKING:
    from pipeline.settings import Settings

    from .readers import ReadResult

log = logging.getLogger(__name__)

_PRELOAD = ["pipeline.ingest.readers", "pipeline.settings", "pyarrow.csv", "python_calamine", "lxml.etree"]
_INLINE_BYTES = 1 << 20  # results whose buffers are smaller travel inline through the pipe
# A worker whose resident memory grew more than this while reading is replaced by a fresh one (milliseconds,
# from the forkserver): the allocator keeps a big file's memory, and it would sit idle for the rest of the run.
_RETIRE_GROWTH_BYTES = 256 << 20
_FILE_PREFIX = "tthc-read-"


# ----------------------------------------------------------------------------- in the worker
def _statm(field: int) -> int:
    """Bytes of one field of /proc/self/statm (0 size, 1 resident); 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[field]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _address_space() -> int:
    """Bytes of virtual address space this process uses now (VmSize)."""
    return _statm(0)


def _resident() -> int:
    """Bytes of this process's memory resident now (RSS)."""
    return _statm(1)


def _limit_address_space(soft: int, hard: int) -> None:
    """Set RLIMIT_AS where the system allows it (some systems do not enforce or accept it)."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _warm_up() -> None:
    """Start the thread pools and allocators a read uses, so they count in the base size, not the budget."""
    import io

    import pyarrow.csv as pacsv

    pacsv.read_csv(io.BytesIO(b"a,b\n1,2\n" * 1000))


def _shared_dir(size: int) -> str:
    """Where to put a result file: shared memory when it has room, else the temporary folder."""
    shm = "/dev/shm"
    try:
        if os.path.isdir(shm) and shutil.disk_usage(shm).free > 2 * size + (64 << 20):
            return shm
    except OSError:
        pass
    return tempfile.gettempdir()


def _pack(outcome: tuple[str, Any]) -> tuple:
    """An outcome ready to send: small ones inline, a ReadResult's array buffers in a shared file."""
    status, value = outcome
    if status != "ok":
        return outcome
    buffers: list[pickle.PickleBuffer] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        try:
            buffer.raw()
        except BufferError:  # not contiguous: in band
            return True
        buffers.append(buffer)
        return False

    head = pickle.dumps(value, protocol=5, buffer_callback=out_of_band)
    total = sum(b.raw().nbytes for b in buffers)
    if total < _INLINE_BYTES:
        return ("ok-inline", pickle.dumps(value, protocol=5))
    fd, name = tempfile.mkstemp(prefix=f"{_FILE_PREFIX}{os.getpid()}-", suffix=".bin", dir=_shared_dir(total))
    spans = []
    with os.fdopen(fd, "wb") as handle:
        handle.write(head)  # the pickle itself, then its buffers (64-byte aligned)
        position = len(head)
        for buffer in buffers:
            raw = buffer.raw()
            pad = -position % 64
            handle.write(b"\0" * pad)
            position += pad
            spans.append((position, raw.nbytes))
            handle.write(raw)
            position += raw.nbytes
    return ("ok-file", len(head), name, spans)


def _worker_main(conn: Connection, stderr_path: str) -> None:
    """Serve read requests until told to stop; each file read under an address-space limit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)  # native crash messages land where the parent can read them
    os.close(fd)
    from .readers import read_export

    _warm_up()
    base = _address_space()
    base_resident = _resident()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, settings, folder = request
        with contextlib.suppress(OSError):
            os.chdir(folder)  # relative paths (warehouse, salt file) mean what they mean in the parent
        sys.stderr.flush()
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
        budget = int(settings.read_memory_mb) << 20
        limit = _address_space() + budget
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        result = None
        started = time.perf_counter()
        if _address_space():
            _limit_address_space(limit, hard)
        try:
            result = read_export(Path(path), settings)
            outcome: tuple[str, Any] = ("ok", result)
        except FileRejected as error:
            outcome = ("rejected", str(error))
        except MemoryError:
            outcome = ("memory", "")
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001 - any reader failure is this file's rejection
            text = " ".join(str(error).split())[:200]
            outcome = ("error", f"{type(error).__name__}: {text}" if text else type(error).__name__)
        finally:
            _limit_address_space(soft, hard)
        read_seconds = time.perf_counter() - started
        try:
            reply = _pack(outcome)
        except MemoryError:
            reply = ("memory", "")
        del result, outcome  # no gc.collect() here: it scanned every object of pandas and pyarrow, ~0.1 s a file
        # a grown worker is replaced by a fresh one
        retire = _address_space() - base > budget // 2 or _resident() - base_resident > _RETIRE_GROWTH_BYTES
        conn.send((reply[0], (retire, read_seconds), *reply[1:]))
        if retire:
            return


# ----------------------------------------------------------------------------- in the parent
def _context() -> Any:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a worker without it re-running the parent's __main__ (a script, the CLI): it needs only
    the readers, and a script without the `if __name__ == "__main__"` guard would break it."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            if "__spec__" in saved:
                main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


def _unpack(reply: tuple) -> ReadResult:
    status = reply[0]
    if status == "ok-inline":
        return pickle.loads(reply[2])
    _, _, head_length, name, spans = reply
    try:
        with open(name, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            mapped = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY) if size else None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    view = memoryview(mapped) if mapped is not None else memoryview(b"")
    return pickle.loads(view[:head_length], buffers=[view[start : start + length] for start, length in spans])


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Worker:
    """One reader process and its pipe."""

    def __init__(self, ctx: Any) -> None:
        fd, self.stderr_path = tempfile.mkstemp(prefix="tthc-reader-", suffix=".log")
        os.close(fd)
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, self.stderr_path), daemon=True)
        with _without_main():
            self.process.start()
        child.close()
        self.job: tuple[int, Path, float, Settings] | None = None  # (index, path, deadline, settings)
        self.submitted = 0.0

    def alive(self) -> bool:
        return self.process.is_alive()

    def submit(self, index: int, path: Path, settings: Settings) -> None:
        self.submitted = time.monotonic()
        self.job = (index, path, self.submitted + float(settings.read_timeout_seconds), settings)
        self.conn.send((str(path), settings, os.getcwd()))

    def stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - 8192))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        elif self.process.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(self.stderr_path)
        pid = self.process.pid
        for folder in ("/dev/shm", tempfile.gettempdir()):  # result files of a worker killed mid-write
            with contextlib.suppress(OSError):
                for name in os.listdir(folder):
                    if name.startswith(f"{_FILE_PREFIX}{pid}-"):
                        os.unlink(os.path.join(folder, name))


class ReaderPool:
    """Worker processes reading exports in isolation; reuse one pool for many files.

    Not thread-safe: use one pool per thread (read_isolated lends each thread a pool of its own)."""

    def __init__(self, workers: int = 1) -> None:
        self.size = max(1, workers)
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self.last_timing: tuple[float, float] | None = None  # (seconds reading in the worker, seconds moving the result)

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for measuring the memory of the process tree)."""
        return [w.process.pid for w in self._workers if w.alive() and w.process.pid is not None]

    def busy_pids(self) -> list[int]:
        """Process ids of the workers reading a file right now."""
        return [w.process.pid for w in self._workers if w.job is not None and w.alive() and w.process.pid is not None]

    def read(self, path: Path, settings: Settings) -> ReadResult:
        """One export read in a worker; raises FileRejected (one line naming the file)."""
        for _, outcome in self.read_many([path], settings):
            if isinstance(outcome, FileRejected):
                raise outcome
            return outcome
        raise AssertionError("unreachable")

    def read_many(
        self, paths: Iterable[Path], settings: Settings
    ) -> Iterator[tuple[Path, ReadResult | FileRejected]]:
        """(path, ReadResult or FileRejected) for each export, in the order given, read in parallel."""
        paths = [Path(p) for p in paths]
        queue = deque(enumerate(paths))
        finished: dict[int, ReadResult | FileRejected] = {}
        emitted = 0
        while emitted < len(paths):
            for worker in list(self._workers):
                if worker.job is None and not worker.alive():
                    worker.stop(kill=True)
                    self._workers.remove(worker)
            while len(self._workers) < self.size:
                self._workers.append(_Worker(self._ctx))
            for worker in self._workers:
                if worker.job is None and queue:
                    index, path = queue.popleft()
                    try:
                        worker.submit(index, path, settings)
                    except (BrokenPipeError, OSError):
                        worker.job = None
                        queue.appendleft((index, path))
                        worker.stop(kill=True)
            busy = [w for w in self._workers if w.job is not None]
            if busy:
                now = time.monotonic()
                timeout = max(0.0, min(w.job[2] for w in busy if w.job) - now)
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
                for worker in busy:
                    outcome = self._collect(worker, ready)
                    if outcome is not None:
                        assert worker.job is not None
                        finished[worker.job[0]] = outcome
                        worker.job = None
            while emitted in finished:
                yield paths[emitted], finished.pop(emitted)
                emitted += 1

    def _outcome(self, worker: _Worker, path: Path, memory: str, status: str, retire: bool, read_seconds: float,
                 rest: list) -> ReadResult | FileRejected:
        """The worker's reply about a file as its result or its rejection."""
        if status == "rejected":
            return FileRejected(rest[0])
        if status == "memory":
            return FileRejected(memory)
        if status == "error":  # an exception the readers did not turn into a rejection
            return FileRejected(f"{path.name}: reader failed ({rest[0]})")
        try:
            result = _unpack((status, retire, *rest))
        except Exception as error:  # noqa: BLE001 - a result that cannot be rebuilt is this file's failure
            return FileRejected(f"{path.name}: cannot receive the reader's result ({type(error).__name__})")
        result.path = path
        # reading inside the worker, and packing + sending + unpacking the result
        self.last_timing = (read_seconds, time.monotonic() - worker.submitted - read_seconds)
        return result

    def _collect(self, worker: _Worker, ready: set[Any]) -> ReadResult | FileRejected | None:
        """The outcome of the worker's file once known (None while it is still reading)."""
        assert worker.job is not None
        _, path, deadline, settings = worker.job
        memory = f"{path.name}: exceeded {settings.read_memory_mb:,} MB while reading"
        if worker.conn in ready or worker.conn.poll():
            try:
                reply = worker.conn.recv()
            except (EOFError, OSError):
                reply = None
            if reply is not None:
                status, (retire, read_seconds), *rest = reply
                try:
                    return self._outcome(worker, path, memory, status, retire, read_seconds, rest)
                finally:
                    if retire:  # only once its result is received: stopping a worker removes its result files
                        worker.stop()
                        self._workers.remove(worker)
        if worker.process.sentinel in ready or not worker.alive():
            worker.process.join(1)
            code = worker.process.exitcode
            tail = worker.stderr_tail()
            worker.stop(kill=True)
            self._workers.remove(worker)
            log.debug("reader of %s died (exit code %s): %s", path.name, code, tail[-2000:])
            if "memory allocation of" in tail or "MemoryError" in tail or "bad_alloc" in tail:
                return FileRejected(memory)
            if code is not None and code < 0:
                return FileRejected(f"{path.name}: parser crashed (signal {-code}, {_signal_name(-code)})")
            return FileRejected(f"{path.name}: reader process exited with code {code}")
        if time.monotonic() >= deadline:
            worker.stop(kill=True)
            self._workers.remove(worker)
            return FileRejected(f"{path.name}: took longer than {settings.read_timeout_seconds:g} s")
        return None


class _SharedReaders:
    """The process's reader workers for read_isolated: up to ``settings.read_workers`` at once, each used by one
    thread at a time (the ingest stage reads two groups' files side by side on two cores)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._idle: list[ReaderPool] = []
        self._count = 0
        self._registered = False

    def read(self, path: Path, settings: Settings) -> ReadResult:
        pool = self._take(max(1, int(settings.read_workers)))
        try:
            return pool.read(path, settings)
        finally:
            with self._changed:
                self._idle.append(pool)
                self._changed.notify()

    def _take(self, limit: int) -> ReaderPool:
        with self._changed:
            self._changed.wait_for(lambda: self._idle or self._count < limit)
            if self._idle:
                return self._idle.pop()
            self._count += 1
            if not self._registered:
                atexit.register(self.close)
                self._registered = True
        try:
            return ReaderPool(1)
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise

    def close(self) -> None:
        """Stop every idle worker (at exit, or when a test wants a fresh start)."""
        with self._changed:
            pools, self._idle = self._idle, []
            self._count -= len(pools)
        for pool in pools:
            pool.close()


_SHARED = _SharedReaders()


def read_isolated(path: Path, settings: Settings) -> ReadResult:
    """One export read in a reused worker process under the memory and time limits of the settings.

    Returns the ReadResult; raises FileRejected with a one-line reason naming the file when the
    reader rejects it, crashes, exceeds read_memory_mb or takes longer than read_timeout_seconds."""
    return _SHARED.read(path, settings)


def close_idle_readers() -> None:
    """Stop the reader workers read_isolated keeps between files (a new one starts in milliseconds)."""
    _SHARED.close()
