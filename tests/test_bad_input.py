"""One flow run over a folder of every kind of bad input beside good documents: the good ones
are landed (odd names and encodings too), each bad one is quarantined with its reason, the
run reports them all and still publishes."""

from __future__ import annotations

import codecs
import gzip
import json
import lzma
import os
import zipfile
from io import BytesIO
from pathlib import Path

import duckdb
import pytest

from flows.pipeline import pipeline
from tracelake import land
from tracelake.lakeio import Lake
from tracelake.land import read_quarantine

pytestmark = pytest.mark.usefixtures("prefect_server")

MAX_FILE_BYTES = 8000
LATIN1_NAME = os.fsdecode(b"caf\xe9-latin1.txt")  # a name that is not UTF-8


def article(n: int, place: str) -> str:
    return (
        f"Police dismantle smuggling ring in {place}\n"
        f"Published 2023-0{n}-1{n}\n\n"
        f"Police in {place} arrested {n + 3} people suspected of smuggling migrants across the "
        f"border, the prosecutor's office said. The café owner who hid them was charged. "
        f"Officers rescued {n + 10} victims of trafficking.\n"
    )


RUSSIAN = (
    "Полиция задержала двенадцать человек по подозрению в торговле людьми.\n\n"
    "По данным следствия, группа вербовала женщин в соседних странах и обещала им работу.\n"
)
# Bytes Windows-1252 leaves undefined among English: any Cyrillic code page reads them.
GARBAGE = b"Police \x81\x8d arrested \xe9 people " * 4
LANDED = {
    "good.txt": article(1, "Calais").encode(),
    "utf16.txt": article(2, "Dunkerque").encode("utf-16"),
    "utf8-bom.txt": codecs.BOM_UTF8 + article(3, "Lille").encode(),
    "cp1252.txt": article(4, "Bruxelles").encode("cp1252"),
    "damaged-utf8.txt": article(5, "Genève").encode().replace(b"caf\xc3\xa9", b"caf\xe9"),
    "truncated-utf8.txt": (article(6, "Zürich") + "Ends \u2014").encode()[:-1],
    "with space.txt": article(7, "Madrid").encode(),
    "ünïcödé.txt": article(8, "Málaga").encode(),
    "new\nline.txt": article(9, "Sevilla").encode(),
    LATIN1_NAME: article(1, "Granada").encode(),
    "ru-cp1251.txt": RUSSIAN.encode("cp1251"),
    "garbage-8bit.txt": GARBAGE,
}
PROBLEMS = {
    "damaged-utf8.txt": "1 invalid UTF-8 sequence(s), the first at byte 189; replaced by U+FFFD",
    "truncated-utf8.txt": "ends inside a UTF-8 character at byte 273 (file cut short?); "
    "replaced by U+FFFD",
    "export.jsonl": "line 2: invalid JSON (Expecting property name enclosed in double quotes)",
    "garbage-8bit.txt": land.decode(GARBAGE)[2][0],
}
QUARANTINED = {
    "empty.txt": "empty file",
    "photo.jpg": "not text: JPEG image",
    "bomb.txt.gz": "gzip content larger than the limit of 8000 bytes (a compression bomb?)",
    "noise-8bit.txt": "invalid UTF-8 and no known encoding reads the bytes as text",
    "big.txt": f"larger than the limit of {MAX_FILE_BYTES} bytes",
    "unreadable.txt": "cannot read: Permission denied",
    "loop_a": "broken link",
    "loop_b": "broken link",
    "pipe.txt": "not a regular file: named pipe",
}


# Compressed files land what they hold, each under the file's name and its own.
UNPACKED = ("archive.zip/a.txt", "report.txt.xz/report.txt")


def zip_bytes() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", article(11, "Ostend"))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bad_run(
    seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, Path, Path, dict[str, bytes]]:
    source = tmp_path_factory.mktemp("bad-source")
    data = tmp_path_factory.mktemp("bad-data")
    files = dict(LANDED)
    records = [
        json.dumps({"title": "Ring broken up in Lyon", "date": "2022-05-02",
                    "text": "Police arrested 14 people in Lyon for smuggling migrants."}),
        "{not json",
        json.dumps({"headline": "Workers freed in Porto",
                    "body": "Officers rescued 23 victims of forced labour near Porto."}),
    ]  # fmt: skip
    files["export.jsonl"] = "\n".join(records).encode()
    files["page.html"] = (seeds_dir / "news_page.html").read_bytes()
    files |= {
        "empty.txt": b"",
        "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(200),
        "archive.zip": zip_bytes(),
        "report.txt.xz": lzma.compress(article(12, "Bilbao").encode()),
        "bomb.txt.gz": gzip.compress(b"A" * 200_000),
        "noise-8bit.txt": bytes(range(128, 256)) * 20,
        "big.txt": article(2, "Paris").encode() * 40,
        "unreadable.txt": article(3, "Lyon").encode(),
    }
    for name, data_bytes in files.items():
        (source / name).write_bytes(data_bytes)
    (source / "loop_a").symlink_to(source / "loop_b")
    (source / "loop_b").symlink_to(source / "loop_a")
    os.mkfifo(source / "pipe.txt")  # reading it would block the run for ever

    patch = pytest.MonkeyPatch()
    patch.setenv("TRACELAKE_MAX_FILE_BYTES", str(MAX_FILE_BYTES))
    if os.geteuid() == 0:  # root reads a chmod 000 file: make reading this one fail instead
        real = Path.read_bytes

        def read_bytes(path: Path) -> bytes:
            if path.name == "unreadable.txt":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        patch.setattr(Path, "read_bytes", read_bytes)
    else:
        (source / "unreadable.txt").chmod(0)
    try:
        report = pipeline(str(source), str(data))
    finally:
        patch.undo()
    return report, source, data, files


