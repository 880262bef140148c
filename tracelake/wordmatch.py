"""Regexes with word boundaries (`\\b`), matched fast and with the exact Unicode result.

Polars matches with Rust's regex engine, whose fast automaton cannot check a Unicode word
boundary once a text holds a non-ASCII byte: it falls back to its slowest mode, which made
the relevance counts and the entity patterns a quarter of segment and extract. Two facts give
the same result at a small part of the cost:

- A text without any non-ASCII word character (English with typographic quotes and dashes,
  most of all) has the same word boundaries by ASCII's rules as by Unicode's, so the pattern
  is run with ASCII boundaries, `(?-u:\\b)`.
- Dropping the boundaries only lets a pattern match more; a text where the pattern without
  them matches nothing has no match at all. In the other texts (accented words, other
  scripts) that test is cheap, and only the few texts it passes are matched exactly.

Every function takes a Series of texts and returns what the same Polars method with the
pattern as written would; `Haystacks` keeps which texts are plain for several patterns.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

NON_ASCII_WORD = r"[\w&&[^\x00-\x7F]]"
# A word boundary written as such: not an escaped backslash before a "b", nor one already
# set to ASCII's rules.
_BOUNDARY = re.compile(r"(?<!\\)(?<!\(\?-u:)\\b")
_UNICODE_CLASS = re.compile(r"(?<!\\)\\[bBwWdD]")
# What in a pattern may match a line break, or reads a text's start and end: \s, \W, \D, a
# negated class, a property (\P, \p), a POSIX class, an escaped code point or control
# character (a range "[\t-\r]"), a line break itself, "." under the flag s, and anchors.
_NOT_WITHIN_LINES = re.compile(r"\\[sWDPpxnutrfvAz]|\[\^|\[:|\n|\(\?[a-zA-Z-]*s|\^|\$")


# Outside a character class and inside one: word boundaries, word characters and digits by
# ASCII's rules. Unicode's \w under a repetition ("(\w+\s+){0,3}") is as slow as its \b.
ASCII_BOUNDARY = r"(?-u:\b)"
_ASCII_OUTSIDE = {
    "b": ASCII_BOUNDARY,
    "B": r"(?-u:\B)",
    "w": "[0-9A-Za-z_]",
    "W": "[^0-9A-Za-z_]",
    "d": "[0-9]",
    "D": "[^0-9]",
}
_ASCII_INSIDE = {"w": "0-9A-Za-z_", "d": "0-9"}


@lru_cache(maxsize=256)
def ascii_words(pattern: str) -> str:
    """pattern with word boundaries, word characters and digits by ASCII's rules: the same
    matches in a text without a non-ASCII letter or digit (its other characters are not word
    characters by either rule), found by the fast automaton."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith(ASCII_BOUNDARY, i):  # already by ASCII's rules
            out.append(ASCII_BOUNDARY)
            i += len(ASCII_BOUNDARY)
            continue
        if char == "\\" and i + 1 < len(pattern):
            table = _ASCII_INSIDE if depth else _ASCII_OUTSIDE
            out.append(table.get(pattern[i + 1], pattern[i : i + 2]))
            i += 2
            continue
        out.append(char)
        i += 1
        if char == "[":
            depth += 1
            for literal in ("^", "]"):  # "[]" and "[^]" open with a literal "]"
                if pattern.startswith(literal, i):
                    out.append(literal)
                    i += 1
        elif char == "]" and depth:
            depth -= 1
    return "".join(out)


@lru_cache(maxsize=256)
def unbounded(pattern: str) -> str:
    """pattern without its word boundaries: it matches wherever pattern does, and more."""
    return _BOUNDARY.sub("", pattern)


