"""The `rhythm` command line (click).

Black's conventions: data on stdout, messages on stderr; exit 0 ok, 1 errors
or stale modules (`--check`), 2 usage, 123 internal error.
"""

from __future__ import annotations

import difflib
import sys
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


@click.group()
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
    """Compile .flow files (default: ./workflows) into Python modules."""
    flows = find_flows(paths)
    color = sys.stderr.isatty()
    errors = stale = written = 0
    for i, flow in enumerate(flows, 1):
        if not quiet and len(flows) > 20 and i % 20 == 0:
            click.echo(f"[{i}/{len(flows)}] {flow}", err=True)
        try:
            source = flow.read_text(encoding="utf-8")
            code = compile_source(source, str(flow)).code
        except UnicodeDecodeError as e:
            errors += 1
            click.echo(Diagnostic(1, 1, f"the file is not valid UTF-8 ({e.reason})", 1, str(flow)).headline(), err=True)
            continue
        except CompileError as e:
            errors += len(e.diagnostics)
            click.echo(render_all(e.diagnostics, e.source, color), err=True)
            continue
        except CompilerBug as e:
            click.echo(f"{flow}: {e}", err=True)
            sys.exit(EXIT_INTERNAL)
        target = module_path(flow, out)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == code:
            continue
        if check or diff:
            stale += 1
            if check:
                click.echo(f"{'stale' if current is not None else 'missing'}: {target} (from {flow})", err=True)
            if diff:
                lines = difflib.unified_diff((current or "").splitlines(True), code.splitlines(True),
                                             str(target), str(target) + " (new)")
                click.echo("".join(lines), nl=False)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
        written += 1
    if not quiet:
        verb = "would change" if (check or diff) else "written"
        n = stale if (check or diff) else written
        click.echo(f"compiled {len(flows)} workflow{'s' if len(flows) != 1 else ''}, {n} {verb}, "
                   f"{errors} error{'s' if errors != 1 else ''}", err=True)
    if errors or (check and stale):
        sys.exit(1)


def _register_db() -> None:
    from .cli_db import db

    main.add_command(db)


_register_db()
