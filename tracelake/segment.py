"""Segment: documents become articles (title, body, date, language, relevance), in Polars.

A document is cut into lines; every line gets features from vectorised expressions (is it
site furniture, a list of other stories' titles, a source or date marker, a title?); a running
count of title lines numbers the articles; the kept lines of each article make its body.
"""

from __future__ import annotations

import csv
import hashlib
from functools import lru_cache
from pathlib import Path

import polars as pl

from tracelake import wordmatch
from tracelake.config import PROJECT_ROOT
from tracelake.dates import month_alternation, month_names, weekday_names
from tracelake.schemas import ARTICLES

# --- line classes -------------------------------------------------------------------------
# One line of site furniture on its own: navigation, widgets, credits, cookie notices.
FURNITURE_LINE = (
    r"(?i)^(articles?|latest|news|home|menu|search|top stories|published|advertisement|"
    r"sponsored( content)?|share( this( article| story)?)?:?|share on \w+|tweet|print|e-?mail|"
    r"sort by.*|there are no comments yet.*|be the first to comment.*|social widget|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"(name|email|e-mail|website|comment|message)\s*\*?\s*:?|post comment|submit|"
    r"skip to (main )?content|(subscribe|sign up)\b.*|follow us\b.*|"
    r"(photo|image|picture|photograph|video|credit)s?( credit)?\s*:.*|read more:?|"
    r"continue reading.*|(accept|reject|manage)( all)? cookies.*|"
    r".*\bcookies?\b.*\b(accept|consent|policy|settings)\b.*|"
    r"related:\s.*|tags?:.*|filed under\b.*|categor(y|ies):.*|"
    r"(facebook|twitter|instagram|youtube|linkedin|whatsapp|telegram|flickr|reddit)+,?|"
    # press-release furniture: release banners, end marks, contacts for the press
    r"for (immediate )?release\b.*|(- ?)?ends( ?-)?|-?30-?|#+|"
    r"(media|press|further|news)\s+(inquiries|enquiries|contacts?|information|office)\b.*|"
    r"(contact|contacts|kontakt|contacto|pressestelle)\s*:.*|"
    # page widgets as text browsers write them: "(BUTTON)", form fields, inline images
    r".*\(BUTTON\).*|.*_{4,}.*|\[(svg|img|image|inline)[^\]]*\]?)$"
)
# A line that is mostly a phone number: a press contact or a switchboard, never a title.
CONTACT_LINE = r"(\+?\(?\d{2,4}\)?[\s./-]?){2,}\d{3,4}\s*$"
CONTACT_MAX_WORDS = 12
CONTACT_MIN_DIGITS = 9  # a phone number with its area code; "12 500 000" has only 7
# A line of running text: enough words and a sentence end. An article needs at least one.
PROSE_MIN_WORDS = 8
# Boilerplate by recurrence (recurring_lines): a text in this many items of one document, or
# a short line in this many documents of one folder. Three, as two copies may be one story
# told twice (a wire copy); a menu or a stock blurb comes back on every page.
RECURRING_MIN_ITEMS = 3
RECURRING_MIN_DOCS = 3
RECURRING_MIN_CHARS = 4
RECURRING_MAX_SHARED_CHARS = 80
PROSE_END = r"[.!?…:][”\"’»)\]]*$"
# Lines written by sites that show two revisions of one article side by side.
REVISION_HEADER = (
    r"(?i)^(this article is from the source\b.*|you can find the current article at\b.*|"
    r"the article has changed \d+ times?\b.*|there is an rss feed of changes.*|"
    r"version \d+(\s+version \d+)+|\(\s*\d+ (seconds?|minutes?|hours?|days?|weeks?) later\s*\))$"
)
REVISION_MARKER = r"(?i)^version \d+(\s+version \d+)+$"
# Consecutive pieces that end at a sentence end; together they cover the whole line.
SENTENCE_PIECE = r"[^.!?…]*[.!?…]+[”\"’)]*\s*|[^.!?…]+$"
# Where a comment section or a page footer starts: nothing after it belongs to the article.
TAIL_START = (
    r"(?i)^(leave a (reply|comment)|add a comment|post a comment|\d+ comments?|comments?"
    r"( \(\d+\))?|join the conversation|what do you think\?|social widget)\s*:?$"
)
LIST_HEADER = (
    r"(?i)^(related( posts| stories| articles| news| content| coverage| reading)?|"
    r"latest( articles| news| posts| stories)?|more (stories|news|articles)( from .*)?|"
    r"recent (posts|articles|stories)|recommended( for you| reading)?|you (may|might) also like|"
    r"read (more|next|also)|most (read|popular|viewed)|popular (posts|stories)|trending( now)?|"
    r"see also|in other news|à lire aussi|lire aussi|sur le même sujet|articles? similaires?)"
    r"\s*:?$"
)
LIST_ITEM = r"^\s*([-–—•*·▪►]|\d{1,2}[.)])\s+\S"
SOURCE_LINE = r"(?i)^(source|sources|via|from|credit)\s*:\s*\S"
BYLINE = r"^(By|by|Par|par)\s+\p{Lu}[\p{L}.'’-]+(\s+(and\s+|et\s+)?\p{Lu}[\p{L}.'’-]+){0,4}\s*$"
AGO_LINE = (
    r"(?i)^(published\s+)?\d+\s+(seconds?|minutes?|hours?|days?|weeks?|months?|years?)"
    r"\s+ago\s*(on)?$"
)
URL_LINE = r"(?i)^(url|link|source url)\s*:\s*https?://\S+$"
# A line of short fields between separators under a title: "By Ana Kovač | 14 February 2022 |
# 3 min read", "Staff reporter · 10 March 2021". Its fields are read one by one.
META_SEPARATOR = r"\s+[|·•]\s+"
META_FIELD = (
    r"(?i)^(\d+\s+min(ute)?s?\s+read|\d+\s+comments?|updated\b.*|published\b.*|"
    r"(by|par)\s+\S.*|\p{Lu}[\p{L}.'’-]*(\s+\p{Lu}[\p{L}.'’-]*){0,3})$"
)
PAGE_BREAK = "\f"
CAPTION_MAX_CHARS = 100
BLANK_MAX_CHARS = 3
HEADLINE_MIN_WORDS = 3  # as title_shaped: "East Valley" or "Sex Crimes" names a section
HEADER_TITLE_MIN_WORDS = 3  # words of three letters or more: not "E070 /05 8 June 2005"

