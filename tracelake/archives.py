"""Compressed files: gzip, bzip2 and xz hold one document, a ZIP archive one per member.

Everything is decompressed through a bound: a member larger than the file-size limit, or an
archive whose members add up to more than ARCHIVE_TOTAL_FACTOR times it, stops there and
the archive is quarantined (a compression bomb never reaches memory in full). A compressed
WARC (`.warc.gz`) is left to the WARC reader, which reads it whole.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import IO, BinaryIO

from tracelake.read import UnreadableInput

# A ZIP archive may decompress to this many times the per-file limit, over all its members.
ARCHIVE_TOTAL_FACTOR = 10
MAX_MEMBERS = 10_000
CHUNK = 1 << 20
STREAMS: dict[bytes, tuple[str, Callable[[BinaryIO], io.BufferedIOBase], str]] = {
    b"\x1f\x8b": ("gzip", lambda raw: gzip.GzipFile(fileobj=raw), ".gz"),
    b"BZh": ("bzip2", bz2.BZ2File, ".bz2"),
    b"\xfd7zXZ\x00": ("xz", lzma.LZMAFile, ".xz"),
}
ZIP_MAGIC = b"PK\x03\x04"


def kind(data: bytes) -> str | None:
    """The compression of these bytes ('gzip', 'bzip2', 'xz', 'zip'), or None."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    for magic, (name, _, _) in STREAMS.items():
        if data.startswith(magic):
            return name
    return None


def members(name: str, data: bytes, limit: int) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each document a compressed file holds, named `<file>/<member>`: for
    gzip, bzip2 and xz the one it compresses (`report.txt.gz/report.txt`), for a ZIP archive
    each file in it. Raises UnreadableInput for a bomb or a damaged archive."""
    if data.startswith(ZIP_MAGIC):
        yield from _zip_members(name, data, limit)
        return
    for magic, (label, opener, suffix) in STREAMS.items():
        if data.startswith(magic):
            base = PurePosixPath(name).name
            inner = base[: -len(suffix)] if base.lower().endswith(suffix) else base
            try:
                yield f"{name}/{inner}", _bounded(opener(io.BytesIO(data)), limit, label)
            except (OSError, EOFError, lzma.LZMAError) as error:
                raise UnreadableInput(f"damaged {label} file: {error}") from error
            return


def is_compressed_warc(name: str, data: bytes) -> bool:
    """A gzip file whose first record is WARC: the WARC reader reads it as it is."""
    if not data.startswith(b"\x1f\x8b"):
        return False
    if name.lower().endswith(".warc.gz"):
        return True
    try:
        return gzip.GzipFile(fileobj=io.BytesIO(data)).read(5) == b"WARC/"
    except (OSError, EOFError):
        return False


def _bounded(stream: io.BufferedIOBase | IO[bytes], limit: int, label: str) -> bytes:
    """All of a decompressing stream, or UnreadableInput past `limit` bytes."""
    out = bytearray()
    while chunk := stream.read(CHUNK):
        out += chunk
        if len(out) > limit:
            raise UnreadableInput(
                f"{label} content larger than the limit of {limit} bytes (a compression bomb?)"
            )
    return bytes(out)


def _zip_members(name: str, data: bytes, limit: int) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableInput(f"damaged ZIP archive: {error}") from error
    if len(infos) > MAX_MEMBERS:
        raise UnreadableInput(f"ZIP archive of {len(infos)} files, over {MAX_MEMBERS}")
    total = 0
    for info in infos:
        member = PurePosixPath(info.filename)
        if member.is_absolute() or ".." in member.parts or member.name.startswith("."):
            continue  # no path outside the archive's own name; hidden files stay skipped
        try:
            with archive.open(info) as stream:
                content = _bounded(stream, limit, f"ZIP member {info.filename}")
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
            raise UnreadableInput(f"damaged ZIP member {info.filename}: {error}") from error
        total += len(content)
        if total > ARCHIVE_TOTAL_FACTOR * limit:
            raise UnreadableInput(
                f"ZIP archive content larger than {ARCHIVE_TOTAL_FACTOR} times the limit of "
                f"{limit} bytes (a compression bomb?)"
            )
        yield f"{name}/{member}", content
