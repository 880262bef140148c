"""Where the lake is and what its tables are called: light enough for the command line to
import before anything heavy (tracelake/lakeio.py reads and writes the tables)."""

from __future__ import annotations

import os
from dataclasses import dataclass

TABLES = {
    "raw_documents": "raw/documents",
    "articles": "staged/articles",
    "statistics": "staged/statistics",
    "entities": "staged/entities",
    "processed": "staged/processed",
    "incident_links": "staged/incident_links",
    "incident_keys": "staged/incident_keys",
    "quarantine": "quarantine",
}
# The bookkeeping columns the lake adds to a table's own schema (tracelake/schemas.py).
PARTITIONS: dict[str, tuple[str, ...]] = {
    "raw_documents": ("ingest_date",),
    "articles": ("extractor_version",),
    "statistics": ("extractor_version",),
    "entities": ("extractor_version",),
    "processed": ("extractor_version",),
    "incident_links": ("extractor_version", "matcher_version"),
    "incident_keys": ("extractor_version", "matcher_version"),
    "quarantine": (),
}


@dataclass(frozen=True)
class Lake:
    """Where the lake's tables live: a local folder or an object-store URL."""

    url: str

    @property
    def is_local(self) -> bool:
        return "://" not in self.url or self.url.startswith("file://")

    def uri(self, table: str) -> str:
        return f"{self.url.rstrip('/')}/{TABLES[table]}"

    def mart_uri(self, mart: str) -> str:
        """Where a copy of a published mart lives (tracelake/publish.py)."""
        return f"{self.url.rstrip('/')}/marts/{mart}"

    @property
    def storage_options(self) -> dict[str, str] | None:
        """Options for delta-rs: on object storage, the AWS_* settings of the environment
        (delta-rs reads them too; given explicitly so a child process need not inherit them)."""
        if self.is_local:
            return None
        names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ALLOW_HTTP",
                 "AWS_S3_ALLOW_UNSAFE_RENAME", "AWS_CONDITIONAL_PUT")  # fmt: skip
        return {name: os.environ[name] for name in names if name in os.environ}
