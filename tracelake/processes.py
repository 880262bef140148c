"""What every child process of a run shares: it dies with the run, and it may start with
variables of its own in its environment."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


def die_with_parent() -> None:
    """In the child: be killed when the run that started it dies (Linux), so a killed run
    leaves nothing behind still writing into the data dir once the run lock is free.
    Safe between fork and exec (subprocess's preexec_fn): no import, no lock, one C call.
    Elsewhere the child outlives a killed run until it ends by itself."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """os.environ with variables set, for the processes started meanwhile; then as it was."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
