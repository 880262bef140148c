"""One dbt command in a process started before its inputs are known.

`python -m tracelake.dbt_process COMMAND ARGS...` imports dbt and parses the project at once
(about 3 s), then waits for one line on its standard input: a JSON object, `env` the
environment variables to add (the lake versions the command reads, known only later) and
`args` the arguments to add, or an empty line to end without running. It then runs the
command through dbt's programmatic runner on the manifest already parsed, and exits 0 when
the command succeeded, 1 when a node did not pass and 2 when dbt could not run (as dbt's own
CLI does).

Only what the parse does not read may come late: the lake versions (those to read, and those
an incremental build adds the rows since), read when a source is loaded
(tracelake/dbt_lake.py), and a selection of the nodes to run. Everything the parse reads is
in the environment the process started with.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from typing import Any

LATE_PREFIX = "TRACELAKE_LAKE_VERSION_"  # the lake's versions to read
SINCE_PREFIX = "TRACELAKE_LAKE_SINCE_"  # and those an incremental build adds the rows since


def _project_args(args: list[str]) -> list[str]:
    """The options of args that say where the project, profile, target and logs are: what a
    parse needs of the command."""
    keep = {"--project-dir", "--profiles-dir", "--target-path", "--log-path"}
    kept = []
    for name, value in zip(args, args[1:], strict=False):
        if name in keep:
            kept += [name, value]
    return kept


def _parse(runner: Any, args: list[str]) -> Any:
    """The project's manifest, or None when the parse fails (the command then parses again and
    reports why)."""
    parsed = runner.invoke(["parse", "--quiet", "--no-use-colors", *_project_args(args)])
    return parsed.result if parsed.success else None


LATE_OPTIONS = ("--select", "--exclude")  # each with its value


def late_input(line: str) -> tuple[dict[str, str], list[str]]:
    """The environment variables and the arguments of the waiting line; ValueError for any
    variable but the lake's versions, or any argument but a selection."""
    late = json.loads(line)
    env, args = late.get("env", {}), late.get("args", [])
    unexpected = sorted(name for name in env if not name.startswith((LATE_PREFIX, SINCE_PREFIX)))
    if unexpected:
        raise ValueError(f"only the lake's versions may be given late, not {unexpected}")
    if len(args) % 2 or any(option not in LATE_OPTIONS for option in args[::2]):
        raise ValueError(f"only a selection of nodes may be given late, not {args}")
    return {name: str(value) for name, value in env.items()}, [str(arg) for arg in args]


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    from tracelake import dbt_lake  # noqa: F401 - the lake's source plugin, loaded ahead

    manifest = _parse(dbtRunner(), argv)
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    try:
        env, selection = late_input(line)
    except ValueError as error:
        print(f"tracelake: {error}")
        return 2
    os.environ.update(env)
    result = dbtRunner(manifest=manifest).invoke([*argv, *selection])
    if result.exception is not None:
        print(f"tracelake: dbt could not run: {result.exception}")
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    # The exit handlers run and the output is flushed as at any exit; the interpreter's
    # teardown of dbt's objects (0.5-0.7 s after each build) is left out, as `tracelake` does.
    code = main(sys.argv[1:])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
