"""Everything wrong with one workflow's source, statically: compile errors, then its names against the app's.

Shared by `rhythm check` and the language server, so a terminal and an
editor show the same messages at the same places. Unknown task and workflow
names are errors (a typo would otherwise wait for a worker that never comes);
a payload whose literal shape the task's type hints contradict is a warning;
a name computed at run time is a note.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from functools import lru_cache

from rhythm_compiler import ast as A
from rhythm_compiler.check import check, suggest
from rhythm_compiler.diagnostics import CompileError, Diagnostic
from rhythm_compiler.front_matter import front_matter_warnings
from rhythm_compiler.parse import parse
from rhythm_compiler.references import Reference, references
from rhythm_runtime.editor.app_names import AppNames, TaskInfo

LITERAL_KINDS = {A.ObjectLit: "an object", A.ArrayLit: "an array", A.Str: "a string", A.Template: "a string",
                 A.Num: "a number", A.Bool: "a boolean", A.Null: "null"}
PYTHON_KINDS = {dict: "an object", list: "an array", tuple: "an array", str: "a string", int: "a number",
                float: "a number", bool: "a boolean", type(None): "null",
                collections.abc.Mapping: "an object", collections.abc.MutableMapping: "an object",
                collections.abc.Sequence: "an array", collections.abc.MutableSequence: "an array"}


def parse_and_check(source: str, path: str) -> tuple[A.Program | None, list[Diagnostic]]:
    """The compiler's own diagnostics (syntax and checker), and the program when it parsed."""
    try:
        program = parse(source, path)
    except CompileError as e:
        return None, list(e.diagnostics)
    except RecursionError:
        return None, [Diagnostic(1, 1, "this code is nested too deeply to compile", 1, path)]
    return program, check(program, path)[1]


def findings(source: str, path: str, names: AppNames) -> list[Diagnostic]:
    """Compile errors and name findings of one `.flow` source, in line order."""
    program, diags = parse_and_check(source, path)
    if program is not None:
        diags = diags + name_findings(program, path, names)
    return sorted(diags, key=lambda d: (d.line, d.col))


def name_findings(program: A.Program, path: str, names: AppNames) -> list[Diagnostic]:
    out = front_matter_warnings(program, path)
    for ref in references(program):
        if ref.kind == "task" and names.tasks is not None:
            out += _task_findings(ref, path, names.tasks)
        elif ref.kind == "workflow":
            out += _workflow_findings(ref, path, names.workflows)
    return out


def _at(ref: Reference, path: str, message: str, severity: str) -> Diagnostic:
    return Diagnostic(ref.span.line, ref.span.col, message, ref.span.width, path, severity)


def _task_findings(ref: Reference, path: str, tasks: dict[str, TaskInfo]) -> list[Diagnostic]:
    if ref.name is None:
        return [_at(ref, path, "the task name is computed at run time, so it cannot be checked", "note")]
    info = tasks.get(ref.name)
    if info is None:
        known = _suggest(ref.name, tuple(tasks)) or f" (the app's tasks: {', '.join(sorted(tasks)) or 'none'})"
        return [_at(ref, path, f"unknown task '{ref.name}': no @task of the app has this name{known}", "error")]
    problem = payload_problem(ref.payload, info.payload_type)
    if problem is None:
        return []
    span = ref.payload.span if ref.payload is not None else ref.span
    return [Diagnostic(span.line, span.col, f"the payload of task '{ref.name}' ({info.signature}) {problem}",
                       span.width, path, "warning")]


def _workflow_findings(ref: Reference, path: str, workflows: dict) -> list[Diagnostic]:
    if ref.name is None:
        return [_at(ref, path, "the workflow name is computed at run time, so it cannot be checked", "note")]
    if ref.name in workflows:
        return []
    known = _suggest(ref.name, tuple(workflows)) or f" (workflows: {', '.join(sorted(workflows)) or 'none'})"
    return [_at(ref, path, f"unknown workflow '{ref.name}': no .flow file of the app has this name{known}", "error")]


@lru_cache(maxsize=256)
def _suggest(name: str, candidates: tuple[str, ...]) -> str:
    """`suggest`, remembered: the editor checks the same unknown names at every keystroke."""
    return suggest(name, candidates)


def payload_problem(payload, hint) -> str | None:
    """Why a literal payload cannot match the task's type hint, or None (also when either is unknown)."""
    given = LITERAL_KINDS.get(type(payload)) if payload is not None else "no payload (undefined)"
    expected = _hint_kinds(hint)
    if given is None or not expected:
        return None
    if given not in expected and not (given.startswith("no payload") and "null" in expected):
        return f"expects {' or '.join(sorted(expected))} but is given {given}"
    if isinstance(payload, A.ObjectLit) and typing.is_typeddict(hint):
        return _typed_dict_problem(payload, hint)
    return None


def _hint_kinds(hint) -> set[str]:
    """The JSON kinds a Python annotation admits; empty when it admits anything or is not understood."""
    if hint is None or hint is typing.Any or hint is object:
        return set()
    if typing.is_typeddict(hint):
        return {"an object"}
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [_hint_kinds(arg) for arg in typing.get_args(hint)]
        return set() if any(not k for k in kinds) else set().union(*kinds)
    kind = PYTHON_KINDS.get(origin or hint)
    return {kind} if kind else set()


def _typed_dict_problem(payload: A.ObjectLit, hint) -> str | None:
    if any(not isinstance(p, A.Prop) or not isinstance(p.key, str) for p in payload.props):
        return None  # a spread or a computed key: the keys are not known statically
    keys = {p.key for p in payload.props}
    missing = sorted(hint.__required_keys__ - keys)
    unknown = sorted(keys - set(typing.get_type_hints(hint)))
    if missing:
        return f"expects the key{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} ({hint.__name__})"
    if unknown:
        return f"has no key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {hint.__name__}"
    return None