class Haystacks:
    """Texts to match several patterns against; which of them are plain is found once."""

    def __init__(self, texts: pl.Series) -> None:
        self.texts = texts
        self.plain = (~texts.str.contains(NON_ASCII_WORD)).fill_null(True)
        self.plain_rows = self.plain.arg_true()
        self.other_rows = (~self.plain).arg_true()
        self.plain_texts = texts.filter(self.plain)
        self.other_texts = texts.filter(~self.plain)

    def _candidates(self, pattern: str) -> tuple[pl.Series, pl.Series]:
        """Rows (of the other texts) where pattern may match, and their texts."""
        if not self.other_texts.len():
            return self.other_rows, self.other_texts
        maybe = self.other_texts.str.contains(unbounded(pattern))
        return self.other_rows.filter(maybe), self.other_texts.filter(maybe)

    def count_matches(self, pattern: str) -> pl.Series:
        """`texts.str.count_matches(pattern)`."""
        if not _UNICODE_CLASS.search(pattern):
            return self.texts.str.count_matches(pattern)
        counts = pl.zeros(self.texts.len(), pl.UInt32, eager=True).alias(self.texts.name)
        counts = counts.scatter(
            self.plain_rows, self.plain_texts.str.count_matches(ascii_words(pattern))
        )
        rows, texts = self._candidates(pattern)
        if within_lines(pattern):
            return counts.scatter(rows, _count_by_line(texts, pattern))
        return counts.scatter(rows, texts.str.count_matches(pattern))

    def contains(self, pattern: str) -> pl.Series:
        """`texts.str.contains(pattern)`."""
        if not _UNICODE_CLASS.search(pattern):
            return self.texts.str.contains(pattern)
        found = pl.repeat(False, self.texts.len(), eager=True).alias(self.texts.name)
        found = found.scatter(self.plain_rows, self.plain_texts.str.contains(ascii_words(pattern)))
        rows, texts = self._candidates(pattern)
        return found.scatter(rows, texts.str.contains(pattern))

    def find(self, pattern: str) -> pl.Series:
        """`texts.str.find(pattern)`."""
        if not _UNICODE_CLASS.search(pattern):
            return self.texts.str.find(pattern)
        found = pl.repeat(None, self.texts.len(), dtype=pl.UInt32, eager=True)
        found = found.alias(self.texts.name)
        found = found.scatter(self.plain_rows, self.plain_texts.str.find(ascii_words(pattern)))
        rows, texts = self._candidates(pattern)
        return found.scatter(rows, texts.str.find(pattern))

    def replace_all(self, pattern: str, value: str) -> pl.Series:
        """`texts.str.replace_all(pattern, value)`."""
        if not _UNICODE_CLASS.search(pattern):
            return self.texts.str.replace_all(pattern, value)
        replaced = self.texts.clone()
        replaced = replaced.scatter(
            self.plain_rows, self.plain_texts.str.replace_all(ascii_words(pattern), value)
        )
        rows, texts = self._candidates(pattern)
        return replaced.scatter(rows, texts.str.replace_all(pattern, value))


def within_lines(pattern: str) -> bool:
    """Whether pattern finds the same matches in a text as in its lines one by one: it never
    matches across a line break, and has no anchor."""
    return _NOT_WITHIN_LINES.search(pattern) is None


def _count_by_line(texts: pl.Series, pattern: str) -> pl.Series:
    """`texts.str.count_matches(pattern)` line by line, for a pattern `within_lines`: a text
    with an accented word is mostly lines without one, matched fast (a line break is no word
    character, so a line's edges are the same boundaries alone as in its text)."""
    lines = pl.DataFrame({"line": texts.str.split("\n")}).with_row_index("_text").explode("line")
    line = lines.get_column("line")
    plain = ~line.str.contains(NON_ASCII_WORD)
    other = (~plain & line.str.contains(unbounded(pattern))).arg_true()
    counts = pl.zeros(len(line), pl.UInt32, eager=True)
    found = line.filter(plain).str.count_matches(ascii_words(pattern))
    counts = counts.scatter(plain.arg_true(), found)
    counts = counts.scatter(other, line.gather(other).str.count_matches(pattern))
    return (
        lines.select("_text", n=counts)
        .group_by("_text", maintain_order=True)
        .agg(pl.col("n").sum().cast(pl.UInt32))
        .get_column("n")
        .alias(texts.name)
    )
