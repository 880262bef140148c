"""dbt-duckdb's `delta` source plugin, as the dbt project reads the lake.

Four things differ from the plugin as shipped:
- a source's version is read, when the source is loaded, from the environment variable its
  `as_of_version_from` names (unset or empty: the latest version; the shipped plugin's
  `as_of_version` skips version 0, and a version put in the YAML through `env_var()` would
  make dbt parse the project again at every run);
- a source with `added_since_from` holds only the files added since the version that
  variable gives, likewise read at load (what an incremental build adds; unset: every file);
- the storage options of an object-store lake come from the environment like the
  pipeline's own;
- the Arrow dataset is built on Arrow's file systems (tracelake/lakeio.py says why).
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins.delta import Plugin as DeltaPlugin
from dbt.adapters.duckdb.utils import SourceConfig
from deltalake import DeltaTable

from tracelake.lakeio import Lake, dataset, file_uris_of


class Plugin(DeltaPlugin):
    def load(self, source_config: SourceConfig) -> Any:
        path = str(source_config["delta_table_path"])
        wanted = os.environ.get(str(source_config.get("as_of_version_from", "")), "").strip()
        version = int(wanted) if wanted else None
        lake = Lake(path)
        table = DeltaTable(path, version=version, storage_options=lake.storage_options)
        since = os.environ.get(str(source_config.get("added_since_from", "")), "").strip()
        if not since:
            return dataset(lake, table)
        before = DeltaTable(path, version=int(since), storage_options=lake.storage_options)
        return dataset(lake, table, leave_out=set(file_uris_of(before)))
