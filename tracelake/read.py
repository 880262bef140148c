"""Read: one reader per format turns a document into candidate articles (items).

A reader renders the document as the text that is landed (offsets of figures point into it)
and says where each item lies in it: its span, the title when the format gives one, the
publication date and where it came from, the URL and a language hint. Formats are told from
the content first and the file name second; one not recognised is read as plain text.

| reader | input | items |
| --- | --- | --- |
| text | plain text, `lynx -dump` pages | one, untitled: the segmenter finds the articles |
| markdown | Markdown, YAML/TOML front matter, HTML inside | one, or one per section of a listing |
| html | an HTML page (trafilatura) | one, with the page's metadata |
| json | a JSON array, an object holding a list, one object | one per object with text |
| jsonl | JSON Lines | one per line with text |
| csv | CSV or TSV with a header row | one per row with text |
| feed | RSS or Atom (feedparser) | one per entry |
| story | CNN/DailyMail `.story` | one; `@highlight` lines are kept apart |
| warc | WARC of HTML responses (warcio) | one per response |
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracelake.config import PROJECT_ROOT
from tracelake.dates import DATE_LOCALES, parse_date, parse_date_in

FIELD_MAP_CSV = PROJECT_ROOT / "tracelake" / "rules" / "field_map.csv"
PAGE_BREAK = "\f"  # a line holding only this separates the items of a document
ITEM_SEPARATOR = f"\n{PAGE_BREAK}\n"

HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv", ".tsv"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
STORY_SUFFIXES = {".story"}
WARC_SUFFIXES = {".warc"}

HTML_START = re.compile(r"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)
FEED_START = re.compile(r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.S)
XML_START = re.compile(r"^\s*<\?xml\b")
FRONT_MATTER = re.compile(r"^\ufeff?(---|\+\+\+)[ \t]*\n(.*?)\n\1[ \t]*(\n|$)", re.S)
ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
MARKDOWN_LINK_ONLY = re.compile(r"^\[(?P<text>[^\]]+)\]\((?P<url>[^)\s]+)[^)]*\)$")
# Hugo shortcodes and Liquid tags: template calls, never text.
TEMPLATE_TAG = re.compile(r"\{\{[<%].*?[%>]\}\}|\{%.*?%\}", re.S)
MARKDOWN_SIGNAL = re.compile(r"(?m)^(#{1,6} \S|!\[[^\]]*\]\(|\[[^\]]+\]\([^)]+\)|\*\*\S)")
STORY_HIGHLIGHT = "@highlight"
INDENTED_TAG = re.compile(r"(?m)^[ \t]+(</?[A-Za-z][^>]*>)")
LOOKS_LIKE_HTML = re.compile(r"<(p|br|div|span|a|img|figure|strong|em|ul|li|h\d)\b[^>]*>", re.I)
# A Markdown listing: sections whose heading links to the item or sits over a date line.
LISTING_MIN_SECTIONS = 2
LISTING_SIGNAL_SHARE = 0.6
# lynx -dump: body text indented by three spaces, form widgets and buttons spelled out.
LYNX_SIGNAL = re.compile(r"\(BUTTON\)|\[svg|_{8,}|^\s*\d+\. https?://", re.M)
LYNX_INDENT_SHARE = 0.4
# A hard-wrapped text: most long lines end near one width, far below a paragraph's length.
WRAP_MAX_WIDTH = 100
WRAP_MIN_WIDTH = 50
WRAP_LONG_SHARE = 0.4  # share of lines within WRAP_NEAR of the width for a text to be wrapped
WRAP_NEAR = 0.7  # a line this share of the width or longer was cut by the wrap
WRAP_SLACK = 3  # wrappers stop a few columns short of the width they were given
SENTENCE_END = re.compile(r"[.!?:;][\"'”’»)\]]*\s*$")
HEADLINE_MIN_WORDS = 3
PROSE_MIN_WORDS = 8  # a line of running text: this many words and a sentence end
BULLET = re.compile(r"^\s*([-–—•*·▪►+o]|\d{1,2}[.)])\s+\S")

DROP_TAGS = {"script", "style", "iframe", "noscript", "figcaption", "img", "svg", "button",
             "form", "nav", "video", "audio", "object", "embed", "head", "select", "input",
             "textarea", "template", "picture", "source"}  # fmt: skip
BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
              "br", "tr", "table", "section", "article", "header", "footer", "pre", "figure",
              "hr", "dd", "dt", "dl", "aside", "main", "address", "center"}  # fmt: skip
CAPTION_CLASS = re.compile(r"(?i)caption|credit")


class UnreadableInput(Exception):
    """A file whose bytes cannot become document text; the message is the reason."""


@dataclass
class Item:
    """One candidate article of a document, before rendering."""

    body: str
    title: str | None = None
    published: date | None = None
    date_source: str | None = None
    url: str | None = None
    language: str | None = None


@dataclass
class Reading:
    """A document as read: its landed text, its items with their spans, and notes."""

    reader: str
    text: str
    items: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- field map -------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def field_map(path: Path = FIELD_MAP_CSV) -> dict[str, tuple[str, ...]]:
    """Role (title, text, summary, date, url, language) -> field names, in order of preference."""
    roles: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            roles.setdefault(row["role"], []).append(row["field"].strip().lower())
    return {role: tuple(names) for role, names in roles.items()}


def _fields(record: dict, role: str) -> Iterator[object]:
    folded = {str(key).strip().lower(): value for key, value in record.items()}
    for name in field_map()[role]:
        value = folded.get(name)
        if value not in (None, "", [], {}):
            yield value


def _string(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        # {"rendered": "..."} (WordPress), {"value": "..."}, {"text": "..."}
        for key in ("rendered", "value", "text", "#text"):
            if isinstance(value.get(key), str):
                return value[key].strip()
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "\n\n".join(part.strip() for part in value if part.strip())
    return ""


def _first_string(record: dict, role: str) -> str:
    for value in _fields(record, role):
        if text := _string(value):
            return text
    return ""


def _as_text(value: str) -> str:
    """Field text as plain text: HTML inside a field is reduced to its text."""
    return html_fragment_to_text(value) if LOOKS_LIKE_HTML.search(value) else value.strip()


def item_from_record(record: dict, reference: date | None = None) -> Item | None:
    """An item from one exported record (JSON object, CSV row), by the field map; `reference`
    is the export's own date, which gives the year of a year-less item date."""
    title = " ".join(_as_text(_first_string(record, "title")).split())
    body = _as_text(_first_string(record, "text"))
    summary = _as_text(_first_string(record, "summary"))
    if summary and summary not in body:
        body = f"{summary}\n\n{body}" if body else summary
    if not body and not title:
        return None
    published = None
    for value in _fields(record, "date"):
        if published := parse_date_in(
            value if not isinstance(value, int | float) else None, reference
        ):
            break
    return Item(
        body=body,
        title=title or None,
        published=published,
        date_source="field" if published else None,
        url=_first_string(record, "url") or None,
        language=(_first_string(record, "language") or "")[:2].lower() or None,
    )


