"""What the command groups share: the common options, loading the app, the client, JSON in and out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

database_option = click.option("--database-url", envvar="RHYTHM_DATABASE_URL", help="Postgres URL (default: embedded).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def load_app(spec: str, root: Path | None = None):
    """`module:attribute` (like uvicorn and Celery), importable from `root` (default: the cwd) -> the RhythmApp."""
    import importlib

    from rhythm_runtime.api.app import RhythmApp
    from rhythm_runtime.storage.settings import find_project

    module_name, _, attr = spec.partition(":")
    base = root or Path.cwd()
    project = find_project(base)  # the package may live at the project's root, above the current directory
    sys.path[:0] = [str(base)] + ([str(project)] if project and project != base.resolve() else [])
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise click.UsageError(f"cannot import {module_name!r}: {e}") from None
    attr = attr or "app"
    if not hasattr(module, attr):
        raise click.UsageError(f"module {module_name!r} has no attribute {attr!r} (expected module:attribute, "
                               f"e.g. app.main:app)")
    app = getattr(module, attr)
    if not isinstance(app, RhythmApp):
        raise click.UsageError(f"{spec!r} is a {type(app).__name__}, not a RhythmApp")
    return app


def client_for(database_url, create: bool = True):
    """A client; `create=False` (commands that only read) never makes a new embedded Postgres."""
    from rhythm_runtime.api.client import SyncRhythmClient
    from rhythm_runtime.storage.settings import Settings

    if not create:
        database_url = Settings.load(database_url).database_url(create=False)
    return SyncRhythmClient(database_url)


def json_arg(text: str | None, what: str):
    import json

    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise click.UsageError(f"{what} is not valid JSON: {e}") from None


def emit(data, as_json: bool, human: str) -> None:
    import json

    click.echo(json.dumps(data, default=str, indent=2) if as_json else human)
