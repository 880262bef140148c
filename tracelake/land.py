"""Land: files of a source folder become rows of lake/raw/documents, or are quarantined."""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

import tracelake.workers
from tracelake import archives, charset, lakeio, read
from tracelake.read import UnreadableInput
from tracelake.schemas import RAW_DOCUMENTS

# Magic numbers of the binary formats a crawler most often drops into a text folder.
MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"PK\x03\x04": "ZIP archive",
    b"%PDF": "PDF document",
    b"\x1f\x8b": "gzip archive",
    b"7z\xbc\xaf": "7z archive",
    b"Rar!": "RAR archive",
    b"\x7fELF": "executable",
}
PAGE_BREAK = read.PAGE_BREAK
REPLACEMENT = "\ufffd"
NOT_REGULAR = {
    stat.S_IFIFO: "named pipe",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}


class SourceMissing(FileNotFoundError):
    """The source folder is not there: a mistake to fix, not a passing fault to retry."""


@dataclass(frozen=True)
class Quarantined:
    """A file that was not landed, and why."""

    file: str
    reason: str
    sha256: str | None = None
    size_bytes: int | None = None


@dataclass
class LandResult:
    """What one batch of files gave: new rows, files already landed, files quarantined."""

    documents: pa.Table
    present: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    quarantined_bytes: dict[str, bytes] = field(default_factory=dict)
    # (source_key, size, mtime_ns, sha256) of each file read whole: the next run knows
    # these files by a `stat` (stages.recorded_digests)
    digests: list[tuple[bytes, int, int, str]] = field(default_factory=list)


def discover(source: Path) -> tuple[list[Path], list[Quarantined]]:
    """Every regular file under source, in listing order (a folder's files by name, then its
    folders'). Links (to files or folders) are followed only when their target lies inside
    the source folder: a link to anything else is reported, never read, so a shared drop
    folder cannot leak other files."""
    paths, _, problems = listing(source)
    return paths, problems


def listing(source: Path) -> tuple[list[Path], list[os.stat_result | None], list[Quarantined]]:
    """discover's files, each with its stat (None when it cannot be had): one pass of
    `os.scandir`, a system call per file. Asking whether anything is new needs each file's
    size and modification time; a second `stat` a file was a third of that question's time."""
    found: list[Path] = []
    infos: list[os.stat_result | None] = []
    problems: list[Quarantined] = []
    if source.is_file():
        return [source], [file_stat(source)], []
    if not source.is_dir():
        raise SourceMissing(f"source folder {source} does not exist")
    root_real = source.resolve()
    visited = {root_real}

    def inside(target: Path) -> bool:
        return target == root_real or target.is_relative_to(root_real)

    def walk(folder: Path) -> None:
        try:
            with os.scandir(folder) as listed:
                entries = sorted(listed, key=lambda entry: entry.name)
        except OSError as error:
            name = printable_name(str(error.filename))
            problems.append(
                Quarantined(file=name, reason=f"cannot list: {error.strerror or error}")
            )
            return
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()  # a link to a folder is one, as os.walk has it
            except OSError:
                is_folder = False
            (folders if is_folder else files).append(entry)
        kept = []
        for entry in folders:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            real = path.resolve()
            if entry.is_symlink() and not inside(real):
                reason = "link to a folder outside the source folder: not followed"
                problems.append(Quarantined(file=relative_name(path, source), reason=reason))
            elif real not in visited:  # a link back into a folder already listed
                visited.add(real)
                kept.append(path)
        for entry in files:
            if not entry.name.startswith("."):
                file(folder / entry.name, entry)
        for path in kept:
            walk(path)

    def file(path: Path, entry: os.DirEntry[str]) -> None:
        try:
            info: os.stat_result | None = entry.stat(follow_symlinks=False)  # a link's own
        except OSError:
            info = None  # land reports it as unreadable, with the OS's reason
        if info is not None and stat.S_ISLNK(info.st_mode):
            try:
                path.resolve(strict=True)
            except (OSError, RuntimeError) as error:
                reason = f"broken link: {error}"
                problems.append(Quarantined(file=relative_name(path, source), reason=reason))
                return
            if path.is_dir():
                return
            if not inside(path.resolve()):
                reason = "link to a file outside the source folder: not read"
                problems.append(Quarantined(file=relative_name(path, source), reason=reason))
                return
            info = None  # the target's, asked below
        if info is None:
            info = file_stat(path)
        if info is not None and (kind := _kind(info.st_mode)):
            # Reading a named pipe would wait forever for a writer; a device never ends.
            problems.append(
                Quarantined(file=relative_name(path, source), reason=f"not a regular file: {kind}")
            )
            return
        found.append(path)
        infos.append(info)

    walk(source)
    return found, infos, problems