# --- HTML ------------------------------------------------------------------------------------


def html_fragment_to_text(html: str) -> str:
    """Text of an HTML fragment, a paragraph per block, captions and scripts left out."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", html).strip()
    parts: list[str] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in DROP_TAGS or CAPTION_CLASS.search(element.get("class") or ""):
            if element.tail:
                parts.append(element.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n\n" if tag != "br" else "\n")
        if tag == "li":
            parts.append("• ")
        if element.text and tag:
            parts.append(element.text)
        for child in element:
            walk(child)
        if block:
            parts.append("\n\n")
        if element.tail:
            parts.append(element.tail)

    walk(root)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    """Spaces folded inside lines, at most one blank line between paragraphs."""
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def read_html(html: str) -> list[Item]:
    """The page's article through trafilatura, with its title, date and URL."""
    from trafilatura.utils import load_html  # slow to import; only HTML pages need it

    tree = load_html(html)
    meta = html_metadata(tree) if tree is not None else {}
    doc = html_article(tree, meta.get("url")) if tree is not None else None
    body = (getattr(doc, "text", None) or "").strip()
    if not body:
        raise UnreadableInput("HTML page with no readable article text")
    published = parse_date(meta.get("date"))
    return [
        Item(
            body=body,
            title=" ".join((meta.get("title") or "").split()) or None,
            published=published,
            date_source="html_metadata" if published else None,
            url=meta.get("url") or None,
            language=(meta.get("language") or "")[:2].lower() or None,
        )
    ]


