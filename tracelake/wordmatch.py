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

import polars as pl

NON_ASCII_WORD = r"[\w&&[^\x00-\x7F]]"
# A word boundary written as such: not an escaped backslash before a "b", nor one already
# set to ASCII's rules.
_BOUNDARY = re.compile(r"(?<!\\)(?<!\(\?-u:)\\b")


def ascii_bounded(pattern: str) -> str:
    """pattern with every word boundary by ASCII's rules."""
    return _BOUNDARY.sub(r"(?-u:\\b)", pattern)


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
        if not _BOUNDARY.search(pattern):
            return self.texts.str.count_matches(pattern)
        counts = pl.zeros(self.texts.len(), pl.UInt32, eager=True).alias(self.texts.name)
        counts = counts.scatter(
            self.plain_rows, self.plain_texts.str.count_matches(ascii_bounded(pattern))
        )
        rows, texts = self._candidates(pattern)
        return counts.scatter(rows, texts.str.count_matches(pattern))

    def contains(self, pattern: str) -> pl.Series:
        """`texts.str.contains(pattern)`."""
        if not _BOUNDARY.search(pattern):
            return self.texts.str.contains(pattern)
        found = pl.repeat(False, self.texts.len(), eager=True).alias(self.texts.name)
        found = found.scatter(
            self.plain_rows, self.plain_texts.str.contains(ascii_bounded(pattern))
        )
        rows, texts = self._candidates(pattern)
        return found.scatter(rows, texts.str.contains(pattern))

    def replace_all(self, pattern: str, value: str) -> pl.Series:
        """`texts.str.replace_all(pattern, value)`."""
        if not _BOUNDARY.search(pattern):
            return self.texts.str.replace_all(pattern, value)
        replaced = self.texts.clone()
        replaced = replaced.scatter(
            self.plain_rows, self.plain_texts.str.replace_all(ascii_bounded(pattern), value)
        )
        rows, texts = self._candidates(pattern)
        return replaced.scatter(rows, texts.str.replace_all(pattern, value))
