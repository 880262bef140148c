"""Extract: articles become statistics (figures with their meaning) and entities, in Polars.

Bodies are cut into sentences with their offsets in the document text. Every figure in a
sentence (digits, number words, vague quantities, sums of money) becomes a row; the words
after it (the noun phrase it counts) and the verbs around it give its metric.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from tracelake import reference, vocab, wordmatch
from tracelake.schemas import ENTITIES, STATISTICS

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

# --- sentences ----------------------------------------------------------------------------
# Pieces of a line that end at a sentence end; a dot between digits or letters is no end.
# The last alternative takes whatever is left, so the pieces always cover the whole line.
SENTENCE_PIECE = r"(?:[^.!?…]|[.!?…]+[^\s.!?…”\"’)\]])*[.!?…]+[”\"’)\]]*(?:\s+|$)|.+$"
# A piece ending in one of these was cut at an abbreviation, not at a sentence end.
ABBREVIATION_END = (
    r"(?i)(\b(mr|mrs|ms|dr|prof|gen|capt|col|lt|sgt|st|jr|sr|no|nos|vs|inc|ltd|co|corp|gov|"
    r"sen|rep|dept|approx|est|fig|op|art|p|pp|m|mme|mlle|ca|nr|bzw|sra|srta|núm|dott|sig|avv)"
    r"\.|\b\p{Lu}\.)\s*$"
)

# --- figures ------------------------------------------------------------------------------
QUALIFIER_WORDS = vocab.grouped("qualifiers", "qualifier", "phrase")
QUALIFIER_OF = {w: q for q, words in QUALIFIER_WORDS.items() for w in words}
_QUAL = "|".join(sorted((w.replace("'", "['’]") for w in QUALIFIER_OF), key=len, reverse=True))
NUMBER_WORDS = vocab.forms("number_words", "word")  # read by text2num
_WORD = "(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
# Vague quantities, read at their lowest (ACLED's convention) with the qualifier at_least.
VAGUE = {row["phrase"].lower(): int(row["value"]) for row in vocab.rows("quantities")
         if row["kind"] == "vague"}  # fmt: skip
# Set quantities named by a word: exact readings, but approximate by nature.
ROUND = {row["phrase"].lower(): int(row["value"]) for row in vocab.rows("quantities")
         if row["kind"] == "round"}  # fmt: skip
_VAGUE = "|".join(sorted([*VAGUE, *ROUND], key=len, reverse=True))
# Multipliers after a number ("1,7 Millionen", "₹21 lakh", "Mio."), keyed without a final dot.
SCALES = {row["phrase"].lower().rstrip("."): float(row["value"])
          for row in vocab.rows("quantities") if row["kind"] == "scale"}  # fmt: skip
_SCALE = "|".join(sorted(SCALES, key=len, reverse=True))
CURRENCIES = {
    form.lower(): code for form, code in vocab.mapping("currencies", "form", "currency").items()
}


# A currency written before the sum: its symbol or ISO code ("€", "US$", "USD").
# currencies.csv: every currency in use (ISO 4217, Babel's names in the five languages) by
# its name after the sum, its symbol before or after it ("either"), and its ISO code, which
# is read in capitals only ("ALL 500" is leks, "all 500" is not).
def _currency_forms(*positions: str, word: bool | None = None) -> str:
    """Forms of the given positions; word=True only those ending in a letter, False the rest."""
    return "|".join(
        re.escape(row["form"]).replace("\\ ", " ").replace("'", "['’]")
        for row in sorted(vocab.rows("currencies"), key=lambda r: -len(r["form"]))
        if row["position"] in positions
        and (word is None or bool(re.search(r"\w$", row["form"])) == word)
    )


_CUR_CODE = "(?-i:" + _currency_forms("code") + ")"
_CUR_PRE = r"(?P<cur_pre>" + _CUR_CODE + "|" + _currency_forms("before", "either") + r")\s?"
# Thousands by commas or spaces; a text wrapped by a text browser may stretch the space.
_DIGITS = (
    r"\d{1,3}(?:(?:[,\u00a0\u202f\u2009]| {1,4})\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?|"
    r"\d+(?:[.,]\d+)?"
)
# Languages that group thousands with dots and write decimals with a comma.
DOT_THOUSANDS_LANGUAGES = ["es", "de", "it", "pt", "nl", "ro", "tr", "el"]
# Rust's regex engine (Polars) checks a Unicode word boundary (\b) only in its slowest mode
# once a text holds a non-ASCII letter, as most news does. So figures are first found with
# ASCII boundaries (FIGURE: a fifth of the time), where a form that begins or ends with a
# non-ASCII letter ("über", "rial iraní") goes without one; `unicode_bounded` finds the
# matches whose edges a Unicode boundary would refuse ("ten" in Spanish "tenía"), and the
# sentences that hold one are matched again with FIGURE_UNICODE, the exact pattern.
ASCII_B = wordmatch.ASCII_BOUNDARY


def _split_by_edge(forms: str, edge: int) -> tuple[str, str]:
    """An alternation's forms whose first (edge 0) or last (-1) letter is ASCII, and the rest."""
    items = [f for f in forms.split("|") if f]
    plain = [f for f in items if f[edge].isascii() or not f[edge].isalpha()]
    return "|".join(plain), "|".join(f for f in items if f not in plain)


def _figure_pattern(ascii_boundaries: bool) -> str:
    """FIGURE, or with ascii_boundaries its fast form (see ASCII_B)."""
    # The forms without a boundary come first, so a longer form is still tried before its
    # prefix, as in the alternations sorted by length ("dinar iraquí" before "dinar").
    quals, loose_quals = _QUAL, ""
    post_words, loose_post = _currency_forms("after", "either", word=True), ""
    if ascii_boundaries:
        quals, loose_quals = _split_by_edge(quals, 0)
        post_words, loose_post = _split_by_edge(post_words, -1)
    cur_post = (
        r"(?P<cur_post>" + (loose_post + "|" if loose_post else "")
        + "(?:" + _CUR_CODE + "|" + post_words + r")\b"
        + "|" + _currency_forms("after", "either", word=False) + ")"
    )  # fmt: skip
    pattern = (
        r"(?i)(?:(?P<qual>" + (loose_quals + "|" if loose_quals else "")
        + r"\b(?:" + quals + r"))\s+)?(?:" + _CUR_PRE + r")?"
        r"(?P<num>\b(?:" + _VAGUE + r")\b|" + _DIGITS + r"|\b" + _WORD
        + r"(?:[\s-]+(?:and\s+|et\s+)?" + _WORD + r")*\b)"
        r"(?:\s?(?P<scale>" + _SCALE + r")\b\.?)?"
        r"(?:\s+(?:de\s+|of\s+)?" + cur_post + r")?"
    )  # fmt: skip
    return pattern.replace(r"\b", ASCII_B) if ascii_boundaries else pattern


