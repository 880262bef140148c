"""Month and weekday names of every language the segmenter detects, from Babel's locale data,
and a parser for the date strings of metadata fields (front matter, feeds, JSON, HTML)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

import polars as pl

# The languages whose names are read; the first language wins where two share a spelling.
DATE_LOCALES = ("en", "fr", "es", "de", "it", "pt", "nl", "ro", "pl", "tr", "el", "ru", "ar")
# Names shorter than this are too often other words ("a", "de").
MIN_NAME_CHARS = 3

ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T\s_])")
COMPACT_DATE = re.compile(r"^\s*((?:19|20)\d{2})(\d{2})(\d{2})(?:$|[T\s])")
DAY_FIRST_NUMERIC = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
YEAR_FIRST_SLASH = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})\b")
# A month and day with no year, as feed bots stamp items ('03-19 21:20', '03-19').
MONTH_DAY = re.compile(r"^\s*(\d{1,2})-(\d{1,2})(?:$|[T\s])")
# A plausible publication year: a metadata date outside this range is a typo or a placeholder.
YEARS = range(1900, 2101)


def _fold(name: str) -> str:
    """Lower case without accents and without a final dot: 'Févr.' -> 'fevr'."""
    name = unicodedata.normalize("NFKD", name.lower().strip().rstrip("."))
    return "".join(ch for ch in name if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Every spelling of a month (wide and abbreviated, with and without accents) -> 1-12."""
    from babel.dates import get_month_names

    names: dict[str, int] = {}
    for locale in DATE_LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    for form in {name.lower().rstrip("."), _fold(name)}:
                        if len(form) >= MIN_NAME_CHARS:
                            names.setdefault(form, number)
    names.setdefault("sept", 9)
    return names


@lru_cache(maxsize=1)
def weekday_names() -> list[str]:
    """Every spelling of a weekday, lower case, longest first."""
    from babel.dates import get_day_names

    names: set[str] = set()
    for locale in DATE_LOCALES:
        for width in ("wide", "abbreviated"):
            for name in get_day_names(width, "format", locale).values():
                for form in {name.lower().rstrip("."), _fold(name)}:
                    if len(form) >= MIN_NAME_CHARS:
                        names.add(form)
    return sorted(names, key=len, reverse=True)


def month_alternation() -> str:
    """A regex alternation of every month spelling, longest first (for the Rust engine too)."""
    return "|".join(re.escape(name) for name in sorted(month_names(), key=len, reverse=True))


@lru_cache(maxsize=1)
def _textual_date() -> tuple[re.Pattern[str], re.Pattern[str]]:
    months = month_alternation()
    day_first = re.compile(
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?(" + months + r")\.?,?\s+"
        r"(?:de\s+|del\s+)?(\d{4})\b"
    )
    month_first = re.compile(
        r"(?i)\b(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b"
    )
    return day_first, month_first


