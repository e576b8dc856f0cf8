"""``rhythm inspect`` and ``rhythm graph``: look inside runs and workflows (read-only).

stdout carries the data (the report, the JSON, the graph text); stderr
carries messages. Exit 0 ok, 1 for an unknown
run or workflow, an unreachable database, or a `.flow` file that does not
compile.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rhythm_runtime.cli.options import database_option, json_option, json_text
from rhythm_runtime.errors import RhythmError


def _url(database_url: str | None) -> str:
    """The database to read; one line and exit 1 (no new embedded server) where the project has none."""
    from rhythm_runtime.storage.settings import resolve_database_url

    return resolve_database_url(database_url, create=False)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("inspect")
@click.argument("run_id")
@click.option("--full", is_flag=True, help="Show long values whole (default: cut at about 200 characters).")
@click.option("--history", "history", type=click.IntRange(0, None), default=20, show_default=True, metavar="N",
              help="Show the last N steps of the run's history (0: none; --json has the last 200).")
@database_option
@json_option
def inspect_cmd(run_id, full, history, database_url, as_json) -> None:
    """Show where run RUN_ID is: its .flow line, locals, what it waits for, and its step history.

    For a failed run: where it threw, the locals at that moment and the catch
    and finally blocks the error went through.
    """
    from rhythm_runtime.inspection.inspect import inspect_run, render_report

    try:
        report = inspect_run(_url(database_url), run_id, full)
    except RhythmError as e:
        _fail(str(e))
    click.echo(json_text(report) if as_json else render_report(report, history))


@click.command("graph")
@click.argument("workflow")
@click.option("--run", "run_id", metavar="RUN_ID", help="Highlight the state this run is in (and use its version).")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True,
              help="Mermaid flowchart, Graphviz digraph, or a standalone SVG image.")
@database_option
def graph_cmd(workflow, run_id, fmt, database_url) -> None:
    """Print the state machine of WORKFLOW (a registered name, or a .flow file) as a graph.

    A name uses the newest registered version, or with --run the version that
    run started on. One node per state, edges for jumps, branches, awaits and
    catch/finally routing; with --run, the run's state and the states its step
    history went through are highlighted.
    """
    from rhythm_compiler import CompileError, compile_source, version_of
    from rhythm_compiler.diagnostics import render_all

    from rhythm_runtime.inspection.graph import build_graph, render
    from rhythm_runtime.inspection.inspect import module_tables, run_position, workflow_version

    path = Path(workflow)
    from_file = workflow.endswith(".flow") or path.is_file()
    comments: list[str] = []
    try:
        url = _url(database_url) if run_id or not from_file else None
        position = run_position(url, run_id) if run_id else None
        if from_file:
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise click.UsageError(f"cannot read {workflow}: {getattr(e, 'strerror', None) or e}") from None
            name, version, stored = path.stem, version_of(source), None
            if position and position["version"] != version:
                click.echo(f"warning: {workflow} is version {version} but run {run_id} runs version "
                           f"{position['version']}; the highlighted state may not match", err=True)
        else:
            name = workflow
            if position and position["workflow"] != name:
                _fail(f"run {run_id!r} is a run of workflow {position['workflow']!r}, not {name!r}")
            stored = workflow_version(url, name, position["version"] if position else None)
            source, version = stored["source"], stored["version"]
    except RhythmError as e:
        _fail(str(e))
    try:
        machine = compile_source(source, str(path) if from_file else f"{name}.flow", name=name, fmt=False).module
    except CompileError as e:
        click.echo(render_all(e.diagnostics, e.source, sys.stderr.isatty()), err=True)
        sys.exit(1)
    if stored is not None and module_tables(stored).state_lines != {st.id: st.line for st in machine.states}:
        click.echo(f"warning: this compiler numbers the states of {name} version {version} differently from the "
                   f"one that registered it; state numbers may not match its runs", err=True)
    comments.append(f"workflow {name} version {version}")
    current = None
    if position:
        current = position["state"]
        if current is None or current not in {st.id for st in machine.states}:
            click.echo(f"note: run {run_id} is {position['status']} and in no state of the graph", err=True)
            current = None
        comments.append(f"run {run_id}: {position['status']}" + (f", state {current}" if current is not None else ""))
    graph = build_graph(machine, source, current)
    graph.comments = comments + graph.comments
    if position:
        graph.visited = position["visited"] & {st.id for st in machine.states}
    click.echo(render(graph, fmt), nl=False)
