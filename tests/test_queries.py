"""The analyst questions of the README, run on the warehouse built from seeds/.

The expected values were checked by hand against the text of seeds/ (and, for money, the
exchange_rates seed). The README shows the same SQL as tests/queries/*.sql.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

QUERIES = Path(__file__).parent / "queries"
README = Path(__file__).parent.parent / "README.md"
# In the README, a query is a ```sql block right under a line that names its file.
README_QUERY = re.compile(r"`(tests/queries/[\w-]+\.sql)`[^\n]*\n+```sql\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def warehouse(seeds_build: tuple[dict, Path, Path]) -> Path:
    report, _, data = seeds_build
    assert report["status"] == "succeeded"
    return data / "warehouse.duckdb"


def run_query(warehouse: Path, name: str) -> list[dict]:
    """The rows of tests/queries/<name>.sql as dicts, in the query's order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute((QUERIES / f"{name}.sql").read_text(encoding="utf-8"))
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_arrests_by_agency_year(warehouse: Path) -> None:
    rows = run_query(warehouse, "arrests_by_agency_year")
    arrested = {(row["agency_id"], row["reported_year"]): row["arrested"] for row in rows}
    # press_rollup.txt: "The arrest of 57 individuals" (INTERPOL, 28 November 2023);
    # revision_diff.txt: "Twenty-three people have been arrested" (NCA, 21 March 2019);
    # news_page.html: "Fourteen people were arrested" (FBI, 14 September 2022).
    assert arrested[("INTERPOL", 2023)] == 57
    assert arrested[("NCA", 2019)] == 23
    assert arrested[("FBI", 2022)] == 14
    interpol = next(row for row in rows if row["agency_id"] == "INTERPOL")
    assert interpol["agency"] == "International Criminal Police Organization"
    assert all(row["arrested"] > 0 for row in rows)
    keys = [(row["agency_id"], row["reported_year"]) for row in rows]
    assert keys == sorted(keys)


def test_smuggling_prices_by_country(warehouse: Path) -> None:
    rows = {row["country_id"]: row for row in run_query(warehouse, "smuggling_prices_by_country")}
    # crawler_export.jsonl (18 May 2023): "paid 4,500 dollars per person", Mexico; the ECB's
    # 2023 annual average is 1.0813 USD per EUR: 4500 / 1.0813 = 4161.66 EUR.
    assert rows["MX"]["max_price_eur"] == pytest.approx(4161.66, abs=0.01)
    # revision_diff.txt (21 March 2019): "between £3,000 and £4,000 each", to the UK, is one
    # price at its lowest reading (at least £3,000); the 2019 average is 0.8778 GBP per EUR:
    # 3000 / 0.8778 = 3417.64 EUR.
    assert rows["GB"]["max_price_eur"] == pytest.approx(3417.64, abs=0.01)
    # Austria: "as much as €8,000" on the Balkan route (2021) and "€7,000" (2023).
    assert rows["AT"]["max_price_eur"] == 8000
    assert rows["AT"]["price_count"] >= 2
    assert all(row["priced_in_eur"] == row["price_count"] for row in rows.values())
    assert all(row["min_price_eur"] > 0 for row in rows.values())


def test_operations_by_people_rescued(warehouse: Path) -> None:
    rows = run_query(warehouse, "operations_by_people_rescued")
    top = rows[0]
    # press_rollup.txt: Operation Sahel Shield, "The rescue of 96 victims", 57 arrests.
    assert "Sahel Shield" in top["title"]
    assert top["operations"] == ["Sahel Shield"]
    assert top["agencies"] == ["INTERPOL"]
    assert (top["rescued"], top["arrested"]) == (96, 57)
    # news_page.html: "38 women were rescued".
    assert rows[1]["rescued"] == 38
    rescued = [row["rescued"] for row in rows]
    assert rescued == sorted(rescued, reverse=True)


def test_figures_by_country(warehouse: Path) -> None:
    rows = {row["country_id"]: row for row in run_query(warehouse, "figures_by_country")}
    # Ghana is one of the five countries of Sahel Shield, and named by no other article.
    ghana = rows["GH"]
    assert (ghana["country"], ghana["region"]) == ("Ghana", "Africa")
    assert (ghana["incidents"], ghana["arrested"], ghana["rescued"]) == (1, 57, 96)
    # The United States: the massage-parlour ring (38 rescued), the onion-farm indictment and
    # the Veracruz trailer (129 migrants headed for the U.S. border).
    usa = rows["US"]
    assert (usa["incidents"], usa["rescued"], usa["migrants"]) == (3, 38, 129)
    assert all(row["incidents"] > 0 for row in rows.values())


def test_evidence_behind_a_figure(warehouse: Path, seeds_dir: Path) -> None:
    [row] = run_query(warehouse, "evidence_behind_a_figure")
    assert row["source_file"] == "press_rollup.txt"
    assert (row["metric"], row["value"]) == ("rescued", 96)
    assert "The rescue of 96 victims of human trafficking" in row["evidence"]
    text = (seeds_dir / "press_rollup.txt").read_text(encoding="utf-8")
    assert text[row["char_start"] : row["char_end"]] == "96"


def test_readme_shows_the_query_files() -> None:
    shown = dict(README_QUERY.findall(README.read_text(encoding="utf-8")))
    files = {
        f"tests/queries/{path.name}": path.read_text(encoding="utf-8")
        for path in QUERIES.glob("*.sql")
    }
    assert len(files) == 5
    assert shown == files
