"""``rhythm compile``: .flow files in, generated modules out (black's exit codes and --check/--diff)."""

from __future__ import annotations

import difflib
import multiprocessing
import os
import sys
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click

from rhythm_compiler.diagnostics import CompileError, Diagnostic, render_all
from rhythm_compiler.header import is_current

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


@dataclass
class _Tally:
    failed: int = 0
    errors: int = 0
    internal: int = 0
    changed: int = 0


@click.command("compile")
@click.argument("paths", nargs=-1)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write modules here instead of <dir>/compiled/.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any module is stale or missing.")
@click.option("--diff", is_flag=True, help="Write nothing; print the diff of what would change.")
@click.option("--quiet", "-q", is_flag=True, help="Only print errors.")
def compile_cmd(paths, out, check, diff, quiet) -> None:
    """Compile .flow files (default: ./workflows) into Python modules.

    A module whose header shows it was compiled from the same source by this
    compiler, and which was not edited since, is left as it is without
    compiling. The others are compiled in parallel, one process per core.

    Exit status: 0 ok, 1 compile errors (or stale modules with --check),
    2 usage error, 123 internal compiler error.
    """
    flows = find_flows(paths)
    tally = _Tally()
    todo = _stale(flows, out, tally)
    for i, ((flow, target), outcome) in enumerate(zip(todo, _compile_all([flow for flow, _ in todo])), 1):
        if not quiet and len(todo) > 20 and i % 20 == 0:
            click.echo(f"[{i}/{len(todo)}] {flow}", err=True)
        _settle(flow, target, outcome, tally, check, diff)
    if not quiet:
        click.echo(_summary(len(flows), tally, check or diff), err=True)
    if tally.internal:
        sys.exit(EXIT_INTERNAL)
    if tally.errors or (check and tally.changed):
        sys.exit(1)


def _stale(flows: list[Path], out: Path | None, tally: _Tally) -> list[tuple[Path, Path]]:
    """(flow, module) of every file to compile: all but the current ones (and name clashes, reported)."""
    targets: dict[Path, Path] = {}
    todo = []
    for flow in flows:
        target = module_path(flow, out)
        other = targets.setdefault(target.resolve(), flow)
        if other != flow:
            tally.failed, tally.errors = tally.failed + 1, tally.errors + 1
            _echo_diag(Diagnostic(1, 1, f"another workflow is also named '{flow.stem}' ({other}), and both "
                                        f"would be compiled to {target}; workflow names must be unique", 1, str(flow)))
        elif not _current(flow, target):
            todo.append((flow, target))
    return todo


def _current(flow: Path, target: Path) -> bool:
    """The module was compiled from this source by this compiler and not edited since (its header says)."""
    module = _read_existing(target)
    try:
        return module is not None and is_current(module, flow.read_bytes().decode("utf-8"), flow.name)
    except (OSError, UnicodeDecodeError):
        return False  # compiling reports why


def _settle(flow: Path, target: Path, outcome: tuple, tally: _Tally, check: bool, diff: bool) -> None:
    """Report one file's compile outcome, and write its module unless this is --check or --diff."""
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    kind, *rest = outcome
    if kind == "errors":
        diagnostics, source = rest
        tally.failed, tally.errors = tally.failed + 1, tally.errors + len(diagnostics)
        click.echo(render_all(diagnostics, source, color), err=True)
        return
    if kind == "bug":
        tally.internal += 1
        click.echo(rest[0], err=True)
        return
    code, warnings, source = rest
    if warnings:
        click.echo(render_all(warnings, source, color), err=True)
    current = _read_existing(target)
    if current == code:
        return
    tally.changed += 1
    if check:
        click.echo(f"{'stale' if current is not None else 'missing'}: {target} (from {flow})", err=True)
    if diff:
        lines = difflib.unified_diff((current or "").splitlines(True), code.splitlines(True),
                                     f"{target} (current)" if current is not None else "/dev/null",
                                     f"{target} (compiled)")
        click.echo("".join(lines), nl=False)
    if not (check or diff):
        _write(target, code, tally)


def _write(target: Path, code: str, tally: _Tally) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(code.encode("utf-8"))
    except (OSError, UnicodeError) as e:
        tally.failed, tally.errors = tally.failed + 1, tally.errors + 1
        click.echo(f"{target}: error: cannot write the module ({getattr(e, 'strerror', None) or e})", err=True)


def _compile_all(flows: list[Path]):
    """Each file's outcome, in order; with several files and cores, one worker process per core."""
    workers = min(len(flows), os.cpu_count() or 1)
    if workers < 2:
        yield from map(_compile_job, flows)
        return
    from rhythm_compiler import pipeline

    pipeline.prepare()  # before forking: no worker imports the compiler or builds its tables again

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(_compile_job, flows)


def _compile_job(flow: Path) -> tuple:
    """Compile one file into plain data a worker process can send back (not every exception pickles):
    ("ok", code, warnings, source), ("errors", diagnostics, source) or ("bug", message)."""
    from rhythm_compiler.emit import CompilerBug
    from rhythm_compiler.pipeline import read_source

    try:
        source = read_source(flow)
        compiled = compile_source(source, str(flow))
    except CompileError as e:
        return "errors", e.diagnostics, e.source
    except CompilerBug as e:
        return "bug", f"{flow}: {e}"
    except Exception as e:  # never a traceback: an internal error, reported as a bug
        return "bug", f"{flow}: internal compiler error: {_bug_report(e)}"
    return "ok", compiled.code, compiled.warnings, source


def compile_source(source: str, path: str):
    """The compiler, imported on first use: only files that need compiling pay for lark, Jinja2 and black."""
    from rhythm_compiler.pipeline import compile_source as compile_

    return compile_(source, path)


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


def _summary(total: int, tally: _Tally, dry: bool) -> str:
    ok = total - tally.failed - tally.internal
    parts = [f"compiled {_plural(ok, 'workflow')}"]
    parts.append(f"{tally.changed} would change" if dry else f"{tally.changed} written")
    parts.append(f"{ok - tally.changed} unchanged")
    if tally.failed:
        parts.append(f"{tally.failed} failed with {_plural(tally.errors, 'error')}")
    if tally.internal:
        parts.append(f"{_plural(tally.internal, 'internal error')}")
    return ", ".join(parts)