def file_stat(path: Path) -> os.stat_result | None:
    """The file's stat, following a link; None when it cannot be read, which landing it
    reports."""
    try:
        return path.stat()
    except OSError:
        return None


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is (named pipe, socket, ...), or None."""
    return None if stat.S_ISREG(mode) else NOT_REGULAR.get(stat.S_IFMT(mode), "special file")


def relative_name(path: Path, source: Path) -> str:
    """The file's path relative to the source root, in POSIX form, always valid UTF-8 (the
    file's name when the source is that file). Asks the file system nothing: land names
    every file it reads or finds present."""
    try:
        relative = path.relative_to(source)
    except ValueError:
        return printable_name(path.name)
    return printable_name(relative.as_posix() if relative.parts else path.name)


def source_key(path: Path, source: Path) -> bytes:
    """The file's path relative to the source root as the file system has it (any bytes): a
    source folder copied or moved keeps its files' keys."""
    text, root = str(path), str(source)
    if len(text) > len(root) + 1 and text.startswith(root) and text[len(root)] == os.sep:
        return os.fsencode(text[len(root) + 1 :])  # as relative_to gives it, a tenth the time
    try:
        return os.fsencode(path.relative_to(source))
    except ValueError:
        return os.fsencode(path)


def printable_name(name: str) -> str:
    """A file name as valid UTF-8: bytes of a name that are not UTF-8 are written as \\xNN.

    POSIX names are bytes; Python keeps undecodable ones as lone surrogates, which Parquet and
    JSON cannot hold, so one odd name would otherwise fail the whole batch.
    """
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def sniff_binary(data: bytes) -> str | None:
    """Name the binary format of data, or None when it may be text."""
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            return kind
    head = data[:8192]
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if head and controls / len(head) > 0.05:
        return "binary data (control bytes)"
    return None


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Bytes to (text, encoding, problems): byte-order marks honoured, then UTF-16/32 without
    one, UTF-8, mostly-UTF-8 with bad bytes, then the legacy encoding charset-normalizer
    finds (tracelake/charset.py; a doubtful guess is noted in `problems`).

    Raises UnreadableInput when the bytes are not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        try:
            return body.decode("utf-8"), "utf-8-sig", []
        except UnicodeDecodeError as error:
            # The file says it is UTF-8: keep it so, with the bad bytes replaced and noted.
            text, problems = _damaged_utf8(body, error, declared=True)
            return text, "utf-8-sig", problems
    try:
        wide = charset.by_bom(data) or charset.wide_without_bom(data)
    except UnicodeDecodeError as error:
        raise UnreadableInput(f"invalid UTF-16/32 after its byte-order mark: {error}") from error
    if wide:
        return wide.text, wide.encoding, list(wide.problems)
    kind = sniff_binary(data)
    if kind:
        raise UnreadableInput(f"not text: {kind}")
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as utf8_error:
        # Mostly-UTF-8 with a few bad bytes (a file cut mid-character, one stray Latin-1 byte
        # in a UTF-8 page) stays UTF-8 with U+FFFD for the bad bytes and a note in `problems`:
        # read in a legacy encoding instead, every correct accented letter would turn into
        # mojibake ("é" -> "Ã©") for the sake of one byte. A real legacy file has (almost) no
        # valid UTF-8 multi-byte sequence, as an accented letter is seldom followed by a byte
        # in 0x80-0xBF, so "more valid UTF-8 characters than bad bytes" tells them apart.
        text, problems = _damaged_utf8(data, utf8_error)
        if problems:
            return text, "utf-8", problems
        try:
            found = charset.legacy(data)
        except charset.UnknownEncoding as error:
            raise UnreadableInput(f"invalid UTF-8 and {error}") from error
        return found.text, found.encoding, list(found.problems)


