"""Check a parsed workflow: scopes, names, jumps and built-in calls.

Collects every independent problem (never stops at the first) and resolves
each variable reference to its slot in the locals dict. Slots are the
`.flow` names, suffixed `@2`, `@3`… only where a shadowing declaration would
collide, so a stored snapshot reads like the source.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import Diagnostic

# Workflow globals: member -> (min args, max args); None marks a property.
WORKFLOW_NAMESPACES: dict[str, dict[str, tuple[int, int] | None]] = {
    "Task": {"run": (1, 2), "all": (1, 1), "any": (1, 1), "race": (1, 1), "allSettled": (1, 1)},
    "Promise": {"all": (1, 1), "any": (1, 1), "race": (1, 1), "allSettled": (1, 1)},
    "Timer": {"delay": (1, 1)},
    "Signal": {"next": (1, 1)},
    "Workflow": {"run": (1, 2)},
    "Context": {"executionId": None, "workflowName": None},
}
CALLBACK_METHODS = {
    "map", "filter", "forEach", "reduce", "reduceRight", "find", "findIndex", "findLast",
    "findLastIndex", "some", "every", "flatMap", "then", "catch", "finally",
}
INPUTS_SLOT = "Inputs"


def library():
    """The closure-free library's tables, owned by the runtime's value module."""
    from rhythm_runtime.values import GLOBAL_CONSTANTS, GLOBAL_FUNCTIONS

    return GLOBAL_FUNCTIONS, GLOBAL_CONSTANTS


def namespace_members(ns: str) -> dict[str, tuple[int, int] | None]:
    funcs, consts = library()
    members = dict(WORKFLOW_NAMESPACES.get(ns, {}))
    for full, (_fn, lo, hi) in funcs.items():
        if full.startswith(ns + "."):
            members[full[len(ns) + 1:]] = (lo, hi)
    for full in consts:
        if full.startswith(ns + "."):
            members[full[len(ns) + 1:]] = None
    return members


def global_names() -> set[str]:
    funcs, consts = library()
    names = set(WORKFLOW_NAMESPACES) | {"Inputs"}
    names |= {k.split(".")[0] for k in funcs} | {k.split(".")[0] for k in consts}
    return names


def is_namespace(name: str) -> bool:
    return bool(namespace_members(name))


@dataclass
class Binding:
    name: str
    slot: str
    kind: str  # "let" | "const" | "catch" | "global"
    decl: A.Span


@dataclass
class Scope:
    parent: "Scope | None"
    bindings: dict[str, Binding] = field(default_factory=dict)

    def lookup(self, name: str) -> Binding | None:
        s: Scope | None = self
        while s is not None:
            if name in s.bindings:
                return s.bindings[name]
            s = s.parent
        return None


@dataclass
class Resolution:
    """What the checker learned: the slot of every local Name node."""

    slots: dict = field(default_factory=dict)  # Name node -> slot
    globals: dict = field(default_factory=dict)  # Name node -> global name


class Checker:
    def __init__(self, path: str):
        self.path = path
        self.diags: list[Diagnostic] = []
        self.res = Resolution()
        self.scope = Scope(None)
        self.live_slots: set[str] = {INPUTS_SLOT}
        self.jumps: list[tuple[str | None, bool]] = []  # (label, is_loop)
        self.globals = global_names()

    # -- reporting -----------------------------------------------------------
    def error(self, span: A.Span, message: str) -> None:
        self.diags.append(Diagnostic(max(span.line, 1), max(span.col, 1), message, span.width, self.path))

    # -- scopes ----------------------------------------------------------------
    def push(self) -> None:
        self.scope = Scope(self.scope)

    def pop(self) -> None:
        for b in self.scope.bindings.values():
            self.live_slots.discard(b.slot)
        self.scope = self.scope.parent

    def declare(self, name_node: A.Name, kind: str) -> None:
        name = name_node.name
        if name in self.scope.bindings:
            self.error(name_node.span, f"'{name}' is already declared in this scope")
            self.res.slots[name_node] = self.scope.bindings[name].slot
            return
        slot = name
        n = 1
        while slot in self.live_slots:
            n += 1
            slot = f"{name}@{n}"
        self.live_slots.add(slot)
        self.scope.bindings[name] = Binding(name, slot, kind, name_node.span)
        self.res.slots[name_node] = slot

    def declare_target(self, target, kind: str) -> None:
        if isinstance(target, A.Name):
            self.check_bindable(target)
            self.declare(target, kind)
        elif isinstance(target, A.ArrayPattern):
            for el in target.elements:
                if el is not None:
                    if el.default is not None:
                        self.expr(el.default)
                    self.declare_target(el.target, kind)
            if target.rest is not None:
                self.declare_target(target.rest, kind)
        elif isinstance(target, A.ObjectPattern):
            for p in target.props:
                if not isinstance(p.key, str):
                    self.expr(p.key)
                if p.default is not None:
                    self.expr(p.default)
                self.declare_target(p.target, kind)
            if target.rest is not None:
                self.declare_target(target.rest, kind)
        else:
            self.error(target.span, "a declaration can only bind names")

    def check_bindable(self, name: A.Name) -> None:
        if name.name in ("undefined", "NaN", "Infinity"):
            self.error(name.span, f"'{name.name}' cannot be declared")

    # -- program ----------------------------------------------------------------
    def program(self, prog: A.Program) -> None:
        self.push()
        self.block_body(prog.body)
        self.pop()

    def block_body(self, body) -> None:
        for s in body:
            self.stmt(s)

    # -- statements ------------------------------------------------------------
    def stmt(self, s) -> None:
        method = getattr(self, "stmt_" + type(s).__name__)
        method(s)

    def stmt_VarDecl(self, s: A.VarDecl) -> None:
        for d in s.decls:
            if d.init is not None:
                self.expr(d.init)
            elif s.kind == "const":
                self.error(d.span, "a 'const' declaration needs an initial value")
            if not isinstance(d.target, A.Name) and d.init is None:
                self.error(d.span, "a destructuring declaration needs an initial value")
            self.declare_target(d.target, s.kind)

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        self.expr(s.expr)

    def stmt_Block(self, s: A.Block) -> None:
        self.push()
        self.block_body(s.body)
        self.pop()

    def stmt_If(self, s: A.If) -> None:
        self.expr(s.test)
        self.nested(s.then)
        if s.other is not None:
            self.nested(s.other)

    def nested(self, s) -> None:
        """A braceless body still gets its own scope."""
        self.push()
        if isinstance(s, A.VarDecl):
            self.error(s.span, "a declaration cannot be the whole body of an if or a loop; wrap it in { }")
        self.stmt(s)
        self.pop()

    def loop_body(self, label, body) -> None:
        self.jumps.append((label, True))
        self.nested(body)
        self.jumps.pop()

    def stmt_While(self, s: A.While) -> None:
        self.expr(s.test)
        self.loop_body(s.label, s.body)

    def stmt_DoWhile(self, s: A.DoWhile) -> None:
        self.loop_body(s.label, s.body)
        self.expr(s.test)

    def stmt_For(self, s: A.For) -> None:
        self.push()
        if isinstance(s.init, A.VarDecl):
            self.stmt(s.init)
        elif s.init is not None:
            self.expr(s.init)
        if s.test is not None:
            self.expr(s.test)
        if s.update is not None:
            self.expr(s.update)
        self.loop_body(s.label, s.body)
        self.pop()

    def stmt_ForOf(self, s: A.ForOf) -> None:
        self.expr(s.iterable)
        self.push()
        if s.kind is not None:
            self.declare_target(s.target, s.kind)
        else:
            self.assign_target(s.target)
        self.loop_body(s.label, s.body)
        self.pop()

    def stmt_Break(self, s: A.Break) -> None:
        self.check_jump(s, "break")

    def stmt_Continue(self, s: A.Continue) -> None:
        self.check_jump(s, "continue")

    def check_jump(self, s, word: str) -> None:
        if s.label is None:
            if not any(is_loop for _, is_loop in self.jumps):
                self.error(s.span, f"'{word}' can only be used inside a loop")
            return
        for label, is_loop in reversed(self.jumps):
            if label == s.label:
                if word == "continue" and not is_loop:
                    self.error(s.span, f"'continue {s.label}': the label does not name a loop")
                return
        known = [lbl for lbl, _ in self.jumps if lbl]
        self.error(s.span, f"unknown label '{s.label}'" + suggest(s.label, known))

    def stmt_Return(self, s: A.Return) -> None:
        if s.value is not None:
            self.expr(s.value)

    def stmt_Throw(self, s: A.Throw) -> None:
        self.expr(s.value)

    def stmt_Try(self, s: A.Try) -> None:
        self.stmt_Block(s.block)
        if s.handler is not None:
            self.push()
            if s.param is not None:
                self.declare_target(s.param, "let")
            self.block_body(s.handler.body)
            self.pop()
        if s.finalizer is not None:
            self.stmt_Block(s.finalizer)

    def stmt_Labeled(self, s: A.Labeled) -> None:
        self.jumps.append((s.label, False))
        self.stmt(s.body)
        self.jumps.pop()

    def stmt_Empty(self, s) -> None:
        pass

    # -- expressions -----------------------------------------------------------
    def expr(self, e) -> None:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is not None:
            method(e)
        else:
            for c in A.children(e):
                self.expr(c)

    def expr_Name(self, e: A.Name) -> None:
        self.reference(e)

    def reference(self, e: A.Name) -> Binding | None:
        b = self.scope.lookup(e.name)
        if b is not None:
            if (b.decl.line, b.decl.col) > (e.span.line, e.span.col) and b.kind != "global":
                self.error(e.span, f"'{e.name}' is used before its declaration")
            self.res.slots[e] = b.slot
            return b
        if e.name in self.globals:
            if e.name == "Inputs":
                self.res.slots[e] = INPUTS_SLOT
                return None
            self.res.globals[e] = e.name
            if is_namespace(e.name) and e.name not in self.callable_globals():
                self.error(e.span, f"'{e.name}' can only be used as {e.name}.<member>, e.g. {self.example(e.name)}")
            return None
        if e.name in ("require", "process", "globalThis", "window", "console", "setTimeout", "fetch", "Symbol", "Map", "Set", "Reflect", "Proxy", "Function"):
            self.error(e.span, f"'{e.name}' is not available in workflows: the sandbox only has the documented globals (see docs/LANGUAGE.md)")
            return None
        visible = self.visible_names() | self.globals
        self.error(e.span, f"'{e.name}' is not declared" + suggest(e.name, visible))
        return None

    def callable_globals(self) -> set[str]:
        funcs, consts = library()
        return {k for k in funcs if "." not in k} | {k for k in consts if "." not in k}

    def example(self, ns: str) -> str:
        members = namespace_members(ns)
        first = sorted(members)[0]
        return f"{ns}.{first}(…)" if members[first] is not None else f"{ns}.{first}"

    def visible_names(self) -> set[str]:
        names, s = set(), self.scope
        while s is not None:
            names |= set(s.bindings)
            s = s.parent
        return names

    def expr_Member(self, e: A.Member) -> None:
        if isinstance(e.obj, A.Name) and self.is_global_namespace(e.obj):
            self.namespace_member(e.obj, e.prop, e.span, call_args=None)
            return
        self.expr(e.obj)

    def expr_Index(self, e: A.Index) -> None:
        if isinstance(e.obj, A.Name) and self.is_global_namespace(e.obj):
            self.res.globals[e.obj] = e.obj.name  # Math["floor"]: looked up at run time
        else:
            self.expr(e.obj)
        self.expr(e.index)

    def is_global_namespace(self, name: A.Name) -> bool:
        return self.scope.lookup(name.name) is None and name.name in self.globals and is_namespace(name.name)

    def namespace_member(self, ns: A.Name, prop: str, span: A.Span, call_args) -> None:
        self.res.globals[ns] = ns.name
        members = namespace_members(ns.name)
        if prop not in members:
            hint = suggest(prop, members, prefix=ns.name + ".")
            if call_args is not None or hint:  # a plain read of an unrelated name is just undefined, as in JS
                self.error(span, f"'{ns.name}.{prop}' does not exist" + hint)
            return
        arity = members[prop]
        if call_args is None:
            return
        if arity is None:
            self.error(span, f"'{ns.name}.{prop}' is not a function")
            return
        self.check_arity(f"{ns.name}.{prop}", arity, call_args, span)

    def check_arity(self, name: str, arity: tuple[int, int], args, span: A.Span) -> None:
        lo, hi = arity
        if any(isinstance(a, A.Spread) for a in args):
            return
        n = len(args)
        if n < lo or n > hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            plural = "" if hi == 1 else "s"
            self.error(span, f"'{name}' takes {want} argument{plural}, got {n}")

    def expr_Call(self, e: A.Call) -> None:
        callee = e.callee
        for a in e.args:
            self.expr(a)
        if isinstance(callee, A.Member) and isinstance(callee.obj, A.Name) and self.is_global_namespace(callee.obj):
            self.namespace_member(callee.obj, callee.prop, callee.span, e.args)
            return
        if isinstance(callee, A.Member) and callee.prop in CALLBACK_METHODS:
            self.error(callee.span, f"'.{callee.prop}()' takes a callback, and callbacks are not supported in workflows; use a for…of loop")
            return
        if isinstance(callee, A.Member) and callee.prop == "sort" and e.args:
            self.error(callee.span, "'.sort(compare)' takes a callback, and callbacks are not supported in workflows; sort in a task, or call .sort() for the default order")
            return
        if isinstance(callee, A.Name) and self.scope.lookup(callee.name) is None:
            funcs, _ = library()
            if callee.name in funcs:
                self.res.globals[callee] = callee.name
                self.check_arity(callee.name, funcs[callee.name][1:], e.args, e.span)
                return
        self.expr(callee)

    def expr_Assign(self, e: A.Assign) -> None:
        self.expr(e.value)
        self.assign_target(e.target)

    def expr_Update(self, e: A.Update) -> None:
        self.assign_target(e.target)

    def assign_target(self, t) -> None:
        if isinstance(t, A.Name):
            b = self.scope.lookup(t.name)
            if b is None:
                if t.name in self.globals:
                    self.error(t.span, f"cannot assign to the global '{t.name}'")
                else:
                    self.reference(t)
                return
            if b.kind == "const":
                self.error(t.span, f"cannot assign to '{t.name}' because it is a constant")
            self.res.slots[t] = b.slot
        elif isinstance(t, (A.Member, A.Index)):
            if isinstance(t.obj, A.Name) and self.is_global_namespace(t.obj):
                self.error(t.span, f"cannot assign to a member of '{t.obj.name}'")
                return
            self.expr(t)
        elif isinstance(t, A.ArrayPattern):
            for el in t.elements:
                if el is not None:
                    if el.default is not None:
                        self.expr(el.default)
                    self.assign_target(el.target)
            if t.rest is not None:
                self.assign_target(t.rest)
        elif isinstance(t, A.ObjectPattern):
            for p in t.props:
                if not isinstance(p.key, str):
                    self.expr(p.key)
                self.assign_target(p.target)
            if t.rest is not None:
                self.assign_target(t.rest)

    def expr_Unary(self, e: A.Unary) -> None:
        if e.op == "typeof" and isinstance(e.operand, A.Name) and self.scope.lookup(e.operand.name) is None \
                and e.operand.name not in self.globals:
            return  # typeof of an undeclared name is "undefined", not an error (as in JS)
        self.expr(e.operand)


def suggest(name: str, candidates, prefix: str = "") -> str:
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{match[0]}'?)" if match else ""


def check(program: A.Program, path: str = "<flow>") -> tuple[Resolution, list[Diagnostic]]:
    c = Checker(path)
    c.program(program)
    c.diags.sort(key=lambda d: (d.line, d.col))
    return c.res, c.diags
