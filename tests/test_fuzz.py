"""Property tests: any bytes and any text go through land, read, segment and extract without
an exception other than UnreadableInput, and every figure's span lies inside its document."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelake import extract, land, segment
from tracelake.read import UnreadableInput

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(
    ["a.txt", "b.html", "c.md", "d.json", "e.jsonl", "f.csv", "g.xml", "h.story", "i.warc.gz"]
)
# Text that looks enough like news to reach the extractor: words, numbers, money, dates,
# lines and the odd control character, mixed with anything at all.
PIECES = st.sampled_from(
    [
        "Police arrested ", "12", " people", " smugglers", " migrants", " €3,500", " $1.2 million",
        " on 3 March 2021", "\n", "\n\n", " trafficking", " Europol", " Operation Storm", ". ",
        "Title line\n", "  ", "\t", "«", "»", "\u200b", "\ufeff", "\r\n", "<p>", "</p>", "{", "}",
        '"title": "', "---\n", "# ", "dozens of", " victims", " rescued", " ¥", "١٢", "½",
    ]
)  # fmt: skip
NEWSLIKE = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=60).map("".join)


@FUZZ
@given(name=NAMES, data=st.binary(max_size=2000))
def test_any_bytes_land_or_are_unreadable(name: str, data: bytes) -> None:
    try:
        text, _, _, problems, items = land.read_document(name, data)
    except UnreadableInput:
        return
    assert isinstance(text, str) and all(isinstance(p, str) for p in problems)
    for item in items:
        assert 0 <= item["char_start"] <= item["char_end"] <= len(text)


@FUZZ
@given(name=NAMES, text=NEWSLIKE)
def test_any_text_reads_segments_and_extracts_inside_its_document(name: str, text: str) -> None:
    try:
        landed, _, _, _, items = land.read_document(name, text.encode("utf-8", "surrogatepass"))
    except (UnreadableInput, UnicodeDecodeError):
        return
    documents = pl.DataFrame(
        {
            "doc_id": ["d0"],
            "source_file": [name],
            "text": [landed],
            "items": [items],
            "landed_at": [datetime(2024, 1, 1, tzinfo=UTC)],
        }
    )
    articles = segment.segment(documents, "fuzz")
    for start, end in articles.select("char_start", "char_end").iter_rows():
        assert 0 <= start <= end <= len(landed)
    statistics = extract.statistics(articles, "fuzz")
    for start, end in statistics.select("char_start", "char_end").iter_rows():
        assert 0 <= start <= end <= len(landed)
    entities = extract.entities(articles, "fuzz")
    for start, end in entities.select("char_start", "char_end").iter_rows():
        assert 0 <= start <= end <= len(landed)
