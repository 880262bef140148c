"""dbt-duckdb's `delta` source plugin, as the dbt project reads the lake.

Two things differ from the plugin as shipped: a source's `as_of_version` arrives from
`env_var()` as text (the shipped plugin takes text for a timestamp, and skips version 0),
and the storage options of an object-store lake come from the environment like the
pipeline's own (tracelake/lakeio.py). An empty `as_of_version` reads the latest version.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins.delta import Plugin as DeltaPlugin
from dbt.adapters.duckdb.utils import SourceConfig
from deltalake import DeltaTable

from tracelake.lakeio import Lake


class Plugin(DeltaPlugin):
    def load(self, source_config: SourceConfig) -> Any:
        path = str(source_config["delta_table_path"])
        wanted = str(source_config.get("as_of_version") or "").strip()
        version = int(wanted) if wanted else None
        table = DeltaTable(path, version=version, storage_options=Lake(path).storage_options)
        return table.to_pyarrow_dataset()
