"""The run report: what a run saw, landed, quarantined, built, validated and published."""

from __future__ import annotations

import json
import os
import signal
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MAX_PROBLEM_LINES = 10  # of the terminal summary; the report holds them all


# The stages of a run, in order: a stopped run names the first one it had not finished.
STAGES = (
    "land", "segment_extract", "match_incidents", "validate_lake", "dbt_build",
    "validate_marts", "dbt_docs", "publish",
)  # fmt: skip


class RunStopped(BaseException):
    """A run stopped by a signal (SIGTERM); a BaseException, so no `except Exception` in the
    stages swallows it, as Python's own KeyboardInterrupt for SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class RunReport:
    """One run, as written to <data-dir>/runs/<run_id>.json and runs/latest.json."""

    run_id: str
    started_at: str
    source_dir: str
    data_dir: str
    extractor_version: str
    ended_at: str | None = None
    status: str = "running"  # running | succeeded | failed | stopped
    error: str | None = None
    documents_seen: int = 0
    documents_landed: int = 0
    documents_present: int = 0
    documents_quarantined: list[dict] = field(default_factory=list)
    document_problems: list[dict] = field(default_factory=list)
    documents_processed: int = 0
    # Landed documents the segment or extract code failed on: left pending for the next run.
    documents_failed: list[dict] = field(default_factory=list)
    articles: int = 0
    statistics: int = 0
    entities: int = 0
    stages: dict[str, dict] = field(default_factory=dict)
    validation: dict[str, dict] = field(default_factory=dict)
    marts: dict[str, int] = field(default_factory=dict)
    published: bool = False
    # Nothing new since the published build (same lake, same dbt project and suites): the
    # published warehouse is current, and the run did no dbt work.
    up_to_date: bool = False
    warehouse: str | None = None
    # The lake the run read and wrote, and the version of each of its tables the build read
    # (`tracelake run --lake-version RUN_ID` builds from these again).
    lake: str | None = None
    lake_versions: dict[str, int | None] = field(default_factory=dict)
    matcher_version: str | None = None
    # Rebuilt from the lake as an earlier run's build read it (no land, segment or match).
    rebuilt_from: str | None = None

    @classmethod
    def start(cls, run_id: str, source_dir: Path, data_dir: Path, version: str) -> RunReport:
        return cls(
            run_id=run_id,
            started_at=now(),
            source_dir=str(source_dir),
            data_dir=str(data_dir),
            extractor_version=version,
        )

    def finish(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.ended_at = status, error, now()

    def stopping_stage(self) -> str:
        """The first stage the run had not finished."""
        return next((stage for stage in STAGES if stage not in self.stages), "end")

    def write(self, runs_dir: Path | None = None) -> Path:
        """Write the report and replace runs/latest.json with it (in the last runs_dir given)."""
        runs_dir = runs_dir or self.__dict__.get("_runs_dir")
        if runs_dir is None:
            raise ValueError("the report has not been written yet: give runs_dir")
        self._runs_dir = runs_dir  # not a field: stays out of the JSON
        runs_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False, default=str)
        path = runs_dir / f"{self.run_id}.json"
        for target in (path, runs_dir / "latest.json"):
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        return path

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"run {self.run_id}: {self.status}" + (f" ({self.error})" if self.error else ""),
            f"  documents  seen {self.documents_seen}, landed {self.documents_landed}, "
            f"already present {self.documents_present}, "
            f"quarantined {len(self.documents_quarantined)}",
            f"  processed  {self.documents_processed} documents -> lake holds {self.articles} "
            f"articles, {self.statistics} statistics, {self.entities} entities",
        ]
        if self.rebuilt_from:
            lines.append(f"  rebuilt    from the lake as run {self.rebuilt_from}'s build read it")
        if self.lake and self.lake_versions:
            read = ", ".join(f"{t}@{v}" for t, v in self.lake_versions.items() if v is not None)
            lines.append(f"  lake       {self.lake}: {read}")
        for item in self.documents_quarantined:
            lines.append(f"  quarantined {item['file']!r}: {item['reason']}")
        for item in self.documents_failed:
            lines.append(f"  FAILED      {item['file']!r} (left pending): {item['error']}")
        for item in self.document_problems[:MAX_PROBLEM_LINES]:
            lines.append(f"  problem     {item['file']!r}: {item['problem']}")
        if len(self.document_problems) > MAX_PROBLEM_LINES:
            more = len(self.document_problems) - MAX_PROBLEM_LINES
            lines.append(f"  ... and {more} more problem(s): runs/{self.run_id}.json")
        for layer, outcome in self.validation.items():
            failed = outcome.get("failures", [])
            lines.append(
                f"  validation {layer}: {'passed' if outcome.get('success') else 'FAILED'}"
                + (f" ({len(failed)} expectation(s) not met)" if failed else "")
            )
        if self.marts:
            lines.append("  marts      " + ", ".join(f"{k}={v}" for k, v in self.marts.items()))
        if self.up_to_date:
            lines.append(f"  published  nothing new: {self.warehouse} is current")
        else:
            lines.append(
                f"  published  {self.warehouse}" if self.published else "  published  nothing"
            )
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report as Markdown tables, for the run's Prefect artifact."""
        rows = [
            ("status", self.status + (f": {self.error}" if self.error else "")),
            ("run", self.run_id),
            ("started / ended", f"{self.started_at} / {self.ended_at or '-'}"),
            ("source", self.source_dir),
            ("extractor version", self.extractor_version),
            ("documents seen", self.documents_seen),
            ("documents landed", self.documents_landed),
            ("documents already present", self.documents_present),
            ("documents quarantined", len(self.documents_quarantined)),
            ("documents with problems", len({p["file"] for p in self.document_problems})),
            ("documents processed", self.documents_processed),
            ("documents failed (left pending)", len(self.documents_failed)),
            ("lake: articles / statistics / entities",
             f"{self.articles} / {self.statistics} / {self.entities}"),
            ("published", self.warehouse if self.published else "nothing"),
        ]  # fmt: skip
        parts = [f"# tracelake run {self.run_id}", _table(("", "value"), rows)]
        if self.documents_quarantined:
            quarantined = [(q["file"], q["reason"]) for q in self.documents_quarantined]
            parts += ["## Quarantined", _table(("file", "reason"), quarantined)]
        if self.documents_failed:
            failed = [(f["file"], f["doc_id"], f["error"]) for f in self.documents_failed]
            parts += [
                "## Failed in segment or extract",
                _table(("file", "doc_id", "error"), failed),
            ]
        if self.document_problems:
            problems = [(p["file"], p["problem"]) for p in self.document_problems]
            parts += ["## Landed with problems", _table(("file", "problem"), problems)]
        if self.validation:
            outcomes = [
                (layer, "passed" if v.get("success") else "FAILED", len(v.get("failures", [])))
                for layer, v in self.validation.items()
            ]
            parts += ["## Validation", _table(("layer", "outcome", "failures"), outcomes)]
        if self.stages:
            stages = [
                (
                    name,
                    v.get("seconds"),
                    ", ".join(f"{k}={n}" for k, n in v.items() if k != "seconds"),
                )
                for name, v in self.stages.items()
            ]
            parts += ["## Stages", _table(("stage", "seconds", "counts"), stages)]
        if self.marts:
            parts += ["## Marts", _table(("table", "rows"), list(self.marts.items()))]
        return "\n\n".join(parts) + "\n"


def _cell(value: object) -> str:
    """A value for a Markdown table cell: pipes escaped, control characters shown."""
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text.replace("|", "\\|")


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_dict(obj: object) -> dict:
    """A dataclass (or a dict) as a plain dict."""
    return obj if isinstance(obj, dict) else asdict(obj)  # type: ignore[call-overload]
