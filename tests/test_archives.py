"""Compressed and large inputs: what they hold lands; bombs and monsters are quarantined."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import pytest

from tracelake import land

LIMIT = 64 * 1024
REPORT = (
    "Ring broken up in Ostend\n\n"
    "Police arrested 11 people suspected of smuggling migrants across the Channel.\n"
)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def land_folder(tmp_path: Path, files: dict[str, bytes], limit: int = LIMIT) -> land.LandResult:
    source = tmp_path / "source"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    return land.land_files(sorted(source.iterdir()), source, "run", set(), limit)


def landed(result: land.LandResult) -> dict[str, str]:
    return {row["source_file"]: row["text"] for row in result.documents.to_pylist()}


def reasons(result: land.LandResult) -> dict[str, str]:
    return {item.file: item.reason for item in result.quarantined}


@pytest.mark.parametrize(
    ("name", "compress"),
    [("report.txt.gz", gzip.compress), ("report.txt.bz2", bz2.compress),
     ("report.txt.xz", lzma.compress)],
)  # fmt: skip
def test_a_compressed_file_lands_the_document_it_holds(
    tmp_path: Path, name: str, compress: object
) -> None:
    result = land_folder(tmp_path, {name: compress(REPORT.encode())})  # type: ignore[operator]
    assert landed(result) == {f"{name}/report.txt": REPORT}


def test_each_file_of_a_zip_archive_is_a_document(tmp_path: Path) -> None:
    archive = zipped(
        {
            "one.txt": REPORT.encode(),
            "sub/two.md": b"# Second raid\n\nOfficers rescued 4 victims of trafficking.\n",
            "sub/": b"",
            ".hidden.txt": b"never read",
            "../escape.txt": b"never read",
        }
    )
    result = land_folder(tmp_path, {"drop.zip": archive})
    assert sorted(landed(result)) == ["drop.zip/one.txt", "drop.zip/sub/two.md"]
    assert not result.quarantined


def test_a_member_that_cannot_be_read_is_quarantined_and_the_others_land(tmp_path: Path) -> None:
    archive = zipped({"good.txt": REPORT.encode(), "photo.jpg": b"\xff\xd8\xff\xe0" + bytes(99)})
    result = land_folder(tmp_path, {"drop.zip": archive})
    assert list(landed(result)) == ["drop.zip/good.txt"]
    assert reasons(result) == {"drop.zip/photo.jpg": "not text: JPEG image"}


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bomb.txt.gz", gzip.compress(b"A" * (LIMIT * 50)), "gzip content larger than the limit"),
        ("bomb.txt.xz", lzma.compress(b"A" * (LIMIT * 50)), "xz content larger than the limit"),
        ("bomb.zip", zipped({"big.txt": b"A" * (LIMIT * 50)}), "ZIP member big.txt content larger"),
        ("many.zip", zipped({f"part{i}.txt": b"B" * (LIMIT - 1) for i in range(12)}),
         "ZIP archive content larger than 10 times the limit"),
        ("cut.txt.gz", gzip.compress(REPORT.encode())[:-12], "damaged gzip file"),
        ("cut.zip", zipped({"a.txt": REPORT.encode()})[:40], "damaged ZIP archive"),
    ],
    ids=lambda value: value if isinstance(value, str) else "data",  # archive bytes hold the time
)  # fmt: skip
def test_bombs_and_damaged_archives_are_quarantined(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    result = land_folder(tmp_path, {name: data})
    assert not landed(result)
    assert reasons(result)[name].startswith(reason)
    assert result.quarantined_bytes[result.quarantined[0].sha256] == data  # kept as it came


def test_a_huge_single_line_file_is_quarantined_without_being_read(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "one-line.txt", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # 200 MB, sparse: nothing is written or read
    result = land.land_files([source / "one-line.txt"], source, "run", set(), 20 * 1024 * 1024)
    assert reasons(result) == {"one-line.txt": f"larger than the limit of {20 * 1024 * 1024} bytes"}
    assert not result.quarantined_bytes


def test_a_million_line_jsonl_over_the_limit_is_quarantined_unread(tmp_path: Path) -> None:
    line = b'{"title": "Raid", "text": "Police arrested two people in a raid."}\n'
    limit = 20 * 1024 * 1024
    result = land_folder(tmp_path, {"export.jsonl": line * 1_000_000}, limit=limit)
    assert reasons(result) == {"export.jsonl": f"larger than the limit of {limit} bytes"}
    assert not result.quarantined_bytes


def test_html_nested_100000_deep_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    page = b"<html><body>" + b"<div>" * 100_000 + b"Ten held." + b"</div>" * 100_000
    result = land_folder(tmp_path, {"deep.html": page}, limit=len(page) + 1)
    assert reasons(result) == {"deep.html": "HTML page with no readable article text"}
