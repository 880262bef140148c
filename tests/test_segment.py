"""Segment: documents become the articles a reader would see."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from tracelake import segment

BODY_A = (
    "Police in Valencia arrested nine members of a human trafficking network on Tuesday. "
    "The gang forced women into prostitution and laundered the profits through shell companies."
)
BODY_B = (
    "Border guards stopped a lorry carrying 31 migrants near the port. The people smugglers "
    "behind the crossing charged each passenger thousands of euros, investigators said."
)


def run(*texts: str, prefix: str = "d", **known: str) -> pl.DataFrame:
    docs = pl.DataFrame(
        {
            "doc_id": [f"{prefix}{i}" for i in range(len(texts))],
            "source_file": [f"f{i}.txt" for i in range(len(texts))],
            "text": list(texts),
            "landed_at": [datetime(2024, 1, 1, tzinfo=UTC)] * len(texts),
        }
    )
    return segment.segment(docs, "test", known or None)


def titles(articles: pl.DataFrame) -> list[str]:
    return articles.get_column("title").to_list()


def test_articles_start_at_titles_with_source_lines() -> None:
    text = (
        f"Valencia ring dismantled\nSource: Guardia Civil\n\n{BODY_A}\n\n"
        f"Lorry stopped at the port\nSource: Border Force\nMarch 3, 2021\n\n{BODY_B}\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled", "Lorry stopped at the port"]
    assert articles.get_column("body").to_list() == [BODY_A, BODY_B]
    assert articles.get_column("published_date").to_list() == [None, date(2021, 3, 3)]


def test_published_block_and_furniture_are_not_body() -> None:
    text = (
        "Articles\nValencia ring dismantled\nPublished\n3 years agoon\n14 April 2021\n"
        f"{BODY_A}\nShare this:\nPhoto: Guardia Civil handout\nRelated posts:\n"
        "- An older story about something else\n- Another headline from the archive\n"
        f"Lorry stopped at the port\n{BODY_B}\nLeave a Reply\nYour email address will not be "
        "published.\nLatest articles\n- Yet another headline\nSocial Widget\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled", "Lorry stopped at the port"]
    assert articles.get_column("body").to_list() == [BODY_A, BODY_B]
    assert articles.get_column("published_date").to_list() == [date(2021, 4, 14), None]


def test_byline_with_fields_dates_the_article() -> None:
    text = (
        f"Valencia ring dismantled\nBy Marta Ruiz | 14 April 2021 | 3 min read\n{BODY_A}\n\n"
        f"Lorry stopped at the port\nStaff reporter · March 3, 2021\n{BODY_B}\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled", "Lorry stopped at the port"]
    assert articles.get_column("body").to_list() == [BODY_A, BODY_B]
    assert articles.get_column("published_date").to_list() == [date(2021, 4, 14), date(2021, 3, 3)]


def test_headlines_under_a_list_header_are_a_list_even_without_bullets() -> None:
    text = (
        f"Valencia ring dismantled\nBy Marta Ruiz | 14 April 2021\n{BODY_A}\n"
        "Tags: trafficking, Spain\n\nYou may also like\nFerry strike ends after two days\n"
        "New mayor sworn in at city hall\n\n"
        f"Lorry stopped at the port\nBy Staff Reporter | 10 April 2021\n{BODY_B}\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled", "Lorry stopped at the port"]
    assert articles.get_column("body").to_list() == [BODY_A, BODY_B]


def test_relative_dates_give_no_date() -> None:
    articles = run(f"Valencia ring dismantled\nPublished\n6 years ago\n{BODY_A}\n")
    assert articles.get_column("published_date").to_list() == [None]


def test_title_case_heading_starts_an_article_but_subheadings_do_not() -> None:
    text = (
        f"Valencia Ring Dismantled By Police\n\n{BODY_A}\n\nWhat happens next\n\n{BODY_A}\n\n"
        f"Border Guards Stop Smuggling Lorry\n\n{BODY_B}\n"
    )
    articles = run(text)
    assert titles(articles) == [
        "Valencia Ring Dismantled By Police",
        "Border Guards Stop Smuggling Lorry",
    ]
    assert articles.get_column("body").to_list()[0] == f"{BODY_A}\nWhat happens next\n{BODY_A}"


def test_revision_page_keeps_the_newest_text_once() -> None:
    old = "Police in Valencia arrested eight members of a trafficking network on Tuesday."
    new = "Police in Valencia arrested nine members of a trafficking network on Tuesday."
    same = "The gang forced women into prostitution, officers said."
    text = (
        "This article is from the source 'herald' and was first published or seen on .\n\n"
        "You can find the current article at its original source at "
        "http://example.com/world/2019/mar/21/valencia-ring\n\n"
        "Version 0 Version 1\n"
        "Valencia ring dismantled Valencia ring dismantled by police\n"
        "(2 hours later)\n"
        f"{old}{new}\n{same}{same}\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled by police"]
    assert articles.get_column("body").to_list() == [f"{new}\n{same}"]
    assert articles.get_column("published_date").to_list() == [date(2019, 3, 21)]
    # beside it in a batch, a page without the revisions line keeps its doubled line whole
    plain = f"Valencia ring dismantled\n\n{same}{same}\n"
    both = run(text, plain)
    assert both.get_column("body").to_list() == [f"{new}\n{same}", f"{same}{same}"]


def test_body_offsets_point_into_the_document() -> None:
    text = f"Valencia ring dismantled\nSource: Guardia Civil\n\n  {BODY_A}\n\nShare this:\n"
    row = run(text).row(0, named=True)
    for line, offset in zip(row["body"].split("\n"), row["body_offsets"], strict=True):
        assert text[offset : offset + len(line)] == line
    assert text[row["char_start"] : row["char_end"]].startswith("Valencia ring dismantled")


def test_jsonl_pages_are_articles() -> None:
    text = (
        f"Valencia ring dismantled\nPublished 2021-04-14\nURL: https://example.org/a\n\n{BODY_A}\n"
        f"\n\f\nLorry stopped at the port\n\n{BODY_B}\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled", "Lorry stopped at the port"]
    assert articles.get_column("published_date").to_list() == [date(2021, 4, 14), None]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("13 March 2020", date(2020, 3, 13)),
        ("December 6, 2023", date(2023, 12, 6)),
        ("Published 2022-09-14T08:00:00+00:00", date(2022, 9, 14)),
        ("Tuesday, 5 July 2022", date(2022, 7, 5)),
        ("publié le 12 mars 2021", date(2021, 3, 12)),
        ("6 years ago", None),
        ("31 November 2022", None),
        ("2023-02-30", None),
        ("The meeting on 6 December 2023 was short.", None),
        ("Publié le 12/03/2023 à 14h05", date(2023, 3, 12)),
        ("Le 14 février 2022 à 08:15", date(2022, 2, 14)),
        ("Updated 14:32 GMT, 3 March 2021", date(2021, 3, 3)),
        ("Last updated: 3 Mar 2021", date(2021, 3, 3)),
        ("Wed 3 Mar 2021 10.32 GMT", date(2021, 3, 3)),
        ("03.04.2021", date(2021, 4, 3)),
        ("Published: 03/14/2023", date(2023, 3, 14)),
        ("Published: 14/03/2023", date(2023, 3, 14)),
        ("Published: 03/04/2023", None),  # day or month first: not a guess
        ("Le 14 février 2022, la police a arrêté cinq hommes.", None),
    ],
)
def test_date_lines(line: str, expected: date | None) -> None:
    frame = pl.DataFrame({"stripped": [line]})
    assert frame.select(segment.date_in_line()).item() == expected


def test_only_lines_with_a_year_are_read_for_dates() -> None:
    # line_dates reads the lines with four digits only: every date pattern needs them
    assert all(r"(?P<year>\d{4})" in pattern for pattern in segment.DATE_PATTERNS)
    lines = pl.Series(
        "stripped",
        ["Le 14 février 2022 à 08:15", "By Ana Ruiz | 3 May 2021 | Reuters", "Tuesday, 5 July",
         "By Ana Ruiz | Reuters", "Police arrested 12 people in 2021.", None],
    )  # fmt: skip
    expected = [date(2022, 2, 14), date(2021, 5, 3), None, None, None, None]
    assert segment.line_dates(lines).to_list() == expected


def test_language_is_detected_per_article() -> None:
    french = (
        "Démantèlement d'un réseau de passeurs\n\nLa police a arrêté sept personnes soupçonnées "
        "d'avoir organisé le passage de migrants vers le Royaume-Uni contre de fortes sommes."
    )
    english = run(f"Valencia ring dismantled\nSource: Guardia Civil\n\n{BODY_A}\n")
    assert english.get_column("language").to_list() == ["en"]
    assert run(french).get_column("language").to_list() == ["fr"]


@pytest.mark.parametrize(
    ("title", "body", "relevant", "crime_type"),
    [
        ("Valencia ring dismantled", BODY_A, True, "human_trafficking"),
        ("Lorry stopped at the port", BODY_B, True, "migrant_smuggling"),
        (
            "Ministers meet to discuss defence spending",
            "Defence ministers met in Brussels to discuss air defence, training and the "
            "budget for the coming year. They agreed to meet again in the spring.",
            False,
            None,
        ),
        # A brief whose headline says "bust": the enforcement is in the headline alone.
        (
            "Border police bust heroin smuggling module, recover 12 kg",
            "The minister said the force works with the border guards every day.",
            True,
            "drug_trafficking",
        ),
        (
            "Drug bust at the harbour: cocaine hidden in banana crates",
            "Dock workers noticed the crates were heavier than declared.",
            True,
            "drug_trafficking",
        ),
        (
            "Winners of the police photo competition",
            "Thirty images were shortlisted and put to a public vote. The winning photo "
            "shows a patrol boat at sunrise.",
            False,
            None,
        ),
    ],
)
def test_relevance(title: str, body: str, relevant: bool, crime_type: str | None) -> None:
    row = run(f"{title}\nSource: Agency\n\n{body}\n").row(0, named=True)
    assert row["is_relevant"] is relevant
    assert row["relevance_reason"]
    if crime_type:
        assert crime_type in row["crime_types"]


LONG_BODY = f"{BODY_A} {BODY_B}"


def test_a_copy_of_an_article_is_flagged_as_duplicate() -> None:
    first = run(f"Valencia ring dismantled\nSource: Wire\n\n{LONG_BODY}\n", prefix="a")
    copy = run(
        "Daily Courier\n\nValencia ring dismantled\nSource: Courier\n\n" + LONG_BODY + "\n",
        prefix="b",
        **{first.get_column("fingerprint").item(): first.get_column("article_id").item()},
    )
    assert copy.get_column("duplicate_of").to_list() == first.get_column("article_id").to_list()


def test_short_articles_are_not_called_copies() -> None:
    text = f"Valencia ring dismantled\nSource: Wire\n\n{BODY_A}\n"
    articles = run(text, text)
    assert articles.get_column("duplicate_of").to_list() == [None, None]


def test_copies_within_one_batch_point_to_the_first() -> None:
    text = f"Valencia ring dismantled\nSource: Wire\n\n{LONG_BODY}\n"
    articles = run(text, text.replace("Wire", "Courier"))
    assert articles.get_column("duplicate_of").to_list() == [
        None,
        articles.get_column("article_id")[0],
    ]


def test_photo_captions_are_not_body() -> None:
    captions = (
        "Document checks at the border.\nSuspects arrested in Sofia.\nVehicle checks at night.\n"
    )
    text = f"Valencia ring dismantled\nSource: Europol\n\n{BODY_A}\n\n{captions}\n{BODY_B}\n"
    row = run(text).row(0, named=True)
    assert row["body"] == f"{BODY_A}\n{BODY_B}"
    assert row["head"] == "Source: Europol"


def test_child_sexual_abuse_is_not_also_sexual_exploitation() -> None:
    body = (
        "Experts met to discuss the sexual exploitation of children online and how to end child "
        "sexual abuse material. The sexual exploitation of children is a global crime."
    )
    row = run(f"Experts meet in Nairobi\nSource: Agency\n\n{body}\n").row(0, named=True)
    assert "child_sexual_abuse" in row["crime_types"]
    assert "sexual_exploitation" not in row["crime_types"]


def test_navigation_and_cookie_lines_are_not_body() -> None:
    text = (
        "Home\nNews\nSearch\nWe use cookies to improve your experience. Accept cookies\n"
        f"Valencia ring dismantled\nPublished\n14 April 2021\n{BODY_A}\nAdvertisement\n"
        "Tags: trafficking, Spain\n"
    )
    articles = run(text)
    assert titles(articles) == ["Valencia ring dismantled"]
    assert articles.get_column("body").to_list() == [BODY_A]


# --- items, headers and furniture by general signals -------------------------------------


def run_files(files: dict[str, bytes]) -> pl.DataFrame:
    """Land-read each file (name -> bytes) and segment them together."""
    from tracelake import land

    rows = []
    for n, (name, data) in enumerate(files.items()):
        text, _, _, _, items = land.read_document(name, data)
        rows.append({"doc_id": f"d{n}", "source_file": name, "text": text, "items": items})
    frame = pl.DataFrame(rows).with_columns(landed_at=pl.lit(datetime(2024, 1, 1, tzinfo=UTC)))
    return segment.segment(frame, "test")


@pytest.mark.parametrize(
    "header",
    [
        # a ministerial release: banner, minister, portfolio, release number, headline
        "Media Release\n\nThe Hon. Jane Smith MP\n\nMinister for Home Affairs\n\nHA 12/04\n\n",
        # a police newsroom: force name, section, date line, headline
        "Metropolitan Police Service\n\nNews and appeals\n\nE044/21 3 March 2021\n\n",
        # a site saved as text: site name and menu lines
        "The Daily Courier\nHome\nWorld\nPolitics\n\n",
    ],
)
def test_header_lines_above_a_headline_are_not_articles(header: str) -> None:
    text = f"{header}Smuggling gang jailed after port inquiry\n\n{BODY_B}\n"
    articles = run(text)
    assert titles(articles) == ["Smuggling gang jailed after port inquiry"]


@pytest.mark.parametrize(
    ("standfirst", "lead"),
    [
        ("Operation rescues 500 victims, leads to 40 arrests", BODY_A),
        ("That alone will not stop the trade in people", BODY_B),
    ],
)
def test_a_standfirst_under_the_headline_is_not_the_title(standfirst: str, lead: str) -> None:
    articles = run(f"Police break up trafficking ring\n\n{standfirst}\n\n{lead}\n")
    assert titles(articles) == ["Police break up trafficking ring"]


@pytest.mark.parametrize(
    "contact",
    [
        "Media Inquiries: Brad Jones 0419 278 715",
        "Further enquiries:  Ann Lee (02) 6277 7260 / 0417 749 711",
        "Press office +44 20 7946 0958",
        "FOR IMMEDIATE RELEASE",
    ],
)
def test_press_contacts_and_banners_are_furniture(contact: str) -> None:
    articles = run(f"Lorry stopped at the port\n\n{BODY_B}\n\n{contact}\n")
    assert titles(articles) == ["Lorry stopped at the port"]
    assert contact not in articles.get_column("body")[0]


@pytest.mark.parametrize(
    ("signed", "expected"),
    [("Monday, 16 March 1999", date(1999, 3, 16)), ("12.05.2020", date(2020, 5, 12))],
)
def test_a_release_signed_off_with_a_date_is_dated(signed: str, expected: date) -> None:
    articles = run(
        f"Lorry stopped at the port\n\n{BODY_B}\n\n{signed}\n\nMedia contact: 0419 278 715\n"
    )
    assert articles.get_column("published_date").to_list() == [expected]
    assert articles.get_column("date_source").to_list() == ["foot"]


def test_dates_in_five_languages_under_the_title() -> None:
    lines = ["21. Mai 2026", "2 de marzo de 2022", "15 novembre 2022", "Publié le 3 avril 2021"]
    docs = [f"Lorry stopped at the port\n{line}\n\n{BODY_B}\n" for line in lines]
    articles = run(*docs)
    assert articles.get_column("published_date").to_list() == [
        date(2026, 5, 21), date(2022, 3, 2), date(2022, 11, 15), date(2021, 4, 3)
    ]  # fmt: skip


def test_a_headline_over_no_text_is_furniture() -> None:
    text = f"Lorry stopped at the port\n\n{BODY_B}\n\nDownload our app today\n\nPrivacy and terms\n"
    assert titles(run(text)) == ["Lorry stopped at the port"]


def test_feed_items_are_articles_even_as_bare_headlines() -> None:
    records = [
        {"title": "Six held as police bust arms smuggling module", "summary": ""},
        {
            "title": "Court jails trafficker for 12 years",
            "summary": "The court in Leeds jailed a man.",
        },
        {"title": "Crime Section", "summary": "The latest crime news from our city."},
    ]
    articles = run_files({"feed.json": json.dumps(records).encode()})
    assert titles(articles) == [r["title"] for r in records[:2]]
    # a headline alone is its own body, so the figures in it are read
    assert articles.get_column("body")[0] == records[0]["title"]


def test_text_repeated_in_many_items_of_a_feed_is_furniture() -> None:
    blurb = "Our site has the latest crime news and reports for the whole county."
    records = [
        {
            "title": f"Story number {n} about a burglary",
            "text": f"{blurb}\n\nA shop was hit {n} times.",
        }
        for n in range(4)
    ]
    articles = run_files({"feed.json": json.dumps(records).encode()})
    assert len(articles) == 4
    assert not any(blurb in body for body in articles.get_column("body").to_list())


def test_item_metadata_reaches_the_articles() -> None:
    text = (
        "---\ntitle: Ring of forgers dismantled\ndate: 2023-05-04\n---\n\n"
        "Police arrested six people in Lyon for selling forged passports, prosecutors said.\n"
    )
    articles = run_files({"post.md": text.encode()})
    row = articles.row(0, named=True)
    assert (row["title"], row["published_date"], row["date_source"], row["reader"]) == (
        "Ring of forgers dismantled", date(2023, 5, 4), "front_matter", "markdown"
    )  # fmt: skip


@pytest.mark.parametrize(
    "body",
    ["Police arrested 14 people in Valencia.", "POLICE arrested, 14 people in  valencia"],
)
def test_fingerprints_are_stable_across_library_versions(body: str) -> None:
    """Pinned: sha256 of the folded letters and digits, so an upgrade never changes them."""
    found = pl.DataFrame({"body": [body]}).select(segment.fingerprint()).item()
    assert found == "772518981dfebbe9"
