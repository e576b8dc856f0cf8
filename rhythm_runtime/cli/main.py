"""The `rhythm` command line (click): the group, and one module per command group under it.

Black's conventions: data on stdout, messages on stderr; exit 0 ok, 1 errors
or stale modules (`--check`), 2 usage, 123 internal error.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping

import click

# command name -> where it lives: each is imported when it runs (or when --help lists it), so
# `rhythm compile` does not pay for psycopg, Starlette and pygls
COMMANDS = {
    "init": "init:init_cmd", "compile": "compile:compile_cmd", "check": "editor:check_cmd", "worker": "worker:worker", "dev": "worker:dev",
    "workers": "workers:workers_cmd", "register": "worker:register", "start": "runs:start",
    "signal": "runs:signal_cmd", "status": "runs:status", "list": "runs:list_cmd", "cancel": "runs:cancel",
    "retry": "runs:retry", "db": "db:db", "inspect": "inspect:inspect_cmd", "graph": "inspect:graph_cmd",
    "dashboard": "dashboard:dashboard_cmd", "lsp": "editor:lsp_cmd", "schedules": "schedules:schedules",
}


class _LazyCommands(Mapping):
    """`Group.commands` that imports a command's module on first use."""

    def __init__(self, homes: dict[str, str]) -> None:
        self._homes = homes
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attr = self._homes[name].split(":")
            self._loaded[name] = getattr(importlib.import_module(f"rhythm_runtime.cli.{module}"), attr)
        return self._loaded[name]

    def __iter__(self):
        return iter(self._homes)

    def __len__(self) -> int:
        return len(self._homes)


class RhythmGroup(click.Group):
    """Turns Rhythm's own errors into one line on stderr and exit code 1."""

    def invoke(self, ctx):
        from rhythm_runtime.errors import RhythmError

        try:
            return super().invoke(ctx)
        except RhythmError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)


@click.group(cls=RhythmGroup)
@click.version_option(package_name="rhythm")
def main() -> None:
    """Rhythm: durable workflows in .flow files, on nothing but Postgres."""


main.commands = _LazyCommands(COMMANDS)
