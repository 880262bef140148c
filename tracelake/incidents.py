"""Incidents: the in-scope articles that report one real-world event share an incident_id.

Each article is profiled as a set of weighted keys: its words, weighted by how rare each is
in the article's language (wordfreq's frequency lists: "Amritsar" weighs, "police" does not);
its names (two capitalised words, in either order); its figures (by value, so "34 arrested"
and "34 detained" agree, and rounded, so 128,000 and "130,000" agree; a larger number is
rarer); its first count ("lead:arrested:6"); and its agencies, operations and countries.
Figures, names and entity ids are the same in every language, so a French and an English
report of one event share them. An article is compared on its heaviest keys only.

Matching never compares all pairs: candidates share two blocking keys (rare words, names,
figures, agencies) or an operation, and lie within a date window. A candidate joins when the
weighted cosine of their keys passes a threshold (a higher one when a date is missing),
halved when they lead with different counts or name only different people and places; never
when each is about another named operation, or when its date lies outside the window of the
incident's reports. Articles are assigned once, oldest first (undated last): each joins the
incident of its best match among the articles already assigned, or founds one named after
it, so incident ids never change and a new run matches only its new articles, against the
articles of their window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar, cast

import polars as pl
import pyarrow as pa

from tracelake import zipf
from tracelake.dates import dates_in_texts

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

# How far apart (days) the reports of one incident may be: from an article's date to the
# nearest report of the incident, and from the first report to the last.
WINDOW = timedelta(days=10)
MAX_SPAN = timedelta(days=30)
EVENT_WINDOW = timedelta(days=45)  # an event date lies this far before the report at most
# Weighted similarity (0-1) a pair needs: both dated, or one or both without a date.
MIN_SIMILARITY = 0.12
MIN_SIMILARITY_UNDATED = 0.2
# A word's weight is how much rarer it is than a common word: MAX_ZIPF minus its Zipf
# frequency (log10 of uses per billion words). Keys of weight BLOCK_WEIGHT or more (and
# figures of MIN_BLOCK_FIGURE or more, agencies and operations) are blocking keys. A name
# of two capitalised words ("Black Axe", "Prince Group") weighs its rarer word plus NAME_BONUS.
MAX_ZIPF = 6.0
BLOCK_WEIGHT = 3.0
MIN_BLOCK_KEYS = 2  # candidate pairs share this many blocking keys, or an operation
MIN_BLOCK_FIGURE = 10
# An article is compared on its SIGNATURE_KEYS heaviest keys, so a long article's many
# topic words do not drown the names and figures it shares with a short report.
SIGNATURE_KEYS = 50
NAME_BONUS = 1.0
# Entity keys weigh as much as a word of this weight; figures as 1 + log10(value) times
# FIGURE_WEIGHT (6 -> 1.8, 574 -> 3.8), capped at MAX_FIGURE_WEIGHT.
ENTITY_WEIGHTS = {"operation": 6.0, "agency": 2.5, "country": 1.0}
FIGURE_WEIGHT = 1.0
MAX_FIGURE_WEIGHT = 5.0
MIN_FIGURE = 2  # 0 and 1 say nothing about which event it is
# A figure of MIN_ROUNDED_FIGURE or more also gives a key of its value rounded to two
# significant digits (128,000 and "130,000" agree), weighing ROUNDED_SHARE of the figure.
MIN_ROUNDED_FIGURE = 1000
ROUNDED_SHARE = 0.6
# A blocking key shared by more articles than this is too common to block on.
MAX_BLOCK = 100
PAIR_SLICE = 500  # new articles paired at a time (Blocks.pairs): bounds the join's rows
SIMILARITY_SLICE = 20_000  # pairs whose similarity is found at a time (similarities)
# New articles linked at a time (link): what a slice needs is held for it alone, so a first
# run's matching holds a slice's pairs, keys and profiles, not the lake's.
LINK_SLICE = 5000
KEY_SLICE = 2000  # articles whose keys are made at a time (keys): bounds their words' rows
# Slices keyed at once, in threads: Polars lets go of the GIL, so a second core keys the next
# slice (the keys of the 1 GB bench's 47,221 articles: 7.5 s in turn, 5.4 s two at a time).
KEY_THREADS = 2
# Two articles whose first count is of one kind (LEAD_METRICS) but differs, neither giving
# the other's, are less alike by this factor.
LEAD_METRICS = ("arrested", "charged", "convicted", "rescued", "victims", "migrants", "killed")
LEAD_CONFLICT = 0.5
# The first count (its kind and value) is also a key of this weight: two briefs of one event
# lead with the same count ("6 held") even when the rest of their words differ.
LEAD_WEIGHT = 4.0
# Two articles that each give distinctive names (name keys of weight DISTINCT_NAME or more)
# and share none of them, and do not lead with the same count, are less alike by this factor.
DISTINCT_NAME = 4.0
NAME_CONFLICT = 0.5
EVIDENCE_KEYS = 6  # shared keys kept as evidence, heaviest first

# The lake's incident_links: one row per in-scope article.
INCIDENT_LINKS = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("incident_id", pa.string(), nullable=False),  # "inc-" + founding article_id
        pa.field("published_date", pa.date32()),
        pa.field("matched_article_id", pa.string()),  # the article it was joined to
        pa.field("similarity", pa.float64()),
        pa.field("date_gap_days", pa.int32()),  # to the matched article, when both are dated
        pa.field("shared_keys", pa.list_(pa.string()), nullable=False),  # why it was joined
        # the date of the event the article gives (event_date below), when it gives one
        pa.field("event_date", pa.date32()),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)
# The lake's incident_keys: the keys (`keys`) of the articles matched before. An article's
# keys come from it alone, so a run makes those of its new articles and reads the others'.
INCIDENT_KEYS = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("key", pa.string(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
        pa.field("is_block", pa.bool_(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Profile:
    """What matching needs of an article besides its keys."""

    published: date | None = None
    operations: frozenset[str] = frozenset()
    main_operation: str | None = None  # the operation it names most
    lead: tuple[str, float] | None = None  # the first count it gives: ("arrested", 34.0)
    values: frozenset[float] = frozenset()  # every figure it gives
    names: frozenset[str] = frozenset()  # its distinctive names (people, groups, places)
    event_date: date | None = None


def keys(articles: pl.DataFrame, statistics: pl.DataFrame, entities: pl.DataFrame) -> pl.DataFrame:
    """The weighted keys of each article: (article_id, key, weight, is_block).

    `articles` needs article_id, title, body, language; `statistics` article_id, metric,
    value, char_start; `entities` article_id, entity_type, entity_id. An article's keys come
    from it alone, so they are made KEY_SLICE articles at a time: the words of a whole first
    run's texts, exploded, held ten times the texts' size.
    """

    def keys_of(part: pl.DataFrame) -> pl.DataFrame:
        ids = part.get_column("article_id").implode()
        return _keys_of(
            part,
            statistics.filter(pl.col("article_id").is_in(ids)),
            entities.filter(pl.col("article_id").is_in(ids)),
        )

    with ThreadPoolExecutor(KEY_THREADS) as pool:
        parts = list(pool.map(keys_of, articles.iter_slices(KEY_SLICE)))
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return _keys_of(articles, statistics, entities)
    return in_key_order(pl.concat(parts))


def compact(keyed: Frame) -> Frame:
    """Keys held by number: article_id and key as Polars categoricals, some 17 bytes a row
    against 80 as strings (a first run holds millions). They sort, join and compare as
    their strings do; every function here takes keys in either form."""
    return keyed.with_columns(pl.col("article_id", "key").cast(pl.Categorical))


def _key_starts_with(keyed: pl.DataFrame, prefix: str) -> pl.Expr:
    key = pl.col("key")
    compacted = isinstance(keyed.schema["key"], pl.Categorical)
    return key.cat.starts_with(prefix) if compacted else key.str.starts_with(prefix)


def in_key_order(keyed: pl.DataFrame) -> pl.DataFrame:
    """Keys in the order `keys` gives them: by article, heaviest first."""
    return keyed.sort(["article_id", "weight", "key"], descending=[False, True, False])


def _keys_of(
    articles: pl.DataFrame, statistics: pl.DataFrame, entities: pl.DataFrame
) -> pl.DataFrame:
    words = (
        articles.select(
            "article_id",
            language=pl.col("language").fill_null("en"),
            word=pl.concat_str("title", "body", separator="\n")
            .str.to_lowercase()
            .str.extract_all(r"\p{L}{3,}"),
        )
        .explode("word")
        .drop_nulls("word")
        .unique(["article_id", "word"])
    )
    lookup = words.select("word", "language").unique()
    # a word's weight: how much rarer it is than a common word (English for a language
    # wordfreq does not list)
    listed = pl.col("language").is_in(list(zipf.languages()))
    zipfs = zipf.zipf(
        lookup.with_columns(language=pl.when(listed).then("language").otherwise(pl.lit("en")))
    )
    weights = lookup.with_columns(weight=(MAX_ZIPF - zipfs).clip(lower_bound=0.0))
    word_keys = words.join(weights, on=["word", "language"]).filter(pl.col("weight") > 0)
    word_keys = word_keys.select(
        "article_id",
        key="word:" + pl.col("word"),
        weight="weight",
        is_block=pl.col("weight") >= BLOCK_WEIGHT,
    )
    name_keys = _name_keys(articles, weights)
    figure_weight = (FIGURE_WEIGHT * (1 + pl.col("value").log10())).clip(
        upper_bound=MAX_FIGURE_WEIGHT
    )
    figure_keys = (
        statistics.filter(pl.col("value") >= MIN_FIGURE)
        .select(
            "article_id",
            key="figure:" + pl.col("value").round(2).cast(pl.String),
            weight=figure_weight,
            is_block=pl.col("value") >= MIN_BLOCK_FIGURE,
        )
        .unique(["article_id", "key"])
    )
    lead_keys = (
        statistics.filter(pl.col("metric").is_in(LEAD_METRICS))
        .sort("char_start")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("metric").first(), pl.col("value").first())
        .select(
            "article_id",
            key="lead:" + pl.col("metric") + ":" + pl.col("value").round(2).cast(pl.String),
            weight=pl.lit(LEAD_WEIGHT),
            is_block=pl.lit(True),
        )
    )
    rounded = (
        statistics.filter(pl.col("value") >= MIN_ROUNDED_FIGURE)
        .with_columns(magnitude=pl.col("value").log10().floor())
        .select(
            "article_id",
            key="about:"
            + (
                (pl.col("value") / 10 ** (pl.col("magnitude") - 1)).round(0)
                * 10 ** (pl.col("magnitude") - 1)
            )
            .cast(pl.Int64)
            .cast(pl.String),
            weight=ROUNDED_SHARE * figure_weight,
            is_block=pl.lit(False),
        )
        .unique(["article_id", "key"])
    )
    entity_keys = (
        entities.filter(pl.col("entity_type").is_in(list(ENTITY_WEIGHTS)))
        .select(
            "article_id",
            key=pl.col("entity_type") + ":" + pl.col("entity_id").str.to_lowercase(),
            weight=pl.col("entity_type").replace_strict(ENTITY_WEIGHTS, return_dtype=pl.Float64),
            is_block=pl.col("entity_type").is_in(["operation", "agency"]),
        )
        .unique(["article_id", "key"])
    )
    return (
        pl.concat([word_keys, name_keys, figure_keys, rounded, lead_keys, entity_keys])
        .sort(["article_id", "weight", "key"], descending=[False, True, False])
        .group_by("article_id", maintain_order=True)
        .head(SIGNATURE_KEYS)
    )


def _name_keys(articles: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """Pairs of capitalised words in running text (not the title, whose words are all
    capitalised in title case): names of groups, people and places. The two words are
    sorted, so "Zhimin Qian" and "Qian Zhimin" are one name."""
    pairs = (
        articles.select(
            "article_id",
            language=pl.col("language").fill_null("en"),
            name=pl.col("body").str.extract_all(r"\p{Lu}\p{Ll}+\s\p{Lu}\p{Ll}+"),
        )
        .explode("name")
        .drop_nulls("name")
        .unique(["article_id", "name"])
        .with_columns(words=pl.col("name").str.to_lowercase().str.split_exact(" ", 1))
        # the two words in order (a name split by another space is one word, as it is)
        .with_columns(
            one=pl.col("words").struct[0],
            other=pl.col("words").struct[1].fill_null(pl.col("words").struct[0]),
        )
        .with_columns(
            first=pl.min_horizontal("one", "other"), second=pl.max_horizontal("one", "other")
        )
    )
    lookup = weights.select("word", "language", "weight")
    return (
        pairs.join(
            lookup.rename({"word": "first", "weight": "w1"}), on=["first", "language"], how="left"
        )
        .join(
            lookup.rename({"word": "second", "weight": "w2"}), on=["second", "language"], how="left"
        )
        .select(
            "article_id",
            key="name:" + pl.col("first") + " " + pl.col("second"),
            weight=(
                pl.max_horizontal(pl.col("w1").fill_null(0), pl.col("w2").fill_null(0)) + NAME_BONUS
            ).clip(upper_bound=MAX_ZIPF),
        )
        .filter(pl.col("weight") > NAME_BONUS)
        .with_columns(is_block=pl.col("weight") >= BLOCK_WEIGHT)
    )


def main_operations(entities: pl.DataFrame) -> dict[str, tuple[frozenset[str], str | None]]:
    """Per article: the operations it names and the one it names most (first on a tie)."""
    ops = entities.filter(pl.col("entity_type") == "operation")
    if ops.is_empty():
        return {}
    named = (
        ops.group_by("article_id", "entity_id")
        .agg(mentions=pl.len(), first=pl.col("char_start").min())
        .sort(["article_id", "mentions", "first"], descending=[False, True, False])
        .group_by("article_id", maintain_order=True)
        .agg(names=pl.col("entity_id"), main=pl.col("entity_id").first())
    )
    return {a: (frozenset(names), main) for a, names, main in named.iter_rows()}


class Blocks:
    """The blocking keys of the articles within reach of the new ones, by number (the joins
    run on integers and hold no copy of the keys' strings), with their dates. The candidate
    pairs come of them alone, so the other keys of an article in no pair are never needed.
    A key shared by more than MAX_BLOCK articles is too common to block on."""

    def __init__(self, blocks: pl.DataFrame, dated: pl.DataFrame) -> None:
        """`blocks`: the blocking keys (article_id, key) of every article in reach; `dated`:
        the article_id and published_date of each."""
        numbered = blocks.select("article_id").unique().with_row_index("article")
        key_codes = blocks.select("key").unique().with_row_index("code")
        operation = _key_starts_with(key_codes, "operation:")
        coded = (
            blocks.lazy()
            .join(numbered.lazy(), on="article_id")
            .join(key_codes.with_columns(operation=operation).lazy(), on="key")
            .select("article", "code", "operation")
            .collect()
        )
        self._names = numbered.with_columns(pl.col("article_id").cast(pl.String))
        coded = coded.join(
            dated.with_columns(pl.col("article_id").cast(pl.String))
            .join(self._names, on="article_id")
            .select("article", "published_date"),
            on="article",
        )  # (an article not in `dated` is out of reach)
        common = coded.group_by("code").agg(pl.len()).filter(pl.col("len") > MAX_BLOCK)
        self._coded = coded.join(common, on="code", how="anti")

    def pairs(self, new_ids: list[str]) -> pl.DataFrame:
        """The candidate pairs (a, b): a new article and any other that share MIN_BLOCK_KEYS
        blocking keys, or an operation, and whose dates (when both have one) lie within the
        window. The new articles are paired PAIR_SLICE at a time: a key shared by many
        articles multiplies the rows of the join, and a slice bounds them (pairs are grouped
        by new article, so slices add up to the whole)."""
        new = (
            pl.DataFrame({"article_id": new_ids}, schema={"article_id": pl.String})
            .join(self._names, on="article_id")
            .get_column("article")
        )
        slices = [self._pairs_of(new[start : start + PAIR_SLICE])
                  for start in range(0, len(new), PAIR_SLICE)]  # fmt: skip
        pairs = pl.concat(slices) if slices else self._pairs_of(new.clear())
        names = self._names.select("article", "article_id")
        return (
            pairs.join(
                names.rename({"article": "a", "article_id": "a_id"}), on="a", maintain_order="left"
            )
            .join(
                names.rename({"article": "b", "article_id": "b_id"}), on="b", maintain_order="left"
            )
            .select(a="a_id", b="b_id")
        )

    def _pairs_of(self, new: pl.Series) -> pl.DataFrame:
        blocks = self._coded
        return (
            blocks.filter(pl.col("article").is_in(new.implode()))
            .join(blocks.drop("operation"), on="code", suffix="_other")
            .filter(pl.col("article") != pl.col("article_other"))
            .with_columns(
                gap=(pl.col("published_date") - pl.col("published_date_other"))
                .dt.total_days()
                .abs()
            )
            .filter(pl.col("gap").is_null() | (pl.col("gap") <= WINDOW.days))
            .group_by(a="article", b="article_other")
            .agg(shared=pl.len(), operation=pl.col("operation").any())
            .filter((pl.col("shared") >= MIN_BLOCK_KEYS) | pl.col("operation"))
            .select("a", "b")
        )


def similarities(pairs: pl.DataFrame, keyed: pl.DataFrame) -> pl.DataFrame:
    """Each pair (a, b) with the weighted cosine similarity of its articles' keys and the
    keys they share (shared_keys, EVIDENCE_KEYS of them, heaviest first). `keyed`: the keys
    of every article in a pair, or more. The pairs are taken SIMILARITY_SLICE at a time:
    each is joined to some fifty keys a side."""
    numbered = keyed.select("article_id").unique().with_row_index("article")
    # (codes in the keys' order: of shared keys of one weight, the first in it is evidence)
    key_codes = keyed.select("key").unique().sort("key").with_row_index("code")
    squares = (
        keyed.lazy()
        .join(numbered.lazy(), on="article_id")
        .join(key_codes.lazy(), on="key")
        .select("article", "code", square=pl.col("weight") ** 2)
        .collect()
    )
    numbered = numbered.with_columns(pl.col("article_id").cast(pl.String))
    key_codes = key_codes.with_columns(pl.col("key").cast(pl.String))
    norms = squares.group_by("article").agg(norm=pl.col("square").sum().sqrt())
    names = numbered.select("article", "article_id")
    coded = (
        pairs.join(
            names.rename({"article_id": "a", "article": "a_code"}), on="a", maintain_order="left"
        )
        .join(names.rename({"article_id": "b", "article": "b_code"}), on="b", maintain_order="left")
        .select(a="a_code", b="b_code")
    )
    found = [_similarity_of(part, squares, norms, key_codes)
             for part in coded.iter_slices(SIMILARITY_SLICE)]  # fmt: skip
    if not found:
        found = [_similarity_of(coded, squares, norms, key_codes)]
    return (
        pl.concat(found)
        .join(names.rename({"article": "a", "article_id": "a_id"}), on="a", maintain_order="left")
        .join(names.rename({"article": "b", "article_id": "b_id"}), on="b", maintain_order="left")
        .select(a="a_id", b="b_id", shared_keys="shared_keys", similarity="similarity")
    )


def _similarity_of(
    pairs: pl.DataFrame, squares: pl.DataFrame, norms: pl.DataFrame, key_codes: pl.DataFrame
) -> pl.DataFrame:
    shared = (
        pairs.join(squares.rename({"article": "a"}), on="a")
        .join(squares.select(b="article", code="code"), on=["b", "code"])
        .sort(["square", "code"], descending=[True, False])
        .group_by("a", "b")
        .agg(dot=pl.col("square").sum(), shared_keys=pl.col("code").head(EVIDENCE_KEYS))
    )
    # back to keys, the shared keys still heaviest first
    evidence = (
        shared.select("a", "b", "shared_keys")
        .explode("shared_keys")
        .join(key_codes, left_on="shared_keys", right_on="code", how="left", maintain_order="left")
        .group_by("a", "b", maintain_order=True)
        .agg(shared_keys=pl.col("key").drop_nulls())
    )
    return (
        shared.drop("shared_keys")
        .join(evidence, on=["a", "b"], how="left", maintain_order="left")
        .join(norms.rename({"article": "a", "norm": "norm_a"}), on="a")
        .join(norms.rename({"article": "b", "norm": "norm_b"}), on="b")
        .select(
            "a",
            "b",
            shared_keys=pl.col("shared_keys").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            similarity=pl.col("dot") / (pl.col("norm_a") * pl.col("norm_b")),
        )
    )


def _gap(one: date | None, other: date | None) -> int | None:
    return abs((one - other).days) if one and other else None


class Assigner:
    """Assigns new articles, oldest first (undated last), each to the incident of its best
    match among the articles already assigned, or lets it found a new incident. It keeps
    which incident each article is in and the dates each incident spans, so the new articles
    can be given to it a slice at a time, in their order (`link`)."""

    def __init__(self, known: dict[str, str], days: dict[str, date | None]) -> None:
        """`known`: article_id -> incident_id of the articles linked before; `days`: the
        publication date of each (and of any other article)."""
        self._incident_of = dict(known)
        self._span: dict[str, tuple[date, date]] = {}
        for article_id, incident_id in known.items():
            self._widen(incident_id, days.get(article_id))

    def _widen(self, incident_id: str, day: date | None) -> None:
        if day:
            low, high = self._span.get(incident_id, (day, day))
            self._span[incident_id] = (min(low, day), max(high, day))

    def assign(
        self, new_ids: list[str], pairs: pl.DataFrame, profiles: dict[str, Profile], run_id: str
    ) -> pl.DataFrame:
        """The links (INCIDENT_LINKS) of these new articles, given their candidate pairs
        (`similarities`) and the profiles of the new articles and their candidates at least.
        A candidate not assigned yet is passed over."""
        candidates: dict[str, list[tuple[float, str, list[str]]]] = {}
        for a, b, shared_keys, similarity in pairs.select(
            "a", "b", "shared_keys", "similarity"
        ).iter_rows():
            candidates.setdefault(a, []).append((similarity, b, shared_keys))
        rows = []
        for article_id in sorted(new_ids, key=lambda a: _age(profiles[a].published, a)):
            art = profiles[article_id]
            best: tuple[str | None, str, float | None, list[str]] | None = None
            for similarity, other, shared_keys in sorted(
                candidates.get(article_id, []), key=lambda c: (-c[0], c[1])
            ):
                joined = self._incident_of.get(other)
                span = self._span.get(joined) if joined is not None else None
                if joined is not None and _joins(art, profiles[other], similarity, span):
                    best = (other, joined, similarity, shared_keys)
                    break
            if best is None:
                best = (None, f"inc-{article_id}", None, [])
            matched, incident_id, score, keys = best
            self._incident_of[article_id] = incident_id
            self._widen(incident_id, art.published)
            rows.append(
                {
                    "article_id": article_id,
                    "incident_id": incident_id,
                    "published_date": art.published,
                    "matched_article_id": matched,
                    "similarity": None if score is None else round(score, 4),
                    "date_gap_days": _gap(art.published, profiles[matched].published)
                    if matched
                    else None,
                    "shared_keys": keys,
                    "event_date": art.event_date,
                    "run_id": run_id,
                }
            )
        return pl.DataFrame(rows, schema=_links_schema())


def _age(published: date | None, article_id: str) -> tuple:
    return (published is None, published or date.min, article_id)


def _links_schema() -> pl.Schema:
    return pl.from_arrow(INCIDENT_LINKS.empty_table()).schema  # type: ignore[union-attr]


def _joins(art: Profile, other: Profile, similarity: float, span: tuple[date, date] | None) -> bool:
    """Whether an article joins the incident of a candidate it is this similar to."""
    if _leads_disagree(art, other):
        similarity *= LEAD_CONFLICT
    if art.names and other.names and not art.names & other.names and art.lead != other.lead:
        similarity *= NAME_CONFLICT  # each names its own people and places
    dated = art.published is not None and other.published is not None
    if similarity < (MIN_SIMILARITY if dated else MIN_SIMILARITY_UNDATED):
        return False
    if (
        art.main_operation
        and other.main_operation
        and art.main_operation not in other.operations
        and other.main_operation not in art.operations
    ):
        return False  # each is about another named operation
    if art.published and span:
        low, high = min(span[0], art.published), max(span[1], art.published)
        near = span[0] - WINDOW <= art.published <= span[1] + WINDOW
        if not near or high - low > MAX_SPAN:
            return False
    return True


def _leads_disagree(one: Profile, other: Profile) -> bool:
    """Both lead with a count of one kind ("2 held", "6 held") and neither gives the other's:
    two events. An update that gives the old and the new count does not disagree."""
    if one.lead is None or other.lead is None or one.lead[0] != other.lead[0]:
        return False
    return one.lead[1] not in other.values and other.lead[1] not in one.values


def event_date(text: str, published: date | None) -> date | None:
    """The date of the event an article reports: of the dates its text names within
    EVENT_WINDOW before its publication, the one it names most (the earliest on a tie)."""
    return event_dates(pl.Series([text], dtype=pl.String), pl.Series([published], dtype=pl.Date))[0]


def events_of(articles: pl.DataFrame) -> dict[str, date | None]:
    """The event date of each article (article_id, title, body, published_date)."""
    found = event_dates(
        articles.select(pl.concat_str("title", "body", separator="\n")).to_series(),
        articles.get_column("published_date"),
    )
    return dict(zip(articles.get_column("article_id"), found, strict=True))


def event_dates(texts: pl.Series, published: pl.Series) -> list[date | None]:
    """event_date of each text, published on the day beside it, the whole column at once."""
    named = (
        dates_in_texts(texts, published)
        .join(published.to_frame("published").with_row_index("row"), on="row")
        .filter(pl.col("date").is_between(pl.col("published") - EVENT_WINDOW, "published"))
        .group_by("row", "date")
        .agg(times=pl.len())
        .sort(["row", "times", "date"], descending=[False, True, False])
        .group_by("row", maintain_order=True)
        .agg(pl.col("date").first())
    )
    days: list[date | None] = [None] * len(texts)
    for row, day in named.iter_rows():
        days[row] = day
    return days


def profiles_of(
    articles: pl.DataFrame,
    statistics: pl.DataFrame,
    entities: pl.DataFrame,
    keyed: pl.DataFrame | None = None,
    dated: list[str] | None = None,
    events: dict[str, date | None] | None = None,
) -> dict[str, Profile]:
    """The Profile of each article (`keyed`: its keys, when already made); the event date
    only of the articles `dated` names (all when None), or as `events` gives them."""
    keyed = keys(articles, statistics, entities) if keyed is None else keyed
    names = (
        keyed.filter(pl.col("weight") >= DISTINCT_NAME)
        .filter(_key_starts_with(keyed, "name:"))
        .select(pl.col("article_id", "key").cast(pl.String))
        .group_by("article_id")
        .agg(names=pl.col("key"))
    )
    operations = main_operations(entities)
    counted = statistics.filter(pl.col("metric").is_in(LEAD_METRICS))
    leads = (
        counted.sort("char_start")
        .group_by("article_id", maintain_order=True)
        .agg(lead=pl.struct("metric", "value").first())
    )
    values = statistics.group_by("article_id").agg(values=pl.col("value").unique())
    if events is None:
        events = events_of(
            articles.filter(pl.lit(dated is None) | pl.col("article_id").is_in(dated or []))
        )
    table = (
        articles.select("article_id", "published_date")
        .join(leads, on="article_id", how="left")
        .join(values, on="article_id", how="left")
        .join(names, on="article_id", how="left")
    )
    return {
        a: Profile(
            day,
            *operations.get(a, (frozenset(), None)),
            (lead["metric"], lead["value"]) if lead else None,
            frozenset(vals or []),
            frozenset(named or []),
            events.get(a),
        )
        for a, day, lead, vals, named in table.iter_rows()
    }


def match(
    articles: pl.DataFrame,
    statistics: pl.DataFrame,
    entities: pl.DataFrame,
    links: pl.DataFrame,
    run_id: str,
    keyed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Incident links (INCIDENT_LINKS) of the in-scope articles that `links` (those written
    before) does not hold yet.

    `articles` are the in-scope articles (relevant, not copies) of the lake, with article_id,
    title, body, language and published_date; `statistics` and `entities` their rows.
    `keyed`: the keys of the articles within reach of the new ones (`keys`, in any order),
    made before; then only the new articles need their title and body.
    """
    linked = set(links.get_column("article_id").to_list())
    new_ids = [a for a in articles.get_column("article_id").to_list() if a not in linked]
    if not new_ids:
        return pl.DataFrame(schema=_links_schema())
    window = within_reach(articles, new_ids)
    ids = window.get_column("article_id").implode()
    statistics = statistics.filter(pl.col("article_id").is_in(ids))
    entities = entities.filter(pl.col("article_id").is_in(ids))
    keyed = keys(window, statistics, entities) if keyed is None else keyed

    def keys_of(ids: pl.Series) -> pl.DataFrame:
        like = ids.cast(keyed.schema["article_id"]).implode()
        return keyed.filter(pl.col("article_id").is_in(like))

    def facts_of(ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
        wanted = pl.col("article_id").is_in(ids.implode())
        return statistics.filter(wanted), entities.filter(wanted)

    return link(
        new_ids,
        window.select("article_id", "published_date"),
        keyed.filter(pl.col("is_block")).select("article_id", "key"),
        keys_of,
        facts_of,
        dict(links.select("article_id", "incident_id").iter_rows()),
        events_of(window.filter(pl.col("article_id").is_in(new_ids))),
        run_id,
    )


def link(
    new_ids: list[str],
    dated: pl.DataFrame,
    blocks: pl.DataFrame,
    keys_of: Callable[[pl.Series], pl.DataFrame],
    facts_of: Callable[[pl.Series], tuple[pl.DataFrame, pl.DataFrame]],
    known: dict[str, str],
    events: dict[str, date | None],
    run_id: str,
) -> pl.DataFrame:
    """The incident links of the new articles, LINK_SLICE at a time, oldest first: each
    slice's candidate pairs, keys, statistics and entities are held for that slice alone,
    and the incidents of the slices before carry over (`Assigner`). A slice gives the links
    the whole would: each article is assigned after every older one.

    `dated`: the article_id and published_date of every article within reach of the new
    ones; `blocks`: their blocking keys (article_id, key); `keys_of`: all the keys of some
    articles; `facts_of`: their statistics and entities (`keys`); `known`: article_id ->
    incident_id of the articles linked before; `events`: the event date of each new article
    (`events_of`)."""
    pairing = Blocks(blocks, dated)
    days = dict(dated.select("article_id", "published_date").iter_rows())
    assigner = Assigner(known, days)
    ordered = sorted(new_ids, key=lambda a: _age(days[a], a))
    found = []
    for start in range(0, len(ordered), LINK_SLICE):
        part = ordered[start : start + LINK_SLICE]
        paired = pairing.pairs(part)
        # a profile for each new article and each candidate of one; the other articles only
        # lend their incidents their dates
        compared = pl.concat([pl.Series(part, dtype=pl.String), paired.get_column("b")]).unique()
        keyed = keys_of(compared)
        profiles = profiles_of(
            dated.filter(pl.col("article_id").is_in(compared.implode())),
            *facts_of(compared), keyed, events=events,
        )  # fmt: skip
        found.append(assigner.assign(part, similarities(paired, keyed), profiles, run_id))
    return pl.concat(found) if found else pl.DataFrame(schema=_links_schema())


def within_reach(articles: pl.DataFrame, new_ids: list[str]) -> pl.DataFrame:
    """The new articles and those they can match: every article reported within reach of a
    new one's date, and the undated (all articles when a new one is undated)."""
    days = articles.filter(pl.col("article_id").is_in(new_ids)).get_column("published_date")
    if days.null_count():
        return articles
    reach = WINDOW + MAX_SPAN
    first, last = cast(date, days.min()), cast(date, days.max())  # a date column, no nulls
    return articles.filter(
        pl.col("published_date").is_null()
        | pl.col("published_date").is_between(first - reach, last + reach)
    )


def matcher_version() -> str:
    """A short hash of this module: a change to the matching re-matches every article."""
    with open(__file__, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:8]
