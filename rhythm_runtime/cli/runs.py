"""``rhythm start|signal|status|list|cancel|retry``: work with runs through the client."""

from __future__ import annotations

import sys
from datetime import timezone

import click

from rhythm_runtime.cli.options import client_for, database_option, emit, json_arg, json_option, json_text


@click.command()
@click.argument("name")
@click.option("--inputs", default="{}", help="The workflow's Inputs as JSON, @FILE to read them from a file, - from stdin.")
@click.option("--id", "run_id", help="Run id (starting twice with one id returns the same run).")
@click.option("--wait", is_flag=True, help="Wait for the result.")
@database_option
@json_option
def start(name, inputs, run_id, wait, database_url, as_json) -> None:
    """Start workflow NAME."""
    from rhythm_runtime.api.client import WorkflowFailed

    client = client_for(database_url)
    handle = client.start_workflow(name, json_arg(inputs, "--inputs"), run_id)
    if not wait:
        emit({"id": handle.id}, as_json, handle.id)
        return
    try:
        output = handle.result()
    except WorkflowFailed as e:
        emit({"id": handle.id, "status": e.status, "error": e.error}, as_json, str(e))
        sys.exit(1)
    if not as_json:
        click.echo(f"run {handle.id} completed", err=True)
    emit({"id": handle.id, "status": "completed", "output": output}, as_json, json_text(output))


@click.command("signal")
@click.argument("run_id")
@click.argument("name")
@click.argument("payload", required=False)
@database_option
def signal_cmd(run_id, name, payload, database_url) -> None:
    """Send signal NAME with a JSON PAYLOAD (or @FILE, or - for stdin) to a run."""
    client_for(database_url).get(run_id).signal(name, json_arg(payload, "PAYLOAD"))
    click.echo(f"sent {name} to {run_id}", err=True)


@click.command()
@click.argument("run_id")
@database_option
@json_option
def status(run_id, database_url, as_json) -> None:
    """Show a run's status, output or error."""
    import json

    client = client_for(database_url, create=False)
    row = client.get(run_id).describe()
    lines = [f"{row['id']}  {row['workflow_name']}@{row['version']}  {row['status']}"]
    if row.get("queued"):
        lines.append(f"queued on {row['queue']}: it starts when the queue's limits admit it")
    if row["status"] == "completed":
        lines.append(f"output: {json.dumps(row['output'], ensure_ascii=False)}")
    elif row["error"]:
        lines.append(f"error: {row['error'].get('type')}: {row['error'].get('message')}")
    elif row["waiting"]:
        from rhythm_runtime.inspection.inspect import inspect_run, wait_brief

        report = inspect_run(client.store.conninfo, run_id)
        row["unserved"] = unserved_tasks(report)
        lines += [wait_brief(report), *row["unserved"]]
    emit(row, as_json, "\n".join(lines))


def unserved_tasks(report: dict) -> list[str]:
    """"no live worker serves task 'x' (queue q) since …" for each awaited task that nothing will claim."""
    from rhythm_runtime.inspection.inspect import unserved_text

    return [unserved_text(w) for w in report["waiting"] if w.get("status") == "pending" and w.get("served") is False]


STATUSES = ("pending", "running", "suspended", "completed", "failed", "cancelled")


@click.command("list")
@click.option("--status", "status_", type=click.Choice(STATUSES), help="Only runs with this status.")
@click.option("--name", help="Only runs of this workflow.")
@click.option("--limit", default=50, show_default=True)
@database_option
@json_option
def list_cmd(status_, name, limit, database_url, as_json) -> None:
    """List recent runs, newest first."""
    rows = client_for(database_url, create=False).list(status_, name, limit)
    if as_json:
        emit(rows, True, "")
    elif not rows:
        click.echo("no runs", err=True)
    else:
        click.echo(_table(["RUN", "WORKFLOW", "STATUS", "CREATED (UTC)"], [
            [r["id"], r["workflow_name"], "queued" if r.get("queued") else r["status"], f"{r['created_at'].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}"] for r in rows]))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows])


@click.command()
@click.argument("run_id")
@click.option("--force", is_flag=True, help="Terminate: end the run and its children now, running no cleanup.")
@database_option
def cancel(run_id, force, database_url) -> None:
    """Cancel a run: a CancelledError is thrown at the await it waits at, so its catch and finally blocks
    run (and may await tasks) before it ends `cancelled`; what that await waited for is cancelled too."""
    changed = client_for(database_url).get(run_id).cancel(force)
    if force:
        click.echo(f"terminated {run_id}" if changed else f"{run_id} had already finished", err=True)
    else:
        click.echo(f"cancelling {run_id}: its catch and finally blocks run first" if changed
                   else f"{run_id} had already finished or is being cancelled (--force terminates it)", err=True)


@click.command()
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
    done = client_for(database_url).get(run_id).retry(version)
    again = ", ".join(f"task {r['name']!r} (id {r['task_id']}, with its original payload)" if r["kind"] == "task"
                      else f"child run {r['run_id']}"
                      for r in done["reissued"]) or "nothing (it resumes at its await)"
    emit(done, as_json, f"retrying {run_id} on version {done['version']}; re-issued: {again}")
