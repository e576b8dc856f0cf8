"""``rhythm db``: migrate the schema, print the URL, stop the embedded server.

stdout carries data (the URL); stderr carries messages. Exit 0 on success,
1 when the database cannot be reached or used.
"""

from __future__ import annotations

import click

from rhythm_runtime.storage import settings as config
from rhythm_runtime.storage import db as storage
from rhythm_runtime.storage import embedded
from rhythm_runtime.errors import StorageError

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
        applied = storage.migrate(config.resolve_database_url(database_url))
    except StorageError as exc:
        raise _fail(exc) from exc
    for name in applied:
        click.echo(f"applied {name}", err=True)
    if not applied:
        click.echo("database schema is up to date", err=True)


@db.command()
@_url_option
def url(database_url: str | None) -> None:
    """Print the database URL, starting the embedded server if needed."""
    try:
        click.echo(config.resolve_database_url(database_url))
    except StorageError as exc:
        raise _fail(exc) from exc


@db.command()
def stop() -> None:
    """Stop this project's embedded Postgres server."""
    pgdata = embedded.data_dir()
    try:
        stopped = embedded.stop()
    except StorageError as exc:
        raise _fail(exc) from exc
    message = (
        "stopped embedded Postgres in" if stopped else "no embedded Postgres running in"
    )
    click.echo(f"{message} {pgdata}", err=True)


def _fail(exc: StorageError) -> click.exceptions.Exit:
    click.echo(f"error: {exc}", err=True)
    return click.exceptions.Exit(1)
