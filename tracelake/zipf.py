"""How common a word is in a language: wordfreq's Zipf frequency, looked up by the column.

wordfreq's own look-up (`zipf_frequency`) keeps each language's word list as a Python dict:
516 MiB for the 13 languages tracelake detects, held for the life of the process. Here each
list is a Polars frame of words and frequency bands (4 MiB a language; 180-230 MiB of the
process for all 13, against 516), read from wordfreq's files a band at a time, and a column
of words is looked up with a join. The result is zipf_frequency's, to the hundredth: a word
is first reduced to the tokens wordfreq would look up (`lossy_tokenize`), unless it is
plain enough that they are the word itself.
"""

from __future__ import annotations

import gzip
import math
import threading
from functools import cache, lru_cache

import msgpack
import polars as pl

# Words wordfreq's tokenizer leaves as they are: a run of three or more lowercase ASCII
# letters (wordfreq only folds case, normalises and splits at non-letters).
PLAIN_WORD = r"^[a-z]{3,}$"
# The frequency of a word missing from the list: zipf_frequency's minimum of 0 Zipf.
MINIMUM_FREQUENCY = 1e-9
CHUNK = 50_000  # words turned into a Polars column at a time while a list is read


@lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    """The languages wordfreq has a word list for."""
    from wordfreq import available_languages

    return frozenset(available_languages())


def zipf(words: pl.DataFrame) -> pl.Series:
    """The Zipf frequency (0 for an unknown word) of each row's `word` in its `language`,
    a language wordfreq lists (`languages`); as wordfreq.zipf_frequency gives it."""
    rows = words.select("word", "language").with_row_index("row")
    plain = rows.filter(pl.col("word").str.contains(PLAIN_WORD))
    split = [
        (row, language, token)
        for row, word, language in rows.join(plain, on="row", how="anti").iter_rows()
        for token in _tokens(word, language)
    ]
    tokens = pl.concat(
        [
            plain.select("row", "language", token="word"),
            pl.DataFrame(split, schema=TOKENS, orient="row"),
        ]
    )
    banded = pl.concat(
        [
            part.join(_listed(_bands(language), part), on="token", how="left")
            for (language,), part in tokens.partition_by("language", as_dict=True).items()
        ]
        or [tokens.with_columns(band=pl.lit(None, dtype=pl.Int32))]
    )
    counted = banded.with_columns(tokens=pl.len().over("row"))
    single = counted.filter(pl.col("tokens") == 1).select("row", "band")
    bands = single.get_column("band").unique().to_list()
    by_band = pl.DataFrame(
        {"band": bands, "zipf": [_zipf_of((band,)) for band in bands]},
        schema={"band": pl.Int32, "zipf": pl.Float64},
    )
    several = counted.filter(pl.col("tokens") > 1).group_by("row").agg(pl.col("band"))
    found = pl.concat(
        [
            single.join(by_band, on="band", how="left", nulls_equal=True).select("row", "zipf"),
            several.select(
                "row",
                zipf=pl.Series(
                    [_zipf_of(tuple(b)) for b in several.get_column("band").to_list()],
                    dtype=pl.Float64,
                ),
            ),
        ]
    )
    return (
        rows.join(found, on="row", how="left", maintain_order="left")
        .get_column("zipf")
        .fill_null(0.0)  # a word of no token
    )


def _listed(bands: pl.DataFrame, tokens: pl.DataFrame) -> pl.DataFrame:
    """The bands of these tokens: a set of the few tokens sought, not a hash table of the
    hundreds of thousands of words listed (one a thread, some 100 MB)."""
    return bands.filter(pl.col("token").is_in(tokens.get_column("token").unique().implode()))


TOKENS = {"row": pl.UInt32, "language": pl.String, "token": pl.String}


@lru_cache(maxsize=100_000)
def _tokens(word: str, language: str) -> tuple[str, ...]:
    from wordfreq import lossy_tokenize

    return tuple(lossy_tokenize(word, language))


@lru_cache(maxsize=10_000)
def _zipf_of(bands: tuple[int | None, ...]) -> float:
    """wordfreq's Zipf frequency of a word whose tokens lie in these frequency bands (None:
    a token missing from the list), step for step as wordfreq.word_frequency makes it."""
    if not bands or None in bands:
        return round(math.log(MINIMUM_FREQUENCY, 10) + 9, 2)
    inverse = sum(1.0 / 10 ** (-band / 100) for band in bands if band is not None)
    frequency = max(1.0 / inverse, MINIMUM_FREQUENCY)
    rounded = round(frequency, math.floor(-math.log(frequency, 10)) + 3)
    return round(math.log(rounded, 10) + 9, 2)


_LOADING = threading.Lock()  # one thread reads a list; the other then finds it read


def _bands(language: str) -> pl.DataFrame:
    with _LOADING:
        return _read_bands(language)


@cache
def _read_bands(language: str) -> pl.DataFrame:
    """(token, band) of a language's word list: band b holds the words of frequency
    10^(-b/100). Read from wordfreq's file a band at a time: as one Python list, the
    words would take ten times the frame's memory."""
    from wordfreq import available_languages

    tokens: list[pl.Series] = []
    bands: list[pl.Series] = []
    chunk: list[str] = []
    chunk_bands: list[int] = []

    def flush() -> None:
        tokens.append(pl.Series(chunk, dtype=pl.String))
        bands.append(pl.Series(chunk_bands, dtype=pl.Int32))
        chunk.clear()
        chunk_bands.clear()

    with gzip.open(available_languages()[language], "rb") as packed:
        unpacker = msgpack.Unpacker(packed, raw=False, max_buffer_size=0)
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        if (
            not isinstance(header, dict)
            or header.get("format") != "cB"
            or header.get("version") != 1
        ):
            raise ValueError(
                f"wordfreq's {language} list is not in the format read here: {header!r}"
            )
        for band in range(count - 1):
            words = unpacker.unpack()
            chunk.extend(words)
            chunk_bands.extend([band] * len(words))
            if len(chunk) >= CHUNK:
                flush()
    flush()
    # a word is in one band only (a test checks the lists): no need to drop repeats
    return pl.DataFrame({"token": pl.concat(tokens), "band": pl.concat(bands)})
