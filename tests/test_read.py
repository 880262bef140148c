"""Readers: each format becomes items with their spans, titles, dates and URLs."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import pytest
from warcio.statusandheaders import StatusAndHeaders

from tracelake import read
from tracelake.read import UnreadableInput


def titles(reading: read.Reading) -> list[str | None]:
    return [item["title"] for item in reading.items]


def item_text(reading: read.Reading, n: int) -> str:
    item = reading.items[n]
    return reading.text[item["char_start"] : item["char_end"]]


def test_spans_point_into_the_landed_text() -> None:
    records = [
        {"title": "Border police stop a van", "text": "Nine migrants were found inside."},
        {"title": "Port raid", "text": "Customs officers searched two containers at dawn."},
    ]
    reading = read.read("export.json", json.dumps(records))
    assert reading.reader == "json"
    for n, record in enumerate(records):
        item = reading.items[n]
        assert reading.text[item["char_start"] :].startswith(record["title"])
        assert reading.text[item["body_start"] :].startswith(record["text"])
        assert item_text(reading, n).endswith(record["text"])
    assert read.PAGE_BREAK in reading.text


@pytest.mark.parametrize(
    ("name", "text", "reader"),
    [
        ("a.txt", "<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("a.dat", '<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>', "feed"),
        ("a.xml", "<feed xmlns='http://www.w3.org/2005/Atom'></feed>", "feed"),
        ("a.txt", '[{"title": "t", "text": "b"}]', "json"),
        ("a.txt", '{"title": "t", "text": "b"}\n{"title": "u", "text": "c"}\n', "jsonl"),
        ("a.jsonl", '{"title": "t", "text": "b"}\n', "jsonl"),
        ("a.txt", "---\ntitle: T\n---\nBody.\n", "markdown"),
        ("a.md", "Just a line.\n", "markdown"),
        ("a.txt", "# Heading here\n\nSome **bold** text.\n", "markdown"),
        ("a.csv", "title,text\nt,b\n", "csv"),
        ("a.story", "Body line.\n\n@highlight\n\nA summary\n", "story"),
        ("a.log", "Plain words on a line.\nAnother line.\n", "text"),
    ],
)
def test_format_from_content_first_then_name(name: str, text: str, reader: str) -> None:
    assert read.detect_format(name, text) == reader


def test_markdown_front_matter_gives_title_date_and_url() -> None:
    text = (
        '---\ntitle: "Ring of forgers dismantled"\nDate: 2023-05-04\n'
        "source_url: https://example.org/2023/05/forgers\ntags: [news]\n---\n\n"
        "**Lyon, 4 May.** Police arrested six people who sold <em>fake passports</em>.</br>\n\n"
        "![a photo](https://example.org/p.jpg)\n\n"
        '<figure><img src="x.jpg"><figcaption>Officers at the scene.</figcaption></figure>\n\n'
        "The group had operated since 2019.\n"
    )
    reading = read.read("post.md", text)
    assert reading.reader == "markdown"
    [item] = reading.items
    assert item["title"] == "Ring of forgers dismantled"
    assert item["published"] == date(2023, 5, 4)
    assert item["date_source"] == "front_matter"
    assert item["url"] == "https://example.org/2023/05/forgers"
    body = item_text(reading, 0)
    assert "sold fake passports." in body
    assert "Officers at the scene" not in body  # captions are not text
    assert "<" not in body and "**" not in body and "![" not in body


def test_markdown_heading_is_the_title_without_front_matter() -> None:
    text = "# Smuggling network charged in Rotterdam\n\nProsecutors charged eleven people.\n"
    reading = read.read("story.md", text)
    assert titles(reading) == ["Smuggling network charged in Rotterdam"]
    assert reading.text.count("Smuggling network charged") == 1


def test_bare_front_matter_line_is_the_title_and_indented_html_is_text() -> None:
    text = (
        "---\nTen held over cash couriers\n---\n<article>\n    <div>\n"
        "    <span>March 3, 2019</span>\n    </div>\n\n"
        "    <p>Investigators said the couriers moved cash across two borders.</p>\n</article>\n"
    )
    reading = read.read("post.md", text)
    assert titles(reading) == ["Ten held over cash couriers"]
    assert "Investigators said the couriers moved cash" in reading.text
    assert "<p>" not in reading.text


def test_front_matter_that_does_not_parse_is_noted_and_read_as_text() -> None:
    text = "---\ntitle: [unclosed\n---\n\nA short note about a court case in Milan.\n"
    reading = read.read("broken.md", text)
    assert reading.problems and "front matter does not parse" in reading.problems[0]
    assert "court case in Milan" in reading.text


def test_markdown_listing_yields_one_item_per_release() -> None:
    text = (
        "---\ntitle: News\n---\n\n"
        "# [Two arrested after shop robbery](https://police.example/news/2024/1/5/robbery)\n\n"
        "## January 5, 2024 [Desk](https://police.example/desk)\n\n"
        "Officers arrested two men on Main Street after a robbery.\n\nShare\n\n"
        "# [Road closed for repairs](https://police.example/news/2024/1/2/road)\n\n"
        "## January 2, 2024 [Desk](https://police.example/desk)\n\n"
        "The bridge on Elm Road will be closed for two weeks.\n"
    )
    reading = read.read("news.md", text)
    assert titles(reading) == ["Two arrested after shop robbery", "Road closed for repairs"]
    assert [i["published"] for i in reading.items] == [date(2024, 1, 5), date(2024, 1, 2)]
    assert reading.items[0]["url"] == "https://police.example/news/2024/1/5/robbery"


def test_article_with_subheadings_is_one_item() -> None:
    text = (
        "---\ntitle: Inside a trafficking case\n---\n\n## Background\n\nThe case began in 2020.\n\n"
        "## The trial\n\nThe court heard from four victims.\n"
    )
    assert titles(read.read("long.md", text)) == ["Inside a trafficking case"]


@pytest.mark.parametrize(
    "document",
    [
        {
            "articles": [
                {
                    "headline": "Smugglers held",
                    "maintext": "Four were held.",
                    "date_publish": "2022-07-01 10:00:00",
                }
            ]
        },  # noqa: E501
        {
            "data": {
                "items": [
                    {
                        "titel": "Smugglers held",
                        "volltext": "Four were held.",
                        "datum": "01.07.2022",
                    }
                ]
            }
        },  # noqa: E501
        [
            {
                "title": "Smugglers held",
                "content": {"rendered": "<p>Four were held.</p>"},
                "pubDate": "Fri, 01 Jul 2022 08:00:00 GMT",
            }
        ],  # noqa: E501
        {
            "title": "Smugglers held",
            "text": "Four were held.",
            "published_at": "2022-07-01T08:00:00Z",
        },  # noqa: E501
    ],
)
def test_json_shapes_and_field_names(document: object) -> None:
    reading = read.read("feed.json", json.dumps(document))
    assert titles(reading) == ["Smugglers held"]
    assert reading.items[0]["published"] == date(2022, 7, 1)
    assert "Four were held." in reading.text


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # a news bot's export: items stamped "MM-DD HH:MM", the export stamped with its year
        (
            {"updated": "2026-03-25 13:42", "articles": [
                {"title": "Smugglers held", "summary": "Four were held.", "time": "03-19 21:20"},
                {"title": "Port raid", "summary": "Two were held.", "time": "12-30 08:00"},
            ]},
            [date(2026, 3, 19), date(2025, 12, 30)],
        ),
        # a crawler's dump: day and month names, the crawl date on the wrapper
        (
            {"crawled_at": "2024-01-09T10:00:00Z", "items": [
                {"headline": "Smugglers held", "text": "Four were held.", "date": "8 January"},
                {"headline": "Port raid", "text": "Two were held.", "date": "December 31"},
            ]},
            [date(2024, 1, 8), date(2023, 12, 31)],
        ),
    ],
)  # fmt: skip
def test_year_less_item_dates_take_the_year_of_the_export(
    document: dict, expected: list[date]
) -> None:
    reading = read.read("feed.json", json.dumps(document))
    assert [item["published"] for item in reading.items] == expected
    assert {item["date_source"] for item in reading.items} == {"field"}


def test_year_less_item_dates_without_an_export_date_stay_unknown() -> None:
    records = [{"title": "Smugglers held", "text": "Four were held.", "time": "03-19 21:20"}]
    reading = read.read("feed.json", json.dumps(records))
    assert reading.items[0]["published"] is None


def test_json_summary_and_subtitle_lead_the_body() -> None:
    records = [
        {"title": "Raid in port", "subtitle": "Customs acted at night.", "text": "Two held."}
    ]
    reading = read.read("x.json", json.dumps(records))
    assert item_text(reading, 0).endswith("Customs acted at night.\n\nTwo held.")


def test_invalid_json_and_json_without_records_are_unreadable() -> None:
    with pytest.raises(UnreadableInput, match="invalid JSON"):
        read.read("x.json", '[{"title": "a",')
    with pytest.raises(UnreadableInput, match="no list of records"):
        read.read("x.json", '{"count": 3, "ok": true}')


def test_csv_rows_with_a_bad_row_noted() -> None:
    text = (
        "location,title,date,url,excerpt\n"
        'Leeds,"Gang jailed for forced labour",2021-02-03,https://e.org/a,"Five men were jailed."\n'
        "Hull,broken row\n"
        "York,Police appeal after burglary,,https://e.org/b,\n"
    )
    reading = read.read("items.csv", text)
    assert titles(reading) == ["Gang jailed for forced labour", "Police appeal after burglary"]
    assert reading.items[0]["published"] == date(2021, 2, 3)
    assert reading.problems == ["row 3: 2 fields, the header has 5"]


def test_tsv_is_read_with_its_delimiter() -> None:
    text = (
        "headline\tbody\nBoat intercepted off Lampedusa\tThe coast guard took 40 people aboard.\n"
    )
    reading = read.read("items.tsv", text)
    assert titles(reading) == ["Boat intercepted off Lampedusa"]


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Cronaca</title><language>it-IT</language>
<item><title>Scafisti arrestati a Lampedusa</title><link>https://e.it/1</link>
<description><![CDATA[<p>La polizia ha fermato <b>tre</b> persone.</p>]]></description>
<pubDate>Tue, 15 Nov 2022 10:00:00 +0100</pubDate></item>
<item><title>Seconda notizia</title><link>https://e.it/2</link>
<description>Testo breve.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Newsroom</title>
<entry><title>Network dismantled</title><link href="https://e.org/n1"/>
<updated>2021-06-30T12:00:00Z</updated>
<content type="html">&lt;p&gt;Seven arrests.&lt;/p&gt;</content>
</entry></feed>"""


