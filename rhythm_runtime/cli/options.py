"""What the command groups share: the common options, loading the app, the client, JSON in and out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

database_option = click.option("--database-url", envvar="RHYTHM_DATABASE_URL", help="Postgres URL (default: embedded).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def load_app(spec: str, root: Path | None = None):
    """The RhythmApp named by `module:attribute`; a bad spec is a usage error."""
    from rhythm_runtime.api.app import AppNotFound, load_app as load

    try:
        return load(spec, root)
    except AppNotFound as e:
        raise click.UsageError(str(e)) from None


def client_for(database_url, create: bool = True):
    """A client; `create=False` (commands that only read) never makes a new embedded Postgres."""
    from rhythm_runtime.api.client import SyncRhythmClient
    from rhythm_runtime.storage.settings import Settings

    if not create:
        database_url = Settings.load(database_url).database_url(create=False)
    return SyncRhythmClient(database_url)


def json_arg(text: str | None, what: str):
    """JSON given on the command line, or read from a file (`@path`) or from stdin (`-`), for large values."""
    import json

    if text is None:
        return None
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise click.UsageError(f"{what}: cannot read {text[1:]}: {e.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise click.UsageError(f"{what} is not valid JSON: {e}") from None


def json_text(data) -> str:
    """JSON for people and scripts: ISO 8601 times, and whole numbers without `.0` (as JavaScript prints them)."""
    import json

    return json.dumps(_plain_numbers(data), default=_iso, indent=2, ensure_ascii=False)


def _plain_numbers(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_numbers(v) for v in value]
    return value


def _iso(value) -> str:
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat is not None else str(value)


def emit(data, as_json: bool, human: str) -> None:
    click.echo(json_text(data) if as_json else human)
