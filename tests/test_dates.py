"""Dates of metadata fields, and month names from Babel's locale data."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tracelake import dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-02", date(2022, 3, 2)),
        ("2025-06-20 16:31:08-04:00", date(2025, 6, 20)),
        ("2021-06-30T12:00:00Z", date(2021, 6, 30)),
        ("Tue, 15 Nov 2022 10:00:00 +0100", date(2022, 11, 15)),
        ("21.05.2026", date(2026, 5, 21)),
        ("2019/04/08", date(2019, 4, 8)),
        ("20190408", date(2019, 4, 8)),
        ("2 de Marzo 2022", date(2022, 3, 2)),
        ("March 2, 2022", date(2022, 3, 2)),
        ("21. Mai 2026", date(2026, 5, 21)),
        ("15 novembre 2022", date(2022, 11, 15)),
        ("3 févr. 2020", date(2020, 2, 3)),
        ("7 agosto 2019", date(2019, 8, 7)),
        ("October 23rd 2025", date(2025, 10, 23)),
    ],
)
def test_metadata_dates(value: str, expected: date) -> None:
    assert dates.parse_date(value) == expected


@pytest.mark.parametrize("value", ["", "03-25", "Mar 25", "yesterday", "31.02.2021", "0000-00-00",
                                   "2 held in raid", None, 1_700_000_000])  # fmt: skip
def test_values_that_give_no_date(value: object) -> None:
    assert dates.parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "reference", "expected"),
    [
        ("03-19 21:20", date(2026, 3, 25), date(2026, 3, 19)),
        ("12-30", date(2026, 1, 5), date(2025, 12, 30)),  # the latest such day not after it
        ("19 March", date(2026, 3, 25), date(2026, 3, 19)),
        ("March 26", date(2026, 3, 25), date(2025, 3, 26)),
        ("2022-03-02", date(2026, 3, 25), date(2022, 3, 2)),  # a full date keeps its year
        ("03-19", None, None),
        ("13-40", date(2026, 3, 25), None),
        ("2 held in raid", date(2026, 3, 25), None),
    ],
)
def test_year_less_dates_take_the_year_of_a_reference(
    value: str, reference: date | None, expected: date | None
) -> None:
    assert dates.parse_date_in(value, reference) == expected


def test_month_names_cover_the_detected_languages() -> None:
    names = dates.month_names()
    expected = {"janvier": 1, "fevrier": 2, "marzo": 3, "märz": 3, "maggio": 5, "juni": 6,
                "agosto": 8, "sept": 9, "octobre": 10, "dezember": 12}  # fmt: skip
    for name, month in expected.items():
        assert names[name] == month
    assert "mardi" in dates.weekday_names() and "dienstag" in dates.weekday_names()


def test_dates_in_texts_reads_every_date_of_every_text() -> None:
    texts = pl.Series(
        [
            "Raided on 2024-03-10 and again on 11 March; charged 12.03.2024.",
            "Festgenommen am 3. März, angeklagt am 5. März 2024.",
            "Detenidos el 2 de marzo. Page 12 of 40, Webⓙ ᧑, March 99.",
            "Арестованы 4 марта 2024 года.",
            "Dated 4 March 2024, but the report has no date.",
            None,
        ]
    )
    references = pl.Series(
        [date(2024, 3, 12), date(2024, 3, 6), date(2024, 3, 3), date(2024, 3, 5), None,
         date(2024, 3, 5)],
        dtype=pl.Date,
    )  # fmt: skip
    found = dates.dates_in_texts(texts, references).sort("row", "date")
    assert found.rows() == [
        (0, date(2024, 3, 10)), (0, date(2024, 3, 11)), (0, date(2024, 3, 12)),
        (1, date(2024, 3, 3)), (1, date(2024, 3, 5)),
        (2, date(2024, 3, 2)),
        (3, date(2024, 3, 4)),
    ]  # fmt: skip
