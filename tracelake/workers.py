"""The run's worker processes: started once, then shared by land (reading files) and by
segment and extract (a partition each), so that both keep every core busy.

Each worker gets its share of the cores for the thread pools of Polars and of the language
detector, which are sized once, as a process starts: left at a thread per core each, two
workers on 2 cores ran four busy threads and segmented no faster than one process alone.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import multiprocessing.queues
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import ParamSpec, TypeVar

from tracelake.processes import die_with_parent, environment

P = ParamSpec("P")
R = TypeVar("R")

START_SECONDS = 120  # for a worker to start (imports on a busy machine)


def thread_limits(workers: int) -> dict[str, str]:
    """The thread pools' sizes for each of `workers` processes sharing this machine's cores."""
    threads = str(max(1, (os.cpu_count() or 1) // max(workers, 1)))
    return {"POLARS_MAX_THREADS": threads, "RAYON_NUM_THREADS": threads}


def _start(started: multiprocessing.queues.Queue) -> None:
    """A worker's first step: it dies with the run (with the thread that started it), and
    tells the run its process id."""
    die_with_parent()
    started.put(os.getpid())


def warm_segmenting() -> None:
    """Load what a partition needs (the stages' modules, then the language models, about 3 s
    together) before the first partition arrives."""
    from tracelake import segment, stages  # noqa: F401 - imported for their loading

    segment.detect_languages(["Warm-up text: the language models load at the first use."])


_pools: dict[int, ProcessPoolExecutor] = {}
_pids: list[int] = []  # of the workers now started


def pool(workers: int, preload: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    """`workers` processes, started at the first call and kept for the rest of the run. Call
    it first from a thread that lives as long (the flow's): the workers die with that thread.
    spawn: each starts from a clean interpreter, not a copy of this one, whose Polars and
    Prefect threads may hold locks at the moment of a fork, and reads its thread limits as
    it starts. preload: each then runs it, while this thread goes on (a run that expects
    many documents starts them so with warm_segmenting before land)."""
    if workers in _pools:
        return _pools[workers]
    shutdown()  # one pool at a time: another size replaces it
    context = multiprocessing.get_context("spawn")
    started = context.Queue()
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(started,)
    )
    # A process is started at a submit that finds none idle: these start all of them at once,
    # while the limits are set.
    with environment(thread_limits(workers)):
        for _ in range(workers):
            executor.submit(preload or os.getpid)
        _pids[:] = sorted(started.get(timeout=START_SECONDS) for _ in range(workers))
    _pools[workers] = executor
    return executor


def running(workers: int) -> bool:
    """Whether a pool of `workers` processes is started (and not broken or shut down)."""
    return workers in _pools


def submit(workers: int, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """fn(*args) in one of the run's `workers` worker processes."""
    return pool(workers).submit(fn, *args, **kwargs)


def call(workers: int, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args) in one of the run's `workers` worker processes, and its result; here when
    `workers` is 0."""
    if not workers:
        return fn(*args, **kwargs)
    future = submit(workers, fn, *args, **kwargs)
    try:
        return future.result()
    except BaseException as error:  # a stopped run does not wait for it
        future.cancel()
        forget_broken(error)
        raise


def forget_broken(error: BaseException) -> None:
    """After a worker died (BrokenProcessPool), the next call starts new ones."""
    if isinstance(error, BrokenProcessPool):
        shutdown()


def pids() -> list[int]:
    """The process ids of the workers now started."""
    return list(_pids)


def peak_rss_mib() -> int | None:
    """The most memory any of the workers has held (Linux's VmHWM), or None without workers."""
    peaks = []
    for pid in _pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:  # gone, or not Linux
            continue
        peaks += [int(line.split()[1]) // 1024 for line in status.splitlines()
                  if line.startswith("VmHWM:")]  # fmt: skip
    return max(peaks, default=None)


@atexit.register
def shutdown(kill: bool = False) -> None:
    """Stop the workers, without waiting for them; kill: at once, in the middle of their work
    (a run stopped or failed: what they leave half written the next run removes)."""
    if kill:
        for pid in _pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    _pids.clear()
    while _pools:
        _, executor = _pools.popitem()
        executor.shutdown(wait=False, cancel_futures=True)
