"""Word frequencies by the column: the same Zipf values as wordfreq's own look-up."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from wordfreq import zipf_frequency

from tracelake import zipf

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# The languages tracelake detects (segment.LANGUAGES), as wordfreq names them.
DETECTED = ("en", "fr", "es", "de", "it", "pt", "nl", "el", "ro", "tr", "pl", "ar", "ru")
# Words wordfreq reads otherwise than they are written: folded ("straße" is looked up as
# "strasse", a final sigma as a sigma, a ligature as its letters), split in two ("the中国"),
# or never seen.
SPECIAL = [
    ("straße", "de"),
    ("ςας", "el"),
    ("ﬁnal", "en"),
    ("the中国", "en"),
    ("café", "fr"),
    ("caféカフェ", "fr"),
    ("abcабв", "en"),
    ("zzqxwvj", "en"),
    ("años", "es"),
    ("ǅ", "en"),
]


def seed_words() -> list[str]:
    words: set[str] = set()
    for path in sorted(SEEDS.rglob("*")):
        if path.is_file():
            words |= set(re.findall(r"[^\W\d_]{3,}", path.read_text(errors="ignore").lower()))
    return sorted(words)


def test_zipf_is_wordfreqs_for_every_detected_language() -> None:
    words = seed_words()
    assert len(words) > 1000
    rows = [(word, DETECTED[i % len(DETECTED)]) for i, word in enumerate(words)] + SPECIAL
    frame = pl.DataFrame(rows, schema={"word": pl.String, "language": pl.String}, orient="row")
    got = zipf.zipf(frame).to_list()
    want = [zipf_frequency(word, language) for word, language in rows]
    assert got == want
    assert sum(value > 0 for value in got) > len(got) / 2  # most seed words are known
    # the folded and the split words are known to wordfreq: found, not taken as unknown
    assert all(value > 0 for value in got[-len(SPECIAL) :][:4])


def test_zipf_of_no_words_is_empty() -> None:
    empty = pl.DataFrame(schema={"word": pl.String, "language": pl.String})
    assert zipf.zipf(empty).to_list() == []


@pytest.mark.parametrize("language", DETECTED)
def test_a_word_is_in_one_band_of_a_list(language: str) -> None:
    # zipf.zipf joins on the word alone: a word in two bands would give two rows
    bands = zipf._bands(language)
    assert len(bands) > 40_000
    assert not bands.get_column("token").is_duplicated().any()
