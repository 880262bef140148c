"""Arrow schemas of the lake: the contracts between land, segment, extract and dbt."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds"

# A candidate article of a document, as its reader found it (tracelake/read.py).
ITEM = pa.struct(
    [
        pa.field("item_index", pa.int32()),  # 0-based position in the document
        pa.field("reader", pa.string()),  # the reader that made it
        pa.field("title", pa.string()),  # given by the format (field, front matter), else null
        pa.field("published", pa.date32()),  # from metadata (field, front matter, feed, HTML)
        pa.field("date_source", pa.string()),  # which metadata gave `published`
        pa.field("url", pa.string()),
        pa.field("language", pa.string()),  # a hint from the format, ISO 639-1
        pa.field("char_start", pa.int64()),  # span of the item in the landed text
        pa.field("char_end", pa.int64()),
        pa.field("body_start", pa.int64()),  # where the text under the title starts
    ]
)

# lake/raw/documents/ingest_date=YYYY-MM-DD/part-<run_id>.parquet
RAW_DOCUMENTS = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),  # sha256 hex of the raw bytes
        pa.field("source_file", pa.string(), nullable=False),  # path relative to the source root
        pa.field("content_type", pa.string(), nullable=False),  # the reader: CONTENT_TYPES
        pa.field("encoding", pa.string(), nullable=False),  # how the bytes were decoded
        pa.field("size_bytes", pa.int64(), nullable=False),
        pa.field("text", pa.string(), nullable=False),  # readable text; offsets point into it
        pa.field("problems", pa.list_(pa.string())),  # non-fatal notes (bad JSON lines, ...)
        pa.field("items", pa.list_(ITEM)),  # candidate articles and their spans
        pa.field("landed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

# lake/staged/articles/extractor_version=<v>/part-<run_id>.parquet
ARTICLES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),  # sha256(doc_id:article_index)[:16]
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("article_index", pa.int32(), nullable=False),  # 0-based position in the document
        pa.field("title", pa.string(), nullable=False),
        pa.field(
            "body", pa.string(), nullable=False
        ),  # article lines without furniture, "\n"-joined
        pa.field("body_offsets", pa.list_(pa.int64()), nullable=False),  # doc offset of each line
        pa.field(
            "head", pa.string(), nullable=False
        ),  # lines under the title: source, byline, date
        pa.field("fingerprint", pa.string(), nullable=False),  # hash of the normalised body
        pa.field("char_start", pa.int64(), nullable=False),  # span of the article in doc text
        pa.field("char_end", pa.int64(), nullable=False),
        pa.field("title_start", pa.int64()),  # doc offset of the title line
        pa.field("published_date", pa.date32()),
        # what gave the date: one of DATE_SOURCES
        pa.field("date_source", pa.string()),
        pa.field("reader", pa.string()),  # the reader of the document's format
        pa.field("url", pa.string()),  # the article's own URL, when its format gives one
        pa.field("language", pa.string()),  # ISO 639-1
        pa.field("is_relevant", pa.bool_(), nullable=False),
        pa.field("relevance_reason", pa.string(), nullable=False),
        pa.field("crime_types", pa.list_(pa.string()), nullable=False),
        pa.field("duplicate_of", pa.string()),  # article_id of an earlier copy, else null
        pa.field("extractor_version", pa.string(), nullable=False),
    ]
)

# lake/staged/statistics/extractor_version=<v>/part-<run_id>.parquet
STATISTICS = pa.schema(
    [
        pa.field("statistic_id", pa.string(), nullable=False),  # sha256(article_id:char_start)[:16]
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("qualifier", pa.string(), nullable=False),
        pa.field("unit", pa.string()),
        pa.field("currency", pa.string()),  # ISO 4217
        pa.field("subject", pa.string()),  # the noun phrase counted
        pa.field("evidence", pa.string(), nullable=False),  # the sentence
        pa.field("char_start", pa.int64(), nullable=False),  # span of the figure in doc text
        pa.field("char_end", pa.int64(), nullable=False),
        pa.field("extractor_version", pa.string(), nullable=False),
    ]
)

# lake/staged/entities/extractor_version=<v>/part-<run_id>.parquet
ENTITIES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("entity_type", pa.string(), nullable=False),  # agency|country|operation|crime_type
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("mention", pa.string(), nullable=False),  # surface text
        pa.field("char_start", pa.int64(), nullable=False),
        pa.field("char_end", pa.int64(), nullable=False),
        pa.field("extractor_version", pa.string(), nullable=False),
    ]
)


def _registry(name: str, column: str) -> tuple[str, ...]:
    """One column of a registry seed (dbt/seeds/<name>.csv), in file order."""
    with open(SEEDS_DIR / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return tuple(row[column] for row in csv.DictReader(handle))


# The registry of metrics: dbt/seeds/metrics.csv (name, description, unit kind, is_money).
METRICS = _registry("metrics", "metric")
QUALIFIERS = ("exact", "approx", "at_least", "more_than", "at_most", "less_than")
ENTITY_TYPES = ("agency", "country", "operation", "crime_type")
CRIME_TYPES = (
    "human_trafficking", "migrant_smuggling", "sexual_exploitation", "forced_labour",
    "child_sexual_abuse", "money_laundering", "drug_trafficking", "arms_trafficking",
    "fraud", "counterfeiting", "document_fraud", "corruption", "cybercrime",
)  # fmt: skip
CONTENT_TYPES = (
    "text",
    "lynx",
    "markdown",
    "html",
    "json",
    "jsonl",
    "csv",
    "feed",
    "story",
    "warc",
)
DATE_SOURCES = (
    "field", "front_matter", "feed", "html_metadata", "byline", "head", "foot", "url",
)  # fmt: skip
