"""The word lists of the rules that read text: one CSV per concept under tracelake/rules/.

Each file has a `language` column (ISO 639-1; empty when the form is the same in every
language, as a currency symbol): a rule reads the forms of every language at once, so a
figure in a Spanish sentence quoted in an English article is still read.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from tracelake.config import PROJECT_ROOT

RULES_DIR = PROJECT_ROOT / "tracelake" / "rules"
LANGUAGES = ("en", "fr", "es", "de", "it")


@lru_cache(maxsize=32)
def rows(concept: str) -> tuple[dict[str, str], ...]:
    """The rows of tracelake/rules/<concept>.csv, in file order."""
    with open(RULES_DIR / f"{concept}.csv", newline="", encoding="utf-8") as handle:
        return tuple(dict(row) for row in csv.DictReader(handle))


def forms(concept: str, column: str) -> list[str]:
    """The distinct values of one column, in file order."""
    return list(dict.fromkeys(row[column] for row in rows(concept)))


def grouped(concept: str, key: str, column: str) -> dict[str, list[str]]:
    """key -> the distinct values of column, both in file order."""
    groups: dict[str, list[str]] = {}
    for row in rows(concept):
        values = groups.setdefault(row[key], [])
        if row[column] not in values:
            values.append(row[column])
    return groups


def mapping(concept: str, column: str, value: str) -> dict[str, str]:
    """column -> value (the first row wins where a form repeats)."""
    found: dict[str, str] = {}
    for row in rows(concept):
        found.setdefault(row[column], row[value])
    return found
