"""dbt-duckdb's `delta` source plugin, as the dbt project reads the lake.

Three things differ from the plugin as shipped: a source's `as_of_version` arrives from
`env_var()` as text (the shipped plugin takes text for a timestamp, and skips version 0);
the storage options of an object-store lake come from the environment like the pipeline's
own; and the Arrow dataset is built on Arrow's file systems (tracelake/lakeio.py says why).
An empty `as_of_version` reads the latest version.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins.delta import Plugin as DeltaPlugin
from dbt.adapters.duckdb.utils import SourceConfig
from deltalake import DeltaTable

from tracelake.lakeio import Lake, dataset


class Plugin(DeltaPlugin):
    def load(self, source_config: SourceConfig) -> Any:
        path = str(source_config["delta_table_path"])
        wanted = str(source_config.get("as_of_version") or "").strip()
        version = int(wanted) if wanted else None
        lake = Lake(path)
        table = DeltaTable(path, version=version, storage_options=lake.storage_options)
        return dataset(lake, table)
