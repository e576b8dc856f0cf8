"""One `.flow` document as the editor sees it: its program, scopes, names and every diagnostic.

The language server keeps one `Analysis` per open document and makes a new
one on each change (parsing and checking a 300-line workflow takes a few
milliseconds: see `bench/lsp_recheck.py`); every feature reads from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from rhythm_compiler import ast as A
from rhythm_compiler.check import check
from rhythm_compiler.diagnostics import CompileError, Diagnostic
from rhythm_compiler.ir import ModuleIR, Yield
from rhythm_compiler.lower import lower
from rhythm_compiler.parse import parse
from rhythm_compiler.references import Reference, references
from rhythm_runtime.editor.app_names import AppNames
from rhythm_runtime.editor.findings import name_findings

JUMPS = {A.Return: "return", A.Throw: "throw", A.Break: "break", A.Continue: "continue"}


@dataclass
class Analysis:
    source: str
    path: str
    program: A.Program | None = None
    resolution: object = None  # rhythm_compiler.check.Resolution when the program parsed
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @cached_property
    def references(self) -> list[Reference]:
        return references(self.program) if self.program is not None else []

    @cached_property
    def names(self) -> list[A.Name]:
        """Every Name node of the source the checker bound to a variable (declarations and uses), in source order:
        not the compiler's own (a `for await` loop's element "@item1"; where a function's `var`s start)."""
        if self.resolution is None:
            return []
        hoisted = {id(n) for names in self.resolution.hoisted_vars.values() for n in names}
        return sorted((n for n in self.resolution.bindings if not n.name.startswith("@") and id(n) not in hoisted),
                      key=lambda n: (n.span.line, n.span.col))

    @cached_property
    def machine(self) -> ModuleIR | None:
        """The state machines of the body and its functions (for state numbers); None while the document has errors."""
        if self.program is None or any(d.severity == "error" for d in self.diagnostics):
            return None
        try:
            return lower(self.program, self.resolution, "doc", self.source)
        except Exception:  # noqa: BLE001 -- an editor feature never takes the server down; compile reports it
            return None

    def name_at(self, line: int, col: int) -> A.Name | None:
        """The variable name under a 1-based line and column."""
        return next((n for n in self.names if _covers(n.span, line, col)), None)

    def reference_at(self, line: int, col: int) -> Reference | None:
        """The Task.run / Workflow.run / Signal.next name argument under a position."""
        return next((r for r in self.references if r.name is not None and _covers(r.span, line, col)), None)

    def occurrences(self, name: A.Name) -> list[A.Name]:
        """The declaration and every use of the variable `name` refers to."""
        binding = self.resolution.bindings[name]
        return [n for n in self.names if self.resolution.bindings[n] is binding]

    def declaration(self, name: A.Name) -> A.Name:
        return self.occurrences(name)[0]

    def waiting_states(self, line: int) -> list[int]:
        """The states a run waits in at the awaits of a `.flow` line (the numbers `rhythm inspect` prints)."""
        machine = self.machine
        if machine is None:
            return []
        return sorted({op.resume.id() for s in machine.states for op in s.ops
                       if isinstance(op, Yield) and op.site_line == line})


def analyze(source: str, path: str, names: AppNames) -> Analysis:
    """Parse, check and hold the names against the app; never raises for any text."""
    try:
        program = parse(source, path)
    except CompileError as e:
        return Analysis(source, path, diagnostics=list(e.diagnostics))
    except RecursionError:
        return Analysis(source, path, diagnostics=[Diagnostic(1, 1, "this code is nested too deeply to compile", 1, path)])
    resolution, diags = check(program, path)
    found = Analysis(source, path, program, resolution)
    found.diagnostics = sorted(diags + name_findings(program, path, names) + unused_variables(found)
                               + unreachable_code(program, path), key=lambda d: (d.line, d.col))
    return found


def unused_variables(found: Analysis) -> list[Diagnostic]:
    """A warning for each `let`/`const`/`var` that nothing reads or writes (names starting with `_` are exempt)."""
    uses: dict[int, int] = {}
    for n in found.names:
        uses[id(found.resolution.bindings[n])] = uses.get(id(found.resolution.bindings[n]), 0) + 1
    out = []
    for n in found.names:
        b = found.resolution.bindings[n]
        if b.decl is n.span and uses[id(b)] == 1 and b.kind in ("let", "const", "var") and not b.name.startswith("_"):
            out.append(Diagnostic(n.span.line, n.span.col, f"'{b.name}' is declared but never used", n.span.width,
                                  found.path, "warning"))
    return out


def unreachable_code(program: A.Program, path: str) -> list[Diagnostic]:
    """A warning on the first statement after a `return`, `throw`, `break` or `continue` in the same block."""
    out = []
    stack = [program]
    while stack:
        node = stack.pop()
        body = node.body if isinstance(node, (A.Program, A.Block)) else ()
        for before, after in zip(body, body[1:]):
            if type(before) in JUMPS and not isinstance(after, A.Empty):
                out.append(Diagnostic(after.span.line, after.span.col,
                                      f"unreachable code after '{JUMPS[type(before)]}'", 1, path, "warning"))
                break
        stack.extend(A.children(node))
    return out


def _covers(span: A.Span, line: int, col: int) -> bool:
    return span.line == line and span.col <= col < span.col + max(span.width, 1)