# A figure: an optional qualifier and currency, a number in digits or words, a scale, a
# currency after it. After the sum a currency name or code ends at a word boundary; a
# symbol ("500 $", "20 €") anywhere.
FIGURE_UNICODE = _figure_pattern(ascii_boundaries=False)
FIGURE = _figure_pattern(ascii_boundaries=True)
# What directly follows a number that is not a count: units of time, ages, percentages,
# ordinals, clock times, dates.
NOT_A_COUNT_AFTER = (
    r"(?i)^([-\s]?(years?|yrs?|months?|weeks?|days?|hours?|minutes?|seconds?|ans?|mois|"
    r"semaines?|jours?|heures?|year-old|-year)\b|\s?(%|per ?cent|pour ?cent)|"
    r"(st|nd|rd|th|e|er|ème|eme)\b|[:h.]\d|\s?(am|pm)\b|[/-]\d|"
    r"\s+(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|"
    r"novembre|décembre)\b)"
)
NOT_A_COUNT_BEFORE = (
    r"(?i)(\b(aged|age|ages|âgée?s?|article|section|paragraph|chapter|no\.|number|n°|"
    r"code|law|act|room|page|line|flight|route|tel|phone|january|february|march|april|"
    r"may|june|july|august|september|october|november|december)\s*|[+#/-])$"
)
# Numbers that follow "aged" are ages, a range of ages too: "aged 25", "aged between 29 and
# 61", "aged 18 to 25", "âgés de 20 à 35 ans".
AGE_BEFORE = (
    r"(?i)\b(aged|ages|âgée?s?)\s+(between\s+|from\s+|de\s+|entre\s+)?"
    r"(\d+\s*(and|to|-|–|et|à)\s*)?$"
)
AGE_RANGE = (
    r"(?i)\b(aged|ages|âgée?s?)\s+(between\s+|from\s+|de\s+|entre\s+)?\d+"
    r"(\s*(and|to|-|–|et|à)\s*\d+)?(\s+ans)?"
)
# A range, "between 30 and 40", "from €3,000 to €5,000", "de 3 000 à 5 000 euros": what is
# written between its two numbers, and what may open it.
RANGE_JOIN = r"(?i)^\s*(and|to|et|à)\s*$"
RANGE_OPEN = r"(?i)\b(between|from|entre|de)\s+$"
# A converted sum in brackets after another sum: "€6,000 ($6,632)".
# "60,000 yuan ($8,429, £6,295)": the sums in the bracket too.
CONVERSION_BEFORE = (
    r"(?i)([€$£]\s?[\d.,]+\s*(m|bn|k|million|billion)?|[\d.,]+\s*(m|bn|k|million|billion)?\s*"
    r"(yuan|euros?|dollars?|pounds?|rupees|yen))\s*\(\s*([€$£]?\s?[\d.,]+\s*\p{L}*\s*,\s*)*$"
)

# --- meaning ------------------------------------------------------------------------------
# Words that end the noun phrase a number counts.
NP_STOP = vocab.forms("noun_stops", "word")
NOUN_CLASS = {
    name: "^(" + "|".join(nouns) + ")$"
    for name, nouns in vocab.grouped("noun_classes", "class", "noun").items()
}
VERB_CLASS = {
    name: r"(?i)\b(" + "|".join(verbs) + ")"
    for name, verbs in vocab.grouped("verb_classes", "metric", "verb").items()
}
# After the noun, a victim is said in the passive ("were exploited"), not as a doer.
VERB_CLASS_AFTER = VERB_CLASS | {
    "victims": r"(?i)\b(identified as (\w+\s+){0,2}victims|"
    r"(were|was|been|being|are|fell|became)\s+(\w+\s+)?(exploit\w*|"
    r"trafficked|abused|lured|forced|enslaved|deceived|victims?)|victimes)",
}
# Places checked, not raided: "inspectors checked 2,300 farms".
CHECK_BEFORE = (
    r"(?i)\b(check\w*|inspect\w*|controll?\w*|screen\w*|visit\w*|contrôl\w*)\s+"
    r"(\w+\s+){0,2}$"
)
# Words that join two clauses, each with its own verb.
COORDINATOR = r"(?i)\b(and|but|while|whereas|et|mais|tandis)\b"
# A short aside between commas ("including 236 minors,") is skipped when reading on to the verb.
APPOSITIVE = r"^([^,]*),[^,]{1,40},"
PER_UNIT = (
    r"(?i)^\W{0,3}(\([^)]*\)\s*)?(each|apiece|a head|per (person|head|passenger|migrant|"
    r"victim|crossing|trip|journey|child|woman|girl|kilo|kg|unit|seat|place|visa)|"
    r"a person|a piece|par personne|par tête|chacun|chacune|par passager|par migrant|"
    r"(for|pour) (a|one|une) (place|seat|spot|berth|passage)|(pour|for) (la|the) (place|seat)|"
    # per crossing and per hour: "1 500 euros la traversée", "$600 an hour"
    r"(pour (effectuer )?|for )?(la|the|a|per|par) (traversée|crossing|passage)|"
    r"an hour|per hour|a night|per night|de l['’]heure|par heure|la nuit|"
    r"por persona|por cabeza|pro (Person|Kopf)|a persona|a testa|per persona|ciascuno|cada uno)\b"
)
# The unit said before the sum: "Each migrant paid €3,000"; or a deal with a smuggler or a
# trafficker: "she paid smugglers $8,000", "women were sold for £500", "vendues pour 500 euros".
PER_UNIT_BEFORE = (
    r"(?i)(\b(each|every|per|chaque)\s+(\w+\s+){0,2}(paid|pays|paying|was charged|were charged|"
    r"had to pay|handed over|payait|a payé|ont payé|versait|a versé|verse|devait payer)\s+"
    r"(\w+\s+){0,3}|"
    r"\b(charg\w*|paid|pay|paying|demand\w*|ask\w*|fac\w*|réclam\w*|demand\w*)\s+"
    r"(each|every|per|chaque)\s+(\w+\s+){0,2}(between\s+|from\s+|entre\s+|de\s+)?|"
    r"\b(in exchange for|a fee of|fee of|for the price of|au prix de|en échange de|"
    r"factur\w*|cobr(aba|aban|ó|aron)|verlangt\w*|chiedev\w*)\s+(\w+\s+){0,2}|"
    r"\b(paid|pay|pays|paying|payé|payer)\s+(a |the |their |les |des |un |leurs? )?"
    r"(smugglers?|traffickers?|passeurs?|trafiquants?)\s+|"
    r"\b(she|he|they|women|girls?|boys?|children|child|babies|baby|victims?|migrants?|people|"
    r"workers|elles?|ils|femmes|filles|enfants|victimes)\s+(\w+\s+){0,2}(was|were|been|being|is|are|"
    r"ont été|a été|sont|étaient)\s+(sold|resold|vendue?s?|revendue?s?)\s+(for|pour)\s+)$"
)
# The deal said after the sum: "$8,000 to smugglers", "5 000 euros à un passeur".
DEAL_AFTER = (
    r"(?i)^\s*(\([^)]*\)\s*)?(to|à)\s+(a |an |the |their |les |des |un |leurs? )?"
    r"(smugglers?|traffickers?|passeurs?|trafiquants?)\b"
)
# Said in the passive of people not counted as victims or suspects ("three officers were
# wounded"), these verbs tell what happened to them.
PASSIVE_EVENT = (
    r"(?i)^[^.]{0,40}?\b(were|was|been|are|got)\s+(\w+\s+)?(?P<verb>wounded|injured|hurt|"
    r"killed|arrested|detained|charged|convicted)"
)
PASSIVE_VERB = {"wounded": "injured", "injured": "injured", "hurt": "injured",
                "killed": "killed", "arrested": "arrested", "detained": "arrested",
                "charged": "charged", "convicted": "convicted"}  # fmt: skip
