"""The `rhythm` command line (click).

Black's conventions: data on stdout, messages on stderr; exit 0 ok, 1 errors
or stale modules (`--check`), 2 usage, 123 internal error.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from rhythm_compiler import CompileError, CompilerBug, compile_source
from rhythm_compiler.diagnostics import Diagnostic, render_all

COMPILED_DIR = "compiled"
EXIT_INTERNAL = 123


def module_path(flow: Path, out: Path | None) -> Path:
    """Where the module of a `.flow` file goes: `<dir>/compiled/<stem>.py` by default."""
    return (out if out is not None else flow.parent / COMPILED_DIR) / f"{flow.stem}.py"


def find_flows(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for p in (Path(x) for x in (paths or ("workflows",))):
        if p.is_dir():
            found.extend(sorted(x for x in p.rglob("*.flow") if COMPILED_DIR not in x.parts))
        elif p.suffix == ".flow" and p.is_file():
            found.append(p)
        else:
            raise click.UsageError(f"{p}: no such .flow file or directory")
    return found


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


@main.command("compile")
@click.argument("paths", nargs=-1)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write modules here instead of <dir>/compiled/.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any module is stale or missing.")
@click.option("--diff", is_flag=True, help="Write nothing; print the diff of what would change.")
@click.option("--quiet", "-q", is_flag=True, help="Only print errors.")
def compile_cmd(paths, out, check, diff, quiet) -> None:
    """Compile .flow files (default: ./workflows) into Python modules.

    Exit status: 0 ok, 1 compile errors (or stale modules with --check),
    2 usage error, 123 internal compiler error.
    """
    flows = find_flows(paths)
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    dry = check or diff
    failed = errors = internal = changed = 0
    targets: dict[Path, Path] = {}
    for i, flow in enumerate(flows, 1):
        if not quiet and len(flows) > 20 and i % 20 == 0:
            click.echo(f"[{i}/{len(flows)}] {flow}", err=True)
        target = module_path(flow, out)
        other = targets.setdefault(target.resolve(), flow)
        if other != flow:
            failed, errors = failed + 1, errors + 1
            _echo_diag(Diagnostic(1, 1, f"another workflow is also named '{flow.stem}' ({other}), and both "
                                        f"would be compiled to {target}; workflow names must be unique", 1, str(flow)))
            continue
        try:
            code = _compile_one(flow)
        except CompileError as e:
            failed, errors = failed + 1, errors + len(e.diagnostics)
            click.echo(render_all(e.diagnostics, e.source, color), err=True)
            continue
        except CompilerBug as e:
            internal += 1
            click.echo(f"{flow}: {e}", err=True)
            continue
        except Exception as e:  # never a traceback: an internal error, reported as a bug
            internal += 1
            click.echo(f"{flow}: internal compiler error: {_bug_report(e)}", err=True)
            continue
        current = _read_existing(target)
        if current == code:
            continue
        changed += 1
        if dry:
            if check:
                click.echo(f"{'stale' if current is not None else 'missing'}: {target} (from {flow})", err=True)
            if diff:
                lines = difflib.unified_diff((current or "").splitlines(True), code.splitlines(True),
                                             f"{target} (current)" if current is not None else "/dev/null",
                                             f"{target} (compiled)")
                click.echo("".join(lines), nl=False)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(code.encode("utf-8"))
        except (OSError, UnicodeError) as e:
            failed, errors = failed + 1, errors + 1
            click.echo(f"{target}: error: cannot write the module ({getattr(e, 'strerror', None) or e})", err=True)
    if not quiet:
        click.echo(_summary(len(flows), failed, errors, internal, changed, dry), err=True)
    if internal:
        sys.exit(EXIT_INTERNAL)
    if errors or (check and changed):
        sys.exit(1)


def _compile_one(flow: Path) -> str:
    """The module code of one .flow file; unreadable files are CompileErrors too."""
    try:
        source = flow.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise CompileError([Diagnostic(1, 1, f"the file is not valid UTF-8 ({e.reason} at byte {e.start}); "
                                             f"save it as UTF-8", 1, str(flow))]) from None
    except OSError as e:
        raise CompileError([Diagnostic(1, 1, f"cannot read the file ({e.strerror or e})", 1, str(flow))]) from None
    return compile_source(source, str(flow)).code


def _read_existing(target: Path) -> str | None:
    try:
        return target.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _echo_diag(diag: Diagnostic) -> None:
    click.echo(diag.headline(), err=True)


def _bug_report(e: Exception) -> str:
    """One line for the terminal; the traceback goes to a file for the bug report."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="rhythm-bug-", delete=False) as f:
        f.write("".join(traceback.format_exception(e)))
    return f"{type(e).__name__}: {e}; the traceback was saved to {f.name}; please report this bug"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(total: int, failed: int, errors: int, internal: int, changed: int, dry: bool) -> str:
    ok = total - failed - internal
    parts = [f"compiled {_plural(ok, 'workflow')}"]
    parts.append(f"{changed} would change" if dry else f"{changed} written")
    parts.append(f"{total - failed - internal - changed} unchanged")
    if failed:
        parts.append(f"{failed} failed with {_plural(errors, 'error')}")
    if internal:
        parts.append(f"{_plural(internal, 'internal error')}")
    return ", ".join(parts)


