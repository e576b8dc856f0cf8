"""Compile diagnostics: one data type, one renderer (rustc/gcc style).

Every stage reports problems as `Diagnostic`s; the pipeline raises one
`CompileError` carrying all of them, so a user sees every independent error
of a file in one run and never a Python traceback.
"""

from __future__ import annotations

import unicodedata
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


def source_lines(source: str) -> list[str]:
    """The lines of a `.flow` file as diagnostics number them: split at LF only (a CR
    before the LF is dropped), which is how the lexer counts lines."""
    return [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]


def _shown(ch: str) -> str:
    """A character as the source line under a diagnostic shows it: tabs are kept,
    anything else invisible or line-breaking (NUL, CR, U+2028, …) becomes U+FFFD."""
    return ch if ch == "\t" or ch.isprintable() else "\ufffd"


def _columns(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def render(diag: Diagnostic, source: str, color: bool = False) -> str:
    """The headline, the source line and a caret line under the spot."""
    head = diag.headline()
    if color:
        head = f"\x1b[1m{diag.path}:{diag.line}:{diag.col}: \x1b[31m{diag.severity}:\x1b[0m\x1b[1m {diag.message}\x1b[0m"
    lines = source_lines(source)
    if not 1 <= diag.line <= len(lines):
        return head
    text = "".join(_shown(ch) for ch in lines[diag.line - 1])
    gutter = str(diag.line)
    # Keep the source's tabs (and double-width characters) so the caret lines up.
    before = text[: diag.col - 1]
    lead = "".join("\t" if ch == "\t" else " " * _columns(ch) for ch in before)
    lead += " " * max(0, diag.col - 1 - len(before))  # a caret just past the end of the line
    under = text[diag.col - 1 : diag.col - 1 + max(1, diag.width)]
    caret = "^" * max(1, sum(_columns(ch) for ch in under))
    if color:
        caret = f"\x1b[31m{caret}\x1b[0m"
    pad = " " * len(gutter)
    return f"{head}\n {gutter} | {text}\n {pad} | {lead}{caret}"


def render_all(diags: list[Diagnostic], source: str, color: bool = False) -> str:
    return "\n".join(render(d, source, color) for d in diags)
