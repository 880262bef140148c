"""Test-only: stop a run at a named point so the crash tests can kill -9 it there.

With TRACELAKE_TEST_PAUSE_AT=<point> a run that reaches `pause_here("<point>")` creates the
file named by TRACELAKE_TEST_PAUSE_MARKER (if set) and sleeps until it is killed. Without the
variable (every real run) `pause_here` does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT = "TRACELAKE_TEST_PAUSE_AT"
MARKER = "TRACELAKE_TEST_PAUSE_MARKER"
MAX_PAUSE_SECONDS = 600


def pause_here(point: str) -> None:
    """Sleep here (at most ten minutes, then fail) when the environment names this point."""
    if os.environ.get(PAUSE_AT) != point:
        return
    if marker := os.environ.get(MARKER):
        Path(marker).write_text(f"{os.getpid()}\n")
    time.sleep(MAX_PAUSE_SECONDS)
    raise RuntimeError(f"{PAUSE_AT}={point}: paused run was never killed")