# -- running ------------------------------------------------------------------------------

def load_app(spec: str):
    """`module:attribute` (like uvicorn and Celery) -> the RhythmApp."""
    import importlib

    from rhythm_runtime.api.app import RhythmApp

    module_name, _, attr = spec.partition(":")
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise click.UsageError(f"cannot import {module_name!r}: {e}") from None
    app = getattr(module, attr or "app", None)
    if not isinstance(app, RhythmApp):
        raise click.UsageError(f"{spec!r} is not a RhythmApp (expected module:attribute, e.g. app.main:app)")
    return app


database_option = click.option("--database-url", envvar="RHYTHM_DATABASE_URL", help="Postgres URL (default: embedded).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


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


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--concurrency", "-c", default=4, show_default=True, help="Tasks run at once.")
@click.option("--queues", "-q", default="default", show_default=True, help="Comma-separated task queues.")
@click.option("--lease", default=30.0, show_default=True, help="Seconds a task lease lasts without renewal.")
@click.option("--poll-interval", default=0.5, show_default=True, help="Seconds between polls when no NOTIFY arrives.")
@observability_options
@database_option
def worker(app_spec, concurrency, queues, lease, poll_interval, log_format, log_level, metrics_port, metrics_host,
           database_url) -> None:
    """Run a worker for APP (module:attribute, e.g. app.main:app)."""
    from rhythm_runtime.worker.observability import configure_logging
    from rhythm_runtime.worker.loop import Worker

    configure_logging(log_format, log_level)
    Worker(load_app(app_spec), concurrency=concurrency, queues=queues.split(","), lease_seconds=lease,
           poll_interval=poll_interval, database_url=database_url, metrics_port=metrics_port,
           metrics_host=metrics_host).run()


@main.command()
@click.argument("app_spec", metavar="APP")
@click.option("--concurrency", "-c", default=4, show_default=True, help="Tasks run at once.")
@observability_options
@database_option
def dev(app_spec, concurrency, log_format, log_level, metrics_port, metrics_host, database_url) -> None:
    """Local development: Postgres (embedded by default) and a worker that recompiles on change.

    Edits to .flow files are compiled and registered as new versions within a
    second; runs already started keep their own version.
    """
    import threading
    import time

    from rhythm_runtime.worker.observability import configure_logging
    from rhythm_runtime.worker.loop import Worker

    configure_logging(log_format, log_level)
    app = load_app(app_spec)
    worker = Worker(app, concurrency=concurrency, database_url=database_url, metrics_port=metrics_port,
                    metrics_host=metrics_host)
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
                click.echo(f"reloaded {len(app.workflows)} workflows", err=True)
            except CompileError as e:
                click.echo(render_all(e.diagnostics, e.source, sys.stderr.isatty()), err=True)
    thread.join()


def _flow_mtimes(app) -> dict:
    return {p: p.stat().st_mtime_ns for d in app.workflow_dirs for p in d.glob("*.flow")}


def _client(database_url, create: bool = True):
    """A client; `create=False` (commands that only read) never makes a new embedded Postgres."""
    from rhythm_runtime.api.client import SyncRhythmClient
    from rhythm_runtime.storage.settings import Settings

    if not create:
        database_url = Settings.load(database_url).database_url(create=False)
    return SyncRhythmClient(database_url)


def _json_arg(text: str | None, what: str):
    import json

    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise click.UsageError(f"{what} is not valid JSON: {e}") from None


def _emit(data, as_json: bool, human: str) -> None:
    import json

    click.echo(json.dumps(data, default=str, indent=2) if as_json else human)


@main.command()
@click.argument("name")
@click.option("--inputs", default="{}", help="The workflow's Inputs as JSON.")
@click.option("--id", "run_id", help="Run id (starting twice with one id returns the same run).")
@click.option("--wait", is_flag=True, help="Wait for the result.")
@database_option
@json_option
def start(name, inputs, run_id, wait, database_url, as_json) -> None:
    """Start workflow NAME."""
    from rhythm_runtime.api.client import WorkflowFailed

    client = _client(database_url)
    handle = client.start_workflow(name, _json_arg(inputs, "--inputs"), run_id)
    if not wait:
        _emit({"id": handle.id}, as_json, handle.id)
        return
    try:
        output = handle.result()
    except WorkflowFailed as e:
        _emit({"id": handle.id, "status": e.status, "error": e.error}, as_json, str(e))
        sys.exit(1)
    import json

    _emit({"id": handle.id, "status": "completed", "output": output}, as_json, json.dumps(output, indent=2))


@main.command("signal")
@click.argument("run_id")
@click.argument("name")
@click.argument("payload", required=False)
@database_option
def signal_cmd(run_id, name, payload, database_url) -> None:
    """Send signal NAME with a JSON PAYLOAD to a run."""
    _client(database_url).get(run_id).signal(name, _json_arg(payload, "PAYLOAD"))
    click.echo(f"sent {name} to {run_id}", err=True)


@main.command()
@click.argument("run_id")
@database_option
@json_option
def status(run_id, database_url, as_json) -> None:
    """Show a run's status, output or error."""
    import json

    row = _client(database_url, create=False).get(run_id).describe()
    lines = [f"{row['id']}  {row['workflow_name']}@{row['version']}  {row['status']}"]
    if row["status"] == "completed":
        lines.append(f"output: {json.dumps(row['output'], ensure_ascii=False)}")
    elif row["error"]:
        lines.append(f"error: {row['error'].get('type')}: {row['error'].get('message')}")
    elif row["waiting"]:
        lines.append(f"waiting on: {', '.join(row['waiting'])}")
    _emit(row, as_json, "\n".join(lines))


@main.command("list")
@click.option("--status", "status_", help="Only runs with this status.")
@click.option("--name", help="Only runs of this workflow.")
@click.option("--limit", default=50, show_default=True)
@database_option
@json_option
def list_cmd(status_, name, limit, database_url, as_json) -> None:
    """List recent runs."""
    rows = _client(database_url, create=False).list(status_, name, limit)
    human = "\n".join(f"{r['id']}  {r['workflow_name']}  {r['status']}  {r['created_at']:%Y-%m-%d %H:%M:%S}" for r in rows)
    _emit(rows, as_json, human or "no runs")


@main.command()
@click.argument("run_id")
@database_option
def cancel(run_id, database_url) -> None:
    """Cancel a run, its pending tasks and its child runs."""
    changed = _client(database_url).get(run_id).cancel()
    click.echo(f"cancelled {run_id}" if changed else f"{run_id} had already finished", err=True)


def _register_subcommands() -> None:
    from rhythm_runtime.cli import dashboard as cli_dashboard
    from rhythm_runtime.cli.db import db
    from rhythm_runtime.cli.inspect import register

    main.add_command(db)
    register(main)
    cli_dashboard.register(main)


_register_subcommands()


@main.command()
@click.argument("run_id")
@click.option("--version", "version", metavar="latest|VERSION",
              help="Resume on another version (the newest with 'latest'); it must have the same resume shape.")
@database_option
@json_option
def retry(run_id, version, database_url, as_json) -> None:
    """Resume a failed run from the await it failed at.

    The task (or child run) whose failure ended the run is issued again from
    its first attempt; nothing before the await runs again. Refused for runs
    that have not failed, and for versions whose awaits, loops, try blocks or
    variables differ from the run's own.
    """
    done = _client(database_url).get(run_id).retry(version)
    again = ", ".join(f"task {r['name']!r} (id {r['task_id']}, with its original payload)" if r["kind"] == "task"
                      else f"child run {r['run_id']}"
                      for r in done["reissued"]) or "nothing (it resumes at its await)"
    _emit(done, as_json, f"retrying {run_id} on version {done['version']}; re-issued: {again}")