# Trafilatura's full cascade weighs its own extraction against readability's and jusText's,
# a third of its time per page. It takes another's only when its own text is short (jusText
# under 250 characters), holds no paragraph text, is mostly tables, keeps page furniture
# (buttons, figures, forms: trafilatura's SANITIZED_XPATH), or is under half of readability's.
# Its fast mode runs the first extractor alone; its text stands when none of these can hold,
# and readability would need more than twice FAST_TEXT_ENOUGH characters to win. On 55 real
# pages of many sites, and 600 bench pages, the text is the same as the full cascade's.
FAST_TEXT_ENOUGH = 1500


def html_article(tree: object, url: str | None) -> Any:  # noqa: ANN401 - trafilatura's Document
    """Trafilatura's extraction of a parsed page's article: its fast mode when that result is
    one the full cascade would keep (`fast_result_stands`), else the full cascade."""
    from trafilatura import bare_extraction

    options = {"url": url, "include_comments": False, "include_tables": False,
               "favor_precision": True}  # fmt: skip
    # the tree is copied before extraction prunes it, so it serves twice
    doc = bare_extraction(tree, fast=True, **options)
    if doc is not None and fast_result_stands(doc.body, doc.raw_text or ""):
        return doc
    return bare_extraction(tree, **options)


def fast_result_stands(body: Any, text: str) -> bool:  # noqa: ANN401 - an lxml element
    """Whether the full cascade would keep trafilatura's own extraction (body, text) as it is,
    short of readability finding more than twice as much."""
    from trafilatura.external import SANITIZED_XPATH

    return (
        len(text) >= FAST_TEXT_ENOUGH
        and bool(body.xpath(".//p//text()"))
        and len(body.findall(".//table")) <= len(body.findall(".//p"))
        and not body.xpath(SANITIZED_XPATH)
    )


def html_metadata(tree: object) -> dict[str, str | None]:
    """The title, URL, date and language of a parsed page: the steps of trafilatura's own
    metadata search (meta tags, then JSON-LD, then the page) for these four fields alone. Its
    author, site name, categories, tags and licence, which tracelake does not keep, took a
    quarter of the time of reading a page."""
    from htmldate import extractors, find_date
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
    from trafilatura.settings import DEFAULT_CONFIG, set_date_params

    extractors.get_external_parser = date_parser  # htmldate looks it up at each use
    meta = examine_meta(tree)
    with contextlib.suppress(Exception):  # a broken JSON-LD block: the meta tags stand
        meta = extract_meta_json(tree, meta)
    meta.title = meta.title or extract_title(tree)
    meta.url = meta.url or extract_url(tree)
    dates = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    meta.date = find_date(tree, **dates, url=meta.url)
    meta.clean_and_trim()  # entities decoded, spaces folded
    return {field: getattr(meta, field, None) for field in ("title", "url", "date", "language")}


# htmldate's last resort for a date string its own rules cannot read is dateparser, which
# it builds for all of dateparser's 200-odd locales. The first string that no locale reads
# then compiles every locale's regexes, 3-6 s in each process that reads HTML, and every
# such string after tries them all (about 45 ms, against 6 ms for these languages). Built
# instead for the languages tracelake reads (dates.DATE_LOCALES), with htmldate's settings.
DATE_PARSER_SETTINGS = {
    "NORMALIZE": True,
    "PARSERS": ["custom-formats", "absolute-time"],
    "PREFER_DATES_FROM": "past",
    "PREFER_LOCALE_DATE_ORDER": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}


@lru_cache(maxsize=1)
def date_parser():  # noqa: ANN201 - dateparser's DateDataParser, imported only for HTML
    """The dateparser htmldate falls back on, for the languages tracelake reads."""
    from dateparser import DateDataParser  # type: ignore[import-untyped]

    return DateDataParser(languages=list(DATE_LOCALES), settings=DATE_PARSER_SETTINGS)


