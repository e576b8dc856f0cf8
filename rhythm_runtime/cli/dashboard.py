"""``rhythm dashboard``: serve the web UI of runs (inspection/dashboard) with uvicorn.

It listens on 127.0.0.1 unless told otherwise; any other address needs a token, and without one the command
refuses to start (exit 2). A database it cannot reach exits 1.
"""

from __future__ import annotations

import sys

import click

from rhythm_runtime.cli.options import database_option
from rhythm_runtime.errors import RhythmError


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but a loopback address needs --token.")
@click.option("--port", default=8484, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="RHYTHM_DASHBOARD_TOKEN",
              help="Require this token on every request (open ?token=... once, or send Authorization: Bearer).")
@database_option
def dashboard_cmd(host, port, token, database_url) -> None:
    """Serve a web dashboard of runs: list and filter them, inspect one, signal, cancel or retry it."""
    import uvicorn

    from rhythm_runtime.storage.settings import resolve_database_url
    from rhythm_runtime.inspection.dashboard import create_app, is_loopback
    from rhythm_runtime.storage.store import Store

    if not token and not is_loopback(host):
        click.echo(f"error: --host {host} exposes the dashboard beyond this machine; "
                   f"set RHYTHM_DASHBOARD_TOKEN or pass --token", err=True)
        sys.exit(2)
    try:
        url = resolve_database_url(database_url, create=False)  # an empty new database has nothing to show
        store = Store(url, max_size=4)
    except RhythmError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"rhythm dashboard on http://{shown}:{port}/" + (" (open it once with ?token=...)" if token else ""),
               err=True)
    uvicorn.run(create_app(url, token, store), host=host, port=port, log_level="warning", access_log=False)