MONTHS = month_names()  # every month spelling of the detected languages (Babel)
_MONTH = "(?P<month>" + month_alternation() + r")\.?"
_WEEKDAY = "((" + "|".join(weekday_names()) + r")\.?,?\s+)?"
_PREFIX = (
    r"(?i)^(published|posted|updated|last updated|date|first published|publié|publié le|"
    r"mis à jour|mis à jour le|le)?\s*:?\s*(on\s+|le\s+)?"
    # a time before the date: "Updated 14:32 GMT, 3 March 2021"
    r"(\d{1,2}[:.h]\d{2}\s*(am|pm|gmt|bst|utc|cet|cest|est|edt)?,?\s+)?"
)
_TIME = r"(\s*(at|à|,|-|–)?\s*\d{1,2}[:.h]\d{2}.*)?$"
# A line that is only a date: "13 March 2020", "December 6, 2023", "Published 2022-09-14".
DATE_DMY = (
    _PREFIX
    + _WEEKDAY
    + r"(?P<day>\d{1,2})(st|nd|rd|th|er|º)?\.?\s+(de\s+)?"
    + _MONTH
    + r",?\s+(de\s+|del\s+)?(?P<year>\d{4})"
    + _TIME
)
DATE_MDY = (
    _PREFIX + _WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(st|nd|rd|th)?,?\s+(?P<year>\d{4})" + _TIME
)
DATE_ISO = (
    _PREFIX
    + r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?"
    + _TIME
)
# Day first in numbers: "03.03.2021" (dots are day first everywhere), "Publié le 12/03/2023"
# (slashes after a French word). Slashes alone may be month first (US sites), so a line of
# English words with slashes is read only when one part exceeds 12 (see numeric_date).
DATE_DOTTED = _PREFIX + _WEEKDAY + r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})" + _TIME
DATE_FR_SLASH = (
    r"(?i)^(publié|publié le|mis à jour|mis à jour le|le)\s*:?\s*(le\s+)?"
    + r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"
    + _TIME
)
DATE_SLASH = _PREFIX + _WEEKDAY + r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})" + _TIME
# A date inside a short line of the head (a byline with other words around the date).
INLINE_DMY = (
    r"(?i)\b(?P<day>\d{1,2})(st|nd|rd|th|er|º)?\.?\s+(de\s+)?"
    + _MONTH
    + r",?\s+(de\s+|del\s+)?(?P<year>\d{4})\b"
)
INLINE_MDY = r"(?i)\b" + _MONTH + r"\s+(?P<day>\d{1,2})(st|nd|rd|th)?,?\s+(?P<year>\d{4})\b"
HEAD_LINES = 6  # lines under a title that may carry its date, byline and source
# A line that is only a date is the article's date this far under the title (furniture not
# counted): sites put a lead, a credit and a "save this article" prompt above it.
DATE_LINES = 10
FOOT_LINES = 3  # a date line among the last lines of an article (before its tail) signs it
INLINE_DATE_MAX_CHARS = 160  # a longer line is text, whose dates are events, not publication
# A date in a URL path: /2015/sep/09/ or /2019/03/21/.
URL_DATE = (
    r"(?i)/(?P<year>(19|20)\d{2})/(?P<month>\d{1,2}|" + "|".join(MONTHS) + r")/(?P<day>\d{1,2})/"
)
URL_YEAR = r"/(19|20)\d{2}/"  # what URL_DATE needs first

# --- relevance ----------------------------------------------------------------------------


def words(*alternatives: str) -> str:
    """A case-blind regex matching any of the alternatives from a word start."""
    return r"(?i)\b(" + "|".join(alternatives) + ")"


CRIME_TERMS_CSV = PROJECT_ROOT / "tracelake" / "rules" / "crime_terms.csv"
ENFORCEMENT_TERMS_CSV = PROJECT_ROOT / "tracelake" / "rules" / "enforcement_terms.csv"


def _load_terms(path: Path, key: str | None) -> dict[str, list[str]]:
    terms: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            terms.setdefault(row[key] if key else "", []).append(row["pattern"])
    return terms


# Words that name each crime type in every language of tracelake/rules/crime_terms.csv;
# counted over title and body.
CRIME_PATTERNS = {
    name: words(*patterns) for name, patterns in _load_terms(CRIME_TERMS_CSV, "crime_type").items()
}
BRIEF_MAX_WORDS = 150  # an article this short names its subject once
# Crime types that put an article in scope on their own.
IN_SCOPE = ("human_trafficking", "migrant_smuggling", "sexual_exploitation", "forced_labour",
            "child_sexual_abuse", "money_laundering", "document_fraud", "corruption")  # fmt: skip
# Crime types whose words name nothing else: one mention is enough.
SPECIFIC = ("money_laundering", "forced_labour", "child_sexual_abuse", "document_fraud",
            "arms_trafficking")  # fmt: skip
SUPPORTING = ("fraud", "cybercrime", "counterfeiting", "arms_trafficking", "drug_trafficking")
# A supporting crime needs an enforcement context to be in scope (an organised fraud ring).
ENFORCEMENT = words(*_load_terms(ENFORCEMENT_TERMS_CSV, None)[""])