# --- Markdown --------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[dict, str, list[str]]:
    """(front matter as a dict, the rest, problems). A bare line is taken as the title."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, []
    raw, rest = match.group(2), text[match.end() :]
    problems: list[str] = []
    meta: object = None
    try:
        if match.group(1) == "+++":
            import tomllib

            meta = tomllib.loads(raw)
        else:
            import yaml

            # libyaml's loader where PyYAML was built with it: the same data, faster
            meta = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception as error:  # noqa: BLE001 - any parser error is a note, not a failure
        problems.append(f"front matter does not parse ({type(error).__name__}); read as text")
        return {}, text, problems
    if isinstance(meta, str):
        return {"title": meta}, rest, problems
    if not isinstance(meta, dict):
        return {}, rest, problems
    return meta, rest, problems


@lru_cache(maxsize=1)
def _markdown_parser():  # noqa: ANN202 - imported only when Markdown comes
    # The Rust port of markdown-it: CommonMark (raw HTML passed through) with tables, the
    # same HTML as markdown-it-py gave on 526 bench and dev-set documents, a tenth of the time.
    from markdown_it_pyrs import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def markdown_to_text(markdown: str) -> str:
    """Markdown (with HTML inside) reduced to text, a paragraph per block."""
    source = TEMPLATE_TAG.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n"))
    # HTML pasted into Markdown (WordPress exports) keeps its indentation, which Markdown
    # would read as code blocks: lines that open with a tag are taken out of that reading.
    source = INDENTED_TAG.sub(r"\1", source)
    rendered = _markdown_parser().render(source)
    return html_fragment_to_text(rendered)


def _heading_text(heading: str) -> tuple[str, str | None]:
    """A heading's text and the URL it links to, markup removed."""
    link = MARKDOWN_LINK_ONLY.match(heading.strip())
    if link:
        return markdown_to_text(link.group("text")), link.group("url")
    return markdown_to_text(heading), None


def _sections(body: str) -> list[tuple[str, str]] | None:
    """(heading line, section text) of each top-level section, when the page is a listing."""
    lines = body.split("\n")
    headings = [(n, m) for n, line in enumerate(lines) if (m := ATX_HEADING.match(line))]
    if not headings:
        return None
    top = min(len(m.group(1)) for _, m in headings)
    starts = [n for n, m in headings if len(m.group(1)) == top and m.group(2)]
    if len(starts) < LISTING_MIN_SECTIONS:
        return None
    matches = dict(headings)
    sections, signals = [], 0
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        heading = matches[start].group(2)
        text = "\n".join(lines[start + 1 : end])
        following = [line for line in lines[start + 1 : end] if line.strip()][:2]
        dated = any(len(line) < 200 and parse_date(line) for line in following)
        signals += bool(MARKDOWN_LINK_ONLY.match(heading.strip()) or dated)
        sections.append((heading, text))
    if signals < LISTING_SIGNAL_SHARE * len(sections):
        return None
    return sections


def read_markdown(text: str) -> tuple[list[Item], list[str]]:
    """One item per Markdown document, or one per section of a listing page."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body, problems = split_front_matter(text)
    meta_item = item_from_record(meta | {"text": "-"}) if meta else None
    if sections := _sections(body):
        items = []
        for heading_text, section in sections:
            section_title, url = _heading_text(heading_text)
            rendered = markdown_to_text(section)
            if not rendered.strip():
                continue
            head = [line for line in rendered.split("\n") if line.strip()][:2]
            published = next(
                (found for line in head if len(line) < 200 and (found := parse_date(line))), None
            )
            items.append(
                Item(
                    body=rendered,
                    title=section_title or None,
                    published=published,
                    date_source="byline" if published else None,
                    url=url,
                )
            )
        if items:
            return items, problems
    title = meta_item.title if meta_item else None
    lines = body.split("\n")
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is not None and (heading := ATX_HEADING.match(lines[first])):
        heading_title, _ = _heading_text(heading.group(2))
        if len(heading.group(1)) == 1 and (title is None or _same(title, heading_title)):
            title = heading_title
            body = "\n".join(lines[first + 1 :])
    item = Item(body=markdown_to_text(body), title=title)
    if meta_item:
        item.published, item.date_source = meta_item.published, meta_item.date_source
        item.date_source = "front_matter" if item.published else None
        item.url, item.language = meta_item.url, meta_item.language
    return [item], problems


def _same(a: str, b: str) -> bool:
    fold = re.compile(r"[^\w]+")
    return fold.sub("", a.lower()) == fold.sub("", b.lower())


# --- exports: JSON, JSON Lines, CSV, feeds --------------------------------------------------


def _record_lists(value: object, depth: int = 0) -> Iterator[list[dict]]:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        yield value
    elif isinstance(value, dict) and depth < 3:
        for child in value.values():
            yield from _record_lists(child, depth + 1)


def read_json(value: object) -> tuple[list[Item], list[str]]:
    """Items of a JSON document: an array of records, an object wrapping one, or one record."""
    records: list[dict]
    if isinstance(value, dict) and _first_string(value, "text"):
        records = [value]
    else:
        lists = sorted(_record_lists(value), key=len, reverse=True)
        if not lists:
            raise UnreadableInput("JSON with no list of records and no text field")
        records = lists[0]
    reference = export_date(value) if isinstance(value, dict) else None
    labelled = ((f"record {n}", record) for n, record in enumerate(records, start=1))
    return _items_of(labelled, reference=reference)


def export_date(wrapper: dict) -> date | None:
    """The date an export or feed object gives itself ('updated', 'generated', ...)."""
    for role in ("export_date", "date"):
        for value in _fields(wrapper, role):
            if found := parse_date(value if isinstance(value, str) else None):
                return found
    return None


def _items_of(
    records: Iterable[tuple[str, object]],
    problems: list[str] | None = None,
    reference: date | None = None,
) -> tuple[list[Item], list[str]]:
    """Items of labelled records ("line 3", record); a record with no title or text is noted
    after the problems the format's reader already found."""
    items, problems = [], problems if problems is not None else []
    for label, record in records:
        item = item_from_record(record, reference) if isinstance(record, dict) else None
        if item is None:
            problems.append(f"{label}: no title or text field")
            continue
        items.append(item)
    return items, problems


