"""The run's worker processes (tracelake/workers.py): their share of the cores, their memory,
and their end."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import polars as pl
import pytest

from tracelake import workers


def _threads() -> tuple[int, str | None]:
    return pl.thread_pool_size(), os.environ.get("RAYON_NUM_THREADS")


@pytest.fixture
def two_workers() -> Iterator[ProcessPoolExecutor]:
    yield workers.pool(2)
    workers.shutdown()


def test_each_worker_gets_its_share_of_the_cores(two_workers: ProcessPoolExecutor) -> None:
    share = max(1, (os.cpu_count() or 1) // 2)
    found = {workers.submit(2, _threads).result() for _ in range(4)}
    assert found == {(share, str(share))}


def test_this_process_keeps_its_environment(two_workers: ProcessPoolExecutor) -> None:
    before = dict(os.environ)
    workers.shutdown()
    workers.pool(2)
    assert dict(os.environ) == before


def test_peak_memory_of_the_workers_until_they_stop(two_workers: ProcessPoolExecutor) -> None:
    workers.submit(2, bytes, 64 << 20).result()  # a worker holds 64 MiB for a moment
    peak = workers.peak_rss_mib()
    assert peak is not None and peak >= 64
    workers.shutdown()
    assert workers.peak_rss_mib() is None


def test_a_pool_of_another_size_replaces_the_first(two_workers: ProcessPoolExecutor) -> None:
    first = workers.pool(2)
    assert workers.pool(2) is first
    other = workers.pool(1)
    assert other is not first
    assert workers.submit(1, _threads).result()[0] == os.cpu_count()


def _sleep_once_begun(marker: Path) -> None:
    marker.write_text("begun")
    time.sleep(60)


def test_a_stopped_run_kills_its_busy_workers(
    two_workers: ProcessPoolExecutor, tmp_path: Path
) -> None:
    pids = workers.pids()
    assert len(pids) == 2
    marker = tmp_path / "begun"
    busy = workers.submit(2, _sleep_once_begun, marker)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the worker never began"
        time.sleep(0.05)
    workers.shutdown(kill=True)
    with pytest.raises(BrokenProcessPool):
        busy.result(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids):  # SIGKILL takes a moment to land
        assert time.monotonic() < deadline, "a killed worker is still running"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether the process runs: neither gone nor a zombie waiting to be reaped."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