# The language is told from the title and the start of the body: 200 characters (some 35
# words) gave the language that 300 gave on each of 7,500 articles of the 1 GB bench and
# the 181 of the dev sets and seeds, in two thirds of the time; 300 gave what 600 gave on
# all 135,545 bench articles, and 600 what 1,500 gave. Below 150 characters, mixed titles
# start to tip it. The detector's time grows with the text past 120 characters, where it
# uses trigrams alone.
LANGUAGE_SAMPLE_CHARS = 200
LANGUAGES = ("ENGLISH", "FRENCH", "SPANISH", "GERMAN", "ITALIAN", "PORTUGUESE", "DUTCH",
             "GREEK", "ROMANIAN", "TURKISH", "POLISH", "ARABIC", "RUSSIAN")  # fmt: skip


def _matches(pattern: str) -> pl.Expr:
    return pl.col("stripped").str.contains(pattern)


def _prev(expr: pl.Expr, n: int = 1) -> pl.Expr:
    return expr.shift(n).over("doc_id")


def _next(expr: pl.Expr) -> pl.Expr:
    return expr.shift(-1).over("doc_id")


def _date_from_groups(groups: pl.Expr) -> pl.Expr:
    month = groups.struct.field("month").str.to_lowercase().str.strip_chars(".")
    month_number = (
        pl.when(month.str.contains(r"^\d+$"))
        .then(month.cast(pl.Int32, strict=False))
        .otherwise(month.replace_strict(MONTHS, default=None, return_dtype=pl.Int32))
    )
    # Through a string, so that an impossible date ("31 November") gives null, not an error.
    return pl.format(
        "{}-{}-{}",
        groups.struct.field("year"),
        month_number.cast(pl.String).str.zfill(2),
        groups.struct.field("day").str.zfill(2),
    ).str.to_date("%Y-%m-%d", strict=False)


def _slash_date(text: pl.Expr) -> pl.Expr:
    """ "14/03/2021" or "03/14/2021": only when one of the two parts can only be a day."""
    groups = text.str.extract_groups(DATE_SLASH)
    a = groups.struct.field("a").cast(pl.Int32, strict=False)
    b = groups.struct.field("b").cast(pl.Int32, strict=False)
    day = pl.when(a > 12).then(a).when(b > 12).then(b)
    month = pl.when(a > 12).then(b).when(b > 12).then(a)
    return pl.format(
        "{}-{}-{}",
        groups.struct.field("year"),
        month.cast(pl.String).str.zfill(2),
        day.cast(pl.String).str.zfill(2),
    ).str.to_date("%Y-%m-%d", strict=False)


def _date_of(text: pl.Expr) -> pl.Expr:
    return pl.coalesce(
        _date_from_groups(text.str.extract_groups(DATE_DMY)),
        _date_from_groups(text.str.extract_groups(DATE_MDY)),
        _date_from_groups(text.str.extract_groups(DATE_ISO)),
        _date_from_groups(text.str.extract_groups(DATE_DOTTED)),
        _date_from_groups(text.str.extract_groups(DATE_FR_SLASH)),
        _slash_date(text),
    )


# Every date pattern of _date_of reads a year of four digits (DATE_PATTERNS): the lines
# without one, most of them, are not matched against the six.
YEAR_DIGITS = r"\d{4}"
DATE_PATTERNS = (DATE_DMY, DATE_MDY, DATE_ISO, DATE_DOTTED, DATE_FR_SLASH, DATE_SLASH)


def date_in_line(column: str = "stripped") -> pl.Expr:
    """The date a line consists of, or null."""
    return _date_of(pl.col(column))


def inline_date(column: str = "stripped") -> pl.Expr:
    """A date written anywhere inside the line ('Posted by X January 20, 2016 in News')."""
    text = pl.col(column)
    return pl.coalesce(
        _date_from_groups(text.str.extract_groups(INLINE_DMY)),
        _date_from_groups(text.str.extract_groups(INLINE_MDY)),
    )


def line_dates(texts: pl.Series) -> pl.Series:
    """The date each line consists of, or that a field of a meta line holds ("By X | 3 May
    2021"), or null. Only the lines with a year are read (DATE_PATTERNS): one in thirteen
    of a bench partition's, which saves making dates of the others' empty matches."""
    return only_where(
        pl.DataFrame({"stripped": texts}),
        pl.col("stripped").str.contains(YEAR_DIGITS),
        pl.coalesce(date_in_line(), meta_line()[1]),
    )


def url_dates(texts: pl.Series) -> pl.Series:
    """date_in_url of each line, read only in the lines with a dated path (URL_DATE)."""
    return only_where(
        pl.DataFrame({"stripped": texts}),
        pl.col("stripped").str.contains(URL_YEAR),
        date_in_url(),
    )


def date_in_url(column: str = "stripped") -> pl.Expr:
    """The date written in a URL path inside the line, or null."""
    return _date_from_groups(pl.col(column).str.extract_groups(URL_DATE))


def meta_line(column: str = "stripped") -> tuple[pl.Expr, pl.Expr]:
    """(is it a line of short fields between separators with a date or a byline among them,
    the date of that field)."""
    # A line without a separator is no such line: its fields are not read (null).
    separated = pl.col(column).str.contains(META_SEPARATOR)
    text = pl.when(separated).then(pl.col(column))
    parts = text.str.replace_all(META_SEPARATOR, "\u001f").str.split("\u001f")
    field_dates = parts.list.eval(_date_of(pl.element()))
    date = field_dates.list.drop_nulls().list.first()
    is_date_or_field = parts.list.eval(
        pl.element().str.contains(META_FIELD)
        | pl.element().str.contains(r"(?i)^(by|par)\s+\S")
        | pl.element().str.contains(r"\d{4}")
    ).list.all()
    has_anchor = (
        date.is_not_null()
        | parts.list.eval(pl.element().str.contains(r"(?i)^(by|par)\s+\S")).list.any()
    )
    is_meta = pl.when(separated).then(is_date_or_field & has_anchor).otherwise(False)
    return is_meta, pl.when(is_meta).then(date)