def _damaged_utf8(
    data: bytes, first: UnicodeDecodeError, declared: bool = False
) -> tuple[str, list[str]]:
    """UTF-8 text with its bad bytes replaced, and a note; no note when it looks like another
    encoding (unless a byte-order mark declared UTF-8)."""
    text = data.decode("utf-8", errors="replace")
    replaced = text.count(REPLACEMENT) - data.count(REPLACEMENT.encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    valid = non_ascii - text.count(REPLACEMENT)
    # Only the last character is incomplete; one lone high byte at the end is as likely a
    # Windows-1252 letter ("café" ends in 0xE9), so it needs other UTF-8 beside it.
    cut_short = first.end == len(data) and first.reason == "unexpected end of data"
    if cut_short and (declared or valid > 0 or len(data) - first.start > 1):
        note = f"ends inside a UTF-8 character at byte {first.start} (file cut short?)"
    elif declared or valid > replaced:
        note = f"{replaced} invalid UTF-8 sequence(s), the first at byte {first.start}"
    else:
        return text, []
    return text, [note + "; replaced by U+FFFD"]


def to_text(name: str, data: bytes) -> tuple[str, str, str, list[str]]:
    """(text, content_type, encoding, problems) of one file's bytes; raises UnreadableInput."""
    text, kind, encoding, problems, _ = read_document(name, data)
    return text, kind, encoding, problems


def read_document(name: str, data: bytes) -> tuple[str, str, str, list[str], list[dict]]:
    """(landed text, reader, encoding, problems, items) of one file's bytes.

    Raises UnreadableInput when the bytes are not a readable document.
    """
    if not data:
        raise UnreadableInput("empty file")
    if binary := read.read_bytes_format(name, data):
        return binary.text, binary.reader, "binary", binary.problems, binary.items
    raw_text, encoding, problems = decode(data)
    if not raw_text.strip():
        raise UnreadableInput("file holds only whitespace")
    reading = read.read(name, raw_text)
    return reading.text, reading.reader, encoding, problems + reading.problems, reading.items


def land_files(
    paths: list[Path],
    source: Path,
    run_id: str,
    known: set[str],
    max_file_bytes: int,
    landed_at: datetime | None = None,
) -> LandResult:
    """Read a batch of files; new readable ones become rows, the rest are named and kept apart."""
    rows: list[dict] = []
    result = LandResult(documents=RAW_DOCUMENTS.empty_table())
    landed_at = landed_at or datetime.now(UTC)
    seen_in_batch: set[str] = set()
    for path in paths:
        name = relative_name(path, source)
        try:
            info = path.stat()
            if info.st_size > max_file_bytes:
                result.quarantined.append(
                    Quarantined(
                        name, f"larger than the limit of {max_file_bytes} bytes", None,
                        info.st_size,
                    )
                )  # fmt: skip
                continue
            data = path.read_bytes()
        except OSError as error:
            result.quarantined.append(Quarantined(name, f"cannot read: {error.strerror or error}"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        result.digests.append((source_key(path, source), info.st_size, info.st_mtime_ns, digest))
        try:
            documents = unpacked(name, data, max_file_bytes)
        except UnreadableInput as error:
            result.quarantined.append(Quarantined(name, str(error), digest, len(data)))
            result.quarantined_bytes[digest] = data
            continue
        for doc_name, doc_data in documents:
            doc_id = digest if doc_data is data else hashlib.sha256(doc_data).hexdigest()
            if doc_id in known or doc_id in seen_in_batch:
                result.present.append(doc_name)
                continue
            try:
                text, kind, encoding, problems, items = read_document(doc_name, doc_data)
            except (UnreadableInput, UnicodeDecodeError) as error:
                result.quarantined.append(Quarantined(doc_name, str(error), doc_id, len(doc_data)))
                result.quarantined_bytes[doc_id] = doc_data
                continue
            seen_in_batch.add(doc_id)
            rows.append(
                {
                    "doc_id": doc_id,
                    "source_file": doc_name,
                    "content_type": kind,
                    "encoding": encoding,
                    "size_bytes": len(doc_data),
                    "text": text,
                    "problems": problems,
                    "items": items,
                    "landed_at": landed_at,
                    "run_id": run_id,
                }
            )
    result.documents = pa.Table.from_pylist(rows, schema=RAW_DOCUMENTS)
    return result


# Reading files is pure Python (HTML extraction, Markdown, charset detection): it takes one
# core, so a batch is read by one process per core (the run's workers, tracelake/workers.py)
# when it is large enough to repay starting them: 2,000 bench files took 12.5 s on two where
# one took 25 s. Pieces of PIECE_FILES keep the processes evenly busy whatever the mix of
# formats.
MIN_FILES_PER_WORKER = 200
PIECE_FILES = 100


# The workers would sit idle while a batch is written to the lake (a second or two at each
# commit), so the pieces of the run's next batch are handed to them first: run id -> (its
# paths, the pieces' futures). A batch takes them only if its paths are exactly
# these; anything else (a retried batch, another run) drops them and reads its own.
_ahead: dict[str, tuple[list[Path], list[Future[LandResult]]]] = {}


def land_files_side_by_side(
    paths: list[Path],
    source: Path,
    run_id: str,
    known: set[str],
    max_file_bytes: int,
    workers: int,
    then: list[Path] | None = None,
) -> LandResult:
    """`land_files`, with pieces of the batch read in `workers` processes and put back together
    in order: the same rows, and a document in two pieces lands from the first. Documents
    landed before are told apart here, once read (a run leaves out the files it knows
    already by their digests: stages.landed_before), so the workers need not know the lake.
    `then`: the run's next batch, whose pieces are handed to the workers once this batch's
    are read (`drop_read_ahead` when the run's land ends)."""
    if not _side_by_side(paths, workers):
        drop_read_ahead(run_id)
        return land_files(paths, source, run_id, known, max_file_bytes, datetime.now(UTC))
    ahead = _ahead.pop(run_id, None)
    if ahead is not None and ahead[0] == paths:
        futures = ahead[1]
    else:
        _cancel(ahead)
        futures = _submit(paths, source, run_id, max_file_bytes, workers)
    try:
        results = [future.result() for future in futures]
    except BaseException as error:  # a stopped run does not wait for the pieces not started
        for future in futures:
            future.cancel()
        tracelake.workers.forget_broken(error)  # a worker died: the next batch starts new ones
        raise
    if then and _side_by_side(then, workers):
        _ahead[run_id] = (then, _submit(then, source, run_id, max_file_bytes, workers))
    return merge_results(results, known)


def drop_read_ahead(run_id: str) -> None:
    """Forget the pieces read ahead for run_id, cancelling those not started."""
    _cancel(_ahead.pop(run_id, None))


def _side_by_side(paths: list[Path], workers: int) -> bool:
    return min(workers, len(paths) // MIN_FILES_PER_WORKER) >= 2


def _submit(
    paths: list[Path], source: Path, run_id: str, max_file_bytes: int, workers: int
) -> list[Future[LandResult]]:
    landed_at = datetime.now(UTC)
    pieces = [paths[i : i + PIECE_FILES] for i in range(0, len(paths), PIECE_FILES)]
    return [
        tracelake.workers.submit(
            workers, land_files, piece, source, run_id, set(), max_file_bytes, landed_at
        )
        for piece in pieces
    ]


def _cancel(ahead: tuple[list[Path], list[Future[LandResult]]] | None) -> None:
    for future in ahead[1] if ahead else []:
        future.cancel()


def merge_results(results: list[LandResult], known: set[str]) -> LandResult:
    """Results of consecutive pieces of a batch as one: a document landed before (`known`) or
    by an earlier piece is present in a later one."""
    merged = LandResult(documents=RAW_DOCUMENTS.empty_table())
    tables, seen = [], set()
    for result in results:
        ids = result.documents.column("doc_id").to_pylist()
        new = [doc_id not in seen and doc_id not in known for doc_id in ids]
        seen.update(ids)
        table = result.documents.filter(pa.array(new, type=pa.bool_()))
        repeated = result.documents.filter(pa.array([not n for n in new], type=pa.bool_()))
        merged.present.extend(result.present + repeated.column("source_file").to_pylist())
        merged.quarantined.extend(result.quarantined)
        merged.quarantined_bytes.update(result.quarantined_bytes)
        merged.digests.extend(result.digests)
        tables.append(table)
    merged.documents = pa.concat_tables([merged.documents, *tables])
    return merged


def unpacked(name: str, data: bytes, limit: int) -> list[tuple[str, bytes]]:
    """The documents a file holds: its members when it is compressed (tracelake/archives.py;
    a compressed WARC stays whole for its reader), else the file itself."""
    if archives.kind(data) is None or archives.is_compressed_warc(name, data):
        return [(name, data)]
    return list(archives.members(name, data, limit))


QUARANTINE = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),  # path relative to the source root
        pa.field("reason", pa.string(), nullable=False),
        pa.field("sha256", pa.string()),  # of the bytes, when they could be read
        pa.field("size_bytes", pa.int64()),
        # the original bytes; null for files over the size limit and entries that could not
        # be read (their bytes stay in the source folder: copying a file too big to land
        # would defeat the limit)
        pa.field("content", pa.large_binary()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def write_quarantine(
    lake: lakeio.Lake, items: list[Quarantined], contents: dict[str, bytes], run_id: str
) -> int:
    """Record quarantined files, with their bytes when kept (contents by sha256), in one
    commit; a file already recorded with the same reason and bytes is not recorded again.
    Returns the number recorded."""
    if not items:
        return 0
    known = (
        lakeio.scan(lake, "quarantine", QUARANTINE)
        .select(key=pl.concat_str("file", "reason", pl.col("sha256").fill_null(""), separator="\0"))
        .collect()
        .get_column("key")
    )
    seen = set(known.to_list())
    new = [q for q in items if "\0".join((q.file, q.reason, q.sha256 or "")) not in seen]
    if not new:
        return 0
    now = datetime.now(UTC)
    rows = pa.Table.from_pylist(
        [
            asdict(q)
            | {"content": contents.get(q.sha256 or ""), "run_id": run_id, "quarantined_at": now}
            for q in new
        ],  # fmt: skip
        schema=QUARANTINE,
    )
    lakeio.write(lake, "quarantine", rows, QUARANTINE)
    return len(new)


def read_quarantine(lake: lakeio.Lake, with_content: bool = False) -> list[dict]:
    """The quarantine's records, oldest first; `content_bytes` is the size of the bytes
    kept (None when they were not), `content` the bytes themselves when asked for."""
    records = (
        lakeio.scan(lake, "quarantine", QUARANTINE)
        .with_columns(content_bytes=pl.col("content").bin.size())
        .select(pl.exclude([] if with_content else ["content"]))
        .sort("quarantined_at", "file")
        .collect()
    )
    return records.to_dicts()
