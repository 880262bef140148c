"""Acceptance: the flow on each dev set of ../shared, scored by ../shared/eval/score.py.

The bars only go up: raise them as the extraction improves, never lower them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# dev set -> (source folder under ../shared, gold file, bars)
DEV_SETS = {
    "seeds": ("corpus", "seeds.json"),
    "web": ("corpus-web", "web.json"),
    "events": ("corpus-events", "events.json"),
}
BARS = {
    "seeds": {
        "article_f1": 1.0,
        "relevance_accuracy": 1.0,
        "language_accuracy": 1.0,
        "published_date_accuracy": 1.0,
        "statistics_f1": 0.97,
    },
    "web": {
        "article_f1": 0.99,
        "relevance_accuracy": 0.97,
        "language_accuracy": 1.0,
        "published_date_accuracy": 0.97,
        "statistics_f1": 0.86,
    },
    "events": {
        "article_f1": 1.0,
        "relevance_accuracy": 0.93,
        "language_accuracy": 1.0,
        "published_date_accuracy": 0.92,
        "statistics_f1": 0.88,
    },
}
ENTITY_F1_BARS = {
    "seeds": {"agency": 1.0, "country": 0.91, "crime_type": 0.88, "operation": 1.0},
    "web": {"agency": 0.87, "country": 0.86, "crime_type": 0.86, "operation": 0.8},
    "events": {"agency": 0.79, "country": 0.62, "crime_type": 0.81, "operation": 0.85},
}
INCIDENT_F1_BARS = {"web": 0.97, "events": 0.95}


@pytest.fixture(scope="module")
def scores(
    prefect_server: None, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict]:
    """Each dev set run through the flow (one shared Prefect test server) and scored."""
    from flows.pipeline import pipeline

    results = {}
    for name, (folder, gold) in DEV_SETS.items():
        data = tmp_path_factory.mktemp(f"dev-{name}")
        pipeline(str(shared_dir / folder), str(data))
        out = data / "score.json"
        subprocess.run(
            [sys.executable, str(shared_dir / "eval" / "score.py"),
             "--warehouse", str(data / "warehouse.duckdb"),
             "--gold", str(shared_dir / "eval" / "gold" / gold), "--json", str(out)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[name] = json.loads(out.read_text())
    return results


@pytest.mark.parametrize("dev_set", sorted(DEV_SETS))
def test_articles(scores: dict, dev_set: str) -> None:
    score = scores[dev_set]
    assert score["articles"]["f1"] >= BARS[dev_set]["article_f1"], score["segmentation_notes"]


@pytest.mark.parametrize("dev_set", sorted(DEV_SETS))
def test_relevance_language_date(scores: dict, dev_set: str) -> None:
    score, bars = scores[dev_set], BARS[dev_set]
    assert score["relevance_accuracy"] >= bars["relevance_accuracy"]
    assert score["language_accuracy"] >= bars["language_accuracy"]
    assert score["published_date_accuracy"] >= bars["published_date_accuracy"]


@pytest.mark.parametrize("dev_set", sorted(DEV_SETS))
def test_statistics(scores: dict, dev_set: str) -> None:
    score = scores[dev_set]
    assert score["statistics"]["f1"] >= BARS[dev_set]["statistics_f1"], (
        score["missed_statistics"],
        score["extra_statistics"],
    )


@pytest.mark.parametrize(
    ("dev_set", "entity_type"),
    [(dev_set, kind) for dev_set, bars in sorted(ENTITY_F1_BARS.items()) for kind in sorted(bars)],
)
def test_entities(scores: dict, dev_set: str, entity_type: str) -> None:
    found = scores[dev_set]["entities"][entity_type]["f1"]
    assert found >= ENTITY_F1_BARS[dev_set][entity_type]


@pytest.mark.parametrize("dev_set", sorted(INCIDENT_F1_BARS))
def test_incidents(scores: dict, dev_set: str) -> None:
    assert scores[dev_set]["incidents"]["f1"] >= INCIDENT_F1_BARS[dev_set]