def test_rss_items_with_dates_links_and_language() -> None:
    reading = read.read("cronaca.xml", RSS)
    assert reading.reader == "feed"
    assert titles(reading) == ["Scafisti arrestati a Lampedusa", "Seconda notizia"]
    first = reading.items[0]
    assert (first["published"], first["date_source"]) == (date(2022, 11, 15), "feed")
    assert (first["url"], first["language"]) == ("https://e.it/1", "it")
    assert "La polizia ha fermato tre persone." in item_text(reading, 0)


def test_atom_entries() -> None:
    reading = read.read("newsroom.atom", ATOM)
    assert titles(reading) == ["Network dismantled"]
    assert reading.items[0]["published"] == date(2021, 6, 30)
    assert "Seven arrests." in reading.text


def test_empty_feed_is_unreadable() -> None:
    empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    with pytest.raises(UnreadableInput, match="feed with no readable item"):
        read.read("empty.rss", empty)


def test_story_keeps_highlights_apart() -> None:
    text = (
        "(Wire) -- Police freed 12 workers from a farm.\n\n@highlight\n\nPolice freed 12 workers\n"
    )
    reading = read.read("abc.story", text)
    assert reading.reader == "story"
    assert "@highlight" not in reading.text
    assert reading.text.count("freed 12 workers") == 1
    assert read.story_highlights(text) == ["Police freed 12 workers"]


