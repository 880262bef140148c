"""dbt-duckdb's `delta` source plugin, as the dbt project reads the lake.

Three things differ from the plugin as shipped: a source's version is read, when the
source is loaded, from the environment variable its `as_of_version_from` names (unset or
empty: the latest version; the shipped plugin's `as_of_version` skips version 0, and a
version put in the YAML through `env_var()` would make dbt parse the project again at every
run); the storage options of an object-store lake come from the environment like the
pipeline's own; and the Arrow dataset is built on Arrow's file systems (tracelake/lakeio.py
says why).
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins.delta import Plugin as DeltaPlugin
from dbt.adapters.duckdb.utils import SourceConfig
from deltalake import DeltaTable

from tracelake.lakeio import Lake, dataset


class Plugin(DeltaPlugin):
    def load(self, source_config: SourceConfig) -> Any:
        path = str(source_config["delta_table_path"])
        wanted = os.environ.get(str(source_config.get("as_of_version_from", "")), "").strip()
        version = int(wanted) if wanted else None
        lake = Lake(path)
        table = DeltaTable(path, version=version, storage_options=lake.storage_options)
        return dataset(lake, table)
