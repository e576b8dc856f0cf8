"""``rhythm schedules list|pause|resume|trigger|backfill|delete``: schedules from the command line.

Schedules come from a workflow's front matter (`schedule: "0 3 * * *"`) or
from `client.create_schedule(...)`; these commands see and steer both.
"""

from __future__ import annotations

from datetime import datetime, timezone

import click

from rhythm_runtime.cli.options import client_for, database_option, emit, json_option


@click.group("schedules")
def schedules() -> None:
    """List and steer schedules (cron) of workflows."""


@schedules.command("list")
@database_option
@json_option
def list_cmd(database_url, as_json) -> None:
    """Every schedule: workflow, cron, next fire time, paused, last run."""
    rows = client_for(database_url, create=False).list_schedules()
    human = "\n".join([f"{'ID':20} {'WORKFLOW':20} {'SCHEDULE':24} {'NEXT (UTC)':20} {'STATE':7} LAST RUN"] + [
        f"{r['id']:20} {r['workflow_name']:20} {', '.join(r['crons']) + ' ' + r['timezone']:24} "
        f"{r['next_fire_at']:%Y-%m-%d %H:%M:%S}  {'paused' if r['paused'] else 'active':7} "
        f"{r['last_run_id'] or '-'}{' (' + r['last_run_status'] + ')' if r['last_run_status'] else ''}"
        for r in rows]) if rows else "no schedules"
    emit(rows, as_json, human)


def _schedule_command(name: str, help_text: str, action) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("schedule_id")
    @database_option
    def command(schedule_id, database_url) -> None:
        click.echo(action(client_for(database_url).get_schedule(schedule_id), schedule_id))

    return command


schedules.add_command(_schedule_command("pause", "Stop firing SCHEDULE_ID until it is resumed.",
                                        lambda s, i: s.pause() or f"paused {i}"))
schedules.add_command(_schedule_command("resume", "Fire SCHEDULE_ID again (ticks missed while paused do not fire).",
                                        lambda s, i: s.resume() or f"resumed {i}"))
schedules.add_command(_schedule_command("trigger", "Start a run of SCHEDULE_ID now; prints its run id.",
                                        lambda s, i: s.trigger()))
schedules.add_command(_schedule_command("delete", "Delete SCHEDULE_ID (its runs stay).",
                                        lambda s, i: s.delete() or f"deleted {i}"))


@schedules.command("backfill")
@click.argument("schedule_id")
@click.option("--start", "start", required=True, type=click.DateTime(), help="From this time (UTC), exclusive.")
@click.option("--end", "end", required=True, type=click.DateTime(), help="To this time (UTC), inclusive.")
@database_option
@json_option
def backfill(schedule_id, start, end, database_url, as_json) -> None:
    """Start the runs of every tick of SCHEDULE_ID between --start and --end that has none yet."""
    if end <= start:
        raise click.UsageError("--end must be after --start")
    utc = timezone.utc
    started = client_for(database_url).get_schedule(schedule_id).backfill(start.replace(tzinfo=utc), end.replace(tzinfo=utc))
    emit(started, as_json, "\n".join(started) or "every tick in that window already has a run")
