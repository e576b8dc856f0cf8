"""black, one logical line at a time, remembered across runs.

black costs about 0.6 ms per line of a generated module: 95% of a compile.
Editing a workflow changes a few of its statements, so `rhythm compile`
formats each statement of the module once and remembers the result in a
cache on disk (keyed by black's version and the statement with its
indentation), and an edit re-formats only the statements it changed.
Comments and blank lines are copied: the emitter writes them as black would.

The output equals black's on the whole module (tests/test_formatting.py
compares them over the golden and conformance programs). Whatever the cache
holds, the result must parse to the same syntax tree as its input, or the
whole module is formatted by black directly.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sqlite3
from dataclasses import dataclass, replace
from functools import cached_property
from types import CodeType

import black

from .caches import writable_cache_dir

MODE = black.Mode(target_versions={black.TargetVersion.PY311})
_KEY = f"{black.__version__}\0{MODE!r}\0"  # a cached statement is black's output for this version and mode
_MARK = "# rhythm: statement"
# A clause that continues a compound statement cannot stand alone: it is formatted after an opener it can follow.
_OPENERS = {"elif": "if x:\n", "else": "if x:\n", "except": "try:\n", "finally": "try:\n"}


@dataclass
class _Statement:
    first: int  # index of its first physical line
    last: int
    text: str  # its physical lines, indentation included
    depth: int
    header: bool  # a compound statement's header: ends with its colon

    @cached_property
    def key(self) -> str:
        return hashlib.sha256((_KEY + self.text).encode("utf-8", "surrogatepass")).hexdigest()


def format_module(text: str) -> str:
    """`text` as black formats it; each statement comes from the cache when it was formatted before."""
    lines = text.split("\n")
    tree = ast.parse(text)
    statements = _statements(lines, tree)
    with _Cache.open() as cache:
        known = cache.get([s.key for s in statements])
        missing = list({s.key: s for s in statements if s.key not in known}.values())
        fresh = _format_batch(missing)
        cache.put(fresh)
    known.update(fresh)
    result = _assemble(lines, statements, known)
    if _same_code(compile(tree, "<before>", "exec"), compile(result, "<after>", "exec")):
        return result
    return black.format_str(text, mode=MODE)


def _statements(lines: list[str], tree: ast.Module) -> list[_Statement]:
    """Every logical line of code, in order: each simple statement, and each header of a compound statement
    (its first line, and the clause lines no node starts on: `else:`, `finally:`). The emitter writes a
    header on one line."""
    spans: dict[int, tuple[int, bool]] = {}  # first line -> (last line, header), 0-based
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        inner = [child for field in ("body", "orelse", "finalbody", "handlers") for child in getattr(node, field, ())]
        if not inner:
            spans[node.lineno - 1] = (node.end_lineno - 1, False)
        else:
            spans[node.lineno - 1] = (node.lineno - 1, True)
            pending.extend(inner)
    covered = {i for first, (last, _) in spans.items() for i in range(first, last + 1)}
    for i, line in enumerate(lines):
        code = line.strip()
        if i not in covered and code and not code.startswith("#"):
            spans[i] = (i, True)
    return [_statement(lines, first, last, header) for first, (last, header) in sorted(spans.items())]


def _statement(lines: list[str], first: int, last: int, header: bool) -> _Statement:
    text = "\n".join(lines[first:last + 1])
    return _Statement(first, last, text, (len(text) - len(text.lstrip(" "))) // 4, header)


def _snippet(s: _Statement) -> tuple[str, int, int]:
    """`s` moved to the left margin, as black can format it alone: (text, lines to drop before it, and after).

    black measures a line with its indentation, so the statement is formatted
    with the line length less its indentation (one black call per depth)."""
    keyword = re.match(r"\s*(\w*)", s.text).group(1)
    margin = "    " * s.depth
    text = "\n".join(line.removeprefix(margin) for line in s.text.split("\n"))
    opener = _OPENERS[keyword] + "    pass\n" if keyword in _OPENERS else ""
    tail = "    pass\n" if s.header else ""
    if s.header and keyword == "try":
        tail += "finally:\n    pass\n"
    return opener + text + "\n" + tail, opener.count("\n"), tail.count("\n")


def _format_batch(statements: list[_Statement]) -> dict[str, str]:
    """Formatted text by key, with one call of black per depth: the statements split apart by a marker comment."""
    out: dict[str, str] = {}
    for depth in sorted({s.depth for s in statements}):
        batch = [s for s in statements if s.depth == depth]
        snippets = [_snippet(s) for s in batch]
        mode = replace(MODE, line_length=MODE.line_length - 4 * depth)
        text = f"\n{_MARK}\n".join(snippet for snippet, _, _ in snippets)
        parts = _split(black.format_str(text, mode=mode))
        assert len(parts) == len(snippets), "black merged the statements of a batch"
        margin = "    " * depth
        for s, lines, (_, before, after) in zip(batch, parts, snippets):
            out[s.key] = "\n".join(margin + line if line else line for line in lines[before:len(lines) - after])
    return out


def _split(formatted: str) -> list[list[str]]:
    """The lines of each statement of a batch, without the blank lines black put around the markers."""
    parts: list[list[str]] = [[]]
    for line in formatted.split("\n"):
        if line == _MARK:
            parts.append([])
        else:
            parts[-1].append(line)
    return [_strip_blank(part) for part in parts]


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def _assemble(lines: list[str], statements: list[_Statement], formatted: dict[str, str]) -> str:
    """The module with each statement replaced by its formatted lines; comments and blank lines kept."""
    out, at = [], 0
    for s in statements:
        _copy(lines[at:s.first], out)
        out.append(formatted[s.key])
        at = s.last + 1
    _copy(lines[at:], out)
    return "\n".join(out)


def _copy(lines: list[str], out: list[str]) -> None:
    """Comments and blank lines as black leaves them: no trailing spaces, at most two blank lines in a row."""
    for line in lines:
        line = line.rstrip()
        if line or len(out) < 2 or out[-1] or out[-2]:
            out.append(line)


def _same_code(a: CodeType, b: CodeType) -> bool:
    """The same bytecode, names and constants, line numbers aside: formatting changed the layout only."""
    fields = ("co_code", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_name", "co_exceptiontable")
    if any(getattr(a, f) != getattr(b, f) for f in fields) or len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, CodeType):
            if not (isinstance(y, CodeType) and _same_code(x, y)):
                return False
        elif type(x) is not type(y) or repr(x) != repr(y):
            return False
    return True


class _Cache:
    """Formatted statements on disk (SQLite, shared by concurrent compiles); without a writable place, none."""

    def __init__(self, db: sqlite3.Connection | None):
        self.db = db

    @classmethod
    def open(cls) -> "_Cache":
        folder = writable_cache_dir()
        if folder is None:
            return cls(None)
        try:
            db = sqlite3.connect(folder / "format.sqlite3", timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS statements (key TEXT PRIMARY KEY, formatted TEXT NOT NULL)")
            return cls(db)
        except sqlite3.Error:
            return cls(None)

    def __enter__(self) -> "_Cache":
        return self

    def __exit__(self, *exc) -> None:
        if self.db is not None:
            self.db.close()

    def get(self, keys: list[str]) -> dict[str, str]:
        if self.db is None:
            return {}
        found: dict[str, str] = {}
        unique = sorted(set(keys))
        try:
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(self.db.execute(f"SELECT key, formatted FROM statements WHERE key IN ({marks})", chunk))
        except sqlite3.Error:
            return {}
        return found

    def put(self, entries: dict[str, str]) -> None:
        if self.db is None or not entries:
            return
        try:
            self.db.executemany("INSERT OR IGNORE INTO statements VALUES (?, ?)", entries.items())
        except sqlite3.Error:
            pass  # a cache that cannot be written is only a slower compile
