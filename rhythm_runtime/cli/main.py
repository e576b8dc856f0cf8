"""The `rhythm` command line (click): the group, and one module per command group under it.

Black's conventions: data on stdout, messages on stderr; exit 0 ok, 1 errors
or stale modules (`--check`), 2 usage, 123 internal error.
"""

from __future__ import annotations

import sys

import click

from rhythm_runtime.cli.compile import compile_cmd
from rhythm_runtime.cli.dashboard import dashboard_cmd
from rhythm_runtime.cli.db import db
from rhythm_runtime.cli.editor import check_cmd, lsp_cmd
from rhythm_runtime.cli.inspect import graph_cmd, inspect_cmd
from rhythm_runtime.cli.runs import cancel, list_cmd, retry, signal_cmd, start, status
from rhythm_runtime.cli.schedules import schedules
from rhythm_runtime.cli.worker import dev, register, worker
from rhythm_runtime.cli.workers import workers_cmd


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


for command in (compile_cmd, check_cmd, worker, dev, workers_cmd, register, start, signal_cmd, status, list_cmd, cancel,
                retry, db, inspect_cmd, graph_cmd, dashboard_cmd, lsp_cmd, schedules):
    main.add_command(command)
