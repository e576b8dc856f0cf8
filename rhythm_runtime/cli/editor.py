"""``rhythm check`` and ``rhythm lsp``: the static checks, in CI and in the editor.

`check` compiles every workflow and holds its task and workflow names
against the app's. Run it in CI next to `rhythm compile --check`: a typo in `Task.run("send-emial")`
is an error here instead of a run waiting in production for a task no worker
has. Exit codes as `rhythm compile`: 0 ok (warnings and notes allowed),
1 errors, 2 usage, 123 internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from rhythm_compiler import CompileError, read_source
from rhythm_compiler.diagnostics import render_all
from rhythm_runtime.cli.compile import EXIT_INTERNAL, find_flows
from rhythm_runtime.cli.options import load_app
from rhythm_runtime.editor.app_names import AppNames, configured_app, workflow_files
from rhythm_runtime.editor.findings import findings


@click.command("check")
@click.argument("paths", nargs=-1)
@click.option("--app", "app_spec", metavar="MODULE:ATTR",
              help="The app whose tasks and workflows the names must match (default: [tool.rhythm] app in pyproject.toml).")
def check_cmd(paths, app_spec) -> None:
    """Check .flow files (default: the app's workflows, else ./workflows) against the app's tasks and workflows."""
    app, root = _app(app_spec)
    flows = find_flows(paths) if paths or app is None else find_flows(_app_dirs(app, root))
    names = AppNames.of_app(app) if app is not None else AppNames()
    names.workflows = {**workflow_files({f.parent for f in flows}), **names.workflows}
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    counts = {"error": 0, "warning": 0, "note": 0}
    for flow in flows:
        try:
            source = read_source(flow)
            diags = findings(source, str(flow), names)
        except CompileError as e:
            source, diags = e.source, e.diagnostics
        except Exception as e:  # noqa: BLE001 -- never a traceback: report it as a bug, as `compile` does
            click.echo(f"{flow}: internal error: {type(e).__name__}: {e}; please report this bug", err=True)
            sys.exit(EXIT_INTERNAL)
        for d in diags:
            counts[d.severity] = counts.get(d.severity, 0) + 1
        if diags:
            click.echo(render_all(diags, source, color), err=True)
    click.echo(_summary(len(flows), counts, app is not None), err=True)
    if counts["error"]:
        sys.exit(1)


def _app(spec: str | None):
    """(app, the folder it is imported from) from --app or pyproject.toml; (None, cwd) with a warning for neither."""
    root = Path.cwd()
    if spec is None:
        configured = configured_app(root)
        if configured is None:
            click.echo("warning: no app given (--app MODULE:ATTR, or app = \"module:attr\" under [tool.rhythm] in "
                       "pyproject.toml): task names are not checked", err=True)
            return None, root
        spec, root = configured
    return load_app(spec, root), root


def _app_dirs(app, root: Path) -> tuple[str, ...]:
    """The app's workflow folders, relative ones taken from the app's folder, shown relative to the cwd."""
    return tuple(os.path.relpath(d if Path(d).is_absolute() else root / d) for d in app.workflow_dirs)


def _summary(total: int, counts: dict, with_app: bool) -> str:
    parts = [f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in counts.items() if n]
    checked = "against the app" if with_app else "without an app"
    return f"checked {total} workflow{'' if total == 1 else 's'} {checked}: {', '.join(parts) or 'no problems'}"


@click.command("lsp")
def lsp_cmd() -> None:
    """Run the language server on stdio (editors start it; see editors/vscode/)."""
    from rhythm_runtime.editor.server import serve  # noqa: PLC0415 -- pygls is needed by this command only

    serve()