def read_jsonl(text: str) -> tuple[list[Item], list[str]]:
    """Items of a JSON Lines export; bad lines are noted by number."""
    problems: list[str] = []

    def records() -> Iterator[tuple[str, object]]:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"line {number}: invalid JSON ({error.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"line {number}: not a JSON object")
                continue
            yield f"line {number}", record

    return _items_of(records(), problems)


def read_csv(text: str, name: str) -> tuple[list[Item], list[str]]:
    """Items of a CSV or TSV export with a header row; a row of the wrong width is noted."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if name.lower().endswith(".tsv") else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration as error:
        raise UnreadableInput("CSV file with no header row") from error
    except csv.Error as error:
        raise UnreadableInput(f"CSV that does not parse: {error}") from error
    problems: list[str] = []

    def records() -> Iterator[tuple[str, object]]:
        number = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # the rest of the file cannot be split into rows
                problems.append(f"row {number + 1} on: {error}")
                return
            number += 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(f"row {number}: {len(row)} fields, the header has {len(header)}")
                continue
            yield f"row {number}", dict(zip(header, row, strict=True))

    return _items_of(records(), problems)


def read_feed(text: str) -> tuple[list[Item], list[str]]:
    """Entries of an RSS or Atom feed (feedparser, given the text: it never fetches)."""
    import feedparser

    parsed = feedparser.parse(text)
    language = (parsed.feed.get("language") or "")[:2].lower() or None
    items, problems = [], []
    if parsed.bozo and not parsed.entries:
        raise UnreadableInput(f"feed that does not parse: {parsed.get('bozo_exception')}")
    for number, entry in enumerate(parsed.entries, start=1):
        contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
        body = _as_text(max(contents, key=len)) if contents else ""
        summary = _as_text(entry.get("summary", "") or "")
        if summary and summary not in body:
            body = f"{summary}\n\n{body}" if body else summary
        title = " ".join(_as_text(entry.get("title", "") or "").split())
        if not body and not title:
            problems.append(f"entry {number}: no title or text")
            continue
        published = None
        for key in ("published", "updated", "created"):
            if published := parse_date(entry.get(key)):
                break
        items.append(
            Item(
                body=body,
                title=title or None,
                published=published,
                date_source="feed" if published else None,
                url=entry.get("link") or None,
                language=language,
            )
        )
    return items, problems


def read_story(text: str) -> list[Item]:
    """A CNN/DailyMail story: the body before the first @highlight; highlights are summaries."""
    body = text.split(f"\n{STORY_HIGHLIGHT}", 1)[0]
    return [Item(body=body.strip())]


def story_highlights(text: str) -> list[str]:
    """The @highlight lines of a .story file (summaries written by the outlet)."""
    parts = text.split(STORY_HIGHLIGHT)[1:]
    return [part.strip().split("\n")[0].strip() for part in parts if part.strip()]


def read_warc(data: bytes) -> tuple[list[Item], list[str]]:
    """One item per HTML response of a WARC file (warcio; gzip or plain)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    items, problems = [], []
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response":
                continue
            if record.http_headers is None:  # a response record without an HTTP response
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            if "html" not in content_type:
                continue
            payload = record.content_stream().read()
            charset = re.search(r"charset=([\w-]+)", content_type)
            try:
                html = payload.decode(charset.group(1) if charset else "utf-8", errors="replace")
            except LookupError:  # a charset Python does not know
                html = payload.decode("utf-8", errors="replace")
            try:
                page = read_html(html)
            except UnreadableInput as error:
                problems.append(f"{uri}: {error}")
                continue
            for item in page:
                item.url = item.url or uri
            items.extend(page)
    except (ArchiveLoadFailed, ValueError, EOFError, OSError) as error:
        raise UnreadableInput(f"WARC file that does not parse: {error}") from error
    return items, problems


