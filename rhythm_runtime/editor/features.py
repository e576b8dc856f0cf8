"""What the editor offers at a position: completions, hover text, definitions, references, symbols.

Pure functions over an `Analysis` and the app's names, in the compiler's
terms (1-based lines and columns, `.flow` spans); `server.py` turns them
into LSP messages. Everything the language knows comes from the compiler's
and the runtime's own tables, never from a second copy.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from rhythm_compiler.check import WORKFLOW_NAMESPACES, global_names, library, namespace_members
from rhythm_compiler.lex import split_front_matter
from rhythm_runtime.editor.analysis import Analysis
from rhythm_runtime.editor.app_names import AppNames
from rhythm_runtime.editor.reference import reference
from rhythm_runtime.execution.values.methods import _ARRAY_METHODS
from rhythm_runtime.execution.values.string_methods import _STRING_METHODS
from rhythm_runtime.schedules import FRONT_MATTER_KEYS

# Parameter names of the workflow globals (their arities live in the checker's WORKFLOW_NAMESPACES).
WORKFLOW_PARAMETERS = {"run": "name, payload", "delay": "seconds", "next": "name"}
NAME_CALLS = {"Task.run": "task", "Workflow.run": "workflow", "Signal.next": "signal"}
_NAME_ARGUMENT = re.compile(r"\b(Task\.run|Workflow\.run|Signal\.next)\(\s*[\"'`]([^\"'`]*)$")
_MEMBER = re.compile(r"([A-Za-z_$][\w$]*)\s*\??\.\s*([\w$]*)$")
_WORD = re.compile(r"[\w$]*$")


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # "task" | "workflow" | "signal" | "variable" | "global" | "method" | "key"
    detail: str = ""


@dataclass(frozen=True)
class Place:
    """A file and a 1-based line and column (col 1 when only the line is known)."""

    path: str
    line: int
    col: int = 1
    width: int = 1


def completions(found: Analysis, scopes: Analysis, names: AppNames, line: int, col: int,
                signals: set[str]) -> list[Completion]:
    """What may be typed at a position (1-based), from the text before it; variables from `scopes`
    (the document's latest analysis that parsed, while the text being typed does not)."""
    before = _line(found.source, line)[: col - 1]
    if _in_front_matter(found.source, line):
        return [Completion(k, "key") for k in FRONT_MATTER_KEYS]
    called = _NAME_ARGUMENT.search(before)
    if called:
        return _names_for(NAME_CALLS[called.group(1)], names, signals)
    member = _MEMBER.search(before)
    if member:
        return _members_of(member.group(1))
    declared = {n.name: scopes.resolution.bindings[n].kind for n in scopes.names if (n.span.line, n.span.col) < (line, col)}
    return ([Completion(name, "variable", kind) for name, kind in sorted(declared.items())]
            + [Completion(g, "global") for g in sorted(global_names())])


def _names_for(kind: str, names: AppNames, signals: set[str]) -> list[Completion]:
    if kind == "task":
        return [Completion(t.name, "task", t.signature) for t in (names.tasks or {}).values()]
    if kind == "workflow":
        return [Completion(w, "workflow", str(p)) for w, p in sorted(names.workflows.items())]
    return [Completion(s, "signal") for s in sorted(signals)]


def _members_of(receiver: str) -> list[Completion]:
    """A namespace's members (`Math.`), or the string and array methods for any other value."""
    members = namespace_members(receiver) if receiver in global_names() else {}
    if members:
        return [Completion(m, "method" if arity is not None else "global", signature(f"{receiver}.{m}"))
                for m, arity in sorted(members.items())]
    methods = {**{m: "array" for m in _ARRAY_METHODS}, **{m: "string" for m in _STRING_METHODS}}
    both = set(_ARRAY_METHODS) & set(_STRING_METHODS)
    return [Completion(m, "method", "string and array" if m in both else kind) for m, kind in sorted(methods.items())]


def signature(full: str) -> str:
    """`Math.floor(x)`: a global function's name with its parameters, from the runtime's own table."""
    funcs, consts = library()
    if full in consts:
        return full
    if full in funcs:
        fn, lo, hi = funcs[full]
        try:
            params = [p for p in inspect.signature(fn).parameters.values()]
        except (TypeError, ValueError):
            params = []
        shown = [("..." if p.kind is p.VAR_POSITIONAL else "") + p.name for p in params]
        return f"{full}({', '.join(shown)})"
    ns, _, member = full.partition(".")
    if WORKFLOW_NAMESPACES.get(ns, {}).get(member) is None:
        return full  # not a workflow global, or a constant like Context.executionId
    return f"{full}({WORKFLOW_PARAMETERS.get(member, 'promises')})"


def hover(found: Analysis, names: AppNames, line: int, col: int) -> str | None:
    """Markdown for what is under a position: a task, a workflow, a variable, a global or an await."""
    ref = found.reference_at(line, col)
    if ref is not None:
        return _hover_reference(ref.kind, ref.name, names)
    name = found.name_at(line, col)
    if name is not None:
        decl = found.declaration(name)
        kind = found.resolution.bindings[name].kind
        return f"```js\n{kind} {name.name}\n```\ndeclared on line {decl.span.line}"
    word = _word_at(found.source, line, col)
    if word:
        return _hover_global(word)
    return None


def _hover_reference(kind: str, name: str, names: AppNames) -> str:
    if kind == "task":
        info = (names.tasks or {}).get(name)
        if info is None:
            return f"task `{name}`: no @task of the app has this name" if names.tasks is not None else f"task `{name}`"
        where = f"\n\n{info.file}:{info.line}" if info.file else ""
        doc = f"\n\n{info.doc}" if info.doc else ""
        return f"```python\n@task({name!r}, queue={info.queue!r})\ndef {info.signature}\n```{doc}{where}"
    if kind == "workflow":
        path = names.workflows.get(name)
        return f"workflow `{name}`" + (f": {path}" if path else ": no .flow file has this name")
    return f"signal `{name}`"


def _hover_global(word: str) -> str | None:
    """A global or a method: its signature and docs/LANGUAGE.md's row for it (editor/reference.py)."""
    receiver, _, member = word.rpartition(".")
    if not receiver:
        return _documented(word) or (f"`{word}`: a Rhythm global" if word in global_names() else None)
    if receiver == "Task" and member in ("all", "any", "race", "allSettled"):
        word = f"Promise.{member}"  # the same functions (docs/LANGUAGE.md, "In parallel")
    if receiver in global_names():
        return _documented(word, known=True) if member in namespace_members(receiver) else None
    found = [_documented(f"{kind}.{member}") for kind in ("array", "string", "number", "map", "set", "date")]
    return "\n\n---\n\n".join(x for x in found if x) or None


def _documented(name: str, known: bool = False) -> str | None:
    """Markdown for a documented name; for an undocumented one that is `known` to exist, its signature."""
    shown, text = reference().get(name, (None, ""))
    funcs, _ = library()
    if shown is None and name not in funcs and not known:
        return None
    head = signature(name) if name in funcs else shown or signature(name)
    if not text and name in funcs:
        text = inspect.getdoc(funcs[name][0]) or ""
    return f"```js\n{head}\n```" + (f"\n\n{text}" if text else "")


def definition(found: Analysis, names: AppNames, line: int, col: int) -> Place | None:
    """A task name -> its Python function, a workflow name -> its file, a variable -> its declaration."""
    ref = found.reference_at(line, col)
    if ref is not None and ref.kind == "task":
        info = (names.tasks or {}).get(ref.name)
        return Place(info.file, info.line) if info is not None and info.file else None
    if ref is not None and ref.kind == "workflow":
        path = names.workflows.get(ref.name)
        return Place(str(path), 1) if path else None
    name = found.name_at(line, col)
    if name is None:
        return None
    decl = found.declaration(name).span
    return Place(found.path, decl.line, decl.col, decl.width)


def task_references(task: str, documents: dict[str, Analysis]) -> list[Place]:
    """Every `Task.run("task")` across the workflows."""
    return [Place(path, r.span.line, r.span.col, r.span.width) for path, found in sorted(documents.items())
            for r in found.references if r.kind == "task" and r.name == task]


def symbols(found: Analysis) -> list[tuple[str, str, int]]:
    """(name, kind, line): the front matter, then each await site with its kind and state."""
    out = []
    front, _ = split_front_matter(found.source)
    if front is not None:
        out.append(("front matter", "front matter", 1))
    machine = found.machine
    if machine is not None:
        out += [(f"{site.kind} {site.detail}".strip() + f" (waits in state {', '.join(map(str, found.waiting_states(site.line)))})",
                 site.kind, site.line) for site in machine.sites]
    else:
        out += [(f"{r.kind} {r.name or '(computed)'}", r.kind, r.span.line) for r in found.references]
    return out


def signal_names(documents: dict[str, Analysis]) -> set[str]:
    return {r.name for found in documents.values() for r in found.references if r.kind == "signal" and r.name}


def workflow_documents(paths) -> dict[str, str]:
    """path -> text of every readable .flow file given."""
    out = {}
    for p in map(Path, paths):
        try:
            out[str(p)] = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return out


def _line(source: str, line: int) -> str:
    lines = source.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _in_front_matter(source: str, line: int) -> bool:
    front, start = split_front_matter(source)
    return front is not None and line <= source.count("\n", 0, start) and line > 1


def _word_at(source: str, line: int, col: int) -> str:
    """The dotted name under a position (`Math.floor` on either part)."""
    text = _line(source, line)
    for m in re.finditer(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*", text):
        if m.start() < col <= m.end():
            parts = m.group(0).split(".")
            upto = len(text[: col - 1][m.start():].split(".")) if "." in m.group(0) else 1
            return ".".join(parts[: max(upto, 2 if len(parts) > 1 and parts[0] in global_names() else 1)])
    return ""
