"""Land: bytes become document text, or a quarantine entry with a reason."""

from __future__ import annotations

import codecs
import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tracelake import land

TEXT = "Police arrested 12 people in Calais.\nThe café owner was charged.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_decode_reads_the_common_encodings(data: bytes, encoding: str) -> None:
    text, found = land.decode(data)
    assert text == TEXT
    assert found == encoding


def _zip_bytes() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\t\n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "PNG image"),
        (_zip_bytes(), "ZIP archive"),
        (b"abc\x00\x01\x02def" * 20, "NUL bytes"),
    ],
)
def test_unreadable_bytes_give_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(land.UnreadableInput, match=reason):
        land.to_text("file.txt", data)


def test_jsonl_keeps_good_lines_and_names_bad_ones() -> None:
    lines = [
        json.dumps({"title": "Ring broken up", "date": "2021-04-02", "text": "Ten arrested."}),
        "{not json",
        json.dumps({"title": "No body here"}),
        json.dumps({"headline": "Second story", "body": "Two rescued."}),
    ]
    text, kind, _, problems = land.to_text("export.jsonl", "\n".join(lines).encode())
    assert kind == "jsonl"
    pages = text.split(f"\n{land.PAGE_BREAK}\n")
    assert [p.splitlines()[0] for p in pages] == ["Ring broken up", "Second story"]
    assert "Published 2021-04-02" in pages[0]
    assert problems == ["line 2: invalid JSON (Expecting property name enclosed in double quotes)",
                        "line 3: no text field"]  # fmt: skip


def test_jsonl_with_no_good_line_is_unreadable() -> None:
    with pytest.raises(land.UnreadableInput, match="no readable record"):
        land.to_text("export.jsonl", b"{bad\n[1, 2]\n")


def test_html_page_becomes_title_date_and_text() -> None:
    paragraph = "Investigators said the network moved 40 workers between farms. " * 4
    html = f"""<!doctype html><html><head><title>Farm labour ring exposed</title>
    <meta property="article:published_time" content="2022-09-14T08:00:00Z"></head>
    <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Farm labour ring exposed</h1><p>{paragraph}</p><p>{paragraph}</p></article>
    <footer>Accept cookies</footer></body></html>"""
    text, kind, _, _ = land.to_text("page.html", html.encode())
    assert kind == "html"
    assert text.splitlines()[0] == "Farm labour ring exposed"
    assert "Published 2022-09-14" in text
    assert "moved 40 workers" in text
    assert "Accept cookies" not in text


def test_land_files_lands_each_content_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    (tmp_path / "copy of a.txt").write_text(TEXT)
    (tmp_path / "big.txt").write_text("x" * 500)
    (tmp_path / "empty.txt").write_bytes(b"")
    paths, problems = land.discover(tmp_path)
    result = land.land_files(paths, tmp_path, "run-1", set(), max_file_bytes=400)
    assert problems == []
    assert result.documents.column("source_file").to_pylist() == ["a.txt"]
    assert result.documents.column("doc_id").to_pylist() == [
        hashlib.sha256(TEXT.encode()).hexdigest()
    ]
    assert result.present == ["copy of a.txt"]
    reasons = {q.file: q.reason for q in result.quarantined}
    assert reasons == {"big.txt": "larger than the limit of 400 bytes", "empty.txt": "empty file"}


def test_land_files_skips_what_was_landed_before(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    known = {hashlib.sha256(TEXT.encode()).hexdigest()}
    result = land.land_files([tmp_path / "a.txt"], tmp_path, "run-2", known, 10_000)
    assert result.documents.num_rows == 0
    assert result.present == ["a.txt"]


def test_discover_reports_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text(TEXT)
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    paths, problems = land.discover(tmp_path)
    assert [p.name for p in paths] == ["ok.txt"]
    assert sorted(p.file for p in problems) == ["loop_a", "loop_b"]


def test_write_quarantine_keeps_bytes_and_reason(tmp_path: Path) -> None:
    item = land.Quarantined("photo.txt", "not text: PNG image", "abc123", 8)
    land.write_quarantine(tmp_path, item, b"\x89PNG1234", "run-1")
    assert (tmp_path / "abc123.bin").read_bytes() == b"\x89PNG1234"
    record = json.loads((tmp_path / "abc123.json").read_text())
    assert record["file"] == "photo.txt"
    assert record["reason"] == "not text: PNG image"