def test_every_bad_file_is_reported_with_its_reason(bad_run: tuple) -> None:
    report, _, _, _ = bad_run
    reasons = {item["file"]: item["reason"] for item in report["documents_quarantined"]}
    assert sorted(reasons) == sorted(QUARANTINED)
    for name, reason in QUARANTINED.items():
        assert reasons[name].startswith(reason), (name, reasons[name])
    assert report["documents_seen"] == len(LANDED) + len(UNPACKED) + 2 + len(QUARANTINED)


def test_good_files_are_landed_and_the_run_publishes(bad_run: tuple) -> None:
    report, _, data, _ = bad_run
    assert report["status"] == "succeeded"
    assert report["published"] is True
    assert report["documents_landed"] == len(LANDED) + len(UNPACKED) + 2
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        documents = dict(
            (row[0], row[1:])
            for row in con.execute(
                "select source_file, encoding, content_type, problems from marts.dim_documents"
            ).fetchall()
        )
    expected_names = {*LANDED, *UNPACKED, "export.jsonl", "page.html"} - {LATIN1_NAME}
    assert set(documents) == expected_names | {"caf\\xe9-latin1.txt"}
    assert documents["new\nline.txt"][:2] == ("utf-8", "text")  # the name kept as it is
    assert documents["utf16.txt"][0] == "utf-16"
    assert documents["utf8-bom.txt"][0] == "utf-8-sig"
    assert documents["cp1252.txt"][0] == "cp1252"
    assert documents["ru-cp1251.txt"][0] == "cp1251"
    assert "low confidence" in PROBLEMS["garbage-8bit.txt"]
    assert documents["page.html"][1] == "html"
    assert documents["export.jsonl"][1:] == ("jsonl", [PROBLEMS["export.jsonl"]])
    assert documents["damaged-utf8.txt"][2] == [PROBLEMS["damaged-utf8.txt"]]


def test_landed_with_problems_are_reported_by_file_and_line(bad_run: tuple) -> None:
    report, _, _, _ = bad_run
    problems = {(p["file"], p["problem"]) for p in report["document_problems"]}
    assert problems == set(PROBLEMS.items())


def test_quarantine_keeps_the_original_bytes_and_the_reason(bad_run: tuple) -> None:
    _, _, data, files = bad_run
    lake = Lake(str(data / "lake"))
    records = {r["file"]: r for r in read_quarantine(lake, with_content=True)}
    assert sorted(records) == sorted(QUARANTINED)
    for name in ("empty.txt", "photo.jpg", "bomb.txt.gz", "noise-8bit.txt"):
        assert records[name]["content"] == files[name]
    for name in ("big.txt", "unreadable.txt", "loop_a", "pipe.txt"):  # nothing read to keep
        assert records[name]["content"] is None
        assert records[name]["reason"].startswith(QUARANTINED[name])


def test_the_operator_gets_an_artifact_and_a_validation_page(bad_run: tuple) -> None:
    from prefect.client.orchestration import get_client

    report, _, data, _ = bad_run
    with get_client(sync_client=True) as client:
        artifacts = client.request(
            "POST",
            "/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["tracelake-run-report"]}}, "limit": 50,
                  "offset": 0, "sort": "CREATED_DESC"},
        ).json()  # fmt: skip
    [markdown] = [a["data"] for a in artifacts if report["run_id"] in a["data"]]
    assert "| status | succeeded |" in markdown
    assert "| new\\nline.txt |" not in markdown  # landed: not in the quarantine table
    assert "| pipe.txt | not a regular file: named pipe |" in markdown
    assert f"| export.jsonl | {PROBLEMS['export.jsonl']} |" in markdown
    page = (data / "site" / "gx" / "index.html").read_text()
    assert "raw_documents: passed" in page
    assert "expect_column_values_to_be_unique" in page
