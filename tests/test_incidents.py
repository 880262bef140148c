"""Incidents: articles about one event share an incident_id; look-alike events stay apart.

The articles are our own, written as different outlets would report the same events: they
go through the real segmenter and extractor, then tracelake.incidents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from tracelake import extract, incidents, read, segment

# One event (a smuggling ring broken up in Calais), told by a wire in English, a French
# paper and a police release; a later update raises the count of arrests.
CALAIS_EN = (
    "Police break up Channel smuggling ring, 14 arrested\n"
    "Published: 12 March 2024\n"
    "\n"
    "French and British police arrested 14 people suspected of smuggling migrants "
    "across the Channel in small boats, Europol said on Tuesday. The network, led by "
    "a man named Dara Kovani, charged each passenger 3,500 euros and moved at least "
    "1,200 people since 2022. Officers searched 9 addresses in Calais, Dunkirk and "
    "Lille and seized 6 inflatable boats.\n"
)
CALAIS_FR = (
    "Démantèlement d'un réseau de passeurs à Calais : 14 interpellations\n"
    "Publié le 13 mars 2024\n"
    "\n"
    "Les polices française et britannique ont interpellé 14 personnes soupçonnées "
    "d'avoir fait passer des migrants vers l'Angleterre à bord de small boats, selon "
    "Europol. Le réseau, dirigé par Dara Kovani, facturait 3 500 euros par passager "
    "et aurait fait traverser au moins 1 200 personnes depuis 2022. Six bateaux "
    "pneumatiques ont été saisis à Calais et Dunkerque.\n"
)
CALAIS_UPDATE = (
    "Channel smuggling ring: arrests rise to 17\n"
    "Published: 15 March 2024\n"
    "\n"
    "Three more suspects linked to the migrant smuggling network of Dara Kovani were "
    "arrested in Lille, bringing the number of people held to 17, Europol said. The "
    "14 arrested earlier this week remain in custody. The ring charged 3,500 euros a "
    "crossing and moved at least 1,200 people.\n"
)
# A look-alike a week later: same agencies, same crime, another port, other people and figures.
OSTEND = (
    "Police break up Channel smuggling ring, 5 arrested\n"
    "Published: 19 March 2024\n"
    "\n"
    "Belgian and British police arrested 5 people suspected of smuggling migrants "
    "across the Channel in small boats, Europol said on Tuesday. The group, run from "
    "Ostend by Marek Voss, charged 2,000 euros a seat and sent about 300 people "
    "across since last summer. Officers searched 4 homes in Ostend and Bruges and "
    "seized two engines.\n"
)
# Unrelated events of the same fortnight.
LISBON = (
    "Labour trafficking: 22 farm workers freed near Lisbon\n"
    "Published: 14 March 2024\n"
    "\n"
    "Portuguese police freed 22 farm workers held in debt bondage on an estate near "
    "Lisbon and arrested the couple who ran it. The workers had been recruited in "
    "Nepal and paid nothing for months, the labour inspectorate said.\n"
)
SENTINEL = (
    "Operation Harbour Light: 40 arrested over port fraud\n"
    "Published: 14 March 2024\n"
    "\n"
    "Customs officers arrested 40 people in Operation Harbour Light, which targeted a"
    " fraud ring at the port of Antwerp that laundered 12 million euros through shell"
    " companies.\n"
)
OTHER_OPERATION = (
    "Operation Night Net: 38 arrested over port fraud\n"
    "Published: 16 March 2024\n"
    "\n"
    "Customs officers arrested 38 people in Operation Night Net, which targeted a "
    "fraud ring at the port of Rotterdam that laundered 12 million euros through "
    "shell companies.\n"
)


def lake(*texts: str, prefix: str = "d") -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """In-scope articles, statistics and entities of our texts, as the stages write them."""
    landed = [read.read(f"{prefix}{i}.txt", text).text for i, text in enumerate(texts)]
    docs = pl.DataFrame(
        {
            "doc_id": [f"{prefix}{i}" for i in range(len(texts))],
            "source_file": [f"{prefix}{i}.txt" for i in range(len(texts))],
            "text": landed,
            "landed_at": [datetime(2024, 4, 1, tzinfo=UTC)] * len(texts),
        }
    )
    articles = segment.segment(docs, "test")
    assert len(articles) == len(texts)
    return (
        articles.filter(pl.col("is_relevant") & pl.col("duplicate_of").is_null()),
        extract.statistics(articles, "test"),
        extract.entities(articles, "test"),
    )


def match(*texts: str, links: pl.DataFrame | None = None, prefix: str = "d") -> pl.DataFrame:
    articles, statistics, entities = lake(*texts, prefix=prefix)
    before = links if links is not None else pl.DataFrame(schema=incidents._links_schema())
    return incidents.match(articles, statistics, entities, before, "run-1")


def incident_of(links: pl.DataFrame, articles: pl.DataFrame) -> dict[str, str]:
    """Title -> incident_id."""
    ids = dict(links.select("article_id", "incident_id").iter_rows())
    return {title: ids[a] for a, title in articles.select("article_id", "title").iter_rows()}


def titled(*texts: str, links: pl.DataFrame) -> dict[str, str]:
    articles, _, _ = lake(*texts)
    return incident_of(links, articles)


def test_one_event_in_two_languages_and_its_update_is_one_incident() -> None:
    texts = (CALAIS_EN, CALAIS_FR, CALAIS_UPDATE, LISBON)
    links = match(*texts)
    by_title = titled(*texts, links=links)
    calais = {by_title[t.split("\n")[0]] for t in (CALAIS_EN, CALAIS_FR, CALAIS_UPDATE)}
    assert len(calais) == 1
    assert by_title[LISBON.split("\n")[0]] not in calais


def test_look_alike_event_a_week_later_is_another_incident() -> None:
    links = match(CALAIS_EN, CALAIS_FR, OSTEND)
    by_title = titled(CALAIS_EN, CALAIS_FR, OSTEND, links=links)
    assert by_title[CALAIS_EN.split("\n")[0]] == by_title[CALAIS_FR.split("\n")[0]]
    assert by_title[OSTEND.split("\n")[0]] != by_title[CALAIS_EN.split("\n")[0]]


def test_articles_about_different_named_operations_stay_apart() -> None:
    links = match(SENTINEL, OTHER_OPERATION)
    assert links.get_column("incident_id").n_unique() == 2


def test_evidence_names_the_matched_article_and_the_shared_keys() -> None:
    links = match(CALAIS_EN, CALAIS_FR)
    joined = links.filter(pl.col("matched_article_id").is_not_null()).row(0, named=True)
    founder = links.filter(pl.col("matched_article_id").is_null()).row(0, named=True)
    assert joined["incident_id"] == founder["incident_id"] == f"inc-{founder['article_id']}"
    assert joined["matched_article_id"] == founder["article_id"]
    assert joined["date_gap_days"] == 1
    assert 0 < joined["similarity"] <= 1
    # the French and English reports share names and figures, not words
    assert any(key.startswith(("name:", "figure:", "lead:")) for key in joined["shared_keys"])


def test_a_later_run_matches_only_new_articles_and_renames_nothing() -> None:
    first = match(CALAIS_EN, LISBON)
    articles, statistics, entities = lake(CALAIS_EN, LISBON, CALAIS_FR, OSTEND)
    second = incidents.match(articles, statistics, entities, first, "run-2")
    assert set(second.get_column("run_id")) == {"run-2"}
    assert len(second) == 2  # only the two new articles
    assert not set(second.get_column("article_id")) & set(first.get_column("article_id"))
    every = pl.concat([first, second])
    by_title = incident_of(every, articles)
    assert by_title[CALAIS_FR.split("\n")[0]] == by_title[CALAIS_EN.split("\n")[0]]
    assert by_title[CALAIS_EN.split("\n")[0]] in set(first.get_column("incident_id"))
    assert by_title[OSTEND.split("\n")[0]] not in set(first.get_column("incident_id"))
    # nothing new: nothing to write
    assert incidents.match(articles, statistics, entities, every, "run-3").is_empty()


def test_an_incident_of_an_earlier_run_spans_the_dates_of_all_its_articles() -> None:
    """A new report joins an incident only while all its articles, those linked by earlier
    runs too, lie within MAX_SPAN: here its first article is out of the new one's reach."""
    first = match(CALAIS_EN, CALAIS_FR)
    assert first.get_column("incident_id").n_unique() == 1
    articles, statistics, entities = lake(CALAIS_EN, CALAIS_FR, CALAIS_UPDATE)
    en, fr, update = (
        articles.filter(pl.col("title") == text.split("\n")[0]).item(0, "article_id")
        for text in (CALAIS_EN, CALAIS_FR, CALAIS_UPDATE)
    )
    start = date(2024, 3, 1)

    def incident_of_update(days_after_start: int) -> str:
        dated = articles.with_columns(
            published_date=pl.when(pl.col("article_id") == en).then(start)
            .when(pl.col("article_id") == fr).then(start + incidents.MAX_SPAN - timedelta(days=8))
            .otherwise(start + timedelta(days=days_after_start))
        )  # fmt: skip
        new = incidents.match(dated, statistics, entities, first, "run-2")
        return new.filter(pl.col("article_id") == update).item(0, "incident_id")

    known = first.item(0, "incident_id")
    assert incident_of_update(incidents.MAX_SPAN.days - 1) == known
    assert incident_of_update(incidents.MAX_SPAN.days + 1) == f"inc-{update}"


