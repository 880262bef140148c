"""Land: bytes become document text, or a quarantine entry with a reason."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import zipfile
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
from trafilatura.utils import load_html

from tracelake import land, read
from tracelake.config import PROJECT_ROOT
from tracelake.dates import DATE_LOCALES
from tracelake.lakeio import Lake

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
    text, found, problems = land.decode(data)
    assert text == TEXT
    assert found == encoding
    assert problems == []


@pytest.mark.parametrize(
    ("data", "text", "encoding", "problem"),
    [
        # one stray Latin-1 byte in a UTF-8 page: the UTF-8 stays, the byte is replaced
        ("Déjà vu à Calais. ".encode() * 3 + b"caf\xe9 " + "Été.".encode(),
         "Déjà vu à Calais. " * 3 + "caf\ufffd Été.", "utf-8",
         "1 invalid UTF-8 sequence(s), the first at byte 66; replaced by U+FFFD"),
        # a file cut inside its last character
        ("Police arrested 12 people \u2014 ".encode()[:-2],
         "Police arrested 12 people \ufffd", "utf-8",
         "ends inside a UTF-8 character at byte 26 (file cut short?); replaced by U+FFFD"),
        # Windows-1252 text, even when it ends in an accented letter
        ("Le caf\u00e9 \u00e0 Calais: 12 arr\u00eat\u00e9s".encode("cp1252"),
         "Le caf\u00e9 \u00e0 Calais: 12 arr\u00eat\u00e9s", "cp1252", None),
        ("Simple caf\u00e9".encode("cp1252"), "Simple caf\u00e9", "cp1252", None),
        # a byte-order mark says UTF-8: a bad byte is replaced, not a reason to guess again
        (codecs.BOM_UTF8 + b"Ten arrested \xff", "Ten arrested \ufffd", "utf-8-sig",
         "1 invalid UTF-8 sequence(s), the first at byte 13; replaced by U+FFFD"),
    ],
    ids=["stray-latin1-byte", "cut-short", "cp1252", "cp1252-ends-accented", "bom-utf8-bad-byte"],
)  # fmt: skip
def test_decode_damaged_utf8_and_legacy_text(
    data: bytes, text: str, encoding: str, problem: str | None
) -> None:
    assert land.decode(data) == (text, encoding, [problem] if problem else [])


def test_bytes_no_encoding_reads_are_unreadable() -> None:
    with pytest.raises(land.UnreadableInput, match="no known encoding reads the bytes"):
        land.decode(bytes(range(128, 256)) * 20)


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
        json.dumps({"id": 7}),
        json.dumps({"headline": "Second story", "body": "Two rescued."}),
    ]
    text, kind, _, problems, items = land.read_document("export.jsonl", "\n".join(lines).encode())
    assert kind == "jsonl"
    pages = text.split(f"\n{land.PAGE_BREAK}\n")
    assert [p.splitlines()[0] for p in pages] == ["Ring broken up", "Second story"]
    assert [item["published"] for item in items] == [date(2021, 4, 2), None]
    assert [item["date_source"] for item in items] == ["field", None]
    assert problems == ["line 2: invalid JSON (Expecting property name enclosed in double quotes)",
                        "line 3: no title or text field"]  # fmt: skip


def test_jsonl_with_no_good_line_is_unreadable() -> None:
    with pytest.raises(land.UnreadableInput, match="no readable item"):
        land.to_text("export.jsonl", b"{bad\n[1, 2]\n")


def test_html_page_becomes_title_date_and_text() -> None:
    paragraph = "Investigators said the network moved 40 workers between farms. " * 4
    html = f"""<!doctype html><html><head><title>Farm labour ring exposed</title>
    <meta property="article:published_time" content="2022-09-14T08:00:00Z"></head>
    <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Farm labour ring exposed</h1><p>{paragraph}</p><p>{paragraph}</p></article>
    <footer>Accept cookies</footer></body></html>"""
    text, kind, _, _, items = land.read_document("page.html", html.encode())
    assert kind == "html"
    assert text.splitlines()[0] == "Farm labour ring exposed"
    assert items[0]["published"] == date(2022, 9, 14)
    assert items[0]["date_source"] == "html_metadata"
    assert "moved 40 workers" in text
    assert "Accept cookies" not in text


PAGE_BODY = "<p>" + "Prosecutors said the ring laundered 2 million euros. " * 4 + "</p>"


def test_html_metadata_from_json_ld_and_the_page() -> None:
    html = f"""<html><head><title>Shell firms &amp; a laundering ring | Example News</title>
    <link rel="canonical" href="https://news.example/2021/05/ring">
    <script type="application/ld+json">{{"@type": "NewsArticle",
      "headline": "Laundering ring charged", "datePublished": "2021-05-03"}}</script>
    </head><body><article>{PAGE_BODY}</article></body></html>"""
    [item] = read.read_html(html)
    # the page's own title (less the site's name) before the headline; the date of JSON-LD
    assert (item.title, item.published, item.url) == (
        "Shell firms & a laundering ring",
        date(2021, 5, 3),
        "https://news.example/2021/05/ring",
    )


def test_html_metadata_survives_a_broken_json_ld_block() -> None:
    html = f"""<html><head><title>Shell firms &amp; a laundering ring</title>
    <meta property="article:published_time" content="2020-11-20">
    <script type="application/ld+json">{{"@type": "NewsArticle", "headline": </script>
    </head><body><article>{PAGE_BODY}</article></body></html>"""
    [item] = read.read_html(html)
    assert (item.title, item.published) == ("Shell firms & a laundering ring", date(2020, 11, 20))


@pytest.mark.parametrize(
    "byline",
    ["martes 4 de mayo de 2021, 10:00", "martedì 4 maggio 2021, ore 10:00"],
)
def test_html_dates_left_to_dateparser_are_read_in_the_languages_tracelake_reads(
    byline: str,
) -> None:
    # htmldate's own rules cannot read these bylines: they go to dateparser, built for the
    # languages of dates.DATE_LOCALES rather than all of its locales
    from htmldate import extractors

    html = f"""<html><head><title>Red de tráfico</title></head><body><article>
    <div class="date">{byline}</div>{PAGE_BODY}</article></body></html>"""
    [item] = read.read_html(html)
    assert item.published == date(2021, 5, 4)
    assert extractors.get_external_parser() is read.date_parser()
    assert read.date_parser().languages == list(DATE_LOCALES)


def _full_cascade_text(html: str) -> str:
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    tree = load_html(html)
    doc = bare_extraction(tree, include_comments=False, include_tables=False,
                          favor_precision=True)  # fmt: skip
    return (getattr(doc, "text", None) or "").strip()


def _html_pages(shared: Path) -> list[Path]:
    return [
        path
        for folder in (PROJECT_ROOT / "seeds", *sorted(shared.glob("corpus*")))
        for path in sorted(folder.rglob("*.htm*"))
    ]


def test_html_article_reads_what_the_full_cascade_reads(shared_dir: Path) -> None:
    # every real page at hand: the fast path must never change an article's text
    pages = _html_pages(shared_dir)
    assert len(pages) >= 8
    fast = 0
    for path in pages:
        html = path.read_text(errors="replace")
        tree = load_html(html)
        doc = read.html_article(tree, None)
        assert (doc.text or "").strip() == _full_cascade_text(html), path.name
        fast += read.fast_result_stands(doc.body, doc.raw_text or "")
    assert fast >= len(pages) // 2  # and it is taken on most news pages


LONG = "<p>" + "Officers rescued 31 workers from the farm. " * 40 + "</p>"
TABLES = "<table><tr><td>1</td></tr></table>" * 2


@pytest.mark.parametrize(
    ("body", "stands"),
    [
        (LONG, True),
        ("<p>Officers rescued 31 workers.</p>", False),  # short: jusText may do better
        (LONG.replace("p>", "div>"), False),  # no paragraph text
        (LONG + TABLES, False),  # more tables than paragraphs
        (LONG + "<button>Share</button>", False),  # page furniture left: jusText is asked
    ],
)
def test_fast_result_stands_only_where_the_cascade_keeps_it(body: str, stands: bool) -> None:
    element = lxml.html.document_fromstring(f"<html><body>{body}</body></html>").body
    assert read.fast_result_stands(element, element.text_content()) is stands


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


def test_files_read_side_by_side_land_as_read_in_one_process(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for path in sorted(seeds_dir.iterdir()):
        (source / path.name).write_bytes(path.read_bytes())
    first = sorted(source.iterdir())[0]
    (source / f"zz copy{first.suffix}").write_bytes(first.read_bytes())  # in the last piece
    (source / "zz empty.txt").write_bytes(b"")
    paths, _ = land.discover(source)
    known = {hashlib.sha256((source / "single_article.txt").read_bytes()).hexdigest()}
    monkeypatch.setattr(land, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(land, "PIECE_FILES", 3)
    apart = land.land_files_side_by_side(paths, source, "run-1", known, 1 << 20, workers=2)
    together = land.land_files(paths, source, "run-1", known, 1 << 20)
    ignore = ["landed_at"]
    assert apart.documents.drop(ignore).equals(together.documents.drop(ignore))
    assert len(set(apart.documents.column("landed_at").to_pylist())) == 1
    assert sorted(apart.present) == sorted(together.present)
    assert {"single_article.txt", f"zz copy{first.suffix}"} <= set(apart.present)
    assert apart.quarantined == together.quarantined
    assert apart.quarantined_bytes == together.quarantined_bytes


def test_the_next_batch_read_ahead_serves_that_batch_of_that_run_only(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(land, "MIN_FILES_PER_WORKER", 1)
    monkeypatch.setattr(land, "PIECE_FILES", 2)
    paths, _ = land.discover(seeds_dir)
    first, second = paths[: len(paths) // 2], paths[len(paths) // 2 :]

    def side_by_side(batch: list[Path], run_id: str, then: list[Path] | None = None):
        return land.land_files_side_by_side(batch, seeds_dir, run_id, set(), 1 << 20, 2, then)

    side_by_side(first, "run-1", then=second)
    asked = datetime.now(UTC)
    # another run's batch of the same files reads them itself, and leaves run-1's alone
    assert min(side_by_side(second, "run-2").documents.column("landed_at").to_pylist()) >= asked
    ahead = side_by_side(second, "run-1")  # read before it was asked for
    assert max(ahead.documents.column("landed_at").to_pylist()) < asked
    read_now = land.land_files(second, seeds_dir, "run-1", set(), 1 << 20)
    assert ahead.documents.drop("landed_at").equals(read_now.documents.drop("landed_at"))
    assert "run-1" not in land._ahead
    # a batch other than the one read ahead (a retry of the first) drops it, reads its own
    side_by_side(first, "run-1", then=second)
    asked = datetime.now(UTC)
    assert min(side_by_side(first, "run-1").documents.column("landed_at").to_pylist()) >= asked
    assert "run-1" not in land._ahead
    side_by_side(first, "run-1", then=second)
    land.drop_read_ahead("run-1")  # as a run's land ends, whatever happened
    asked = datetime.now(UTC)
    assert min(side_by_side(second, "run-1").documents.column("landed_at").to_pylist()) >= asked


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


def test_listing_gives_each_file_its_stat_in_discover_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "inner.txt").write_text(TEXT)
    (tmp_path / "a.txt").write_text(TEXT + "longer\n")
    (tmp_path / "c link.txt").symlink_to(tmp_path / "b" / "inner.txt")  # a link's: its target's
    (tmp_path / ".hidden.txt").write_text(TEXT)
    paths, infos, problems = land.listing(tmp_path)
    assert (paths, problems) == land.discover(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "a.txt", "c link.txt", "b/inner.txt"
    ]  # fmt: skip
    expected = [os.stat(path) for path in paths]
    assert [(i.st_size, i.st_mtime_ns, i.st_ino) for i in infos if i is not None] == [
        (e.st_size, e.st_mtime_ns, e.st_ino) for e in expected
    ]


def test_write_quarantine_keeps_bytes_and_reason_once(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    item = land.Quarantined("photo.txt", "not text: PNG image", "abc123", 8)
    assert land.write_quarantine(lake, [item], {"abc123": b"\x89PNG1234"}, "run-1") == 1
    assert land.write_quarantine(lake, [item], {"abc123": b"\x89PNG1234"}, "run-2") == 0
    [record] = land.read_quarantine(lake, with_content=True)
    assert record["content"] == b"\x89PNG1234"
    assert record["file"] == "photo.txt"
    assert record["reason"] == "not text: PNG image"
    assert record["run_id"] == "run-1"


def test_discover_reports_a_named_pipe_without_opening_it(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text(TEXT)
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would wait forever for a writer
    paths, problems = land.discover(tmp_path)
    assert [p.name for p in paths] == ["ok.txt"]
    assert [(p.file, p.reason) for p in problems] == [
        ("pipe.txt", "not a regular file: named pipe")
    ]


def test_odd_file_names_are_landed_under_printable_names(tmp_path: Path) -> None:
    names = ["with space.txt", "café ünïcode.txt", "new\nline.txt"]
    for index, name in enumerate(names):
        (tmp_path / name).write_text(f"{TEXT}{index}\n")
    (tmp_path / os.fsdecode(b"latin1-caf\xe9.txt")).write_text(TEXT + "latin\n")
    paths, _ = land.discover(tmp_path)
    result = land.land_files(paths, tmp_path, "run-1", set(), 10_000)
    assert sorted(result.documents.column("source_file").to_pylist()) == sorted(
        [*names, "latin1-caf\\xe9.txt"]
    )


def test_a_file_that_cannot_be_read_is_quarantined_with_the_os_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text(TEXT)
    if os.geteuid() == 0:  # root reads a chmod 000 file: make reading it fail instead
        real = Path.read_bytes

        def read_bytes(path: Path) -> bytes:
            if path.name == "locked.txt":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    else:
        locked.chmod(0)
    result = land.land_files([locked], tmp_path, "run-1", set(), 10_000)
    assert [(q.file, q.reason) for q in result.quarantined] == [
        ("locked.txt", "cannot read: Permission denied")
    ]


def test_read_quarantine_lists_records_with_or_without_bytes(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    land.write_quarantine(lake, [land.Quarantined("a.png", "not text: PNG image", "ab", 3)],
                          {"ab": b"PNG"}, "run-1")  # fmt: skip
    land.write_quarantine(lake, [land.Quarantined("big.txt", "larger than the limit")], {},
                          "run-2")  # fmt: skip
    records = {r["file"]: r for r in land.read_quarantine(lake)}
    assert records["a.png"]["content_bytes"] == 3
    assert "content" not in records["a.png"]
    assert records["big.txt"]["content_bytes"] is None
    assert records["big.txt"]["run_id"] == "run-2"


def test_links_are_followed_only_inside_the_source(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0\n")
    source = tmp_path / "source"
    (source / "news").mkdir(parents=True)
    (source / "news" / "story.txt").write_text("A story about a raid.\n")
    (source / "passwd-link.txt").symlink_to(outside / "secret.txt")
    (source / "outside-folder").symlink_to(outside)
    (source / "story-link.txt").symlink_to(source / "news" / "story.txt")
    (source / "news-link").symlink_to(source / "news")
    (source / "news" / "back-to-root").symlink_to(source)  # a loop inside the source
    paths, problems = land.discover(source)
    names = sorted(land.relative_name(p, source) for p in paths)
    # a folder reached twice (itself and a link to it, or a loop) is listed once
    assert names == ["news/story.txt", "story-link.txt"]
    reasons = {p.file: p.reason for p in problems}
    assert reasons == {
        "passwd-link.txt": "link to a file outside the source folder: not read",
        "outside-folder": "link to a folder outside the source folder: not followed",
    }
    assert all("secret" not in name for name in names)


def test_relative_names_of_files_in_a_folder_of_a_file_alone_and_of_one_elsewhere(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    (source / "news").mkdir(parents=True)
    story = source / "news" / "story.txt"
    story.write_text("A story about a raid.\n")
    assert land.relative_name(story, source) == "news/story.txt"
    assert land.relative_name(story, story) == "story.txt"  # a source that is one file
    assert land.relative_name(tmp_path / "other.txt", source) == "other.txt"


def test_source_keys_are_the_paths_relative_to_the_source_as_bytes(tmp_path: Path) -> None:
    source = tmp_path / "source"
    odd = source / "news" / os.fsdecode(b"caf\xe9.txt")  # a name that is not UTF-8
    for path in (source / "news" / "story.txt", odd, source / "a.txt"):
        assert land.source_key(path, source) == os.fsencode(path.relative_to(source))
    assert land.source_key(odd, source) == b"news/caf\xe9.txt"
    assert land.source_key(source, source) == b"."  # a source that is one file
    assert land.source_key(tmp_path / "sourced" / "x.txt", source) == os.fsencode(
        tmp_path / "sourced" / "x.txt"
    )  # not inside the source, though its name begins the same