# A number right after a copula with no noun is an age: "She was 17 when ...".
COPULA_BEFORE = r"(?i)\b(was|is|were|are|turned|aged|âgée?s? de)\s+$"
PRICE_CONTEXT = (
    r"(?i)\b(paid|pay|pays|paying|charged|charge|charging|price|fee|fees|cost|costs|sold|"
    r"selling|bought|tarif|payé|payaient|prix|vendu\w*)\b"
)
# The metric of a figure from the class of its noun and its verbs: metric_decision.
FIGURE_MIN_WORDS = 2  # words in the figure's sentence; "9.90 €" alone is a shop's price tag

# Entity salience: see salient_countries.
ENUMERATION_MIN = 8
LEAD_SENTENCES = 2
# Words that tell of the crime or of the police action against it, in the five languages.
INCIDENT = (
    r"(?i)\b(arrest\w*|detain\w*|apprehend\w*|rescu\w*|traffick\w*|smuggl\w*|exploit\w*|"
    r"lured|raid\w*|seiz\w*|dismantl\w*|charged|convicted|intercept\w*|busted|"
    r"victims?|victimes?|arrêt\w*|interpell\w*|démantel\w*|exploit\w*|passeurs?|"
    r"fait passer|faire passer|transport\w*|traslad\w*|extradi\w*|sank|capsiz\w*|"
    r"shipwreck\w*|naufrag\w*|"
    r"detenid\w*|detuv\w*|captur\w*|rescat\w*|trata\b|tráfico|traficantes?|polleros?|"
    r"víctimas?|desarticul\w*|festgenommen|festnahme\w*|schleus\w*|menschenhandel\w*|"
    r"opfer|arrestat\w*|fermat\w*|scafist\w*|tratta|vittime)"
)
# A country named as part of an institution's name or seat, not as a place of the crime.
INSTITUTION_AFTER = (
    r"^(-Presse|-Press|\s+(Foreign|Home|Interior|Defence|Defense|Justice) "
    r"(Office|Ministry|Department)|\s+news agency|\s+(Embassy|Consulate)|"
    r"\s+(Press Agency|News Agency))"
)
INSTITUTION_BEFORE = (
    r"(?i)(headquarter(s|ed) in|embassy of|(embass(y|ies)|bureaux?|bureaus|offices?|"
    r"branch(es)?|secretariat|consulates?) in)\s+(\p{Lu}[\p{L}.-]*,?\s+(and\s+|et\s+)?)?$"
)
# A wire dateline opening the first sentence: "LYON, France –", "WASHINGTON, D.C., —".
DATELINE = r"^\p{Lu}[\p{Lu}\s.'’-]+,[^–—-]{0,40}[–—-]"
# "Operation Storm Makers II", "opération Trident", "Operación Araña", "Operazione Alba
# Bianca", "Aktion Schutzschild", "Operatie Koffer", "Operation Red Card 2.0": the name is
# capitalised words, Roman numerals and numbers after the word, quoted or not.
OPERATION = (
    r"\b(?:Operation|Opération|operation|opération|Operación|operación|Operazione|operazione|"
    r"Operação|operação|Operatie|operatie|Aktion|Operacja|operacja)\s+[“\"‘'«]?\s?"
    r"((?:\p{Lu}[\p{L}’'-]*\p{L}|\p{Lu}|[IVX]+|\d+(?:\.\d+)?)"
    r"(?:\s+(?:\p{Lu}[\p{L}’'-]*\p{L}|[IVX]+|\d+(?:\.\d+)?))*)"
)


# Words that may open a sentence before an agency's name: not part of it.
AGENCY_LEADING_WORDS = (
    r"^(?:(?:The|A|An|This|That|Both|In|On|At|By|From|With|When|While|After|Before|Then|"
    r"Meanwhile|However|And|But|Local|Officials|Officers|Yesterday|Today|Later|According|to)\s+)+"
)
AGENCY_MIN_WORDS = 2  # "Police" alone names no agency


def sentences(articles: pl.DataFrame, with_title: bool = False) -> pl.DataFrame:
    """One row per sentence of each article body (and title), with its offset in the document.

    The title is read first when asked (is_title): headlines carry figures ("6 held, 7
    pistols seized"); a figure said again in the text is one row (int_statistics_deduplicated).
    """
    titles = articles.filter(
        pl.lit(with_title)
        & pl.col("title_start").is_not_null()
        & (pl.col("body") != pl.col("title"))
    ).select(
        "article_id",
        "doc_id",
        "language",
        line=pl.concat_list("title"),
        line_start=pl.concat_list("title_start"),
        is_title=pl.lit(True),
    )
    bodies = articles.select(
        "article_id",
        "doc_id",
        "language",
        line=pl.col("body").str.split("\n"),
        line_start="body_offsets",
        is_title=pl.lit(False),
    )
    lines = (
        pl.concat([titles, bodies], how="vertical_relaxed")
        .explode("line", "line_start")
        .filter(pl.col("line").str.len_chars() > 0)
        .with_columns(line_no=pl.int_range(pl.len()).over("article_id"))
    )
    pieces = (
        lines.with_columns(piece=pl.col("line").str.extract_all(SENTENCE_PIECE))
        .explode("piece")
        .with_columns(piece_len=pl.col("piece").str.len_chars())
        .with_columns(
            piece_start=pl.col("line_start")
            + (pl.col("piece_len").cum_sum() - pl.col("piece_len")).over("article_id", "line_no"),
            cut_short=pl.col("piece").str.contains(ABBREVIATION_END),
        )
        .with_columns(
            sentence_no=(~pl.col("cut_short").shift(1).fill_null(False))
            .cum_sum()
            .over("article_id", "line_no")
        )
    )
    return (
        pieces.group_by("article_id", "doc_id", "language", "is_title", "line_no", "sentence_no")
        .agg(sentence=pl.col("piece").str.join(""), sentence_start=pl.col("piece_start").min())
        .with_columns(
            lead=pl.col("sentence").str.len_chars()
            - pl.col("sentence").str.strip_chars_start().str.len_chars()
        )
        .with_columns(
            sentence=pl.col("sentence").str.strip_chars(),
            sentence_start=(pl.col("sentence_start") + pl.col("lead")).cast(pl.Int64),
        )
        .drop("lead")
        .sort("article_id", "line_no", "sentence_no")
    )