ITEM_COLUMNS = {
    "item_title": pl.String,
    "item_published": pl.Date,
    "item_date_source": pl.String,
    "item_url": pl.String,
    "item_language": pl.String,
    "reader": pl.String,
    "item_char_start": pl.Int64,
}


def document_items(documents: pl.DataFrame) -> pl.DataFrame:
    """One row per item (candidate article) of each document, as its reader found it.

    A document landed before readers existed is one untitled item.
    """
    empty = pl.DataFrame(schema={"doc_id": pl.String, "item_index": pl.Int64, **ITEM_COLUMNS})
    if "items" not in documents.columns or documents.schema["items"] == pl.Null:
        return empty
    exploded = (
        documents.select("doc_id", "items")
        .filter(pl.col("items").list.len() > 0)
        .explode("items")
        .unnest("items")
    )
    if exploded.is_empty():
        return empty
    return exploded.select(
        "doc_id",
        pl.col("item_index").cast(pl.Int64),
        item_title=pl.col("title"),
        item_published=pl.col("published"),
        item_date_source=pl.col("date_source"),
        item_url=pl.col("url"),
        item_language=pl.col("language"),
        reader=pl.col("reader"),
        item_char_start=pl.col("char_start"),
    ).cast(ITEM_COLUMNS)  # type: ignore[arg-type]


