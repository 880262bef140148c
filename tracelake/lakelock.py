"""One writing run at a time per lake, also when the runs are on different machines.

A local lake is locked like the data dir (tracelake/runlock.py: a flock the kernel drops when
its holder dies). A lake on S3 is locked by a lease: the object `_tracelake/writer.lock`
under the lake's URL, created only if absent (a conditional put, which S3 and its
compatible stores apply atomically), renewed while the run goes on and deleted at its end.
A run killed without a chance to delete it leaves a lease that expires LEASE_SECONDS after
its last renewal; the next run then takes it over.

Delta's own commits are safe under concurrent writers, but two runs landing the same new
files would each append them: the lock is what keeps a document from being landed twice.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tracelake.lake import Lake
from tracelake.runlock import RunLocked, run_lock

LOCK_KEY = "_tracelake/writer.lock"
LEASE_SECONDS = 120.0
RENEW_SECONDS = 30.0
WAIT_STEP_SECONDS = 2.0
_held: dict[str, int] = {}  # lakes this process holds the lease of, and how many times


@contextmanager
def lake_lock(lake: Lake, wait: bool = False) -> Iterator[None]:
    """Hold the lake's writer lock; wait for it, or raise RunLocked at once."""
    if lake.is_local:
        with run_lock(Path(lake.url.removeprefix("file://")), wait):
            yield
        return
    if lake.url in _held:
        _held[lake.url] += 1
        try:
            yield
        finally:
            _held[lake.url] -= 1
        return
    lease = _Lease(lake)
    lease.take(wait)
    _held[lake.url] = 1
    try:
        yield
    finally:
        del _held[lake.url]
        lease.release()


class _Lease:
    """The lock object of a lake on S3, renewed by a thread while held."""

    def __init__(self, lake: Lake) -> None:
        import boto3

        parsed = urlparse(lake.url)
        if parsed.scheme not in ("s3", "s3a"):
            raise ValueError(f"no writer lock for a lake at {lake.url}: use a local path or s3://")
        self.url = lake.url
        self.bucket = parsed.netloc
        self.key = "/".join(p for p in (parsed.path.strip("/"), LOCK_KEY) if p)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.client = boto3.client(
            "s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=region or "us-east-1"
        )
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _body(self) -> bytes:
        expires = time.time() + LEASE_SECONDS
        return json.dumps({"holder": self.holder, "expires_at": expires}).encode()

    def take(self, wait: bool) -> None:
        while True:
            try:
                put = self.client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=self._body(), IfNoneMatch="*"
                )
                self.etag = put["ETag"]
                break
            except self.client.exceptions.ClientError as error:
                if not _precondition_failed(error):
                    raise
            current = self._current()
            if current is None:
                continue  # released meanwhile
            record, etag = current
            if float(record.get("expires_at", 0)) < time.time():
                self._delete(etag)  # expired: its holder died without releasing it
                continue
            if not wait:
                until = datetime.fromtimestamp(float(record["expires_at"]), UTC)
                raise RunLocked(
                    f"another run is writing to the lake {self.url} ({record.get('holder')}, "
                    f"lease renewed until {until:%H:%M:%S}Z); try again when it ends "
                    "(or pass --wait)"
                )
            time.sleep(WAIT_STEP_SECONDS)
        self._renewer = threading.Thread(target=self._renew, name="lake-lease", daemon=True)
        self._renewer.start()

    def _current(self) -> tuple[dict[str, Any], str] | None:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            return None
        try:
            record = json.loads(found["Body"].read())
        except ValueError:
            record = {}
        return record, found["ETag"]

    def _delete(self, etag: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
        except self.client.exceptions.ClientError as error:
            if not _precondition_failed(error):
                raise  # another run took it over first: it is theirs

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_SECONDS):
            try:
                put = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self._body())
                self.etag = put["ETag"]
            except Exception:  # noqa: BLE001 - a passing network fault: the next renewal tries
                continue

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.etag is not None:
            self._delete(self.etag)


def _precondition_failed(error: Any) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "412") or status == 412