def matches(
    frame: pl.DataFrame, pattern: str, text: str = "sentence", may_match: pl.Expr | None = None
) -> pl.DataFrame:
    """One row per match of pattern in the text column, with its char offset `pos` in it.

    Only the rows where the pattern matches at all are read twice (`_all_matches`); their word
    boundaries are checked by ASCII's rules where that gives the same result (wordmatch).
    `may_match`, when given, is a cheaper test that holds wherever the pattern matches (the
    forms of an alternation as plain strings), run first.
    """
    rows = frame.with_row_index("_row")
    if may_match is not None:
        rows = rows.filter(may_match)
    hay = wordmatch.Haystacks(rows.get_column(text))
    plain = wordmatch.ascii_words(pattern)
    matching = hay.contains(pattern)
    found = pl.concat(
        [
            _all_matches(rows.filter(hay.plain & matching), plain, text),
            _all_matches(rows.filter(~hay.plain & matching), pattern, text),
        ]
    )
    return found.sort("_row", maintain_order=True).drop("_row")


def alternation_matches(
    frame: pl.DataFrame, branches: list[str], text: str = "sentence"
) -> pl.DataFrame:
    """`matches` of the alternation of branches ("|".join(branches)), found branch by branch.

    Rust's regex engine slows down by a factor of fifty on some alternations of patterns that
    open with Unicode letter classes (agency shapes), while each branch alone stays fast.
    Where the branches' matches in a text do not overlap, they are exactly the alternation's
    (its leftmost match is the leftmost of any branch, and the scan goes on from its end);
    the few texts where they overlap are matched again with the whole alternation.
    """
    rows = frame.with_row_index("_text")
    found = pl.concat(
        [
            matches(rows, branch, text).with_columns(_branch=pl.lit(i, dtype=pl.Int32))
            for i, branch in enumerate(branches)
        ]
    ).sort("_text", "pos", "_branch")
    end = pl.col("pos") + pl.col("match").str.len_chars()
    overlapping = (
        found.filter(pl.col("pos") < end.cum_max().shift(1).over("_text"))
        .get_column("_text")
        .unique()
        .implode()
    )
    again = matches(rows.filter(pl.col("_text").is_in(overlapping)), "|".join(branches), text)
    return (
        pl.concat([found.filter(~pl.col("_text").is_in(overlapping)).drop("_branch"), again])
        .sort("_text", "pos", maintain_order=True)
        .drop("_text")
    )


def _all_matches(frame: pl.DataFrame, pattern: str, text: str) -> pl.DataFrame:
    """The matches of pattern in each row of frame (numbered by `_row`), and their offsets.

    The offsets come from a second pass that takes each match together with the text since
    the previous one ("(?s).*?" + pattern finds the same matches, in the same order): the
    lengths of those pieces add up to where each match ends, even when the same string
    also occurs inside another word or another figure ("23" in "2023").
    """
    # Polars keeps 32 compiled patterns per thread, and a partition uses some 230, each
    # compiled again at every partition (the figure pattern: 40 ms): none for no rows.
    if frame.is_empty():
        return frame.with_columns(match=pl.lit(None, pl.String), pos=pl.lit(None, pl.Int64))
    found = (
        frame.with_columns(
            match=pl.col(text).str.extract_all(pattern),
            _piece=pl.col(text).str.extract_all(r"(?s).*?(?:" + pattern + ")"),
        )
        .explode("match", "_piece")
        .drop_nulls("match")
    )
    ends = pl.col("_piece").str.len_chars().cum_sum().over("_row")
    return (
        found.with_columns(
            pos=(ends - pl.col("match").str.len_chars()).cast(pl.Int64),
        )
        .filter(pl.col("match").str.len_chars() > 0)
        .drop("_piece")
    )


@lru_cache(maxsize=4096)
def _words_to_number(phrase: str, language: str) -> float | None:
    from text_to_num import text2num

    # Only the article's language: "seize" is sixteen in French and a verb in English.
    for lang in dict.fromkeys((language or "en",)):
        try:
            return float(text2num(phrase.lower().replace("-", " "), lang))
        except (ValueError, KeyError, IndexError):
            continue
    return None


def word_values(figures: pl.DataFrame) -> pl.DataFrame:
    """Numbers written in words, read by text2num (one call per distinct phrase and language)."""
    phrases = (
        figures.filter(pl.col("num").str.contains(r"^\p{L}"))
        .select("num", "language")
        .unique()
        .filter(~pl.col("num").str.to_lowercase().is_in([*VAGUE, *ROUND]))
    )
    values = [_words_to_number(n, lang or "en") for n, lang in phrases.iter_rows()]
    return phrases.with_columns(word_value=pl.Series(values, dtype=pl.Float64))