def attach_items(lines: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Each line with the item it belongs to: items are separated by page-break lines."""
    is_break = pl.col("line").str.strip_chars(" \t\r") == PAGE_BREAK
    return lines.with_columns(item_index=is_break.cast(pl.Int64).cum_sum().over("doc_id")).join(
        items, on=["doc_id", "item_index"], how="left"
    )


def split_lines(documents: pl.DataFrame) -> pl.DataFrame:
    """One row per line of each document with its character offset in the document text."""
    return (
        documents.select("doc_id", "source_file", line=pl.col("text").str.split("\n"))
        .explode("line")
        .with_columns(
            line_no=pl.int_range(pl.len()).over("doc_id"),
            line_len=pl.col("line").str.len_chars(),
        )
        .with_columns(
            line_start=((pl.col("line_len") + 1).cum_sum() - (pl.col("line_len") + 1)).over(
                "doc_id"
            ),
            lead=pl.col("line_len") - pl.col("line").str.strip_chars_start().str.len_chars(),
            stripped=pl.col("line").str.strip_chars(),
        )
        .with_columns(content_start=pl.col("line_start") + pl.col("lead"))
    )


def keep_newest_revision(lines: pl.DataFrame) -> pl.DataFrame:
    """Where a line holds the old and the new text of one paragraph back to back, keep the new.

    Applied to documents that show two revisions side by side (a "Version 0 Version 1" line);
    the lines of other documents are left as they are, unread.
    """
    revision = lines.select(
        pl.col("doc_id").is_in(
            lines.filter(pl.col("stripped").str.contains(REVISION_MARKER))
            .get_column("doc_id")
            .implode()
        )
    ).to_series()
    if not revision.any():
        return lines
    rows = revision.arg_true()
    revised = _newest_revision(lines.filter(revision))
    return lines.with_columns(
        lines.get_column(name).scatter(rows, revised.get_column(name))
        for name in ("stripped", "content_start")
    )


def _newest_revision(lines: pl.DataFrame) -> pl.DataFrame:
    """keep_newest_revision on the lines of documents that show two revisions."""
    text = pl.col("stripped")
    length = text.str.len_chars()
    # The new text starts as the old one did: cut where the line's opening recurs.
    halves = text.str.slice(1).str.splitn(text.str.slice(0, 24), 2)
    # Otherwise cut at the sentence end nearest the middle, if both halves share most words.
    ends = text.str.extract_all(SENTENCE_PIECE).list.eval(pl.element().str.len_chars().cum_sum())
    middle = ends.list.eval(
        pl.element().sort_by((pl.element() - pl.element().max() / 2).abs()).first()
    ).list.first()
    words = r"\p{L}{3,}"
    steps = (
        lines.with_columns(
            _cut_repeat=halves.struct.field("field_0").str.len_chars() + 1,
            _has_repeat=halves.struct.field("field_1").is_not_null(),
            _middle=middle,
        )
        .with_columns(
            _left=text.str.slice(0, pl.col("_middle")).str.to_lowercase().str.extract_all(words),
            _right=text.str.slice(pl.col("_middle")).str.to_lowercase().str.extract_all(words),
        )
        .with_columns(
            _shared=pl.col("_left").list.set_intersection("_right").list.len()
            / pl.col("_left").list.set_union("_right").list.len(),
            _repeat=pl.col("_has_repeat") & (pl.col("_cut_repeat") / length).is_between(0.3, 0.7),
        )
        .with_columns(
            _join=(pl.col("_shared") >= 0.45) & (pl.col("_middle") / length).is_between(0.25, 0.75)
        )
        .with_columns(
            _cut=pl.when("_repeat").then("_cut_repeat").otherwise("_middle"),
            _doubled=(length >= 40) & (pl.col("_repeat") | pl.col("_join").fill_null(False)),
        )
    )
    return steps.with_columns(
        stripped=pl.when("_doubled").then(text.str.slice(pl.col("_cut"))).otherwise(text),
        content_start=pl.when("_doubled")
        .then(pl.col("content_start") + pl.col("_cut"))
        .otherwise("content_start"),
    ).drop(pl.selectors.starts_with("_"))


def line_features(stripped: wordmatch.Haystacks) -> list[pl.Expr]:
    """Per-line classes from the line alone (`stripped`: the lines' text, for the patterns
    with word boundaries or classes, see wordmatch)."""
    text = pl.col("stripped")

    def words_match(pattern: str) -> pl.Expr:
        return pl.lit(stripped.contains(pattern))

    ago = words_match(AGO_LINE)  # furniture, and a marker

    n_words = pl.lit(stripped.texts.str.count_matches(r"\S+"))  # counted once, read four times
    n_long = pl.lit(stripped.count_matches(r"\b\p{L}{4,}"))
    n_cap_long = text.str.count_matches(r"(^|[\s(\-])[“‘\"']?\p{Lu}[\p{L}’']{3,}")
    return [
        # Blank: nothing, or a lone mark with at most one letter ("---", "•", a stray "Â").
        # A longer line is no blank: its letters are counted in its first few characters.
        (
            (text.str.slice(0, BLANK_MAX_CHARS + 1).str.count_matches(r"[\p{L}\p{N}]") <= 1)
            & (text.str.len_chars() <= BLANK_MAX_CHARS)
            & (pl.col("line").str.strip_chars(" \t\r") != PAGE_BREAK)
        ).alias("is_blank"),
        (pl.col("line").str.strip_chars(" \t\r") == PAGE_BREAK).alias("is_page_break"),
        (
            words_match(FURNITURE_LINE)
            | words_match(REVISION_HEADER)
            | ago
            | (
                (text.str.extract(CONTACT_LINE, 0).str.count_matches(r"\d") >= CONTACT_MIN_DIGITS)
                & (n_words <= CONTACT_MAX_WORDS)
            ).fill_null(False)
        ).alias("is_furniture"),
        ((n_words >= PROSE_MIN_WORDS) & text.str.contains(PROSE_END)).alias("is_prose"),
        _matches(TAIL_START).alias("is_tail_start"),
        _matches(LIST_HEADER).alias("is_list_header"),
        _matches(LIST_ITEM).alias("is_list_item"),
        (
            _matches(SOURCE_LINE)
            | _matches(BYLINE)
            | meta_line()[0]
            | ago
            | _matches(URL_LINE)
            | _matches(r"(?i)^published\s*:?$")
        ).alias("is_marker"),
        pl.lit(line_dates(stripped.texts)).alias("line_date"),
        pl.lit(url_dates(stripped.texts)).alias("url_date"),
        n_words.alias("n_words"),
        (
            text.str.len_chars().is_between(12, 250)
            & text.str.contains(r"^[\p{Lu}\d“\"‘'«¿¡]")
            & ~text.str.contains(r"([.;:,…][”\"’)]*|\*)$")
            & ~text.str.contains(r"https?://|www\.")
            & (n_words >= 3)
        ).alias("title_shaped"),
        ((n_long >= 3) & (n_cap_long >= 0.75 * n_long) & (n_long <= 20)).alias("is_title_case"),
    ]


def recurring_lines(lines: pl.DataFrame) -> pl.Series:
    """Whether each line is boilerplate by recurrence: the same text in several items of one
    document (a feed's stock blurb), or a short line in several documents of one folder (a
    site's menu, footer or widget). Long lines and headlines shared across documents are left
    alone: copies of a story share their title and sentences, and those are their text."""
    norm = pl.col("stripped").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ")
    folder = pl.col("source_file").str.replace(r"[^/]*$", "")
    counted = lines.select(
        _norm=norm.str.strip_chars(),
        _folder=folder,
        _item=pl.concat_str("doc_id", pl.lit(":"), pl.col("item_index").cast(pl.String)),
        _doc="doc_id",
        _headline="title_shaped",
    ).with_columns(
        _in_items=pl.col("_item").n_unique().over("_doc", "_norm"),
        _in_docs=pl.col("_doc").n_unique().over("_folder", "_norm"),
    )
    recurring = (pl.col("_norm").str.len_chars() >= RECURRING_MIN_CHARS) & (
        (pl.col("_in_items") >= RECURRING_MIN_ITEMS)
        | (
            (pl.col("_in_docs") >= RECURRING_MIN_DOCS)
            & (pl.col("_norm").str.len_chars() <= RECURRING_MAX_SHARED_CHARS)
            & ~pl.col("_headline")
        )
    )
    return counted.select(recurring).to_series()


def classify_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Mark furniture, list blocks, markers and titles; number the articles of each document."""
    lines = keep_newest_revision(lines)
    lines = lines.with_columns(line_features(wordmatch.Haystacks(lines.get_column("stripped"))))
    lines = lines.with_columns(
        is_furniture=pl.col("is_furniture") | recurring_lines(lines),
        is_marker=pl.col("is_marker") | pl.col("line_date").is_not_null(),
    )
    # Under a list header, headlines without bullets are list items too: the first one (after
    # the header, or a blank line under it) and each headline right under another, until a
    # blank line, a bulleted item or a byline or date that marks a headline as an article's.
    bare_item = (
        pl.col("title_shaped")
        & ~_next(pl.col("is_marker")).fill_null(False)
        & (
            _prev(pl.col("title_shaped")).fill_null(False)
            | _prev(pl.col("is_list_header")).fill_null(False)
            | (_prev(pl.col("is_blank")) & _prev(pl.col("is_list_header"), 2)).fill_null(False)
        )
    )
    lines = lines.with_columns(
        breaker=~(
            pl.col("is_blank") | pl.col("is_list_item") | pl.col("is_list_header") | bare_item
        ),
    ).with_columns(list_group=pl.col("breaker").cum_sum().over("doc_id"))
    lines = lines.with_columns(
        in_list=pl.col("is_list_header").cum_max().over("doc_id", "list_group"),
    )
    # Titles are judged among non-blank lines, by their neighbours.
    content = lines.filter(~pl.col("is_blank"))
    boundary = (
        pl.col("is_furniture")
        | pl.col("in_list")
        | pl.col("is_page_break")
        | pl.col("is_tail_start")
    )
    candidate = (
        pl.col("title_shaped")
        & ~pl.col("is_furniture")
        & ~pl.col("is_marker")
        & ~pl.col("in_list")
        & ~pl.col("is_list_item")
        & ~pl.col("is_tail_start")
    )
    content = content.with_columns(
        candidate=candidate,
        prev_boundary=_prev(boundary).fill_null(True),
        next_marker=_next(pl.col("is_marker")).fill_null(False),
    ).with_columns(
        is_title=pl.col("candidate")
        & (pl.col("prev_boundary") | pl.col("next_marker") | pl.col("is_title_case"))
    )
    # A title right under a title is its subtitle, unless a marker follows it.
    content = content.with_columns(
        is_title=pl.col("is_title")
        & ~(_prev(pl.col("is_title")).fill_null(False) & ~pl.col("next_marker"))
    )
    # Photo captions: a run of three or more short one-sentence lines between paragraphs.
    short = (
        pl.col("stripped").str.len_chars().is_between(8, CAPTION_MAX_CHARS)
        & pl.col("stripped").str.contains(r"[.!]$")
        & (pl.col("stripped").str.count_matches(r"[.!?]\s") == 0)
        & ~pl.col("is_list_item")
        & ~pl.col("is_title")
        & ~pl.col("is_marker")
    )
    content = (
        content.with_columns(_short=short)
        .with_columns(_run=(~pl.col("_short")).cum_sum().over("doc_id"))
        .with_columns(
            is_caption=pl.col("_short") & (pl.col("_short").sum().over("doc_id", "_run") >= 3)
        )
    )
    # Above the first line of running text of an item (its header: site name, menus, a
    # minister's title block, a release number) there is one title: the last title-shaped line.
    item = ["doc_id", "item_index"]
    # Right under a headline may stand its standfirst: of two title-shaped lines in a row
    # there, the first is the title.
    in_header = (pl.col("is_prose") & ~pl.col("is_furniture")).cum_sum().over(item) == 0
    header_candidate = (
        pl.col("candidate")
        & in_header
        & (pl.col("stripped").str.count_matches(r"\p{L}{3,}") >= HEADER_TITLE_MIN_WORDS)
    )
    content = content.with_columns(_zone=header_candidate).with_columns(
        _last=pl.col("line_no").filter("_zone").max().over(item),
        _pick=pl.when(_prev(pl.col("_zone")).fill_null(False))
        .then(_prev(pl.col("line_no")))
        .otherwise("line_no"),
    )
    header_title = pl.col("_pick").filter(pl.col("line_no") == pl.col("_last")).first().over(item)
    content = content.with_columns(
        is_title=pl.when(in_header & pl.col("_last").is_not_null())
        .then(pl.col("line_no") == header_title)
        .otherwise(pl.col("is_title"))
    ).drop("_zone", "_last", "_pick")
    lines = lines.join(
        content.select("doc_id", "line_no", "is_title", "is_caption"),
        on=["doc_id", "line_no"],
        how="left",
    ).with_columns(pl.col("is_title", "is_caption").fill_null(False))
    # An item whose format gives its title (a field, front matter, a heading) is one article:
    # its first line is the title and no other line is.
    titled = pl.col("item_title").is_not_null()
    item_title_line = (titled & (pl.col("line_start") == pl.col("item_char_start"))).fill_null(
        False
    )
    lines = lines.with_columns(
        is_title=pl.when(titled).then(item_title_line).otherwise(pl.col("is_title")),
        is_furniture=pl.col("is_furniture") & ~item_title_line,
        is_marker=pl.col("is_marker") & ~item_title_line,
    )
    # An item without any title line is one article titled by its first line.
    has_title = pl.col("is_title").any().over(item)
    first_content = (
        ~pl.col("is_blank") & ~pl.col("is_furniture") & ~pl.col("is_marker")
    ).cum_sum().over(item) == 1
    lines = lines.with_columns(
        is_title=pl.col("is_title") | (~has_title & first_content & ~pl.col("is_blank"))
    ).with_columns(article_no=pl.col("is_title").cast(pl.Int64).cum_sum().over("doc_id") - 1)
    return lines


def article_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Each article's lines, tagged as title, head (markers, date) or body."""
    return (
        lines.filter(pl.col("article_no") >= 0)
        .with_columns(
            title=pl.col("stripped")
            .filter(pl.col("is_title"))
            .first()
            .over("doc_id", "article_no"),
            # "9 Comments" under a title counts comments; after the text it opens them.
            in_tail=(
                pl.col("is_tail_start")
                & (pl.col("is_prose").cast(pl.Int32).cum_sum().over("doc_id", "article_no") > 0)
            )
            .cum_max()
            .over("doc_id", "article_no"),
            nth_content=(~pl.col("is_blank")).cum_sum().over("doc_id", "article_no"),
            nth_meaningful=(~pl.col("is_blank") & ~pl.col("is_furniture") & ~pl.col("is_list_item"))
            .cum_sum()
            .over("doc_id", "article_no"),
        )
        .with_columns(
            is_body=~(
                pl.col("is_blank")
                | pl.col("is_title")
                | pl.col("is_furniture")
                | pl.col("is_marker")
                | pl.col("in_list")
                | pl.col("is_list_header")
                | pl.col("in_tail")
                | pl.col("is_page_break")
                | pl.col("is_caption")
                | (pl.col("stripped") == pl.col("title"))
            ),
            is_head=pl.col("is_marker") & (pl.col("nth_content") <= 6),
        )
    )


def only_where(frame: pl.DataFrame, condition: pl.Expr, value: pl.Expr) -> pl.Series:
    """`pl.when(condition).then(value)` with value worked out on the rows where condition
    holds alone: Polars works out every branch on every row, and a date search over every
    line of text took most of segment's time where a few head lines need it."""
    mask = frame.select(condition.fill_null(False)).to_series()
    found = frame.filter(mask).select(value).to_series()
    empty = pl.Series(found.name, [None] * len(frame), dtype=found.dtype)
    return empty.scatter(mask.arg_true(), found)


def assemble(lines: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """One row per article: title, body and offsets, and the date its head or URL gives."""
    preamble_url_date = (
        lines.filter(pl.col("article_no") < 0)
        .group_by("doc_id")
        .agg(
            preamble_date=pl.col("url_date").drop_nulls().first(),
            # a release number and date above the headline ("E070/05 8 June 2005")
            preamble_line_date=pl.coalesce(
                "line_date",
                pl.when(pl.col("stripped").str.len_chars() <= INLINE_DATE_MAX_CHARS).then(
                    inline_date()
                ),
            )
            .drop_nulls()
            .last(),
        )
    )
    tagged = article_lines(lines)
    tagged = tagged.with_columns(
        inline_date=only_where(
            tagged,
            (pl.col("nth_content") <= HEAD_LINES)
            & ~pl.col("is_title")
            & ~pl.col("is_prose")
            & (pl.col("stripped").str.len_chars() <= INLINE_DATE_MAX_CHARS),
            inline_date(),
        )
    )
    # A date line under the title, above the end of the text (after it, it signs it off).
    last_prose = pl.col("line_no").filter(pl.col("is_prose") & pl.col("is_body")).max()
    head_date = (
        pl.col("line_date")
        .filter(
            (pl.col("nth_meaningful") <= DATE_LINES)
            & ~pl.col("is_title")
            & ((pl.col("line_no") < last_prose) | last_prose.is_null())
        )
        .drop_nulls()
        .first()
    )
    articles = (
        tagged.group_by("doc_id", "article_no", maintain_order=True)
        .agg(
            pl.col("source_file").first(),
            pl.col("title").first(),
            *[pl.col(name).first() for name in ["item_index", *ITEM_COLUMNS]],
            body=pl.col("stripped").filter(pl.col("is_body")),
            body_offsets=pl.col("content_start").filter(pl.col("is_body")).cast(pl.Int64),
            char_start=pl.col("line_start").min().cast(pl.Int64),
            title_start=pl.col("content_start").filter(pl.col("is_title")).first().cast(pl.Int64),
            char_end=(pl.col("line_start") + pl.col("line_len")).max().cast(pl.Int64),
            head=pl.col("stripped").filter(pl.col("is_head")).str.join("\n"),
            head_date=head_date,
            inline_head_date=pl.col("inline_date")
            .filter((pl.col("line_no") < last_prose) | last_prose.is_null())
            .drop_nulls()
            .first(),
            url_date=pl.col("url_date").drop_nulls().first(),
            has_prose=(pl.col("is_prose") & pl.col("is_body")).any(),
            # a press release signed off with its date on a line of its own
            foot_date=pl.col("line_date")
            .filter(
                pl.col("nth_meaningful")
                > pl.col("nth_meaningful").filter(~pl.col("in_tail")).max() - FOOT_LINES
            )
            .drop_nulls()
            .last(),
        )
        .join(preamble_url_date, on="doc_id", how="left")
        .with_columns(
            item_url_date=_date_from_groups(pl.col("item_url").str.extract_groups(URL_DATE)),
            preamble_date=pl.when(pl.col("article_no") == 0).then(pl.col("preamble_date")),
            preamble_line_date=pl.when(pl.col("article_no") == 0).then(
                pl.col("preamble_line_date")
            ),
        )
        .with_columns(
            published_date=pl.coalesce(
                "item_published",
                "head_date",
                "inline_head_date",
                "preamble_line_date",
                "foot_date",
                "item_url_date",
                "url_date",
                "preamble_date",
            ),
            date_source=pl.when(pl.col("item_published").is_not_null())
            .then("item_date_source")
            .when(pl.coalesce("head_date", "inline_head_date", "preamble_line_date").is_not_null())
            .then(pl.lit("head"))
            .when(pl.col("foot_date").is_not_null())
            .then(pl.lit("foot"))
            .when(pl.coalesce("item_url_date", "url_date", "preamble_date").is_not_null())
            .then(pl.lit("url")),
            # A headline alone (a feed item without text) is its own body: figures in it count.
            body=pl.when(pl.col("body").list.len() > 0)
            .then(pl.col("body"))
            .otherwise(pl.concat_list("title"))
            .list.join("\n"),
            body_offsets=pl.when(pl.col("body").list.len() > 0)
            .then(pl.col("body_offsets"))
            .otherwise(pl.concat_list("item_char_start")),
        )
        # An article needs a line of running text, unless its format gave it a title (a feed
        # headline is an article): a title over nothing but furniture is furniture. In a
        # document of many items, an item titled in one or two words is a section or tag page.
        .filter(pl.col("has_prose") | pl.col("item_title").is_not_null())
        .filter(
            pl.col("item_title").is_null()
            | (pl.col("item_index").max().over("doc_id") == 0)
            | (pl.col("item_title").str.count_matches(r"\S+") >= HEADLINE_MIN_WORDS)
        )
    )
    return articles.join(documents.select("doc_id"), on="doc_id", how="semi")


def crime_type_counts(articles: pl.DataFrame) -> list[pl.Series]:
    """How often the words of each crime type, and of enforcement, occur in title and body."""
    text = wordmatch.Haystacks(
        articles.select(pl.concat_str("title", "body", separator="\n")).to_series()
    )
    # Sexual exploitation of children is counted as child sexual abuse, not twice.
    without_csa = wordmatch.Haystacks(text.replace_all(CRIME_PATTERNS["child_sexual_abuse"], ""))
    return [
        *(
            (without_csa if name == "sexual_exploitation" else text)
            .count_matches(pattern)
            .alias(f"n_{name}")
            for name, pattern in CRIME_PATTERNS.items()
        ),
        text.count_matches(ENFORCEMENT).alias("n_enforcement"),
    ]


def relevance(articles: pl.DataFrame) -> pl.DataFrame:
    """Crime types named, whether the article is in scope, and why."""
    titles = wordmatch.Haystacks(articles.get_column("title"))
    articles = articles.with_columns(
        *crime_type_counts(articles),
        *(titles.contains(CRIME_PATTERNS[name]).alias(f"t_{name}") for name in CRIME_PATTERNS),
        n_words=pl.col("body").str.count_matches(r"\S+"),
    )
    # A crime type counts when its words recur, or once in a short article or in the title;
    # a term that names only that crime ("laundered", "forced labour") counts the first time.
    named = {
        name: (pl.col(f"n_{name}") >= (1 if name in SPECIFIC else 2))
        | ((pl.col(f"n_{name}") >= 1) & (pl.col("n_words") < BRIEF_MAX_WORDS))
        | pl.col(f"t_{name}")
        for name in CRIME_PATTERNS
    }
    crime_types = pl.concat_list(
        pl.when(named[name]).then(pl.lit(name)) for name in CRIME_PATTERNS
    ).list.drop_nulls()
    core = pl.any_horizontal(named[name] for name in IN_SCOPE)
    # A brief (a feed item, a wire summary) says "arrested" once; a long story says it again.
    organised = pl.any_horizontal(named[name] for name in SUPPORTING) & (
        (pl.col("n_enforcement") >= 2)
        | ((pl.col("n_enforcement") >= 1) & (pl.col("n_words") < BRIEF_MAX_WORDS))
    )
    is_relevant = core | organised
    reason = (
        pl.when(core)
        .then(pl.lit("names ") + crime_types.list.join(", "))
        .when(organised)
        .then(pl.lit("organised crime with enforcement: ") + crime_types.list.join(", "))
        .when(crime_types.list.len() > 0)
        .then(pl.lit("mentions only ") + crime_types.list.join(", "))
        .otherwise(pl.lit("names no crime in scope"))
    )
    return articles.with_columns(
        crime_types=crime_types, is_relevant=is_relevant, relevance_reason=reason
    ).drop(f"t_{name}" for name in CRIME_PATTERNS)


@lru_cache(maxsize=1)
def _detector():  # noqa: ANN202
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in LANGUAGES)
    ).build()


def detect_languages(texts: list[str]) -> list[str | None]:
    """ISO 639-1 code of each text (lingua, offline, run over the whole batch at once)."""
    if not texts:
        return []
    distinct = list(dict.fromkeys(texts))  # copies of a wire story are told once
    found = _detector().detect_languages_in_parallel_of(distinct)
    code = {
        text: lang.iso_code_639_1.name.lower() if lang else None
        for text, lang in zip(distinct, found, strict=True)
    }
    return [code[text] for text in texts]


def fingerprint(column: str = "body") -> pl.Expr:
    """A hash of the body's letters and digits, blind to case, spacing and punctuation.

    sha256 (first 16 hex digits), not Polars' hash, which its documentation says may change
    between versions: fingerprints are stored in the lake and compared across runs.
    """
    norm = pl.col(column).str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")
    return norm.str.slice(0, 2000).map_batches(_sha16, return_dtype=pl.String)


def segment(
    documents: pl.DataFrame,
    extractor_version: str,
    known_fingerprints: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Articles of a batch of documents, in the ARTICLES schema.

    known_fingerprints maps body fingerprints of articles staged earlier to their article_id,
    so that a copy landed in a later batch is flagged as a duplicate of the first.
    """
    items = document_items(documents)
    documents = documents.select("doc_id", "source_file", "text", "landed_at")
    lines = classify_lines(attach_items(split_lines(documents), items))
    articles = assemble(lines, documents).filter(
        (pl.col("body").str.len_chars() > 0) | pl.col("item_title").is_not_null()
    )
    articles = relevance(articles)
    sample = pl.concat_str(
        "title", pl.col("body").str.slice(0, LANGUAGE_SAMPLE_CHARS), separator="\n"
    )
    languages = detect_languages(articles.select(sample).to_series().to_list())
    articles = articles.with_columns(
        language=pl.coalesce(pl.Series(languages, dtype=pl.String), "item_language"),
        url=pl.col("item_url"),
        article_id=pl.concat_str("doc_id", pl.lit(":"), "article_no").map_batches(
            _sha16, return_dtype=pl.String
        ),
        article_index=(pl.int_range(pl.len()).over("doc_id", order_by="article_no")).cast(pl.Int32),
        extractor_version=pl.lit(extractor_version),
    ).with_columns(
        # Short bodies (a caption, a teaser) say too little to call two articles the same.
        fingerprint=pl.when(pl.col("body").str.len_chars() >= 200)
        .then(fingerprint())
        .otherwise(pl.col("article_id"))
    )
    articles = flag_duplicates(
        articles.join(documents.select("doc_id", "landed_at"), on="doc_id", how="left"),
        known_fingerprints or {},
    )
    return articles.select(ARTICLES.names)


def _sha16(keys: pl.Series) -> pl.Series:
    return pl.Series(
        [hashlib.sha256(key.encode()).hexdigest()[:16] for key in keys], dtype=pl.String
    )


def flag_duplicates(articles: pl.DataFrame, known: dict[str, str]) -> pl.DataFrame:
    """duplicate_of: the article_id of the first article with the same body fingerprint."""
    ordered = articles.sort("landed_at", "source_file", "article_index")
    first_in_batch = pl.col("article_id").first().over("fingerprint")
    earlier = pl.col("fingerprint").replace_strict(known, default=None, return_dtype=pl.String)
    return ordered.with_columns(
        duplicate_of=pl.coalesce(
            earlier,
            pl.when(first_in_batch != pl.col("article_id")).then(first_in_batch),
        )
    )
