"""The names a workflow refers to: every `Task.run`, `Workflow.run` and `Signal.next` call site.

`rhythm check` holds them against the app's tasks and workflows, and the
editor uses them for completion, go to definition and find references. A
name written as a string literal is known statically; one built at run time
(`Task.run(kind + "-v2")`) is reported as dynamic.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ast as A

CALLS = {("Task", "run"): "task", ("Workflow", "run"): "workflow", ("Signal", "next"): "signal"}


@dataclass(frozen=True)
class Reference:
    kind: str  # "task" | "workflow" | "signal"
    name: str | None  # None: the name is computed at run time
    span: A.Span  # the name argument (the whole call when it has none)
    payload: object = None  # the second argument's AST node, if any


def references(program: A.Program) -> list[Reference]:
    """Every call site in source order."""
    found = []
    stack = [program]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Call):
            ref = _reference(node)
            if ref is not None:
                found.append(ref)
        stack.extend(reversed(A.children(node)))
    return sorted(found, key=lambda r: (r.span.line, r.span.col))


def _reference(call: A.Call) -> Reference | None:
    callee = call.callee
    if not (isinstance(callee, A.Member) and isinstance(callee.obj, A.Name)):
        return None
    kind = CALLS.get((callee.obj.name, callee.prop))
    if kind is None:
        return None
    if not call.args:
        return Reference(kind, None, call.span)
    first = call.args[0]
    name = first.value if isinstance(first, A.Str) else _plain_template(first)
    payload = call.args[1] if len(call.args) > 1 else None
    return Reference(kind, name, first.span, payload)


def _plain_template(node) -> str | None:
    """A template literal without `${}` is a literal name too."""
    if isinstance(node, A.Template) and not node.exprs:
        return node.quasis[0]
    return None
