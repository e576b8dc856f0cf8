"""``rhythm db``: migrate the schema, print the URL, prune finished runs, stop the embedded server.

stdout carries data (the URL); stderr carries messages. Exit 0 on success,
1 when the database cannot be reached or used.
"""

from __future__ import annotations

import click

from rhythm_runtime.storage import settings as config
from rhythm_runtime.storage import db as storage
from rhythm_runtime.storage import adoption, embedded, retention
from rhythm_runtime.storage.transactions import Database
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.execution.durations import EXAMPLES, parse_duration

_url_option = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help=f"Postgres URL (default: ${config.ENV_DATABASE_URL}, else the project's embedded server).",
)


@click.group("db")
def db() -> None:
    """Manage Rhythm's Postgres database."""


@db.command()
@_url_option
def migrate(database_url: str | None) -> None:
    """Apply pending schema migrations."""
    try:
        url = config.resolve_database_url(database_url)
        applied = storage.migrate(url)
        adopted = adoption.adopt_once(url)
    except StorageError as exc:
        raise _fail(exc) from exc
    for name in applied:
        click.echo(f"applied {name}", err=True)
    if not applied:
        click.echo("database schema is up to date", err=True)
    if adopted:
        click.echo(f"made {len(adopted)} run(s) claimable that an older Rhythm made runnable", err=True)


@db.command()
@_url_option
def url(database_url: str | None) -> None:
    """Print the database URL, starting the embedded server if needed."""
    try:
        click.echo(config.resolve_database_url(database_url))
    except StorageError as exc:
        raise _fail(exc) from exc


@db.command()
@click.option("--older-than", metavar="DURATION", default=None,
              help="Delete finished runs older than this (e.g. 7d), whatever their workflow's retention.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@_url_option
def prune(older_than: str | None, dry_run: bool, database_url: str | None) -> None:
    """Delete finished runs past their retention, with their tasks, timers, signals and history.

    The retention is the workflow's front matter `retention:`, else RHYTHM_RETENTION (default 30d). Runs a
    running parent still has are kept. Workers do this by themselves about once a minute."""
    seconds = None
    if older_than is not None:
        seconds = parse_duration(older_than)
        if not seconds:
            raise click.BadParameter(f"must be a duration such as {EXAMPLES}", param_hint="--older-than")
    try:
        url = config.resolve_database_url(database_url)
        storage.migrate(url)
        store = Database(url, max_size=1)
        try:
            done = retention.expired(store, seconds) if dry_run else retention.prune(store, seconds)
        finally:
            store.close()
    except RhythmError as exc:
        raise _fail(exc) from exc
    if done is None:
        click.echo("another prune is running (a worker's); try again in a moment", err=True)
        raise click.exceptions.Exit(1)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {done.runs} finished run(s) and {done.tasks} standalone task(s)", err=True)


@db.command()
@click.option("--force", is_flag=True, help="Stop it even while workers or other clients are connected.")
def stop(force: bool) -> None:
    """Stop this project's embedded Postgres server (refused while others use it, unless --force)."""
    try:
        project = config.Settings.load().project()
        pgdata = embedded.data_dir(project)
        users = _other_connections(project) if embedded.is_running(project) else 0
        if users and not force:
            click.echo(f"error: {users} other connection(s) to the embedded Postgres in {pgdata} are open (a worker, "
                       f"a dashboard or a client): stop them first, or use --force to cut them off", err=True)
            raise click.exceptions.Exit(1)
        stopped = embedded.stop(project)
    except StorageError as exc:
        raise _fail(exc) from exc
    message = (
        "stopped embedded Postgres in" if stopped else "no embedded Postgres running in"
    )
    click.echo(f"{message} {pgdata}", err=True)


def _other_connections(project) -> int:
    """Client sessions other than this one on the project's server (workers, dashboards, clients)."""
    with storage.connect(embedded.ensure_server(project, create=False)) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                            "AND pid <> pg_backend_pid()").fetchone()[0]


def _fail(exc: RhythmError) -> click.exceptions.Exit:
    click.echo(f"error: {exc}", err=True)
    return click.exceptions.Exit(1)