def _warc(html: str, uri: str) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], "HTTP/1.1")
    record = writer.create_warc_record(
        uri, "response", payload=io.BytesIO(html.encode()), http_headers=headers
    )
    writer.write_record(record)
    return buffer.getvalue()


def test_warc_responses_are_pages() -> None:
    paragraph = "Inspectors found 30 workers held in debt bondage on two farms near Murcia. " * 3
    html = (
        "<html><head><title>Farm raid frees workers</title></head><body><article>"
        f"<h1>Farm raid frees workers</h1><p>{paragraph}</p><p>{paragraph}</p></article>"
        "</body></html>"
    )
    data = _warc(html, "https://news.example/2020/02/03/farm")
    assert data[:2] == b"\x1f\x8b"  # gzip, as crawlers write them
    reading = read.read_bytes_format("crawl.warc.gz", data)
    assert reading is not None and reading.reader == "warc"
    assert titles(reading) == ["Farm raid frees workers"]
    assert reading.items[0]["url"] == "https://news.example/2020/02/03/farm"
    assert "debt bondage" in reading.text
    assert read.read_bytes_format("notes.txt", b"plain") is None
    with pytest.raises(UnreadableInput):
        read.read_bytes_format("bad.warc", b"WARC/1.0\r\nnonsense")