def digit_value(num: pl.Expr, language: pl.Expr | None = None) -> pl.Expr:
    """The value of a digit string: "1,150", "1 500", "1.5", French "1,5"; in the languages
    that group thousands with dots, "4.500" and "1.500.000" (and "1,7" is a decimal)."""
    dotted = (
        pl.lit(False)
        if language is None
        else language.is_in(DOT_THOUSANDS_LANGUAGES).fill_null(False)
        & num.str.contains(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+,\d+$")
    )
    thousands = num.str.contains(r"^\d{1,3}([,\u00a0\u202f\u2009]\d{3}| {1,4}\d{3})+(\.\d+)?$")
    return (
        pl.when(dotted)
        .then(num.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(thousands)
        .then(num.str.replace_all(r"[,\u00a0\u202f\u2009 ]", ""))
        .otherwise(num.str.replace(",", "."))
        .cast(pl.Float64, strict=False)
    )


def unicode_bounded() -> pl.Expr:
    """False for a FIGURE match that may lie inside a word by Unicode's letters: one that
    begins with a letter right after a letter or digit, or ends with a letter right before
    one (a qualifier or number word glued to an accented word: "ten" in "tenía"). Only the
    edges can differ, as FIGURE checks word boundaries by ASCII's rules."""
    word_char = r"^[\p{L}\p{N}_]"
    before = (
        pl.when(pl.col("pos") > 0)
        .then(pl.col("sentence").str.slice(pl.col("pos") - 1, 1))
        .otherwise(pl.lit(""))
    )
    after = pl.col("sentence").str.slice(pl.col("pos") + pl.col("match").str.len_chars(), 1)
    starts_with_letter = pl.col("match").str.contains(r"^\p{L}")
    ends_with_letter = pl.col("match").str.contains(r"\p{L}$")
    return ~(starts_with_letter & before.str.contains(word_char)) & ~(
        ends_with_letter & after.str.contains(word_char)
    )


def figure_matches(sents: pl.DataFrame) -> pl.DataFrame:
    """FIGURE_UNICODE's matches in each sentence (`matches`), found with FIGURE: only where
    the two may differ is a sentence matched again with the exact, slow pattern.

    FIGURE accepts wherever FIGURE_UNICODE does, and where it accepts more, its match is
    doubtful (`unicode_bounded`): so up to a sentence's first doubtful match both find the
    same matches, and the exact one goes on from the end of the last of them. Only the rest
    of the sentence from there is matched again ("tre" in French "êtres" sits mid-sentence),
    behind a character that stands for the one before it: as much a word character, so the
    word boundaries stay the same, and one no figure begins with ("_", or a space).
    """
    numbered = sents.with_row_index("_sentence")
    found = matches(numbered, FIGURE).with_columns(_doubtful=~unicode_bounded())
    first = found.filter("_doubtful").group_by("_sentence").agg(_first=pl.col("pos").min())
    found = found.join(first, on="_sentence", how="left")
    before = found.filter(pl.col("pos") < pl.col("_first"))
    resume = before.group_by("_sentence").agg(
        _from=(pl.col("pos") + pl.col("match").str.len_chars()).max()
    )
    rest = (
        numbered.join(first, on="_sentence")
        .join(resume, on="_sentence", how="left")
        .with_columns(_from=pl.col("_from").fill_null(0))
        .with_columns(
            _stand_in=pl.when(pl.col("_from") == 0)
            .then(pl.lit(""))
            .when(pl.col("sentence").str.slice(pl.col("_from") - 1, 1).str.contains(r"^\w"))
            .then(pl.lit("_"))
            .otherwise(pl.lit(" "))
        )
        .with_columns(_rest=pl.col("_stand_in") + pl.col("sentence").str.slice(pl.col("_from")))
    )
    again = matches(rest, FIGURE_UNICODE, text="_rest").with_columns(
        pos=pl.col("pos") + pl.col("_from") - pl.col("_stand_in").str.len_chars()
    )
    return (
        pl.concat(
            [
                found.filter(pl.col("_first").is_null()),
                before,
                again,
            ],
            how="diagonal",
        )  # fmt: skip
        .sort("_sentence", "pos", maintain_order=True)
        .select([*sents.columns, "match", "pos"])
    )


def parse_figures(sents: pl.DataFrame) -> pl.DataFrame:
    """Every figure of every sentence: value, qualifier, currency, and the text around it."""
    found = figure_matches(sents)
    groups = pl.col("match").str.extract_groups(FIGURE_UNICODE)
    figures = found.with_columns(
        qual=groups.struct.field("qual").str.to_lowercase().str.replace_all(r"\s+", " "),
        cur_pre=groups.struct.field("cur_pre").str.to_lowercase(),
        num=groups.struct.field("num"),
        scale=groups.struct.field("scale").str.to_lowercase(),
        cur_post=groups.struct.field("cur_post").str.to_lowercase(),
        end=pl.col("pos") + pl.col("match").str.len_chars(),
    ).with_columns(
        after=pl.col("sentence").str.slice(pl.col("end")),
        before=pl.col("sentence").str.slice(0, pl.col("pos")),
    )
    figures = figures.join(word_values(figures), on=["num", "language"], how="left")
    num_lower = pl.col("num").str.to_lowercase()
    vague = num_lower.replace_strict(VAGUE, default=None, return_dtype=pl.Float64)
    round_ = num_lower.replace_strict(ROUND, default=None, return_dtype=pl.Float64)
    scale = pl.col("scale").replace_strict(SCALES, default=1.0, return_dtype=pl.Float64)
    currency = pl.coalesce(
        pl.col("cur_pre").replace_strict(CURRENCIES, default=None, return_dtype=pl.String),
        pl.col("cur_post")
        .str.replace("’", "'")
        .replace_strict(CURRENCIES, default=None, return_dtype=pl.String),
        # a symbol taken by the word before ("seize $15 billion": "seize" is no number here)
        pl.col("before")
        .str.extract("(" + _currency_forms("before", "either", word=False) + r")\s?$", 1)
        .str.to_lowercase()
        .replace_strict(CURRENCIES, default=None, return_dtype=pl.String),
    )
    return figures.with_columns(
        value=pl.coalesce(
            vague, round_, digit_value(pl.col("num"), pl.col("language")), "word_value"
        )
        * scale,
        qualifier=pl.when(vague.is_not_null())
        .then(pl.lit("at_least"))
        .when(round_.is_not_null() & pl.col("qual").is_null())
        .then(pl.lit("approx"))
        .otherwise(
            pl.col("qual")
            .str.replace("’", "'")
            .replace_strict(QUALIFIER_OF, default="exact", return_dtype=pl.String)
        ),
        currency=currency,
        is_year=pl.col("num").str.contains(r"^(19|20)\d{2}$")
        & pl.col("scale").is_null()
        & currency.is_null(),
    )


def merge_ranges(figures: pl.DataFrame) -> pl.DataFrame:
    """One figure for a range, at its lowest reading (ACLED's convention).

    "between 30 and 40 migrants", "from €3,000 to €5,000 each", "3,000 to 5,000 euros": the
    lower number keeps its place and takes the words after the upper one (its noun, its
    currency and scale when it has none, "each"), qualifier at_least; the upper one goes.
    "and" joins a range only after "between" / "entre"; "to" / "à" join one anyway.
    """
    by_sentence = ("article_id", "sentence_start")
    figures = figures.sort(*by_sentence, "pos").with_columns(
        _next_pos=pl.col("pos").shift(-1).over(by_sentence),
        _next_end=pl.col("end").shift(-1).over(by_sentence),
        _next_after=pl.col("after").shift(-1).over(by_sentence),
        _next_scale=pl.col("scale").shift(-1).over(by_sentence),
        _next_currency=pl.col("currency").shift(-1).over(by_sentence),
        _next_value=pl.col("value").shift(-1).over(by_sentence),
    )
    gap = pl.col("sentence").str.slice(
        pl.col("end"), (pl.col("_next_pos") - pl.col("end")).clip(lower_bound=0)
    )
    joined = gap.str.contains(RANGE_JOIN) & (
        gap.str.contains(r"(?i)\b(to|à)\b")
        | pl.col("before").str.contains(r"(?i)\b(between|entre)\s+$")
    )
    own_scale = pl.col("scale").is_not_null()
    scale = pl.col("_next_scale").replace_strict(SCALES, default=1.0, return_dtype=pl.Float64)
    lower = (
        pl.col("_next_pos").is_not_null()
        & joined
        & ~pl.col("is_year")
        & (pl.col("currency").is_null() | pl.col("_next_currency").is_null()
           | (pl.col("currency") == pl.col("_next_currency")))
    )  # fmt: skip
    value = pl.when(~own_scale & (pl.col("value") * scale <= pl.col("_next_value")))
    figures = figures.with_columns(
        _lower=lower.fill_null(False),
    ).with_columns(
        _upper=pl.col("_lower").shift(1).over(by_sentence).fill_null(False),
    )
    merged = figures.with_columns(
        value=pl.when("_lower").then(value.then(pl.col("value") * scale).otherwise("value"))
        .otherwise("value"),
        currency=pl.when("_lower").then(pl.coalesce("currency", "_next_currency"))
        .otherwise("currency"),
        qualifier=pl.when(pl.col("_lower") & pl.col("qualifier").is_in(["exact", "approx"]))
        .then(pl.lit("at_least"))
        .otherwise("qualifier"),
        after=pl.when("_lower").then("_next_after").otherwise("after"),
        end=pl.when("_lower").then("_next_end").otherwise("end"),
    )  # fmt: skip
    return merged.filter(~pl.col("_upper")).drop(pl.selectors.starts_with("_"))


def noun_phrase() -> pl.Expr:
    """Up to six words after the figure, cut at the first word that ends a noun phrase."""
    # "hundreds of migrants", "une cinquantaine d'annonces": the noun comes after "of".
    vague = pl.col("num").str.to_lowercase().is_in([*VAGUE, *ROUND])
    after = (
        pl.when(vague)
        .then(pl.col("after").str.replace(r"^\s*(of|de|d['’])\s*", " "))
        .otherwise(pl.col("after"))
    )
    words = (
        after.str.extract(r"^[\s-]*((?:[\p{L}’'-]+\s*){1,6})")
        .str.to_lowercase()
        .str.extract_all(r"[\p{L}’'-]+")
        .list.eval(pl.element().str.replace(r"^[dl]['’]", ""))
    )
    stop_at = words.list.eval(pl.element().is_in(NP_STOP))
    cut = pl.when(stop_at.list.any()).then(stop_at.list.arg_max()).otherwise(6)
    return words.list.head(cut)


def noun_class() -> pl.Expr:
    """Class of the last word of the noun phrase that has one (its head noun)."""
    classify: Then | ChainedThen = pl.when(pl.element().str.contains(NOUN_CLASS["person"])).then(
        pl.lit("person")
    )
    for name, pattern in list(NOUN_CLASS.items())[1:]:
        classify = classify.when(pl.element().str.contains(pattern)).then(pl.lit(name))
    return pl.col("np").list.eval(classify.otherwise(None)).list.drop_nulls().list.last()


def metric_decision(head: pl.Expr, no_noun: pl.Expr) -> pl.Expr:
    """The metric of a figure from the class of its noun and the verbs around it, by the table
    tracelake/rules/metric_decisions.csv: a row's verb is the nearest one (the verb before the
    figure, else the one after it) or, with verb_side "either", one on either side; otherwise
    the class's row for any verb ("*") applies. Class "-" is a figure with no noun."""
    nearest = pl.coalesce("left_verb", "right_verb")
    decision: Then | ChainedThen = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    table = vocab.rows("metric_decisions")
    for noun_class in dict.fromkeys(row["noun_class"] for row in table):
        rows = [row for row in table if row["noun_class"] == noun_class]
        applies = no_noun if noun_class == "-" else (head == noun_class) & ~no_noun
        by_class: Then | ChainedThen = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
        for row in rows:
            if row["verb"] == "*":
                continue
            said = (
                (pl.col("left_verb") == row["verb"]) | (pl.col("right_verb") == row["verb"])
                if row["verb_side"] == "either"
                else nearest == row["verb"]
            )
            by_class = by_class.when(said.fill_null(False)).then(
                pl.lit(row["metric"] or None, dtype=pl.String)
            )
        default = next((row["metric"] for row in rows if row["verb"] == "*"), "") or None
        decision = decision.when(applies).then(by_class.otherwise(pl.lit(default, dtype=pl.String)))
    return decision


def metrics(figures: pl.DataFrame) -> pl.DataFrame:
    """Metric, subject and exclusions of every figure."""
    left_clause = pl.col("before").str.extract(r"([^,;:()]{0,60})$").fill_null("")
    right_clause = (
        pl.col("after")
        .str.replace_all(AGE_RANGE, "")
        .str.replace(APPOSITIVE, "$1")
        .str.slice(0, 120)
        .str.extract(r"^([^\d;:]*)")
        .fill_null("")
    )
    figures = figures.with_columns(
        np=noun_phrase(), left=left_clause, right=right_clause
    ).with_columns(head=noun_class(), subject=pl.col("np").list.join(" "))
    # Verbs: the one ending nearest before the figure, else the first after its noun phrase
    # (word boundaries by ASCII's rules where that gives the same result, see wordmatch).
    left = wordmatch.Haystacks(figures.get_column("left"))
    right = wordmatch.Haystacks(figures.get_column("right"))
    figures = figures.with_columns(
        [
            left.replace_all(r"(?i)^.*" + "(?:" + p.removeprefix("(?i)") + ")", "")
            .str.len_chars()
            .alias(f"_lv_{name}")
            for name, p in VERB_CLASS.items()
        ]
        + [left.contains(p).fill_null(False).alias(f"_lh_{name}") for name, p in VERB_CLASS.items()]
        + [right.find(p).alias(f"_rv_{name}") for name, p in VERB_CLASS_AFTER.items()]
    )
    names = list(VERB_CLASS)
    left_distance = pl.min_horizontal(
        pl.when(pl.col(f"_lh_{n}")).then(pl.col(f"_lv_{n}")) for n in names
    )
    left_verb = pl.coalesce(
        pl.when(pl.col(f"_lh_{n}") & (pl.col(f"_lv_{n}") == left_distance)).then(pl.lit(n))
        for n in names
    )
    right_distance = pl.min_horizontal(pl.col(f"_rv_{n}") for n in names)
    right_verb = pl.coalesce(
        pl.when(pl.col(f"_rv_{n}") == right_distance).then(pl.lit(n)) for n in names
    )
    # "14 were identified and 9 of them were rescued": a verb of the clause before "and"
    # yields to one that closely follows the figure in its own clause.
    left_tail = pl.col("left").str.slice(pl.col("left").str.len_chars() - left_distance)
    own_verb_after = (
        right_distance.is_not_null()
        & (right_distance <= 30)
        & ~pl.col("right").str.slice(0, right_distance).str.contains(r"[,(]")
    )
    left_is_other_clause = left_tail.str.contains(COORDINATOR) & own_verb_after
    figures = figures.with_columns(
        left_verb=pl.when((left_distance <= 25) & ~left_is_other_clause).then(left_verb),
        right_verb=right_verb,
    ).drop(pl.selectors.starts_with("_"))
    is_money = pl.col("currency").is_not_null()
    head = pl.col("head")
    per_unit = pl.col("after").str.contains(PER_UNIT)
    # the texts around each figure, matched with ASCII word boundaries where that gives the
    # same result (wordmatch): Unicode's are slow on accented text
    before = wordmatch.Haystacks(figures.get_column("before"))
    per_unit_before = pl.lit(before.contains(PER_UNIT_BEFORE))
    metric = (
        pl.when(is_money & (per_unit | pl.col("after").str.contains(DEAL_AFTER) | per_unit_before))
        .then(pl.lit("price"))
        .when(is_money)
        .then(pl.lit("amount"))
        .when(head.is_in(["raids", "premises"]) & pl.lit(before.contains(CHECK_BEFORE)))
        .then(pl.lit("checks"))
        # the counted group of other people (officers, countries) is a count, unless it is
        # said in the passive what happened to them: "three officers were wounded"
        .when(head == "count")
        .then(
            pl.when(pl.lit(right.contains(PASSIVE_EVENT)))
            .then(
                pl.col("right")
                .str.extract(PASSIVE_EVENT, 3)
                .str.to_lowercase()
                .replace_strict(PASSIVE_VERB, default="count")
            )
            .otherwise(pl.lit("count"))
        )
        .otherwise(metric_decision(head, pl.col("np").list.len() == 0))
    )
    excluded = (
        # "$600 an hour" is a price, not a number of years ("un an")
        (pl.col("after").str.contains(NOT_A_COUNT_AFTER) & ~(is_money & per_unit))
        | pl.lit(before.contains(NOT_A_COUNT_BEFORE))
        | pl.lit(before.contains(AGE_BEFORE))
        | (is_money & pl.lit(before.contains(CONVERSION_BEFORE)))
        | pl.col("is_year")
        # a price tag or a counter standing alone ("9.90 €") says nothing of what it counts
        | (pl.col("sentence").str.count_matches(r"\p{L}{2,}") < FIGURE_MIN_WORDS)
        | (pl.lit(before.contains(COPULA_BEFORE)) & (pl.col("np").list.len() == 0) & ~is_money)
        | pl.col("value").is_null()
    )
    return figures.with_columns(
        metric=pl.when(~excluded).then(metric),
        unit=pl.when(head == "thing").then(pl.col("np").list.last()),
    )


def statistics(
    articles: pl.DataFrame, extractor_version: str, sents: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Statistics of a batch of articles, in the STATISTICS schema (sents: their sentences
    with titles, when already split)."""
    if sents is None:
        sents = sentences(articles, with_title=True)
    sents = sents.drop("is_title")
    figures = metrics(merge_ranges(parse_figures(sents))).filter(pl.col("metric").is_not_null())
    # A headline figure the text repeats keeps the text's sentence as its evidence.
    in_title = pl.col("sentence_start") == pl.col("title_start")
    figures = (
        figures.join(articles.select("article_id", "title_start"), on="article_id", how="left")
        .filter(
            ~(
                in_title.fill_null(False)
                & (~in_title).fill_null(True).any().over("article_id", "metric", "value")
            )
        )
        .drop("title_start")
    )
    return figures.select(
        statistic_id=pl.concat_str(
            "article_id", pl.lit(":"), "sentence_start", pl.lit(":"), "pos"
        ).map_batches(_sha16, return_dtype=pl.String),
        article_id="article_id",
        doc_id="doc_id",
        metric="metric",
        value="value",
        qualifier="qualifier",
        unit="unit",
        currency="currency",
        subject=pl.when(pl.col("subject") != "").then("subject"),
        evidence="sentence",
        char_start=pl.col("sentence_start") + pl.col("pos"),
        char_end=pl.col("sentence_start") + pl.col("end"),
        extractor_version=pl.lit(extractor_version),
    ).select(STATISTICS.names)


def entity_text(articles: pl.DataFrame, sents: pl.DataFrame | None = None) -> pl.DataFrame:
    """Title, head lines and body sentences of each article, ranked in reading order (sents:
    their sentences, when already split).

    The title and head ("Source: Europol") rank -1; body sentences rank 0, 1, 2, ...
    """
    sents = sentences(articles) if sents is None else sents
    body = (
        sents.filter(~pl.col("is_title"))
        .drop("is_title")
        .with_columns(
            rank=pl.int_range(pl.len()).over("article_id", order_by=["line_no", "sentence_no"])
        )
    )
    heads = articles.select(
        "article_id",
        "doc_id",
        "language",
        sentence=pl.concat_str("title", "head", separator="\n"),
        sentence_start="char_start",
        rank=pl.lit(-1, dtype=pl.Int64),
    )
    return pl.concat([heads, body.select(heads.columns)], how="vertical_relaxed")


def _mentions(text: pl.DataFrame, entity_type: str, lookup: dict[str, str]) -> pl.DataFrame:
    """Every mention of a form of lookup as a whole word, with the id lookup gives it."""
    pattern = reference.alternation(tuple(lookup))
    hits = matches(text, pattern, may_match=pl.col("sentence").str.contains_any(list(lookup)))
    hits = hits.with_columns(
        entity_type=pl.lit(entity_type), mention=pl.col("match").str.strip_chars()
    )
    return hits.with_columns(
        entity_id=pl.col("mention").replace_strict(lookup, default=None)
    ).drop_nulls("entity_id")


def salient_countries(hits: pl.DataFrame) -> pl.DataFrame:
    """Countries an article is about, not every country it names.

    Mentions in a roll call of participants (a sentence naming ENUMERATION_MIN countries or
    more), in a dateline ("LYON, France -") and in the name or seat of an institution
    ("Agence France-Presse", "the German Foreign Office", "headquarters in Lyon") are dropped.
    A country is kept when the title or the lead (first LEAD_SENTENCES sentences) names it,
    when it is named twice, or when a sentence telling of the crime or the police action
    (INCIDENT) names it.
    """
    dateline = pl.col("sentence").str.extract(DATELINE, 0).str.len_chars()
    after = pl.col("sentence").str.slice(pl.col("pos") + pl.col("match").str.len_chars(), 30)
    before = pl.col("sentence").str.slice(0, pl.col("pos")).str.slice(-30)
    hits = (
        hits.filter(pl.col("entity_id") != "")
        .with_columns(
            in_roll_call=pl.col("entity_id").n_unique().over("article_id", "rank")
            >= ENUMERATION_MIN,
            in_dateline=(pl.col("rank") == 0) & (pl.col("pos") < dateline.fill_null(0)),
            in_institution=after.str.contains(INSTITUTION_AFTER)
            | before.str.contains(INSTITUTION_BEFORE),
        )
        .filter(~pl.col("in_roll_call") & ~pl.col("in_dateline") & ~pl.col("in_institution"))
    )
    incident = wordmatch.Haystacks(hits.get_column("sentence")).contains(INCIDENT)
    salient = (
        (pl.col("rank").min().over("article_id", "entity_id") < LEAD_SENTENCES)
        | (pl.len().over("article_id", "entity_id") >= 2)
        | pl.col("_incident").any().over("article_id", "entity_id")
    )
    return hits.with_columns(_incident=incident).filter(salient).drop("_incident")


def agencies_by_pattern(text: pl.DataFrame, known: pl.DataFrame, lookup: dict) -> pl.DataFrame:
    """Agencies named by the shape of their name ("Boston Police Department", "Staatsanwaltschaft
    München II", "Fiscalía Anticorrupción"), not in the reference table: the name is the id.
    A name the table knows takes the table's id; one inside a table match adds nothing."""
    jurisdiction = pl.lit(None, dtype=pl.String)
    for shape, country in reference.agency_patterns().items():
        if country:
            jurisdiction = (
                pl.when(pl.col("mention").str.contains("^(?:" + shape + ")$"))
                .then(pl.lit(country))
                .otherwise(jurisdiction)
            )
    hits = alternation_matches(text, list(reference.agency_patterns())).with_columns(
        entity_type=pl.lit("agency"),
        mention=pl.col("match").str.replace(AGENCY_LEADING_WORDS, "").str.strip_chars(),
    )
    hits = hits.with_columns(
        pos=pl.col("pos") + pl.col("match").str.len_chars() - pl.col("mention").str.len_chars(),
        match=pl.col("mention"),
        entity_id=pl.col("mention")
        .replace_strict(lookup, default=None)
        .fill_null(pl.col("mention").str.replace_all(r"\s+", " ")),
    ).filter(
        (pl.col("mention").str.count_matches(r"\S+") >= AGENCY_MIN_WORDS)
        # "Dutch Police", "Kenya Police": a country's force, which the table names
        & ~pl.col("mention").str.extract(r"^(\S+)", 1).is_in(list(reference.demonyms()))
    )
    spans = known.select(
        "article_id",
        "sentence_start",
        _start="pos",
        _end=pl.col("pos") + pl.col("match").str.len_chars(),
    )
    inside = (
        hits.join(spans, on=["article_id", "sentence_start"])
        .filter(
            (pl.col("pos") < pl.col("_end"))
            & (pl.col("pos") + pl.col("match").str.len_chars() > pl.col("_start"))
        )
        .select("article_id", "sentence_start", "pos")
        .unique()
    )
    return hits.join(inside, on=["article_id", "sentence_start", "pos"], how="anti").with_columns(
        jurisdiction=jurisdiction
    )


def countries_of_agencies(agencies: pl.DataFrame, countries: pl.DataFrame) -> pl.DataFrame:
    """An article that names no country is about the country of the national or local
    agencies acting in it ("Punjab Police, BSF bust module" is India's)."""
    known = reference.agency_jurisdictions()
    return (
        agencies.with_columns(
            entity_id=pl.coalesce(
                pl.col("entity_id").replace_strict(known, default=None, return_dtype=pl.String),
                "jurisdiction",
            ),
            entity_type=pl.lit("country"),
        )
        .drop_nulls("entity_id")
        .join(countries.select("article_id").unique(), on="article_id", how="anti")
    )


def longest_operation_names(hits: pl.DataFrame) -> pl.DataFrame:
    """An operation named in full once ("Red Card 2.0") and shortly elsewhere ("Red Card") is
    one operation: a name that begins another name of the same article goes. In a title-case
    headline the capitals run on past the name ("Operation Red Card 2.0 Arrests 651"): a
    headline name that the body names shorter is cut to the body's name."""
    body_names = hits.filter(pl.col("rank") >= 0).select("article_id", body_name="entity_id")
    cut = (
        hits.filter(pl.col("rank") < 0)
        .select("article_id", "entity_id")
        .unique()
        .join(body_names.unique(), on="article_id")
        .filter(pl.col("entity_id").str.starts_with(pl.col("body_name") + " "))
        .group_by("article_id", "entity_id")
        .agg(pl.col("body_name").sort_by(pl.col("body_name").str.len_chars()).last())
    )
    hits = (
        hits.join(cut, on=["article_id", "entity_id"], how="left")
        .with_columns(
            entity_id=pl.when(pl.col("rank") < 0)
            .then(pl.coalesce("body_name", "entity_id"))
            .otherwise("entity_id")
        )
        .drop("body_name")
    )
    names = hits.select("article_id", longer="entity_id").unique()
    shorter = (
        hits.select("article_id", "entity_id")
        .unique()
        .join(names, on="article_id")
        .filter(pl.col("longer").str.starts_with(pl.col("entity_id") + " "))
        .select("article_id", "entity_id")
        .unique()
    )
    return hits.join(shorter, on=["article_id", "entity_id"], how="anti")


def entities(
    articles: pl.DataFrame, extractor_version: str, sents: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Agencies, countries, operations and crime types named by each article (sents: their
    sentences, when already split, with or without titles)."""
    text = entity_text(articles, sents)
    agencies = reference.agency_aliases()
    countries = reference.country_aliases()
    known_agencies = _mentions(text, "agency", agencies)
    all_agencies = pl.concat(
        [
            known_agencies.with_columns(jurisdiction=pl.lit(None, dtype=pl.String)),
            agencies_by_pattern(text, known_agencies, agencies),
        ],
        how="vertical_relaxed",
    )
    named_countries = salient_countries(_mentions(text, "country", countries))
    found = [
        all_agencies,
        named_countries,
        countries_of_agencies(all_agencies, named_countries),
        longest_operation_names(
            matches(text, OPERATION).with_columns(
                entity_type=pl.lit("operation"),
                mention=pl.col("match").str.strip_chars(),
                entity_id=pl.col("match").str.extract(OPERATION, 1),
            )
        ),
    ]
    rows = pl.concat(
        [
            frame.select(
                "article_id",
                "doc_id",
                "entity_type",
                "entity_id",
                "mention",
                char_start=pl.col("sentence_start") + pl.col("pos"),
                char_end=pl.col("sentence_start") + pl.col("pos") + pl.col("match").str.len_chars(),
            )  # fmt: skip
            for frame in found
        ]
    )
    crime_types = (
        articles.select("article_id", "doc_id", "crime_types", "char_start", "char_end")
        .explode("crime_types")
        .drop_nulls("crime_types")
        .select(
            "article_id",
            "doc_id",
            entity_type=pl.lit("crime_type"),
            entity_id="crime_types",
            mention="crime_types",
            char_start="char_start",
            char_end="char_end",
        )  # fmt: skip
    )
    return (
        pl.concat([rows, crime_types])
        .with_columns(extractor_version=pl.lit(extractor_version))
        .select(ENTITIES.names)
    )


def _sha16(keys: pl.Series) -> pl.Series:
    return pl.Series(
        [hashlib.sha256(key.encode()).hexdigest()[:16] for key in keys], dtype=pl.String
    )
