"""The agencies seed: shape, accepted values, unambiguous surface forms, extractor lookup."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import polars as pl
import pycountry
import pytest
import yaml

from tracelake import reference

SEEDS = Path(__file__).resolve().parent.parent / "dbt" / "seeds"
AGENCIES = SEEDS / "agencies.csv"
HEADER = ["agency_id", "name", "aliases", "jurisdiction", "kind"]
# Surface form -> agency_id the extractor must give it (several countries and languages).
EXPECTED = {
    "Policía Nacional": "Policía Nacional",
    "Policia Nacional": "Policía Nacional",
    "Gendarmerie": "Gendarmerie nationale",
    "Gendarmerie nationale": "Gendarmerie nationale",
    "French Gendarmerie": "Gendarmerie nationale",
    "Bundeskriminalamt": "BKA",
    "Guardia di Finanza": "Guardia di Finanza",
    "Australian Federal Police": "AFP",
    "Fiscalía General de la República": "FGR",
    "Koninklijke Marechaussee": "KMar",
    "Straż Graniczna": "Straż Graniczna",
    "Mossos d’Esquadra": "Mossos d'Esquadra",
    "Poliția Română": "Poliția Română",
    "Polícia Federal": "Polícia Federal",
    "Carabineros de Chile": "Carabineros",
    "National Agency for the Prohibition of Trafficking in Persons": "NAPTIP",
    "Enforcement Directorate": "ED",
    "Homeland Security Investigations": "HSI",
    "European Migrant Smuggling Centre": "Europol",
}
# Ordinary words or acronyms that mostly mean something else: never a surface form.
AMBIGUOUS = [
    "Police", "Customs", "Treasury", "Justice", "Douane", "Zoll", "Politie", "Garda", "Hawks",
    "AFP", "DNA", "SEC", "PCR", "Policia Federal", "Ministerio Público",
]  # fmt: skip


def read_rows() -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of the seed."""
    with open(AGENCIES, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def accepted_kinds() -> set[str]:
    """The accepted values of agencies.kind in dbt/seeds/_seeds.yml."""
    spec = yaml.safe_load((SEEDS / "_seeds.yml").read_text(encoding="utf-8"))
    seed = next(s for s in spec["seeds"] if s["name"] == "agencies")
    column = next(c for c in seed["columns"] if c["name"] == "kind")
    test = next(t for t in column["data_tests"] if isinstance(t, dict) and "accepted_values" in t)
    return set(test["accepted_values"]["arguments"]["values"])


def aliases_of(row: dict[str, str]) -> list[str]:
    """The aliases of a row ("|"-separated; may be empty)."""
    return [a for a in row["aliases"].split("|") if a]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return read_rows()[1]


def test_header() -> None:
    assert read_rows()[0] == HEADER


def test_breadth(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 250


def test_agency_id_unique_and_non_empty(rows: list[dict[str, str]]) -> None:
    ids = [row["agency_id"] for row in rows]
    assert all(i and i == i.strip() for i in ids)
    assert len(ids) == len(set(ids))
    # the scorer compares ids case-blind
    assert len({i.casefold() for i in ids}) == len(ids)


def test_fields_filled_and_trimmed(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert row["name"] and row["jurisdiction"] and row["kind"], row
        for value in [row["name"], *aliases_of(row)]:
            assert value == value.strip(), (row["agency_id"], value)


def test_kind_accepted(rows: list[dict[str, str]]) -> None:
    kinds = accepted_kinds()
    assert {"police", "border", "prosecution"} <= kinds
    assert {row["agency_id"]: row["kind"] for row in rows if row["kind"] not in kinds} == {}


def test_jurisdiction_is_eu_int_or_alpha_2(rows: list[dict[str, str]]) -> None:
    def valid(code: str) -> bool:
        return code in {"EU", "INT"} or (
            len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None
        )

    assert {r["agency_id"]: r["jurisdiction"] for r in rows if not valid(r["jurisdiction"])} == {}


def test_no_surface_form_names_two_agencies(rows: list[dict[str, str]]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for form in [row["agency_id"], row["name"], *aliases_of(row)]:
            owners[form].add(row["agency_id"])
    assert {form: ids for form, ids in owners.items() if len(ids) > 1} == {}


def test_no_short_alias(rows: list[dict[str, str]]) -> None:
    short = [(row["agency_id"], a) for row in rows for a in aliases_of(row) if len(a) < 3]
    assert short == []


def test_ambiguous_words_are_not_surface_forms() -> None:
    aliases = reference.agency_aliases()
    assert [word for word in AMBIGUOUS if word in aliases] == []


@pytest.mark.parametrize("form", sorted(EXPECTED))
def test_extractor_maps_form(form: str) -> None:
    assert reference.agency_aliases().get(form) == EXPECTED[form]


def test_alternation_finds_whole_longest_forms() -> None:
    """The extractor's regex compiles in polars and prefers the longest form."""
    aliases = reference.agency_aliases()
    text = (
        "Officers of the Guardia Civil, the Policía Nacional, Homeland Security Investigations "
        "and the Bundeskriminalamt Österreich met Europol's EMSC; Customs and Police did not."
    )
    found = pl.Series([text]).str.extract_all(reference.alternation(tuple(aliases)))[0].to_list()
    assert [aliases[form] for form in found] == [
        "Guardia Civil", "Policía Nacional", "HSI", "Bundeskriminalamt Österreich", "Europol",
        "Europol",
    ]  # fmt: skip


def test_a_nationality_and_police_is_no_alias(rows: list[dict[str, str]]) -> None:
    """'Dutch police' or 'Austrian Police' says whose police, not which force."""
    demonyms = reference.demonyms()
    generic = [
        alias
        for row in rows
        for alias in row["aliases"].split("|")
        if len(alias.split()) == 2
        and alias.split()[1].lower() == "police"
        and alias.split()[0].title() in demonyms
    ]
    assert generic == []