def test_gzip_that_is_not_warc_is_left_to_land() -> None:
    assert read.read_bytes_format("notes.txt.gz", gzip.compress(b"hello")) is None


def test_wrapped_text_is_joined_without_moving_offsets() -> None:
    paragraph = (
        "The Department said the network had brought forty people into the country\n"
        "over two years, charging each of them between five and ten thousand dollars\n"
        "for the crossing and false papers on arrival in the capital of the region.\n"
    )
    text = "SMUGGLING NETWORK BROKEN\n\n" + paragraph * 3
    reading = read.read("release.txt", text)
    assert len(reading.text) == len(text)
    assert "into the country over two years" in reading.text
    assert reading.items[0]["title"] is None  # the segmenter finds the title of plain text


def test_unwrapped_text_stays_as_it_is() -> None:
    text = "Title of a story\n\n" + ("A long paragraph on one line. " * 20 + "\n\n") * 3
    assert read.read("page.txt", text).text == text


def test_lynx_dump_title_is_the_heading_over_the_lead() -> None:
    text = (
        "   Site name\n\n   (BUTTON) Menu\n     * Politics\n     * World\n"
        "   Search: ____________________\n\n"
        "Border police arrest a driver carrying twelve people in a\nlorry\n\n"
        "   The driver was stopped on the motorway near the border on Tuesday\n"
        "   night, police said in a statement on Wednesday morning.\n"
        "   Published on 4 April 2023\n"
    )
    reading = read.read("page.txt", text)
    assert reading.reader == "lynx"
    assert titles(reading) == ["Border police arrest a driver carrying twelve people in a lorry"]
    assert "Politics" not in reading.text


def test_csv_with_a_stray_carriage_return_is_read_or_unreadable_never_a_crash() -> None:
    reading = read.read("x.csv", "title,text\nRaid,Two held\r in port\nSecond,Four held\n")
    assert titles(reading)[0] == "Raid"
    with pytest.raises(UnreadableInput, match="CSV"):
        read.read("x.csv", "\n\r!")


def test_warc_response_without_http_headers_or_with_an_unknown_charset() -> None:
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    page = b"<html><body><h1>Ring broken up</h1><p>" + b"Police arrested ten people. " * 20
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=klingon")],
                               protocol="HTTP/1.0")  # fmt: skip
    response = writer.create_warc_record(
        "http://x/a", "response", payload=io.BytesIO(page), http_headers=headers
    )
    writer.write_record(response)
    resource = writer.create_warc_record("http://x/b", "resource", payload=io.BytesIO(b"plain"))
    writer.write_record(resource)
    reading = read.read_bytes_format("crawl.warc", buffer.getvalue())
    assert reading is not None and len(reading.items) == 1
