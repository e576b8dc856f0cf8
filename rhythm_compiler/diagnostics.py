"""Compile diagnostics: one data type, one renderer (rustc/gcc style).

Every stage reports problems as `Diagnostic`s; the pipeline raises one
`CompileError` carrying all of them, so a user sees every independent error
of a file in one run and never a Python traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnostic:
    """One problem at a 1-based line and column of a `.flow` file."""

    line: int
    col: int
    message: str
    width: int = 1
    path: str = "<flow>"
    severity: str = "error"

    def headline(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


@dataclass
class CompileError(Exception):
    """Raised when a `.flow` source does not compile; carries every diagnostic."""

    diagnostics: list[Diagnostic]
    source: str = field(default="", repr=False)

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.source)


def render(diag: Diagnostic, source: str, color: bool = False) -> str:
    """The headline, the source line and a caret line under the spot."""
    head = diag.headline()
    if color:
        head = f"\x1b[1m{diag.path}:{diag.line}:{diag.col}: \x1b[31m{diag.severity}:\x1b[0m\x1b[1m {diag.message}\x1b[0m"
    lines = source.splitlines()
    if not 1 <= diag.line <= len(lines):
        return head
    text = lines[diag.line - 1]
    gutter = str(diag.line)
    # Keep the source's tabs so the caret lines up in any editor/terminal.
    lead = "".join(ch if ch == "\t" else " " for ch in text[: diag.col - 1])
    width = max(1, min(diag.width, max(1, len(text) - diag.col + 1)))
    caret = "^" * width
    if color:
        caret = f"\x1b[31m{caret}\x1b[0m"
    pad = " " * len(gutter)
    return f"{head}\n {gutter} | {text}\n {pad} | {lead}{caret}"


def render_all(diags: list[Diagnostic], source: str, color: bool = False) -> str:
    return "\n".join(render(d, source, color) for d in diags)
