"""Extract: every figure with its metric, value, qualifier and currency; entities."""

from __future__ import annotations

import polars as pl
import pytest

from tracelake import extract
from tracelake.schemas import ARTICLES


def article(body: str, language: str = "en", crime_types: list[str] | None = None) -> pl.DataFrame:
    lines = body.split("\n")
    offsets, at = [], 100
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    return pl.DataFrame(
        {
            "article_id": ["a1"],
            "doc_id": ["d1"],
            "source_file": ["f.txt"],
            "article_index": [0],
            "title": ["A title"],
            "body": [body],
            "body_offsets": [offsets],
            "head": [""],
            "fingerprint": ["fp"],
            "char_start": [0],
            "char_end": [at],
            "published_date": [None],
            "language": [language],
            "is_relevant": [True],
            "relevance_reason": ["test"],
            "crime_types": [crime_types or []],
            "duplicate_of": [None],
            "extractor_version": ["test"],
        },  # fmt: skip
        schema_overrides={"published_date": pl.Date, "duplicate_of": pl.String},
    ).select(ARTICLES.names)


def figures(sentence: str, language: str = "en") -> set[tuple]:
    rows = extract.statistics(article(sentence, language), "test")
    return {
        (r["metric"], r["value"], r["qualifier"], r["currency"])
        for r in rows.iter_rows(named=True)
        if r["metric"] != "count"
    }


CASES = [
    # arrests
    ("Police arrested 14 people in Romania and Spain.", {("arrested", 14, "exact", None)}),
    ("The operation led to the arrest of 281 individuals.", {("arrested", 281, "exact", None)}),
    ("In total, 40 suspected traffickers were arrested.", {("arrested", 40, "exact", None)}),
    ("Officers apprehended 239 migrant smugglers.", {("arrested", 239, "exact", None)}),
    ("Twelve migrants were arrested aboard the ship.", {("arrested", 12, "exact", None)}),
    ("Two men were detained at the airport.", {("arrested", 2, "exact", None)}),
    ("The raid ended with 40 arrests.", {("arrested", 40, "exact", None)}),
    ("Les deux hommes ont été arrêtés à Milan.", {("arrested", 2, "exact", None)}),
    # charges and convictions
    ("Prosecutors charged five men with trafficking.", {("charged", 5, "exact", None)}),
    ("Six are accused of trafficking in human beings.", {("charged", 6, "exact", None)}),
    ("Le tribunal accuse sept personnes de blanchiment.", {("charged", 7, "exact", None)}),
    ("The court convicted three gang members.", {("convicted", 3, "exact", None)}),
    # rescues and victims
    (
        "The rescue of 149 human trafficking victims was confirmed.",
        {("rescued", 149, "exact", None)},
    ),
    ("Police safeguarded 10 trafficking victims.", {("rescued", 10, "exact", None)}),
    (
        "Nearly 500 victims, including 236 minors, have been rescued.",
        {("rescued", 500, "approx", None), ("minors", 236, "exact", None)},
    ),
    ("The network exploited at least 10 young women.", {("victims", 10, "at_least", None)}),
    (
        "Investigators identified more than 40 women who fell victim to the gang.",
        {("victims", 40, "more_than", None)},
    ),
    ("Some 40 Malaysian victims were lured to Peru.", {("victims", 40, "approx", None)}),
    ("Checks intercepted nearly 800 potential victims.", {("victims", 800, "approx", None)}),
    # migrants, minors, killed, injured
    ("There were some 1,000 migrants sleeping rough.", {("migrants", 1000, "approx", None)}),
    (
        "The guards intercepted nearly 4,000 irregular migrants.",
        {("migrants", 4000, "approx", None)},
    ),
    ("The camp held at least 70 lone children.", {("minors", 70, "at_least", None)}),
    ("At least five migrants suffered gunshot wounds.", {("injured", 5, "at_least", None)}),
    ("Seven migrants were killed when the boat capsized.", {("killed", 7, "exact", None)}),
    ("The bodies of 39 people were found in the trailer.", set()),
    # investigations, raids, checks, accounts
    ("More than 360 investigations opened.", {("investigations", 360, "more_than", None)}),
    ("The agencies raided 16 properties.", {("raids", 16, "exact", None)}),
    (
        "Officers carried out more than 270,000 inspections and police checks.",
        {("checks", 270000, "more_than", None)},
    ),
    (
        "The centre identified 1,150 suspicious social media accounts.",
        {("accounts", 1150, "exact", None)},
    ),
    ("Investigators flagged 320 online adverts.", {("accounts", 320, "exact", None)}),
    # money
    ("Victims were sold for as much as €6,000 ($6,632) each.", {("price", 6000, "at_most", "EUR")}),
    ("Migrants paid 4,500 dollars per person for the crossing.", {("price", 4500, "exact", "USD")}),
    ("The gang laundered €2.4m through property.", {("amount", 2_400_000, "exact", "EUR")}),
    ("Profits reached $1.2bn over a decade.", {("amount", 1_200_000_000, "exact", "USD")}),
    (
        "Ils ont acheté du pétrole pour la somme de 33 millions de dollars.",
        {("amount", 33_000_000, "exact", "USD")},
    ),
    (
        "Le réseau a blanchi des dizaines de millions de dollars.",
        {("amount", 10_000_000, "at_least", "USD")},
    ),
    ("The bribe was £15,000.", {("amount", 15000, "exact", "GBP")}),
    # vague quantities and words
    ("Police detained dozens of suspects.", {("arrested", 12, "at_least", None)}),
    ("Hundreds of migrants were rescued at sea.", {("rescued", 100, "at_least", None)}),
    ("Officers arrested a dozen suspects.", {("arrested", 12, "approx", None)}),
    ("Les policiers ont libéré 1 500 victimes.", {("rescued", 1500, "exact", None)}),
    # not figures
    ("A 16-year-old girl was found in the flat.", set()),
    ("The gang operated between 2015 and 2019.", set()),
    ("Prices rose by 40 per cent last year.", set()),
    ("He was jailed for seven years.", set()),
    ("The meeting took place on 14 November.", set()),
    ("It was the 7th conference on drugs.", set()),
    ("Two female victims, one aged 17, were rescued.", {("rescued", 2, "exact", None)}),
]


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_sentence_figures(sentence: str, expected: set[tuple]) -> None:
    language = (
        "fr" if any(w in sentence for w in (" le ", "Le ", "Les ", " des ", "Ils ")) else "en"
    )
    assert figures(sentence, language) == expected


