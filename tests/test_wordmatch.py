"""Word-boundary regexes matched fast (wordmatch, extract.alternation_matches) give exactly
what Polars gives with the pattern as written, whose \\b follows Unicode's letters."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tracelake import extract, reference, segment, wordmatch

TEXTS = [
    "Police arrested 12 human traffickers and rescued 40 victims.",
    "Police arrested “12” human traffickers — and rescued 40 victims…",  # typographic only
    "La policía detuvo a 5 presuntos tratantes por trata de personas y tráfico de migrantes.",
    "Les passeurs, réseau de traite des êtres humains, ont été interpellés à Calais.",
    "Die Menschenhändler wurden festgenommen; Geldwäsche in Millionenhöhe.",
    "Xtrafficking éhuman trafficking human traffickingé trafficking",  # edges inside words
    "Μετανάστες και διακινητές συνελήφθησαν στη Σάμο για εμπορία ανθρώπων.",
    "Kentucky State Police and the Boston Police Department arrested the smugglers.",
    "Die Staatsanwaltschaft München II und das Polizeipräsidium Oberbayern Süd ermitteln.",
    "",
    None,
]
PATTERNS = [
    *segment.CRIME_PATTERNS.values(),
    segment.ENFORCEMENT,
    reference.alternation(tuple(reference.country_aliases())),
    r"(?i)\bété\b",  # a word that opens and ends with a non-ASCII letter
    r"\bσυνελήφθ\w*",  # another script
    r"\bhuman\b|trafficking\b",
    r"\\b",  # an escaped backslash: no word boundary at all
    extract.PER_UNIT_BEFORE,  # word characters under repetitions, anchored at the end
    r"(?i)[\w’'-]+\s+\d+[^\d\s]",
    r"(?i)\bvictims\W+la\b",  # across a line break
    r"(?i)^police\b|\bvictims\.$",  # the text's start and end, not a line's
    *extract.VERB_CLASS_AFTER.values(),
    extract.INCIDENT,
    extract.CHECK_BEFORE,
    extract.PASSIVE_EVENT,
    extract.NOT_A_COUNT_BEFORE,
    # the end of the last verb of a class before a figure (extract.metrics)
    r"(?i)^.*(?:" + extract.VERB_CLASS["arrested"].removeprefix("(?i)") + ")",
]


def sample_lines(seeds_dir: Path) -> list[str]:
    return [
        line
        for path in sorted(seeds_dir.iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.fixture(scope="module")
def texts(seeds_dir: Path) -> pl.Series:
    """Lines alone, texts of several lines (plain and accented lines together), whole files."""
    lines = [text for text in TEXTS if text is not None]
    joined = ["\n".join(lines[i : i + 3]) for i in range(len(lines))]
    files = [path.read_text(encoding="utf-8") for path in sorted(seeds_dir.iterdir())]
    return pl.Series("text", [*TEXTS, *sample_lines(seeds_dir), *joined, *files], dtype=pl.String)


def test_patterns_that_may_match_a_line_break_are_told_apart() -> None:
    crossing = [r"a\sb", r"a\Wb", r"[^x]", r"a\Db", r"(?s)a.b", r"\p{Cc}", r"[[:space:]]",
                r"[\t-\r]", r"\x0a", "a\nb", r"(?is)a.b", r"^a", r"a$", r"\Aa"]  # fmt: skip
    assert not [pattern for pattern in crossing if wordmatch.within_lines(pattern)]
    inside = [*segment.CRIME_PATTERNS.values(), segment.ENFORCEMENT, r"(?i)\bthe\b.\w+"]
    assert all(wordmatch.within_lines(pattern) for pattern in inside)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_counts_finds_and_replacements_are_polars_own(texts: pl.Series, pattern: str) -> None:
    hay = wordmatch.Haystacks(texts)
    assert hay.count_matches(pattern).to_list() == texts.str.count_matches(pattern).to_list()
    assert hay.contains(pattern).to_list() == texts.str.contains(pattern).to_list()
    assert hay.find(pattern).to_list() == texts.str.find(pattern).to_list()
    assert hay.replace_all(pattern, "#").to_list() == texts.str.replace_all(pattern, "#").to_list()


def test_plain_texts_are_those_without_non_ascii_letters_or_digits() -> None:
    hay = wordmatch.Haystacks(pl.Series(TEXTS[:7], dtype=pl.String))
    assert hay.plain.to_list() == [True, True, False, False, False, False, False]


def test_classes_are_made_ascii_inside_and_outside_brackets_escapes_left_alone() -> None:
    assert wordmatch.ascii_words(r"\bx(?-u:\b)\\b") == r"(?-u:\b)x(?-u:\b)\\b"
    assert wordmatch.ascii_words(r"(\w+\s+){0,3}\d") == r"([0-9A-Za-z_]+\s+){0,3}[0-9]"
    assert wordmatch.ascii_words(r"[\w'’-][^]\d][\p{L}\W]") == r"[0-9A-Za-z_'’-][^]0-9][\p{L}\W]"
    assert wordmatch.unbounded(r"\bx\b(?-u:\b)") == r"x(?-u:\b)"


@pytest.mark.parametrize(
    "branches",
    [
        list(reference.agency_patterns()),
        # overlapping branches: the alternation's order decides, texts matched again whole
        [r"(?:\p{Lu}\p{L}+\s+){1,2}Police", r"Police \p{Lu}\p{L}+", r"\bState\b"],
        [r"\bhuman\b", r"\bhuman trafficking\b", r"traffick\w*"],
    ],
)
def test_alternation_found_branch_by_branch_is_the_whole_alternation(
    texts: pl.Series, branches: list[str]
) -> None:
    frame = texts.rename("sentence").to_frame().with_row_index("row")
    expected = extract.matches(frame, "|".join(branches))
    found = extract.alternation_matches(frame, branches)
    assert (
        found.select("row", "pos", "match").rows() == expected.select("row", "pos", "match").rows()
    )
    assert len(found) > 0
