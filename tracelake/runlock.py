"""One run at a time per data dir: an exclusive flock on <data-dir>/.run.lock for the run.

The kernel drops the lock when its holder dies, even by kill -9, so no stale lock survives a
crash. The lock is re-entrant within a process: `tracelake run` takes it before starting the
flow, and the flow takes it again (runs started by `tracelake serve` only have the latter).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".run.lock"
_held: dict[Path, int] = {}  # data dirs this process holds the lock of, and how many times


class RunLocked(RuntimeError):
    """Another process is running on the same data dir."""


@contextmanager
def run_lock(data_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the data dir's run lock; wait for it, or raise RunLocked at once."""
    key = data_dir.resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = holder_pid(data_dir)
            raise RunLocked(
                f"another run is using {data_dir}"
                + (f" (pid {holder})" if holder else "")
                + "; try again when it ends (or pass --wait)"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]


def holder_pid(data_dir: Path) -> int | None:
    """The pid of the process holding the data dir's lock, or None when no run holds it."""
    path = data_dir / LOCK_FILE
    if not path.exists():
        return None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