def test_statistics_point_at_the_figure_and_keep_the_sentence() -> None:
    body = "First line here.\nPolice arrested 14 people. Later, 3 were charged."
    rows = extract.statistics(article(body), "test").sort("char_start")
    assert rows.get_column("evidence").to_list() == [
        "Police arrested 14 people.",
        "Later, 3 were charged.",
    ]
    second_line_at = 100 + len("First line here.") + 1
    first = rows.row(0, named=True)
    assert first["char_start"] == second_line_at + len("Police arrested ")
    assert first["char_end"] - first["char_start"] == 2
    assert first["subject"] == "people"


def test_sentences_do_not_break_at_abbreviations_or_decimals() -> None:
    body = "Mr. Smith said the U.S. gang made $1.5 million. Police arrested him."
    sents = extract.sentences(article(body)).get_column("sentence").to_list()
    assert sents == ["Mr. Smith said the U.S. gang made $1.5 million.", "Police arrested him."]


def test_entities_agencies_countries_operations() -> None:
    body = (
        "Europol and the UK National Crime Agency supported Operation Storm Makers II. "
        "Romanian victims were found in Calais and Lyon."
    )
    rows = extract.entities(article(body, crime_types=["human_trafficking"]), "test")
    found = {(r["entity_type"], r["entity_id"]) for r in rows.iter_rows(named=True)}
    assert found == {
        ("agency", "Europol"), ("agency", "NCA"), ("operation", "Storm Makers II"),
        ("country", "GB"), ("country", "RO"), ("country", "FR"),
        ("crime_type", "human_trafficking"),
    }  # fmt: skip


def countries(body: str, title: str = "A title") -> set[str]:
    frame = article(body).with_columns(title=pl.lit(title))
    rows = extract.entities(frame, "test").filter(pl.col("entity_type") == "country")
    return set(rows.get_column("entity_id").to_list())


def test_countries_of_the_story_not_of_the_institutions() -> None:
    body = (
        "PARIS, France – Police rescued 12 women in Romania and Bulgaria.\n"
        "The work was funded by the German Foreign Office and reported by Agence France-Presse.\n"
        "Analysts at its headquarters in Lyon, France, followed the case.\n"
        "Officers from Austria, Belgium, Croatia, Denmark, Estonia, Finland, Greece, Hungary "
        "and Ireland attended a meeting.\n"
        "A spokesman mentioned Portugal once, in passing.\n"
        "Most of the victims were from Moldova. Moldova has asked for help."
    )
    assert countries(body) == {"RO", "BG", "MD"}


def test_a_country_in_the_title_counts() -> None:
    body = "Police made arrests.\nNothing else.\nThe weather was fine.\nChile was quiet."
    assert countries(body, title="Smuggling ring broken up in Chile") == {"CL"}


def test_continents_are_not_countries() -> None:
    assert countries("Smugglers moved people from Libya to North America.") == {"LY"}


def test_agency_named_in_the_source_line() -> None:
    frame = article("During the action day, officers arrested 10 suspects.").with_columns(
        head=pl.lit("Source: Europol")
    )
    rows = extract.entities(frame, "test").filter(pl.col("entity_type") == "agency")
    assert rows.get_column("entity_id").to_list() == ["Europol"]