# --- plain text -----------------------------------------------------------------------------


def is_lynx_dump(text: str) -> bool:
    """A page as `lynx -dump` writes it: indented paragraphs and spelled-out widgets."""
    lines = [line for line in text.split("\n")[:400] if line.strip()]
    if not lines:
        return False
    indented = sum(1 for line in lines if line.startswith("   ")) / len(lines)
    return indented >= LYNX_INDENT_SHARE and len(LYNX_SIGNAL.findall(text[:50000])) >= 2


def unwrap(text: str, lynx: bool = False) -> str:
    """A hard-wrapped text with each paragraph on one line, by turning the newlines that a wrap
    put inside a paragraph into spaces: every character keeps its offset."""
    lines = text.split("\n")
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if len(lengths) < 5:
        return text
    width = lengths[int(0.95 * (len(lengths) - 1))]
    if not WRAP_MIN_WIDTH <= width <= WRAP_MAX_WIDTH:
        return text
    long_lines = sum(1 for n in lengths if n >= WRAP_NEAR * width)
    if long_lines < WRAP_LONG_SHARE * len(lengths) and not lynx:
        return text
    out = list(lines)
    for n in range(len(lines) - 1):
        line, following = lines[n].rstrip(), lines[n + 1]
        if not line.strip() or not following.strip():
            continue
        indent = len(line) - len(line.lstrip())
        next_indent = len(following) - len(following.lstrip())
        # A monospace wrapper (lynx) cut the line only if the next word would not have fitted.
        fits = lynx and len(line) + 1 + len(following.split()[0]) <= width - WRAP_SLACK
        if (
            len(line) >= WRAP_NEAR * width
            and not fits
            and not SENTENCE_END.search(line)
            and not BULLET.match(following)
            and (indent == next_indent or (lynx and min(indent, next_indent) >= 3))
        ):
            out[n] = lines[n] + "\u0000"
    return "\n".join(out).replace("\u0000\n", " ").replace("\u0000", "")


def read_text(text: str) -> tuple[str, list[str]]:
    """Plain text with its wrapped paragraphs joined (offsets unchanged) and the reader name."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if is_lynx_dump(text):
        return unwrap(text, lynx=True), ["lynx"]
    return unwrap(text), []


def lynx_article(text: str) -> Item | None:
    """The article of a `lynx -dump` page: lynx writes headings flush left and paragraphs
    indented, so the title is the first flush-left line over an indented paragraph of running
    text (the lead); the menus above it are left out."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if not line.strip() or line[0].isspace() or len(line.split()) < HEADLINE_MIN_WORDS:
            continue
        following = next((other for other in lines[n + 1 :] if other.strip()), "")
        if following.startswith("   ") and _is_prose(following):
            return Item(title=" ".join(line.split()), body="\n".join(lines[n + 1 :]))
    return None


def _is_prose(line: str) -> bool:
    return len(line.split()) >= PROSE_MIN_WORDS and bool(SENTENCE_END.search(line.rstrip()))


# --- dispatch -------------------------------------------------------------------------------