def test_keys_kept_from_before_give_the_links_without_the_old_texts() -> None:
    first = match(CALAIS_EN, LISBON)
    articles, statistics, entities = lake(CALAIS_EN, LISBON, CALAIS_FR, OSTEND)
    made_here = incidents.match(articles, statistics, entities, first, "run-2")
    keyed = incidents.in_key_order(incidents.keys(articles, statistics, entities))
    new = ~pl.col("article_id").is_in(first.get_column("article_id").implode())
    # the articles linked before without their texts: their keys stand for them
    no_old_texts = articles.with_columns(
        title=pl.when(new).then("title"), body=pl.when(new).then("body")
    )
    kept = incidents.match(no_old_texts, statistics, entities, first, "run-2", keyed.sample(
        fraction=1.0, shuffle=True, seed=3))  # fmt: skip
    assert kept.equals(made_here)


def candidate_pairs(keyed: pl.DataFrame, dated: pl.DataFrame, new_ids: list[str]) -> pl.DataFrame:
    """The pairs of the new articles, with their similarity, as matching finds them."""
    blocks = incidents.Blocks(keyed.filter(pl.col("is_block")).select("article_id", "key"), dated)
    return incidents.similarities(blocks.pairs(new_ids), keyed)


def test_candidates_are_never_all_pairs() -> None:
    articles, statistics, entities = lake(CALAIS_EN, CALAIS_FR, LISBON, SENTINEL)
    keyed = incidents.keys(articles, statistics, entities)
    far = articles.with_columns(
        published_date=pl.when(pl.col("title").str.starts_with("Démantèlement"))
        .then(pl.date(2024, 9, 1))
        .otherwise("published_date")
    )
    ids = far.get_column("article_id").to_list()
    near = candidate_pairs(keyed, articles.select("article_id", "published_date"), ids)
    apart = candidate_pairs(keyed, far.select("article_id", "published_date"), ids)
    assert len(near) < len(ids) * (len(ids) - 1)  # blocking leaves unrelated pairs out
    assert len(apart) < len(near)  # a report months away is no candidate


