"""Extract: every figure with its metric, value, qualifier and currency; entities."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from tracelake import extract
from tracelake.schemas import ARTICLES


def entity_ids(body: str, entity_type: str, language: str = "en") -> list[str]:
    """The ids of one entity type the extractor finds in an article of this body."""
    found = extract.entities(article(body, language=language), "test")
    return found.filter(pl.col("entity_type") == entity_type).get_column("entity_id").to_list()


def article(
    body: str, language: str = "en", crime_types: list[str] | None = None, number: int = 1
) -> pl.DataFrame:
    lines = body.split("\n")
    offsets, at = [], 100
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    return pl.DataFrame(
        {
            "article_id": [f"a{number}"],
            "doc_id": [f"d{number}"],
            "source_file": ["f.txt"],
            "article_index": [0],
            "title": ["A title"],
            "body": [body],
            "body_offsets": [offsets],
            "head": [""],
            "fingerprint": ["fp"],
            "char_start": [0],
            "char_end": [at],
            "title_start": [None],
            "published_date": [None],
            "date_source": [None],
            "reader": ["text"],
            "url": [None],
            "language": [language],
            "is_relevant": [True],
            "relevance_reason": ["test"],
            "crime_types": [crime_types or []],
            "duplicate_of": [None],
            "extractor_version": ["test"],
        },  # fmt: skip
        schema_overrides={
            "published_date": pl.Date,
            "duplicate_of": pl.String,
            "date_source": pl.String,
            "url": pl.String,
            "title_start": pl.Int64,
        },
    ).select(ARTICLES.names)


def figures(sentence: str, language: str = "en") -> set[tuple]:
    return figures_side_by_side(((sentence, language),))[0]


def figures_side_by_side(sentences: tuple[tuple[str, str], ...]) -> list[set[tuple]]:
    """The figures of each (sentence, language), read as articles of one frame in one pass,
    as a partition reads its articles."""
    frame = pl.concat(article(s, language, number=n) for n, (s, language) in enumerate(sentences))
    found: list[set[tuple]] = [set() for _ in sentences]
    for r in extract.statistics(frame, "test").iter_rows(named=True):
        if r["metric"] != "count":
            found[int(r["article_id"][1:])].add(
                (r["metric"], r["value"], r["qualifier"], r["currency"])
            )
    return found


@cache
def case_figures() -> dict[tuple[str, str | None], set[tuple]]:
    """The figures of every case sentence below, (sentence, language or None when detected),
    all read in one pass: each case's test checks its own. About 0.2 s a pass, whatever its
    size, so one pass over the cases, not one per case."""
    from tracelake.segment import detect_languages

    plain = [sentence for sentence, _ in ALL_CASES]
    keys = [(s, None) for s in plain] + [(s, language) for language, s, _ in LANGUAGE_CASES]
    languages = [found or "en" for found in detect_languages(plain)] + [
        language for _, language in keys[len(plain) :]
    ]
    read = figures_side_by_side(
        tuple((s, lang) for (s, _), lang in zip(keys, languages, strict=True))
    )
    return dict(zip(keys, read, strict=True))


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
    ("The bodies of 39 people were found in the trailer.", {("killed", 39, "exact", None)}),
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


MORE_CASES = [
    # arrests, English
    ("Officers detained 23 suspected smugglers in Dover.", {("arrested", 23, "exact", None)}),
    (
        "Border police apprehended more than 150 people smugglers last year.",
        {("arrested", 150, "more_than", None)},
    ),
    (
        "At least 30 people were arrested in coordinated raids.",
        {("arrested", 30, "at_least", None)},
    ),
    (
        "The gang's leader and 11 accomplices were taken into custody.",
        {("arrested", 11, "exact", None)},
    ),
    ("Nine men were arrested at the farm.", {("arrested", 9, "exact", None)}),
    ("Police made 57 arrests across five countries.", {("arrested", 57, "exact", None)}),
    (
        "Italian police arrested about 70 members of the network.",
        {("arrested", 70, "approx", None)},
    ),
    (
        "A total of 1,200 suspects were detained during the week of action.",
        {("arrested", 1200, "exact", None)},
    ),
    ("Up to 40 people could be arrested, prosecutors said.", {("arrested", 40, "at_most", None)}),
    ("Seventeen suspects were apprehended near the border.", {("arrested", 17, "exact", None)}),
    # arrests, French
    ("Sept personnes ont été interpellées mardi à Lyon.", {("arrested", 7, "exact", None)}),
    ("La police a arrêté 14 passeurs présumés.", {("arrested", 14, "exact", None)}),
    ("Au moins 20 personnes ont été placées en garde à vue.", {("arrested", 20, "at_least", None)}),
    ("Plus de 100 suspects ont été arrêtés en Europe.", {("arrested", 100, "more_than", None)}),
    ("Trois hommes ont été interpellés à Calais.", {("arrested", 3, "exact", None)}),
    # charges and convictions
    ("Eight defendants were indicted by a federal grand jury.", {("charged", 8, "exact", None)}),
    ("Prosecutors charged 12 people with money laundering.", {("charged", 12, "exact", None)}),
    ("Two contractors were charged with forced labour offences.", {("charged", 2, "exact", None)}),
    ("Four traffickers were convicted at Leeds Crown Court.", {("convicted", 4, "exact", None)}),
    ("The court sentenced five gang members to prison.", {("convicted", 5, "exact", None)}),
    ("Deux hommes ont été condamnés à dix ans de prison.", {("convicted", 2, "exact", None)}),
    (
        "Quatre personnes ont été mises en examen pour traite des êtres humains.",
        {("charged", 4, "exact", None)},
    ),
    ("More than 30 people have been prosecuted since 2019.", {("charged", 30, "more_than", None)}),
    ("Three men were jailed for a total of 25 years.", {("convicted", 3, "exact", None)}),
    # rescued
    ("Police rescued 96 victims of trafficking.", {("rescued", 96, "exact", None)}),
    ("Some 300 workers were freed from the camps.", {("rescued", 300, "approx", None)}),
    ("A total of 31 victims were safeguarded by officers.", {("rescued", 31, "exact", None)}),
    ("The coastguard rescued 420 migrants off Lampedusa.", {("rescued", 420, "exact", None)}),
    ("Eleven women were freed from a brothel in Athens.", {("rescued", 11, "exact", None)}),
    ("Les gendarmes ont libéré 12 victimes.", {("rescued", 12, "exact", None)}),
    (
        "Nearly 2,000 potential victims were identified and rescued.",
        {("rescued", 2000, "approx", None)},
    ),
    ("Officers safeguarded 22 children during the operation.", {("minors", 22, "exact", None)}),
    # victims
    ("Investigators identified 140 victims of the scheme.", {("victims", 140, "exact", None)}),
    (
        "The network exploited more than 200 workers from Romania.",
        {("victims", 200, "more_than", None)},
    ),
    ("Around 60 women were forced into prostitution.", {("victims", 60, "approx", None)}),
    ("Les enquêteurs ont recensé 1 500 victimes.", {("victims", 1500, "exact", None)}),
    ("At least 45 victims were trafficked to the UK.", {("victims", 45, "at_least", None)}),
    ("Hundreds of victims were lured with fake job offers.", {("victims", 100, "at_least", None)}),
    ("Plus de 40 victimes ont été identifiées.", {("victims", 40, "more_than", None)}),
    # minors
    ("Among them were 38 minors.", {("minors", 38, "exact", None)}),
    ("Some 70 unaccompanied children were found in the camp.", {("minors", 70, "approx", None)}),
    ("Parmi les victimes figuraient 16 mineurs.", {("minors", 16, "exact", None)}),
    ("Fourteen girls were intercepted at the airport.", {("minors", 14, "exact", None)}),
    # migrants
    ("The lorry carried 39 migrants.", {("migrants", 39, "exact", None)}),
    (
        "More than 1,100 migrants were smuggled through the route.",
        {("migrants", 1100, "more_than", None)},
    ),
    ("About 600 refugees crossed the border last week.", {("migrants", 600, "approx", None)}),
    ("Thousands of asylum seekers are stranded in Bosnia.", {("migrants", 1000, "at_least", None)}),
    ("Environ 500 migrants dorment dans la rue.", {("migrants", 500, "approx", None)}),
    ("Officers found 129 migrants locked inside a trailer.", {("migrants", 129, "exact", None)}),
    (
        "Tens of thousands of migrants have crossed the Channel.",
        {("migrants", 10000, "at_least", None)},
    ),
    # killed, injured
    ("Twelve migrants drowned when the dinghy sank.", {("killed", 12, "exact", None)}),
    ("At least 27 people died in the Channel.", {("killed", 27, "at_least", None)}),
    ("Seven people were injured in the crash.", {("injured", 7, "exact", None)}),
    ("Three officers were wounded during the raid.", {("injured", 3, "exact", None)}),
    ("Le naufrage a fait 41 morts.", {("killed", 41, "exact", None)}),
    ("Cinq migrants ont été blessés par balle.", {("injured", 5, "exact", None)}),
    ("The bodies of 18 migrants were recovered.", {("killed", 18, "exact", None)}),
    # investigations, raids, checks, accounts
    (
        "Prosecutors opened 70 investigations into labour exploitation.",
        {("investigations", 70, "exact", None)},
    ),
    ("More than 120 cases were opened by the unit.", {("investigations", 120, "more_than", None)}),
    ("Police searched 23 houses in three regions.", {("raids", 23, "exact", None)}),
    ("Officers raided 12 addresses in Kent.", {("raids", 12, "exact", None)}),
    ("Investigators searched 16 premises across Germany.", {("raids", 16, "exact", None)}),
    ("Les policiers ont mené 30 perquisitions.", {("raids", 30, "exact", None)}),
    ("Officers carried out 4,500 checks on vehicles.", {("checks", 4500, "exact", None)}),
    ("Labour inspectors conducted 800 inspections at farms.", {("checks", 800, "exact", None)}),
    ("Plus de 2 000 contrôles ont été effectués.", {("checks", 2000, "more_than", None)}),
    (
        "Analysts flagged 2,300 social media posts advertising crossings.",
        {("accounts", 2300, "exact", None)},
    ),
    ("The platform removed 410 accounts linked to the gang.", {("accounts", 410, "exact", None)}),
    (
        "Investigators uncovered 320 online adverts for sexual services.",
        {("accounts", 320, "exact", None)},
    ),
    ("Les enquêteurs ont repéré une cinquantaine d'annonces.", {("accounts", 50, "approx", None)}),
    # seized
    ("Officers seized 214 forged documents.", {("seized", 214, "exact", None)}),
    (
        "Police confiscated nine vehicles and 30 phones.",
        {("seized", 9, "exact", None), ("seized", 30, "exact", None)},
    ),
    ("Customs officers seized 12 firearms at the port.", {("seized", 12, "exact", None)}),
    # money: prices
    ("Each migrant paid €3,000 for the crossing.", {("price", 3000, "exact", "EUR")}),
    ("Smugglers charged up to £4,000 per person.", {("price", 4000, "at_most", "GBP")}),
    ("The fee was $2,500 each.", {("price", 2500, "exact", "USD")}),
    ("Victims were sold for €1,500 a head.", {("price", 1500, "exact", "EUR")}),
    ("Chaque passager a payé 2 500 euros par personne.", {("price", 2500, "exact", "EUR")}),
    ("A seat on the boat cost about $7,000 per passenger.", {("price", 7000, "approx", "USD")}),
    ("The women were sold for as little as €800 each.", {("price", 800, "at_least", "EUR")}),
    # money: amounts
    ("The network laundered more than €12 million.", {("amount", 12_000_000, "more_than", "EUR")}),
    ("Police seized €85,000 in cash.", {("amount", 85000, "exact", "EUR")}),
    (
        "The scheme generated about $3.5 million in profits.",
        {("amount", 3_500_000, "approx", "USD")},
    ),
    ("Le réseau a blanchi 12 millions d'euros.", {("amount", 12_000_000, "exact", "EUR")}),
    ("Les enquêteurs ont saisi 640 000 euros en liquide.", {("amount", 640000, "exact", "EUR")}),
    ("Assets worth £1.2m were frozen.", {("amount", 1_200_000, "exact", "GBP")}),
    ("The bribes totalled USD 410,000.", {("amount", 410000, "exact", "USD")}),
    ("The gang made tens of millions of dollars.", {("amount", 10_000_000, "at_least", "USD")}),
    (
        "Profits of €2.4bn were laundered through shell companies.",
        {("amount", 2_400_000_000, "exact", "EUR")},
    ),
    ("The court ordered the return of 250,000 euros.", {("amount", 250000, "exact", "EUR")}),
    ("Fines of up to $50,000 were imposed.", {("amount", 50000, "at_most", "USD")}),
    # qualifiers
    ("Fewer than 20 suspects were charged.", {("charged", 20, "less_than", None)}),
    ("No more than 15 people were arrested.", {("arrested", 15, "at_most", None)}),
    ("Almost 90 victims were rescued from the site.", {("rescued", 90, "approx", None)}),
    ("Roughly 250 migrants were stranded at sea.", {("migrants", 250, "approx", None)}),
    ("In excess of 1,000 checks were carried out.", {("checks", 1000, "more_than", None)}),
    ("Moins de 10 personnes ont été arrêtées.", {("arrested", 10, "less_than", None)}),
    ("Près de 300 migrants ont été secourus.", {("rescued", 300, "approx", None)}),
    # sentences that give no figure
    ("The 2019 report was published in Brussels.", set()),
    ("Operation Sahel Shield ran for 10 days.", set()),
    ("The suspects, aged 19 to 45, appeared in court.", set()),
    ("Call the helpline on 08000 121 700.", set()),
    ("Article 5 of the convention prohibits slavery.", set()),
    ("The boat left at 3.30am from the beach.", set()),
    ("Unemployment rose to 12% in the region.", set()),
    ("He faces up to 20 years in prison.", set()),
    ("The second phase began on 5 December.", set()),
    ("She was 17 when she was trafficked.", set()),
    ("The minister visited the centre for the 3rd time.", set()),
    ("Les faits remontent à 2018.", set()),
    ("The law was passed in 2015 after a long debate.", set()),
    ("The interview lasted 45 minutes.", set()),
    ("The 90-strong team is based in Calais.", set()),
    ("Les policiers ont libéré 1\u202f500 victimes.", {("rescued", 1500, "exact", None)}),
    # ranges: one figure at the lowest reading; ages are never counts
    (
        "Migrants paid between €4,000 and €7,000 each for the crossing.",
        {("price", 4000, "at_least", "EUR")},
    ),
    ("Between 30 and 40 migrants were rescued.", {("rescued", 30, "at_least", None)}),
    ("Each paid 3,000 to 5,000 euros.", {("price", 3000, "at_least", "EUR")}),
    ("The gang laundered between $2m and $3m.", {("amount", 2_000_000, "at_least", "USD")}),
    ("Between 2 and 3 million euros were laundered.", {("amount", 2_000_000, "at_least", "EUR")}),
    ("Ils ont payé entre 3 000 et 5 000 euros par personne.", {("price", 3000, "at_least", "EUR")}),
    ("Six men aged between 29 and 61 were arrested on Tuesday.", {("arrested", 6, "exact", None)}),
    ("Three suspects, aged 25 to 40, were charged.", {("charged", 3, "exact", None)}),
    ("Les passeurs, âgés de 20 à 35 ans, ont été arrêtés.", set()),
    ("From 16 to 20 October police arrested 5 men.", {("arrested", 5, "exact", None)}),
    # a second clause with its own verb
    (
        "Police arrested 14 people and 3 were charged.",
        {("arrested", 14, "exact", None), ("charged", 3, "exact", None)},
    ),
    (
        "Fourteen victims were identified and 9 of them were rescued.",
        {("victims", 14, "exact", None), ("rescued", 9, "exact", None)},
    ),
    (
        "Officers arrested 14 men and 3 women.",
        {("arrested", 14, "exact", None), ("arrested", 3, "exact", None)},
    ),
    # a deal with a smuggler or trafficker is a price; other sales are amounts
    ("She paid smugglers $8,000 to reach Europe.", {("price", 8000, "exact", "USD")}),
    ("He paid $8,000 to a smuggler in Libya.", {("price", 8000, "exact", "USD")}),
    ("Elle a payé 5 000 euros à un passeur.", {("price", 5000, "exact", "EUR")}),
    ("Victims were sold for as little as £500.", {("price", 500, "at_least", "GBP")}),
    ("Les femmes étaient vendues pour 2 000 euros.", {("price", 2000, "exact", "EUR")}),
    ("The house was sold for €300,000 last year.", {("amount", 300_000, "exact", "EUR")}),
    ("The company paid $2m to settle the case.", {("amount", 2_000_000, "exact", "USD")}),
    (
        "The group charged each migrant between €2,500 and €3,000 for the trip.",
        {("price", 2500, "at_least", "EUR")},
    ),
    ("He was jailed for trafficking four women from Romania.", {("victims", 4, "exact", None)}),
    ("Labour inspectors checked 2,300 farms in a week.", {("checks", 2300, "exact", None)}),
    (
        "Two brothers, aged 44 and 47, were arrested on suspicion of slavery offences.",
        {("arrested", 2, "exact", None)},
    ),
    (
        "Selon les enquêteurs, chaque migrant versait entre 3 000 et 5 000 euros pour une place.",
        {("price", 3000, "at_least", "EUR")},
    ),
    ("Migrants paid €3,000 for a place on a boat.", {("price", 3000, "exact", "EUR")}),
    ("Officers searched 12 properties.", {("raids", 12, "exact", None)}),
    (
        "Four people were arrested and more than 1,200 blank documents were seized.",
        {("arrested", 4, "exact", None), ("seized", 1200, "more_than", None)},
    ),
    (
        "Twenty-two women were identified as potential victims of trafficking.",
        {("victims", 22, "exact", None)},
    ),
]


ALL_CASES = CASES + MORE_CASES


@pytest.mark.parametrize(("sentence", "expected"), ALL_CASES, ids=[c[0][:40] for c in ALL_CASES])
def test_sentence_figures(sentence: str, expected: set[tuple]) -> None:
    assert case_figures()[(sentence, None)] == expected


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


def test_offsets_find_each_figure_not_an_earlier_copy_of_its_digits() -> None:
    # "23" occurs first inside "2023", "14" inside "2014": each figure points at itself.
    body = "In December 2023, police from 23 countries arrested 14 people wanted since 2014."
    rows = extract.statistics(article(body), "test")
    found = {
        (r["metric"], body[r["char_start"] - 100 : r["char_end"] - 100])
        for r in rows.iter_rows(named=True)
    }
    assert found == {("count", "23"), ("arrested", "14")}


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
        "Staff of the agency's regional offices in Nairobi and Pretoria helped plan the raids.\n"
        "Officers from Austria, Belgium, Croatia, Denmark, Estonia, Finland, Greece, Hungary "
        "and Ireland attended a meeting.\n"
        "A spokesman mentioned Portugal once, in passing.\n"
        "Most of the victims were from Moldova. Moldova has asked for help."
    )
    assert countries(body) == {"RO", "BG", "MD"}


def test_where_the_victims_come_from_counts() -> None:
    body = (
        "Inspectors visited farms in the south.\nThe checks took a week.\n"
        "Most of the victims came from Moldova and Morocco.\n"
        "A spokesman mentioned Portugal once, in passing."
    )
    assert countries(body) == {"MD", "MA"}


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


# Sentences written for the project in five languages: (language, sentence, figures). Each
# rule has rows from at least two languages or phrasings, and rows that must give nothing.
LANGUAGE_CASES = [
    # Spanish
    ("es", "La policía detuvo a 10 personas en Tijuana.", {("arrested", 10, "exact", None)}),
    ("es", "Hay doce detenidos tras el operativo.", {("arrested", 12, "exact", None)}),
    ("es", "Los agentes lograron rescatar a 13 indocumentados.", {("rescued", 13, "exact", None)}),
    ("es", "Fueron vinculados a proceso tres hombres.", {("charged", 3, "exact", None)}),
    ("es", "La red cobraba 4.500 dólares por persona.", {("price", 4500, "exact", "USD")}),
    ("es", "Se incautaron más de 200 kilos de cocaína.", {("seized", 200, "more_than", None)}),
    ("es", "El juicio durará 30 días.", set()),
    # German
    ("de", "Die Polizei hat zwei Tatverdächtige festgenommen.", {("arrested", 2, "exact", None)}),
    ("de", "Er überwies ca. 65 Millionen Euro auf ein Konto.", {("amount", 65e6, "approx", "EUR")}),
    ("de", "Die Beamten befreiten 14 Frauen aus der Wohnung.", {("rescued", 14, "exact", None)}),
    ("de", "Bei Durchsuchungen wurden 3 Waffen beschlagnahmt.", {("seized", 3, "exact", None)}),
    ("de", "Ein 46-jähriger Fahrer wurde kontrolliert.", set()),
    # Italian
    ("it", "I carabinieri hanno arrestato tre uomini.", {("arrested", 3, "exact", None)}),
    ("it", "Oltre 5mila euro di bottino.", {("amount", 5000, "more_than", "EUR")}),
    (
        "it",
        "Sono stati salvati 40 migranti al largo di Lampedusa.",
        {("rescued", 40, "exact", None)},
    ),
    ("it", "Denunciati quattro giovani per furto.", {("charged", 4, "exact", None)}),
    ("it", "Il ragazzo ha 16 anni.", set()),
    # multipliers and currencies beyond the common ones
    ("en", "Customs seized ganja worth ₹12.91 crore.", {("amount", 129_100_000, "exact", "INR")}),
    ("en", "Police recovered ₹21 lakh in drug money.", {("amount", 2_100_000, "exact", "INR")}),
    ("en", "The gang moved C$2 million through shell firms.", {("amount", 2e6, "exact", "CAD")}),
    # verbs and nouns added with the languages
    ("en", "Six held as police bust smuggling module.", {("arrested", 6, "exact", None)}),
    (
        "en",
        "The vessel sank, resulting in the death of 353 people.",
        {("killed", 353, "exact", None)},
    ),
    ("en", "Officers froze 19 properties linked to the network.", {("seized", 19, "exact", None)}),
    ("en", "She also bought two properties in Dubai.", set()),
    ("en", "Police raided 7 homes at dawn.", {("raids", 7, "exact", None)}),
    ("en", "Authorities took down 43 malicious domains.", {("seized", 43, "exact", None)}),
    ("en", "This period has seen 154 illegal arrivals.", {("migrants", 154, "exact", None)}),
    (
        "en",
        "In all, 183 nationals were refused entry at the ports.",
        {("migrants", 183, "exact", None)},
    ),
    (
        "fr",
        "Au total, 325 personnes auraient transité par ce réseau.",
        {("migrants", 325, "exact", None)},
    ),
    ("en", "Men paid up to $600 an hour.", {("price", 600, "at_most", "USD")}),
    ("en", "He offered a fee of $200 to the pimp.", {("price", 200, "exact", "USD")}),
    ("fr", "Le passage était facturé au moins 300 euros.", {("price", 300, "at_least", "EUR")}),
    ("fr", "Plus de 1 500 euros la traversée.", {("price", 1500, "more_than", "EUR")}),
    (
        "fr",
        "Ils devaient payer entre 1 500 et 2    000 euros.",
        {("amount", 1500, "at_least", "EUR")},
    ),
    ("en", "A man is facing 13 drug charges.", set()),
    (
        "en",
        "The three individuals behind these websites were charged.",
        {("charged", 3, "exact", None)},
    ),
    (
        "en",
        "They invested 60,000 yuan ($8,429, £6,295) in the scheme.",
        {("amount", 60_000, "exact", "CNY")},
    ),
]


@pytest.mark.parametrize(
    ("language", "sentence", "expected"), LANGUAGE_CASES, ids=[c[1][:40] for c in LANGUAGE_CASES]
)
def test_sentence_figures_in_five_languages(
    language: str, sentence: str, expected: set[tuple]
) -> None:
    assert case_figures()[(sentence, language)] == expected


@pytest.mark.parametrize(
    ("title", "body", "evidence"),
    [
        # the text repeats the headline's figure: the text's sentence is the evidence
        ("Police arrest 12 in port raid", "Officers arrested 12 people at the port.",
         ["Officers arrested 12 people at the port."]),
        # a figure only the headline gives is read from it
        ("Six held as police bust arms module", "The module supplied weapons to gangs.",
         ["Six held as police bust arms module"]),
    ],
)  # fmt: skip
def test_figures_of_the_title_are_read_once(title: str, body: str, evidence: list[str]) -> None:
    start = len(title) + 2
    articles = article(body).with_columns(
        title=pl.lit(title),
        title_start=pl.lit(0, dtype=pl.Int64),
        body_offsets=pl.lit([start], dtype=pl.List(pl.Int64)),
    )
    rows = extract.statistics(articles, "test")
    assert rows.get_column("evidence").to_list() == evidence
    assert rows.get_column("metric").to_list() == ["arrested"]


@pytest.mark.parametrize(
    ("language", "body", "country"),
    [
        ("es", "La policía detuvo en Pakistán a tres hombres de la red.", "PK"),
        ("de", "In Österreich wurden zwei Schleuser festgenommen.", "AT"),
        ("it", "Due scafisti sono stati arrestati in Germania.", "DE"),
        ("en", "Deputies in Ohio arrested two men on trafficking charges.", "US"),
        # nationalities in the five languages
        ("fr", "Les passeurs pakistanais ont été interpellés à la frontière.", "PK"),
        ("es", "Detuvieron a tres traficantes guatemaltecos en la frontera.", "GT"),
        ("it", "Arrestati due scafisti tunisini al porto.", "TN"),
        ("de", "Zwei rumänische Tatverdächtige wurden festgenommen.", "RO"),
        ("en", "Police in the BVI arrested two men at the port.", "VG"),
    ],
)
def test_countries_named_in_other_languages_and_states(
    language: str, body: str, country: str
) -> None:
    assert entity_ids(body, "country", language) == [country]


@pytest.mark.parametrize(
    ("language", "body", "expected"),
    [
        # a country named once, in a sentence that tells of transport, extradition or a wreck
        ("fr", "Le chauffeur est connu. Il transportait 20 migrants soudanais vers Calais.",
         ["FR", "SD"]),
        ("es", "La red era conocida. Trasladaba personas de Honduras hacia el norte.", ["HN"]),
        ("en", "He is known. He was extradited from Sweden last year.", ["SE"]),
        ("en", "The case is old. The boat sank off Libya in 2016.", ["LY"]),
        # named once in a sentence that tells of nothing of the kind: left out
        ("en", "The case is old. The suspect once studied in Sweden.", []),
    ],
)  # fmt: skip
def test_a_country_of_a_smuggling_act_counts(language: str, body: str, expected: list[str]) -> None:
    lead = "Officials gave no details about the case. The inquiry began in spring. "
    assert sorted(set(entity_ids(lead + body, "country", language))) == expected


@pytest.mark.parametrize(
    ("body", "operations"),
    [
        ("INTERPOL ran Operation Red Card 2.0 in 16 countries. Red Card led to arrests.",
         ["Red Card 2.0"]),
        ("La Guardia Civil desarrolló la Operación Araña en Murcia.", ["Araña"]),
        ("I carabinieri hanno concluso l'Operazione Alba Bianca a Bari.", ["Alba Bianca"]),
        ("Die Polizei beendete die Aktion Schutzschild in Bayern.", ["Schutzschild"]),
        ("Operation Red Card 2.0 followed Operation Red Card.", ["Red Card 2.0"]),
        ("The operation was a success, officers said.", []),
    ],
)  # fmt: skip
def test_operations_in_five_languages(body: str, operations: list[str]) -> None:
    assert sorted(set(entity_ids(body, "operation"))) == operations


@pytest.mark.parametrize(
    ("body", "countries"),
    [
        # no country named: the country of the agencies acting
        ("Punjab Police and BSF seized 24 kg of heroin near the border.", ["IN"]),
        ("Kentucky State Police arrested a Pike County man on trafficking charges.", ["US"]),
        ("Carabinieri arrested two men for fraud.", ["IT"]),
        # a country named: that one only
        ("Punjab Police said the drugs came from Pakistan, where 3 were arrested.", ["PK"]),
        # international bodies have no country
        ("Europol supported the arrest of 12 people.", []),
    ],
)
def test_an_article_without_a_country_takes_its_agencies_country(
    body: str, countries: list[str]
) -> None:
    assert sorted(set(entity_ids(body, "country"))) == countries


@pytest.mark.parametrize(
    "body",
    [
        "American prosecutors charged five men with trafficking.",
        "An American citizen was arrested for smuggling migrants.",
    ],
)
def test_american_is_the_united_states(body: str) -> None:
    assert set(entity_ids(body, "country")) == {"US"}


@pytest.mark.parametrize(
    "body",
    [
        "Customs seized ganja worth millions. Ganja was hidden in a truck.",
        "Queen Sofia attended the ceremony where 3 traffickers were sentenced.",
    ],
)
def test_place_names_that_are_words_or_names_are_no_countries(body: str) -> None:
    assert entity_ids(body, "country") == []


@pytest.mark.parametrize(
    ("body", "country"),
    [
        ("Police seized 5 kg of methamphetamine in Rajasthan and arrested two men.", "IN"),
        ("Soldiers intercepted 40 migrants in Baja California on Sunday.", "MX"),
        ("Die Polizei hat in Bayern drei Schleuser festgenommen.", "DE"),
    ],
)
def test_a_state_of_a_federation_names_its_country(body: str, country: str) -> None:
    assert set(entity_ids(body, "country")) == {country}


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("en", "They paid USD 500 each to the smugglers.", {("price", 500, "exact", "USD")}),
        ("fr", "Les passeurs demandaient 500 $ par personne.", {("price", 500, "exact", "USD")}),
        (
            "fr",
            "Il a versé 2 000 dirhams marocains à un passeur.",
            {("price", 2000, "exact", "MAD")},
        ),
        (
            "es",
            "Les cobraban 10 000 pesos mexicanos por persona.",
            {("price", 10000, "exact", "MXN")},
        ),
        ("de", "Die Bande wusch 3 Millionen Schweizer Franken.", {("amount", 3e6, "exact", "CHF")}),
        (
            "it",
            "Sequestrati 40.000 franchi svizzeri in contanti.",
            {("amount", 40000, "exact", "CHF")},
        ),
        ("en", "The ring moved ₱2 million through remittances.", {("amount", 2e6, "exact", "PHP")}),
        # an ISO code is read in capitals only
        ("en", "All 12 suspects were arrested.", {("arrested", 12, "exact", None)}),
    ],
)
def test_currencies_by_code_symbol_and_name(
    language: str, sentence: str, expected: set[tuple]
) -> None:
    assert figures(sentence, language) == expected


@pytest.mark.parametrize("line", ["9.90 €", "$ 1,200", "17.90 €\n"])
def test_a_figure_standing_alone_is_no_statistic(line: str) -> None:
    assert figures(line, "fr") == set()


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("en", "Feds seize $15 billion from a scam.", {("amount", 15e9, "exact", "USD")}),
        ("fr", "Seize personnes ont été arrêtées.", {("arrested", 16, "exact", None)}),
        (
            "it",
            "Due to the raid, sei persone sono state arrestate.",
            {("arrested", 6, "exact", None)},
        ),
    ],
)
def test_number_words_are_read_in_the_article_language(
    language: str, sentence: str, expected: set[tuple]
) -> None:
    assert figures(sentence, language) == expected


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "INTERPOL Operation Red Card 2.0 Arrests 651 in African Cybercrime Crackdown",
            "Operation Red Card 2.0 ran from December to January in 16 countries.",
            "Red Card 2.0",
        ),
        (
            "Operation Blue Amber Nets 40 Suspects In Port Raids",
            "Officers in Operation Blue Amber searched 12 warehouses.",
            "Blue Amber",
        ),
    ],
)
def test_title_case_headline_does_not_run_on_past_the_operation_name(
    title: str, body: str, expected: str
) -> None:
    found = extract.entities(article(body).with_columns(title=pl.lit(title)), "test")
    operations = found.filter(pl.col("entity_type") == "operation").get_column("entity_id")
    assert set(operations) == {expected}


@pytest.mark.parametrize(
    "sentence",
    [
        "La policía tenía 5 detenidos y midió 20 milímetros de lluvia.",  # "ten" in "tenía"
        "Die Polizei nahm über 100 Personen fest, fünf davon Minderjährige.",
        "Plus de 30 passeurs, et jusqu’à 12 000 euros par personne.",
        "Officers rescued ten victims; twenty-one men were held in Tenby.",
        "Dozens of migrants paid $5,000 each, über 3 Mio. Euro in all.",
        "Pagaron 900 rial iraní cada uno; Xüber 5 y 7 dinar iraquíes más.",
        "Cobraban 300 dinar iraquí. Otros 40 dinar kuwaití, y 12 dinar.",  # a form and its prefix
        "Μετανάστες 40 και 7 διακινητές συνελήφθησαν στη Σάμο.",
        # a doubtful match after others: the sentence is matched again from the last one's end,
        # after a word character ("dollars"), after a space, and with two doubtful ones
        "Ils ont payé 500 dollars êtres humains 12 passeurs, 3 fenêtres et 40 000 euros.",
        "Il y avait 30 migrants, des êtres humains vendus 2 000 euros chacun.",
        "Cinq êtres humains, 7 kilomètres à pied et 40 mètres de corde, puis tre 9 victimes.",
        "Quelque 250 personnes à 3 kilomètres d’ici.",
        "Ils ont payé 3 000 €ten tresé fois.",  # the match before ends in no word character
        "Un code 500ten avant des êtres humains.",  # no word boundary where it goes on
    ],
)
def test_figures_found_with_ascii_boundaries_are_those_of_unicode_ones(sentence: str) -> None:
    # Python's re reads \b by Unicode's letters: the reference for where a figure may start.
    reference = re.compile(extract.FIGURE_UNICODE)
    expected = [(m.start(), m.group()) for m in reference.finditer(sentence) if m.group()]
    found = extract.figure_matches(pl.DataFrame({"sentence": [sentence]}))
    assert list(found.select("pos", "match").iter_rows()) == expected


def test_figures_of_every_sample_sentence_match_the_unicode_pattern(seeds_dir: Path) -> None:
    lines = [
        line
        for path in sorted(seeds_dir.iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    reference = re.compile(extract.FIGURE_UNICODE)
    expected = [
        (row, m.start(), m.group())
        for row, line in enumerate(lines)
        for m in reference.finditer(line)
        if m.group()
    ]
    found = extract.figure_matches(pl.DataFrame({"sentence": lines}).with_row_index("row"))
    assert list(found.select("row", "pos", "match").iter_rows()) == expected
