"""The whole compiler: parse -> check -> lower -> emit, as one call."""

from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import emit
from .check import check
from .diagnostics import CompileError, Diagnostic
from .header import COMPILER_VERSION, source_hash
from .ir import ModuleIR, StateMachine
from .lower import lower
from .parse import parse


@dataclass
class Compiled:
    name: str
    version: str
    code: str
    machine: StateMachine  # the workflow body's
    source_hash: str
    warnings: list[Diagnostic] = field(default_factory=list)  # likely mistakes that still compile
    module: ModuleIR | None = None  # the body and every function


def workflow_name(path: str | Path) -> str:
    return Path(path).stem


def version_of(source: str) -> str:
    """Identical source (and code shape) -> identical version."""
    return hashlib.sha256(f"rhythm-shape-{emit.SHAPE}\n{source}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def prepare() -> None:
    """Build what every compile shares (the parser's tables, the module template) once, before forking workers."""
    compile_source("return null", "prepare.flow", fmt=False)


def compile_source(source: str, path: str = "<flow>", name: str | None = None, fmt: bool = True) -> Compiled:
    """Compile `.flow` text; raises CompileError with every diagnostic."""
    collecting = gc.isenabled()
    gc.disable()  # the compiler allocates many small, acyclic objects: collection is wasted work
    try:
        return _compile(source, path, name, fmt)
    finally:
        if collecting:
            gc.enable()


def resume_shape(module: ModuleIR, variables) -> str:
    """A hash of what a snapshot depends on: states and their routes, try table, await sites, variables and
    where they live (frame locals or environment records), and each function's kind and first state.

    Two versions with the same resume shape can resume each other's snapshots
    (`rhythm retry --version latest`): they differ only inside states.
    """
    functions = sorted((f.fid, f.kind, f.first_state) for f in module.functions)
    skeleton = repr((emit.SHAPE, sorted(module.edges()), [e.resolved() for e in module.try_entries],
                     sorted((s.id, s.kind) for s in module.sites), sorted(set(variables)), functions))
    return hashlib.sha256(skeleton.encode()).hexdigest()[:16]


def _compile(source: str, path: str, name: str | None, fmt: bool) -> Compiled:
    name = name or workflow_name(path)
    program = parse(source, path)
    res, diags = check(program, path)
    if any(d.severity == "error" for d in diags):
        raise CompileError(diags, source)
    module = lower(program, res, name, source)
    try:
        code = emit.render(module, name=name, version=version_of(source), source_file=Path(path).name,
                           source_hash=source_hash(source), front_matter=program.front_matter,
                           resume_shape=resume_shape(module, res.variable_keys()), fmt=fmt)
    except RecursionError:
        raise CompileError([Diagnostic(1, 1, "this workflow is nested too deeply to compile", 1, path)], source) from None
    return Compiled(name, version_of(source), code, module.main, source_hash(source), diags, module)


def read_source(path: str | Path) -> str:
    """A `.flow` file's text; a file that cannot be read or is not UTF-8 is a CompileError too."""
    try:
        data = Path(path).read_bytes()
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start].decode("utf-8").split("\n")
        message = f"the file is not valid UTF-8 ({e.reason} at byte {e.start}); save it as UTF-8"
        raise CompileError([Diagnostic(len(before), len(before[-1]) + 1, message, 1, str(path))],
                           data.decode("utf-8", errors="replace")) from None
    except OSError as e:
        raise CompileError([Diagnostic(1, 1, f"cannot read the file ({e.strerror or e})", 1, str(path))]) from None


def compile_file(path: str | Path, fmt: bool = True) -> Compiled:
    return compile_source(read_source(path), str(path), fmt=fmt)


@lru_cache(maxsize=64)
def block_scopes(source: str) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
    """(first line, last line, slots) of every block and loop that declares variables: a slot is out
    of scope on lines outside all of its blocks (what `rhythm inspect` leaves out of a failed run's locals).
    Empty for a source that does not compile."""
    try:
        resolution, _diagnostics = check(parse(source))
    except CompileError:
        return ()
    return tuple((node.span.line, node.span.end_line, tuple(slots)) for node, slots in resolution.scope_slots.items())
