"""The run report as Markdown (the Prefect artifact) and the terminal's progress bars."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from tracelake.progress import StageProgress
from tracelake.report import MAX_PROBLEM_LINES, RunReport


def report() -> RunReport:
    run = RunReport.start("r1", Path("/in"), Path("/data"), "1-abc")
    run.documents_seen, run.documents_landed = 4, 2
    run.documents_quarantined = [{"file": "odd|name\n.txt", "reason": "empty file"}]
    run.document_problems = [
        {"file": "x.jsonl", "problem": f"line {n}: invalid JSON"} for n in range(1, 13)
    ]
    run.validation = {"raw_documents": {"success": True, "failures": []}}
    run.stages = {"land": {"seconds": 0.5, "landed": 2}}
    run.finish("succeeded")
    return run


def test_markdown_has_the_report_tables_with_cells_escaped() -> None:
    markdown = report().to_markdown()
    assert "| status | succeeded |" in markdown
    assert "| documents seen | 4 |" in markdown
    assert "| odd\\|name\\n.txt | empty file |" in markdown  # one row, one cell
    assert "| x.jsonl | line 12: invalid JSON |" in markdown
    assert "| raw_documents | passed | 0 |" in markdown
    assert "| land | 0.5 | landed=2 |" in markdown


def test_the_terminal_summary_names_problems_up_to_a_limit() -> None:
    summary = report().summary()
    assert "quarantined 'odd|name\\n.txt': empty file" in summary
    assert summary.count("problem     'x.jsonl'") == MAX_PROBLEM_LINES
    assert "... and 2 more problem(s): runs/r1.json" in summary


def test_progress_is_silent_when_stdout_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with StageProgress() as progress:  # pytest's captured stdout is no terminal
        progress.stage("land", 3)
        progress.advance("land", 3)
    assert not progress.enabled
    assert capsys.readouterr() == ("", "")


def test_progress_counts_documents_per_stage_on_a_terminal() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with StageProgress(enabled=True, console=console) as progress:
        progress.stage("land", 5, unit="files")
        progress.stage("segment", 4)
        progress.advance("land", 5)
        progress.advance("segment", 2)
    shown = screen.getvalue()
    assert "land" in shown and "5/5" in shown and "files" in shown
    assert "segment" in shown and "2/4" in shown and "documents" in shown
