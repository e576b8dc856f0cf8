"""``rhythm compile``: .flow files in, generated modules out (black's exit codes and --check/--diff)."""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from rhythm_compiler import CompileError, CompilerBug, compile_source, read_source
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


@click.command("compile")
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
            source, compiled = _compile_one(flow)
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
        if compiled.warnings:
            click.echo(render_all(compiled.warnings, source, color), err=True)
        code = compiled.code
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


def _compile_one(flow: Path):
    """(source, `Compiled`) of one .flow file; unreadable files are CompileErrors too."""
    source = read_source(flow)
    return source, compile_source(source, str(flow))


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
