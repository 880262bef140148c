"""Progress of a run on the terminal: documents done per stage; silent when not a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class StageProgress:
    """One bar per stage (land, segment, extract), advanced batch by batch."""

    def __init__(self, enabled: bool | None = None, console: Console | None = None) -> None:
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self._bars: dict[str, TaskID] = {}
        self._progress = (
            Progress(
                TextColumn("{task.description:<8}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(),
                console=console,
            )
            if self.enabled
            else None
        )

    def __enter__(self) -> StageProgress:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress:
            self._progress.stop()

    def stage(self, name: str, total: int, unit: str = "documents") -> None:
        """Show a new bar for a stage of `total` items."""
        if self._progress:
            self._bars[name] = self._progress.add_task(name, total=total, unit=unit)

    def advance(self, name: str, done: int) -> None:
        """Count `done` more items of a stage."""
        if self._progress and name in self._bars:
            self._progress.advance(self._bars[name], done)