def test_new_articles_paired_a_slice_at_a_time_give_the_pairs_of_one_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles, statistics, entities = lake(CALAIS_EN, CALAIS_FR, LISBON, SENTINEL, OSTEND)
    keyed = incidents.keys(articles, statistics, entities)
    dated, ids = articles.select("article_id", "published_date"), articles["article_id"].to_list()
    whole = candidate_pairs(keyed, dated, ids).sort("a", "b")
    monkeypatch.setattr(incidents, "PAIR_SLICE", 2)
    sliced = candidate_pairs(keyed, dated, ids).sort("a", "b")
    assert len(whole) > 0 and sliced.equals(whole)
    assert candidate_pairs(keyed, dated, []).is_empty()


def test_new_articles_linked_a_slice_at_a_time_give_the_links_of_one_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An article of a later slice joins the incident of one of an earlier slice."""
    texts = (CALAIS_EN, CALAIS_FR, CALAIS_UPDATE, LISBON, OSTEND)
    whole = match(*texts)
    assert whole.get_column("matched_article_id").is_not_null().sum() >= 2
    monkeypatch.setattr(incidents, "LINK_SLICE", 1)
    assert match(*texts).equals(whole)
    monkeypatch.setattr(incidents, "LINK_SLICE", 2)
    assert match(*texts).equals(whole)


def test_keys_made_a_slice_of_articles_at_a_time_are_the_keys_of_one_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles, statistics, entities = lake(CALAIS_EN, CALAIS_FR, LISBON, SENTINEL, OSTEND)
    whole = incidents.keys(articles, statistics, entities)
    monkeypatch.setattr(incidents, "KEY_SLICE", 2)
    assert incidents.keys(articles, statistics, entities).equals(whole)
    assert len(whole) > 0


def test_the_event_date_is_the_date_a_report_names_most_before_it() -> None:
    text = (
        "Officers raided nine homes on 10 March, and on 11 March searched a warehouse. The "
        "raids of 10 March 2024 followed a 2019 inquiry opened on 4 June 2019."
    )
    assert incidents.event_date(text, date(2024, 3, 12)) == date(2024, 3, 10)
    assert incidents.event_date("Nothing dated here.", date(2024, 3, 12)) is None
    assert incidents.event_date(text, None) is None
    # a day and month without a year is the latest such day before the report
    assert incidents.event_date("Arrested on 30 December.", date(2025, 1, 4)) == date(2024, 12, 30)
