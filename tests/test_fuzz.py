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


# Each example is a batch of texts, read side by side as a partition reads its documents: a
# pass of segment and extract costs about the same for one text as for ten.
@settings(FUZZ, max_examples=12)
@given(files=st.lists(st.tuples(NAMES, NEWSLIKE), min_size=1, max_size=10))
def test_any_text_reads_segments_and_extracts_inside_its_document(
    files: list[tuple[str, str]],
) -> None:
    landed: dict[str, tuple[str, str, list]] = {}
    for number, (name, text) in enumerate(files):
        try:
            read, _, _, _, items = land.read_document(name, text.encode("utf-8", "surrogatepass"))
        except (UnreadableInput, UnicodeDecodeError):
            continue
        landed[f"d{number}"] = (name, read, items)
    if not landed:
        return
    documents = pl.DataFrame(
        {
            "doc_id": list(landed),
            "source_file": [name for name, _, _ in landed.values()],
            "text": [text for _, text, _ in landed.values()],
            "items": [items for _, _, items in landed.values()],
            "landed_at": [datetime(2024, 1, 1, tzinfo=UTC)] * len(landed),
        }
    )
    articles = segment.segment(documents, "fuzz")
    lengths = {doc_id: len(text) for doc_id, (_, text, _) in landed.items()}
    statistics = extract.statistics(articles, "fuzz")
    entities = extract.entities(articles, "fuzz")
    for found in (articles, statistics, entities):
        for doc_id, start, end in found.select("doc_id", "char_start", "char_end").iter_rows():
            assert 0 <= start <= end <= lengths[doc_id]