def detect_format(name: str, text: str) -> str:
    """The reader for a document: from its content first, its file name second."""
    suffix = Path(name).suffix.lower()
    head = text[:2000].lstrip("\ufeff")
    stripped = head.lstrip()
    if HTML_START.match(head):
        return "html"
    if FEED_START.match(head):
        return "feed"
    if stripped.startswith(("[", "{")):
        first_line = stripped.split("\n", 1)[0].strip()
        if suffix in JSONL_SUFFIXES:
            return "jsonl"
        if first_line.startswith("{") and first_line.endswith("}") and text.count("\n") > 1:
            return "jsonl" if _is_jsonl(text) else "json"
        return "json"
    if FRONT_MATTER.match(head) or suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in FEED_SUFFIXES and XML_START.match(head):
        return "feed"
    if suffix in STORY_SUFFIXES or f"\n{STORY_HIGHLIGHT}\n" in text:
        return "story"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if MARKDOWN_SIGNAL.search(head) and re.match(r"#\s+\S", stripped):
        return "markdown"
    return "text"


def _is_jsonl(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return True
    return False


def render(items: list[Item], reader: str) -> tuple[str, list[dict]]:
    """The landed text of a document's items (title, blank line, body; items split by a page
    break line) and each item's span in it."""
    parts: list[str] = []
    spans: list[dict] = []
    offset = 0
    for number, item in enumerate(items):
        if number:
            parts.append(ITEM_SEPARATOR)
            offset += len(ITEM_SEPARATOR)
        title = " ".join(item.title.split()) if item.title else None
        head = f"{title}\n\n" if title else ""
        chunk = head + item.body.strip("\n")
        spans.append(
            {
                "item_index": number,
                "reader": reader,
                "title": title,
                "published": item.published,
                "date_source": item.date_source if item.published else None,
                "url": item.url,
                "language": item.language,
                "char_start": offset,
                "char_end": offset + len(chunk),
                "body_start": offset + len(head),
            }
        )
        parts.append(chunk)
        offset += len(chunk)
    return "".join(parts) + "\n", spans


def read(name: str, text: str, data: bytes | None = None) -> Reading:
    """Read one decoded document (data: its bytes, for the binary formats)."""
    kind = detect_format(name, text)
    problems: list[str] = []
    items: list[Item]
    if kind == "text":
        landed, notes = read_text(text)
        reader = notes[0] if notes else "text"
        if reader == "lynx" and (article := lynx_article(landed)):
            landed, spans = render([article], reader)
            return Reading(reader, landed, spans, problems)
        return Reading(reader, landed, [_whole(landed, reader)], problems)
    if kind == "html":
        items = read_html(text)
    elif kind == "markdown":
        items, problems = read_markdown(text)
    elif kind == "json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise UnreadableInput(f"invalid JSON: {error.msg} at line {error.lineno}") from error
        items, problems = read_json(value)
    elif kind == "jsonl":
        items, problems = read_jsonl(text)
    elif kind == "csv":
        items, problems = read_csv(text, name)
    elif kind == "feed":
        items, problems = read_feed(text)
    elif kind == "story":
        items = read_story(text.replace("\r\n", "\n"))
    else:  # pragma: no cover - detect_format returns only the kinds above
        raise AssertionError(kind)
    if not items:
        what = {"jsonl": "JSON Lines file", "csv": "CSV file", "feed": "feed", "json": "JSON"}
        detail = "; ".join(problems[:5])
        raise UnreadableInput(
            f"{what.get(kind, kind)} with no readable item" + (f": {detail}" if detail else "")
        )
    landed, spans = render(items, kind)
    return Reading(kind, landed, spans, problems)


def read_bytes_format(name: str, data: bytes) -> Reading | None:
    """Read a binary format (WARC) straight from its bytes; None for every other file."""
    suffixes = "".join(Path(name).suffixes[-2:]).lower()
    if data.startswith(b"WARC/") or suffixes in {".warc", ".warc.gz"}:
        items, problems = read_warc(data)
        if not items:
            raise UnreadableInput("WARC file with no HTML response")
        landed, spans = render(items, "warc")
        return Reading("warc", landed, spans, problems)
    return None


def _whole(text: str, reader: str) -> dict:
    return {
        "item_index": 0,
        "reader": reader,
        "title": None,
        "published": None,
        "date_source": None,
        "url": None,
        "language": None,
        "char_start": 0,
        "char_end": len(text),
        "body_start": 0,
    }
