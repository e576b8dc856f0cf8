"""``rhythm worker`` and ``rhythm dev``: run an app's tasks and workflows."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from rhythm_compiler import CompileError
from rhythm_compiler.diagnostics import render_all
from rhythm_runtime.cli.options import database_option, load_app


shutdown_option = click.option(
    "--shutdown-timeout", type=click.FloatRange(0), default=30.0, show_default=True, envvar="RHYTHM_SHUTDOWN_TIMEOUT",
    help="On SIGTERM/Ctrl-C, seconds to let running tasks finish before abandoning them to other workers.")


def observability_options(command):
    """--log-format, --log-level, --metrics-port and --metrics-host, shared by `worker` and `dev`."""
    options = [
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
                     envvar="RHYTHM_LOG_FORMAT", help="Log lines as text, or one JSON object per line."),
        click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
                     default="INFO", show_default=True, envvar="RHYTHM_LOG_LEVEL",
                     help="DEBUG adds a line per task started and completed."),
        click.option("--metrics-port", type=click.IntRange(0, 65535), envvar="RHYTHM_METRICS_PORT",
                     help="Serve Prometheus metrics at /metrics on this port (0: any free port). Default: off."),
        click.option("--metrics-host", default="127.0.0.1", show_default=True, envvar="RHYTHM_METRICS_HOST",
                     help="The address the metrics are served on."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("app_spec", metavar="APP")
@click.option("--concurrency", "-c", default=4, show_default=True, help="Tasks run at once.")
@click.option("--queues", "-q", default="default", show_default=True, help="Comma-separated task queues.")
@click.option("--lease", default=30.0, show_default=True, help="Seconds a task lease lasts without renewal.")
@click.option("--poll-interval", default=0.5, show_default=True, help="Seconds between polls when no NOTIFY arrives.")
@shutdown_option
@observability_options
@database_option
def worker(app_spec, concurrency, queues, lease, poll_interval, shutdown_timeout, log_format, log_level, metrics_port,
           metrics_host, database_url) -> None:
    """Run a worker for APP (module:attribute, e.g. app.main:app).

    SIGTERM or Ctrl-C: stop claiming and let running tasks finish for up to
    --shutdown-timeout seconds, then abandon them (their leases released, so
    other workers run them again at once); a second Ctrl-C abandons them now.
    """
    from rhythm_runtime.worker.observability import configure_logging
    from rhythm_runtime.worker.loop import Worker

    configure_logging(log_format, log_level)
    w = Worker(load_app(app_spec), concurrency=concurrency, queues=queues.split(","), lease_seconds=lease,
               poll_interval=poll_interval, database_url=database_url, metrics_port=metrics_port,
               metrics_host=metrics_host, shutdown_timeout=shutdown_timeout)
    w.run()
    exit_leaving_abandoned_tasks(w)


def exit_leaving_abandoned_tasks(w) -> None:
    """Exit now if the worker abandoned running tasks: Python would otherwise wait for their threads."""
    if w.abandoned:
        import logging
        import os

        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)


@click.command()
@click.argument("app_spec", metavar="APP")
@click.option("--concurrency", "-c", default=4, show_default=True, help="Tasks run at once.")
@shutdown_option
@observability_options
@database_option
def dev(app_spec, concurrency, shutdown_timeout, log_format, log_level, metrics_port, metrics_host,
        database_url) -> None:
    """Local development: Postgres (embedded by default) and a worker that recompiles on change.

    Edits to .flow files are compiled and registered as new versions within a
    second; runs already started keep their own version.
    """
    import logging
    import threading
    import time

    from rhythm_runtime.worker.observability import configure_logging
    from rhythm_runtime.worker.loop import Worker

    configure_logging(log_format, log_level)
    app = load_app(app_spec)
    app.warn_stale = False  # recompiling changed .flow files is what dev is for
    worker = Worker(app, concurrency=concurrency, database_url=database_url, metrics_port=metrics_port,
                    metrics_host=metrics_host, shutdown_timeout=shutdown_timeout)
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False}, name="rhythm-worker")
    import signal as _signal

    _signal.signal(_signal.SIGINT, lambda *_: worker.stop())
    _signal.signal(_signal.SIGTERM, lambda *_: worker.stop())
    thread.start()
    seen = _flow_mtimes(app)
    while thread.is_alive():
        time.sleep(0.5)
        now = _flow_mtimes(app)
        if now != seen and hasattr(worker, "store"):
            seen = now
            try:
                worker.reload()
                logging.getLogger("rhythm").info("reloaded %d workflows", len(app.workflows))
            except CompileError as e:
                click.echo(render_all(e.diagnostics, e.source, sys.stderr.isatty()), err=True)
    thread.join()
    exit_leaving_abandoned_tasks(worker)


def _flow_mtimes(app) -> dict:
    return {p: p.stat().st_mtime_ns for d in app.workflow_dirs for p in d.glob("*.flow")}


@click.command("register")
@click.argument("dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--app", "app_spec", metavar="MODULE:ATTR",
              help="Also record this RhythmApp's @task registrations (default: [tool.rhythm] app, if any).")
@database_option
def register(dirs, app_spec, database_url) -> None:
    """Register the project's workflows, and its app's tasks, without starting a worker.

    For deploy scripts that start runs before the workers roll out. Prints
    `name version` per workflow and `task name -> queue` per task (the queue
    that runs calling it are routed to); registering again is harmless.
    Workflows come from DIRS, else the app's workflow directories, else the
    project's workflows/ directory.
    """
    from rhythm_runtime.api.app import RhythmApp
    from rhythm_runtime.editor.app_names import configured_app
    from rhythm_runtime.storage.db import migrate
    from rhythm_runtime.storage.settings import Settings
    from rhythm_runtime.storage.store import Store

    settings = Settings.load(database_url)
    configured = (app_spec, None) if app_spec else configured_app(settings.project())
    tasks_app = load_app(*configured) if configured else None
    app = (RhythmApp([d.resolve() for d in dirs]) if dirs else tasks_app
           or RhythmApp([settings.project() / "workflows"]))
    url = settings.database_url()
    migrate(url)
    store = Store(url, max_size=1)
    try:
        app.register(store)
        tasks = sorted(tasks_app.tasks.values(), key=lambda t: t.name) if tasks_app else []
        store.register_tasks(f"rhythm register ({socket.gethostname()} pid {os.getpid()})", tasks)
    finally:
        store.close()
    for wf in app.workflows.values():
        click.echo(f"{wf.name} {wf.version}")
    for spec in tasks:
        click.echo(f"task {spec.name} -> {spec.queue}")
    if tasks:
        click.echo(f"recorded {len(tasks)} tasks", err=True)
    click.echo(f"registered {len(app.workflows)} workflows", err=True)
