"""Text that is not UTF-8: which encoding its bytes are in.

Byte-order marks decide first (UTF-32 before UTF-16, whose mark begins UTF-32's). UTF-16 and
UTF-32 without a mark show themselves by their zero bytes, at fixed places in each code unit
of mostly-ASCII text. Legacy single- and multi-byte encodings (the Windows code pages, ISO
8859, KOI8, Shift_JIS, GB18030, Big5, EUC) are told by charset-normalizer, among the
encodings news text is written in (NEWS_ENCODINGS): exotic code pages (HP Roman-8, Mac
Roman, DOS) decode most bytes too but are chosen only when nothing else fits. Of encodings
that give the same text, Windows-1252 is named, as browsers do for ISO-8859-1.
"""

from __future__ import annotations

import codecs
import operator
import re
from collections import Counter
from dataclasses import dataclass

import polars as pl

from tracelake import zipf

# Encodings text in the wild is written in, by preference when several read the bytes as well.
NEWS_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859_15", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_5", "iso8859_6",
    "iso8859_7", "iso8859_8", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14",
    "iso8859_16", "koi8_r", "koi8_u", "mac_cyrillic", "cp874", "tis_620",
    "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950", "shift_jis", "cp932",
    "shift_jis_2004", "euc_jp", "iso2022_jp", "euc_kr", "cp949", "johab",
)  # fmt: skip
# Above this share of "chaos" (charset-normalizer's measure of unlikely characters) the
# guess is landed with a note in `problems`: the text may be garbled.
DOUBTFUL_CHAOS = 0.1
# So is a guess whose text shows no language (coherence below MIN_COHERENCE) while other
# encodings read the bytes, as differently, with as few unlikely characters.
MIN_COHERENCE = 0.05
# Readings whose coherence is this close tie, and are told apart by known_word_share.
COHERENCE_TIE = 0.02
ACCENTED_LANGUAGES = (
    "cs", "sk", "pl", "hu", "sl", "ro", "fr", "de", "es", "it", "pt", "nl", "da", "sv",
    "nb", "fi", "tr", "lt", "lv", "vi", "ca", "is", "sh",
)  # fmt: skip
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# UTF-16/32 without a byte-order mark: at least MIN_WIDE_UNITS code units, WIDE_SHARE of
# them in at most two blocks of 256 code points below U+2000 (LOW_BLOCKS: the alphabets).
MIN_WIDE_UNITS = 8
WIDE_SHARE = 0.9
LOW_BLOCKS = 0x20


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    problems: tuple[str, ...] = ()


class UnknownEncoding(ValueError):
    """No encoding reads the bytes as text."""


def by_bom(data: bytes) -> Decoded | None:
    """UTF-16 or UTF-32 text that starts with a byte-order mark; raises UnicodeDecodeError
    when the bytes after it do not decode."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(encoding), encoding)
    return None


def wide_without_bom(data: bytes) -> Decoded | None:
    """UTF-16 or UTF-32 (either byte order) without a byte-order mark, or None.

    Text in one alphabet keeps the high byte of its code units in a few small values (0x00 for
    ASCII, 0x04 for Cyrillic, 0x05 for Hebrew...); UTF-32's two top bytes are zero. Bytes that
    look so must still decode to printable text.
    """
    head = data[:4096]
    for width, encoding, high, zeros in (
        (4, "utf-32-le", 1, (2, 3)),
        (4, "utf-32-be", 2, (0, 1)),
        (2, "utf-16-le", 1, ()),
        (2, "utf-16-be", 0, ()),
    ):
        count = len(head) // width
        if len(data) % width or count < MIN_WIDE_UNITS:
            continue
        units = head[: count * width]
        if zeros:
            first, second = (units[z::width] for z in zeros)
            if bytes(map(operator.or_, first, second)).count(0) < count * WIDE_SHARE:
                continue
        highs = Counter(units[high::width])
        top = [value for value, _ in highs.most_common(2) if value < LOW_BLOCKS]
        if sum(highs[value] for value in top) < count * WIDE_SHARE:
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(ch.isprintable() or ch.isspace() for ch in text[:2000]) >= len(text[:2000]) * 0.95:
            return Decoded(text, encoding)
    return None


def legacy(data: bytes) -> Decoded:
    """Bytes in a legacy encoding, as charset-normalizer reads them; raises UnknownEncoding."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=list(NEWS_ENCODINGS)))
    if not matches:
        matches = list(from_bytes(data))  # an exotic code page, if nothing usual fits
    if not matches:
        raise UnknownEncoding("no known encoding reads the bytes as text")
    least = min(match.chaos for match in matches)
    calm = [match for match in matches if match.chaos == least]
    top = max(match.coherence for match in calm)
    tied = [match for match in calm if match.coherence >= top - COHERENCE_TIE]
    # Code pages of one script tie often (Czech in Windows-1250 or 1252): the reading whose
    # accented words are words of some language wins.
    best = max(
        tied,
        key=lambda match: (
            known_word_share(str(match)) if len(tied) > 1 else 0.0,
            match.coherence,
            -_preference(match.could_be_from_charset),
        ),
    )
    if best.coherence < MIN_COHERENCE:
        # No language shows through (a short text, a few accented letters): Windows-1252, the
        # default of browsers and of most legacy Western text, when it reads the bytes as well.
        best = next((m for m in calm if "cp1252" in m.could_be_from_charset), best)
    encoding = _named(best.could_be_from_charset, best.encoding)
    text = str(best) if encoding == best.encoding else data.decode(encoding)
    if encoding == "cp1252" and 0xA4 in data and not any(0x80 <= byte <= 0x9F for byte in data):
        # No byte of Windows-1252's own range, and the currency sign ¤ that ISO-8859-15 made
        # the euro sign: ISO-8859-15 ("40 000 €").
        encoding, text = "iso8859_15", data.decode("iso8859_15")
    rivals = {str(match) for match in calm}
    doubtful = best.coherence < MIN_COHERENCE and len(rivals) > 1 and encoding != "cp1252"
    if best.chaos > DOUBTFUL_CHAOS or doubtful:
        note = (
            f"encoding guessed as {encoding} with low confidence ({len(rivals)} encodings "
            f"read it as well; {best.chaos:.0%} unlikely characters): the text may be garbled"
        )
        return Decoded(text, encoding, (note,))
    return Decoded(text, encoding)


def known_word_share(text: str) -> float:
    """Share of the words with a non-ASCII letter that wordfreq knows in one of the languages
    written in Latin script with legacy code pages (ACCENTED_LANGUAGES)."""
    words = {w for w in re.findall(r"[^\W\d_]{3,}", text[:20_000].lower()) if not w.isascii()}
    if not words:
        return 0.0
    pairs = pl.DataFrame(
        [(word, lang) for word in words for lang in ACCENTED_LANGUAGES],
        schema={"word": pl.String, "language": pl.String},
        orient="row",
    )
    known = pairs.filter(zipf.zipf(pairs) > 0).get_column("word").n_unique()
    return known / len(words)


def _preference(names: list[str]) -> int:
    ranks = [NEWS_ENCODINGS.index(name) for name in names if name in NEWS_ENCODINGS]
    return min(ranks, default=len(NEWS_ENCODINGS))


def _named(names: list[str], chosen: str) -> str:
    """The preferred of the encodings that give the same text."""
    usual = [name for name in names if name in NEWS_ENCODINGS]
    return min(usual, key=NEWS_ENCODINGS.index) if usual else chosen