def _make(year: int, month: int, day: int) -> date | None:
    if year not in YEARS:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    """The calendar date a metadata value gives, or None.

    Reads ISO 8601 ('2022-03-02', '2025-06-20 16:31:08-04:00'), RFC 822 ('Tue, 15 Nov 2022
    10:00:00 +0100'), day-first numbers ('21.05.2026', '21/05/2026'), and day or month names of
    the DATE_LOCALES ('2 de Marzo 2022', 'March 2, 2022'). A value with no year gives None: the
    landing day is never taken for a publication date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for pattern, order in (
        (ISO_DATE, (0, 1, 2)),
        (YEAR_FIRST_SLASH, (0, 1, 2)),
        (COMPACT_DATE, (0, 1, 2)),
        (DAY_FIRST_NUMERIC, (2, 1, 0)),
    ):
        if match := pattern.match(text):
            parts = [int(group) for group in match.groups()]
            return _make(parts[order[0]], parts[order[1]], parts[order[2]])
    if re.match(r"^[A-Za-z]{3},?\s+\d", text):
        try:
            return parsedate_to_datetime(text).date()
        except (TypeError, ValueError, IndexError):
            pass
    day_first, month_first = _textual_date()
    if match := day_first.search(text):
        month = month_names().get(_fold(match.group(2)))
        if month:
            return _make(int(match.group(3)), month, int(match.group(1)))
    if match := month_first.search(text):
        month = month_names().get(_fold(match.group(1)))
        if month:
            return _make(int(match.group(3)), month, int(match.group(2)))
    return None


def parse_date_in(value: object, reference: date | None) -> date | None:
    """parse_date, or, for a month and day with no year ('03-19 21:20', 'March 19'), that day
    in the latest year not after `reference`: the date of the export or feed that stamps its
    items so. Without a reference a year-less value gives None."""
    if found := parse_date(value):
        return found
    if reference is None or not isinstance(value, str):
        return None
    month_day: tuple[int | None, int] | None = None
    if match := MONTH_DAY.match(value):
        month_day = int(match.group(1)), int(match.group(2))
    else:
        day_first, month_first = _year_less_date()
        if match := day_first.search(value):
            month_day = month_names().get(_fold(match.group(2))), int(match.group(1))
        elif match := month_first.search(value):
            month_day = month_names().get(_fold(match.group(1))), int(match.group(2))
    if month_day is None or month_day[0] is None:
        return None
    return _latest(month_day[0], month_day[1], reference)


@lru_cache(maxsize=1)
def _year_less_date() -> tuple[re.Pattern[str], re.Pattern[str]]:
    months = month_alternation()
    day_first = re.compile(
        r"(?i)^\s*(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?(" + months + r")\.?\s*$"
    )
    month_first = re.compile(r"(?i)^\s*(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s*$")
    return day_first, month_first


# A word next to a day number, checked against month_names(): one pass over the text, far
# faster than an alternation of every month spelling.
_WORD = r"([^\W\d_]{3,12})"
DATES_IN_TEXT = (
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),  # ISO: year, month, day
    re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b"),  # day-first numbers
    re.compile(  # "27 October 2025", "27 October", "27. Oktober 2025", "27 de octubre"
        r"\b(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?" + _WORD + r"\b\.?"
        r"(?:,?\s+(?:de\s+|del\s+)?(\d{4})\b)?"
    ),
    re.compile(  # "October 27, 2025", "October 27"
        r"\b" + _WORD + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?"
    ),
)


def dates_in_texts(texts: pl.Series, references: pl.Series) -> pl.DataFrame:
    """(row, date) for every calendar date each text names: full dates, and day and month
    without a year taken in the latest year not after the text's reference day (its
    article's own date); none for a text without one. Polars' Rust engine finds the matches
    of DATES_IN_TEXT over the whole column; Python reads each distinct match once (Python's
    own engine, a text at a time, took twice as long)."""
    frame = (
        pl.DataFrame({"text": texts, "reference": references})
        .with_row_index("row")
        .drop_nulls("reference")
    )
    # in parallel: the streaming engine runs the patterns on pieces of the column at once
    found = (
        frame.lazy()
        .select(
            "row",
            "reference",
            *(
                pl.col("text").str.extract_all(pattern.pattern).alias(str(kind))
                for kind, pattern in enumerate(DATES_IN_TEXT)
            ),
        )
        .collect(engine="streaming")
    )
    hits = pl.concat(
        found.select("row", "reference", kind=pl.lit(kind), match=pl.col(str(kind))).explode(
            "match"
        )
        for kind in range(len(DATES_IN_TEXT))
    ).drop_nulls("match")
    distinct = hits.select("kind", "match", "reference").unique()
    read = distinct.with_columns(
        date=pl.Series(
            [_date_in(kind, match, reference) for kind, match, reference in distinct.iter_rows()],
            dtype=pl.Date,
        )
    )
    return (
        hits.join(read, on=["kind", "match", "reference"]).select("row", "date").drop_nulls("date")
    )


def _date_in(kind: int, text: str, reference: date) -> date | None:
    """The date a match of DATES_IN_TEXT[kind] names (None: not a date). Python's engine
    reads the groups; where the engines' classes differ (Rust counts "ⓙ" a letter), the
    match is no date."""
    if (match := DATES_IN_TEXT[kind].match(text)) is None:
        return None
    groups = match.groups()
    if kind == 0:  # ISO
        year, month, day = map(int, groups)
        return _make(year, month, day)
    if kind == 1:  # day-first numbers
        day, month, year = map(int, groups)
        return _make(year, month, day)
    day_text, name, year_text = groups if kind == 2 else (groups[1], groups[0], groups[2])
    named = month_names().get(_fold(name or ""))
    if not named:
        return None
    if year_text:
        return _make(int(year_text), named, int(day_text or 0))
    return _latest(named, int(day_text or 0), reference)


def _latest(month: int, day: int, reference: date) -> date | None:
    for year in (reference.year, reference.year - 1):
        found = _make(year, month, day)
        if found is not None and found <= reference:
            return found
    return None
