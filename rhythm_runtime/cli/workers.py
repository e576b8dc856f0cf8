"""``rhythm workers``: the worker processes a database knows of, and what each one serves."""

from __future__ import annotations

import click

from rhythm_runtime.cli.options import client_for, database_option, emit, json_option

COLUMNS = ("id", "state", "queues", "tasks", "running", "started (UTC)", "last seen (UTC)")


@click.command("workers")
@database_option
@json_option
def workers_cmd(database_url, as_json) -> None:
    """List workers: live ones first, with their queues and tasks; stopped, stale and dead ones for an hour.

    A worker is live while it heartbeats, stale after 10 s of silence, dead as
    soon as its database session is gone (its leases are then taken over).
    """
    rows = client_for(database_url, create=False).store.list_workers()
    if not rows and not as_json:
        click.echo("no worker has run against this database in the last hour", err=True)
        return
    emit(rows, as_json, render_workers(rows))


def render_workers(rows: list[dict]) -> str:
    """A table with a header row, one worker per line."""
    table = [COLUMNS] + [(r["id"], r["state"], ",".join(r["queues"]), ",".join(r["task_names"]) or "-",
                          f"{r['running']}/{r['concurrency']}", f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
                          f"{r['stopped_at'] or r['heartbeat_at']:%Y-%m-%d %H:%M:%S}") for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1] for line in table)
