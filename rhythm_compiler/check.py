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
from .front_matter import front_matter_errors

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
# Names of JavaScript's environment that the sandbox deliberately leaves out.
NOT_IN_SANDBOX = {
    "require", "process", "globalThis", "window", "global", "console", "setTimeout", "setInterval",
    "fetch", "Symbol", "Map", "Set", "WeakMap", "WeakSet", "Reflect", "Proxy", "Function", "module",
    "exports", "Buffer", "__dirname", "__filename", "queueMicrotask", "setImmediate",
}
SANDBOX_INSTEAD = {
    "console": "return values or pass them to a task to log them",
    "setTimeout": "use await Timer.delay(seconds)",
    "setInterval": "use a loop with await Timer.delay(seconds)",
    "fetch": "do network calls in a task (Task.run)",
    "require": "call Python code through Task.run",
    "Map": "use a plain object", "Set": "use an array with includes",
}
# What to use instead of names JavaScript developers reach for that no environment defines.
UNDECLARED_INSTEAD = {
    "sleep": "to wait, use await Timer.delay(seconds), e.g. await Timer.delay(\"5m\")",
    "delay": "to wait, use await Timer.delay(seconds), e.g. await Timer.delay(\"5m\")",
}
# A literal Timer.delay of this many seconds or more draws a warning: setTimeout counts milliseconds.
LONG_DELAY_SECONDS = 1000
# Limits that keep the generated Python within CPython's own nesting limits.
MAX_EXPRESSION_DEPTH = 48
MAX_BLOCK_DEPTH = 24
MAX_LOOP_DEPTH = 16  # a loop counts 1, a try 2
_STATEMENTS = (A.VarDecl, A.ExprStmt, A.Block, A.If, A.While, A.DoWhile, A.For, A.ForOf, A.Break, A.Continue,
               A.Return, A.Throw, A.Try, A.Switch, A.Case, A.Labeled, A.Empty, A.Declarator)
_COMPOUND = (A.If, A.While, A.DoWhile, A.For, A.ForOf, A.Try, A.Switch)
_STRUCTURAL = (A.Prop, A.Spread, A.PatternElem, A.PatternProp)


def callback_message(name: str, is_method: bool = True) -> str:
    """The diagnostic for a function passed where workflows have none: a callback."""
    if not is_method:
        instead = SANDBOX_INSTEAD.get(name, "write the logic inline, or move it into a task")
        return f"functions are not supported in workflows, so '{name}()' cannot take a callback; {instead}"
    if name in ("then", "catch", "finally"):
        instead = "await the promise instead, inside try / catch / finally to handle errors"
    elif name in ("sort", "toSorted"):
        instead = "call .sort() without arguments for the default order, or sort in a task"
    else:
        instead = "use a for…of loop instead"
    return f"'.{name}()' takes a callback, and callbacks are not supported in workflows; {instead}"


def library():
    """The closure-free library's tables, owned by the runtime's value module."""
    from rhythm_runtime.execution.values import GLOBAL_CONSTANTS, GLOBAL_FUNCTIONS

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
    case: tuple | None = None  # (switch, case index) when declared directly in a switch's case


@dataclass
class Scope:
    parent: "Scope | None"
    bindings: dict[str, Binding] = field(default_factory=dict)
    # Names a later `let`/`const` of this block declares -> its line (JavaScript's "temporal dead zone").
    pending: dict[str, int] = field(default_factory=dict)
    switch: A.Switch | None = None  # the switch whose cases share this scope

    def lookup(self, name: str) -> Binding | None:
        s: Scope | None = self
        while s is not None:
            if name in s.bindings:
                return s.bindings[name]
            s = s.parent
        return None

    def declared_later(self, name: str) -> int | None:
        """The line of the declaration of `name` when a use here comes before it."""
        s: Scope | None = self
        while s is not None:
            if name in s.bindings:
                return None
            if name in s.pending:
                return s.pending[name]
            s = s.parent
        return None


@dataclass
class Resolution:
    """What the checker learned: the slot of every local Name node."""

    slots: dict = field(default_factory=dict)  # Name node -> slot
    globals: dict = field(default_factory=dict)  # Name node -> global name
    scope_slots: dict = field(default_factory=dict)  # Block/For/ForOf node -> slots its scope declares
    bindings: dict = field(default_factory=dict)  # Name node (declaration or use) -> its Binding, for the editor


class Checker:
    def __init__(self, path: str):
        self.path = path
        self.diags: list[Diagnostic] = []
        self.res = Resolution()
        self.scope = Scope(None)
        self.live_slots: set[str] = {INPUTS_SLOT}
        self.jumps: list[tuple[str | None, str]] = []  # (label, "loop" | "switch" | "block")
        self.cases: list[tuple] = []  # the (switch, case index) of each case the code is in
        self.globals = global_names()

    # -- reporting -----------------------------------------------------------
    def error(self, span: A.Span, message: str) -> None:
        self.diags.append(Diagnostic(max(span.line, 1), max(span.col, 1), message, span.width, self.path))

    def warn(self, span: A.Span, message: str) -> None:
        """A likely mistake that still compiles (the module is written; the message is shown)."""
        self.diags.append(Diagnostic(max(span.line, 1), max(span.col, 1), message, span.width, self.path, "warning"))

    # -- scopes ----------------------------------------------------------------
    def push(self) -> None:
        self.scope = Scope(self.scope)

    def pop(self, node=None) -> None:
        """End a scope; `node` (a block or loop) forgets its variables when it ends (see Lowerer.drop_scope)."""
        for b in self.scope.bindings.values():
            self.live_slots.discard(b.slot)
        if node is not None and self.scope.bindings:
            self.res.scope_slots[node] = tuple(b.slot for b in self.scope.bindings.values())
        self.scope = self.scope.parent

    def declare(self, name_node: A.Name, kind: str) -> None:
        name = name_node.name
        if name in self.scope.bindings:
            first = self.scope.bindings[name].decl.line
            self.error(name_node.span, f"'{name}' is already declared in this scope (on line {first}); "
                                       f"assign to it without 'let', or choose another name")
            self.res.slots[name_node] = self.scope.bindings[name].slot
            return
        slot = name
        n = 1
        while slot in self.live_slots:
            n += 1
            slot = f"{name}@{n}"
        self.live_slots.add(slot)
        self.scope.pending.pop(name, None)
        case = self.cases[-1] if self.scope.switch is not None else None
        self.scope.bindings[name] = self.res.bindings[name_node] = Binding(name, slot, kind, name_node.span, case)
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
            self.error(target.span, "a declaration can only bind names, not properties or indexes")

    def check_bindable(self, name: A.Name) -> None:
        if name.name in ("undefined", "NaN", "Infinity"):
            self.error(name.span, f"'{name.name}' is a built-in constant, so it cannot be declared; choose another name")

    # -- program ----------------------------------------------------------------
    def program(self, prog: A.Program) -> None:
        if self.too_deep(prog):
            return
        self.push()
        self.block_body(prog.body)
        self.pop()

    def too_deep(self, prog: A.Program) -> bool:
        """Report code nested beyond what the generated Python can hold (CPython limits
        indentation, statically nested loops and try blocks, and nested parentheses)."""
        stack = [(s, 0, 0, 0) for s in prog.body]
        while stack:
            n, blocks, python_blocks, exprs = stack.pop()
            is_stmt = isinstance(n, _STATEMENTS)
            if isinstance(n, _COMPOUND):
                blocks += 1
            python_blocks += 2 if isinstance(n, A.Try) else 1 if isinstance(n, A.BREAKABLE) else 0
            if not is_stmt and not isinstance(n, _STRUCTURAL):
                exprs += 1
            problem = None
            if blocks > MAX_BLOCK_DEPTH:
                problem = f"statements are nested more than {MAX_BLOCK_DEPTH} levels deep here"
            elif python_blocks > MAX_LOOP_DEPTH:
                problem = "loops and try statements are nested too deeply here"
            elif exprs > MAX_EXPRESSION_DEPTH:
                problem = f"expressions are nested more than {MAX_EXPRESSION_DEPTH} levels deep here"
            if problem:
                self.error(n.span, f"{problem}; move the inner part into separate statements and variables, "
                                   f"or into a task or a child workflow")
                return True
            for c in A.children(n):
                # `else if` chains are emitted flat (elif), so they do not nest
                chained = isinstance(n, A.If) and c is n.other and isinstance(c, A.If)
                stack.append((c, blocks - chained, python_blocks, 0 if is_stmt else exprs))
        return False

    def block_body(self, body) -> None:
        self.declare_pending(body)
        for s in body:
            self.stmt(s)

    def declare_pending(self, body) -> None:
        """Names a block declares, known from its start (a use before the declaration is an error)."""
        for s in body:
            if isinstance(s, A.VarDecl):
                for d in s.decls:
                    for name in bound_names(d.target):
                        self.scope.pending.setdefault(name.name, name.span.line)

    # -- statements ------------------------------------------------------------
    def stmt(self, s) -> None:
        method = getattr(self, "stmt_" + type(s).__name__)
        method(s)

    def stmt_VarDecl(self, s: A.VarDecl) -> None:
        for d in s.decls:
            if d.init is not None:
                self.expr(d.init)
            elif s.kind == "const":
                self.error(d.span, "a 'const' declaration needs an initial value; write 'const name = value'")
            if not isinstance(d.target, A.Name) and d.init is None:
                self.error(d.span, "a destructuring declaration needs a value to destructure; add '= value'")
            self.declare_target(d.target, s.kind)

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        self.expr(s.expr)

    def stmt_Block(self, s: A.Block) -> None:
        self.push()
        self.block_body(s.body)
        self.pop(s)

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

    def loop_body(self, label, body, span: A.Span = A.NOSPAN) -> None:
        self.check_label(label, span)
        self.jumps.append((label, "loop"))
        self.nested(body)
        self.jumps.pop()

    def stmt_While(self, s: A.While) -> None:
        self.expr(s.test)
        self.loop_body(s.label, s.body, s.span)

    def stmt_DoWhile(self, s: A.DoWhile) -> None:
        self.loop_body(s.label, s.body, s.span)
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
        self.loop_body(s.label, s.body, s.span)
        self.pop(s)

    def stmt_ForOf(self, s: A.ForOf) -> None:
        self.expr(s.iterable)
        self.push()
        if s.kind is not None:
            self.declare_target(s.target, s.kind)
        else:
            self.assign_target(s.target)
        self.loop_body(s.label, s.body, s.span)
        self.pop(s)

    def stmt_Break(self, s: A.Break) -> None:
        self.check_jump(s, "break")

    def stmt_Continue(self, s: A.Continue) -> None:
        self.check_jump(s, "continue")

    def stmt_Switch(self, s: A.Switch) -> None:
        """All cases share one scope, as in JavaScript; a variable declared directly in one case may be used
        only in that case (another case may run without its declaration: a ReferenceError in JavaScript)."""
        self.expr(s.discriminant)
        self.check_label(s.label, s.span)
        self.push()
        self.scope.switch = s
        for case in s.cases:
            self.declare_pending(case.body)
        self.jumps.append((s.label, "switch"))
        for i, case in enumerate(s.cases):
            if case.test is not None:
                self.expr(case.test)
            self.cases.append((s, i))
            for st in case.body:
                self.stmt(st)
            self.cases.pop()
        self.jumps.pop()
        self.pop(s)

    def check_jump(self, s, word: str) -> None:
        if s.label is None:
            allowed = ("loop",) if word == "continue" else ("loop", "switch")
            if not any(kind in allowed for _, kind in self.jumps):
                where = "a loop" if word == "continue" else "a loop or a switch"
                self.error(s.span, f"'{word}' can only be used inside {where}")
            return
        for label, kind in reversed(self.jumps):
            if label == s.label:
                if word == "continue" and kind != "loop":
                    self.error(s.span, f"'continue {s.label}' needs '{s.label}' to label a loop, "
                                       f"but it labels another statement")
                return
        known = [lbl for lbl, _kind in self.jumps if lbl]
        self.error(s.span, f"there is no label '{s.label}' around this '{word}'" + suggest(s.label, known))

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
        self.check_label(s.label, s.span)
        self.jumps.append((s.label, "block"))
        self.stmt(s.body)
        self.jumps.pop()

    def check_label(self, label: str | None, span: A.Span) -> None:
        if label is not None and any(lbl == label for lbl, _ in self.jumps):
            self.error(span, f"the label '{label}' is already used by an enclosing statement; choose another name")

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
        if self.used_too_early(e):
            return None
        b = self.scope.lookup(e.name)
        if b is not None:
            if (b.decl.line, b.decl.col) > (e.span.line, e.span.col) and b.kind != "global":
                self.error(e.span, f"'{e.name}' is used before its declaration")
            self.check_same_case(e, b)
            self.res.slots[e] = b.slot
            self.res.bindings[e] = b
            return b
        if e.name in self.globals:
            if e.name == "Inputs":
                self.res.slots[e] = INPUTS_SLOT
                return None
            self.res.globals[e] = e.name
            if is_namespace(e.name) and e.name not in self.callable_globals():
                self.error(e.span, f"'{e.name}' can only be used as {e.name}.<member>, e.g. {self.example(e.name)}")
            return None
        if e.name in NOT_IN_SANDBOX:
            instead = SANDBOX_INSTEAD.get(e.name, "pass what the workflow needs through Inputs or a task")
            self.error(e.span, f"'{e.name}' is not available in workflows, because the sandbox has only "
                               f"the documented globals; {instead}")
            return None
        visible = self.visible_names() | self.globals
        hint = f"; {UNDECLARED_INSTEAD[e.name]}" if e.name in UNDECLARED_INSTEAD else suggest(e.name, visible)
        self.error(e.span, f"'{e.name}' is not declared" + hint)
        return None

    def check_same_case(self, e: A.Name, b: Binding) -> None:
        if b.case is not None and b.case not in self.cases:
            self.error(e.span, f"'{e.name}' is declared in another case of this switch (line {b.decl.line}), "
                               f"where it is set only if that case runs; declare it before the switch, "
                               f"or put each case's statements in {{ }}")

    def callable_globals(self) -> set[str]:
        funcs, consts = library()
        return {k for k in funcs if "." not in k} | {k for k in consts if "." not in k}

    def example(self, ns: str) -> str:
        members = namespace_members(ns)
        functions = sorted(m for m, arity in members.items() if arity is not None)
        if "run" in functions:
            return f"{ns}.run(…)"
        if functions:
            return f"{ns}.{functions[0]}(…)"
        return f"{ns}.{sorted(members)[0]}"

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

    def namespace_member(self, ns: A.Name, prop: str, span: A.Span, call_args, optional: bool = False) -> None:
        self.res.globals[ns] = ns.name
        members = namespace_members(ns.name)
        if prop not in members:
            hint = suggest(prop, members, prefix=ns.name + ".")
            if call_args is not None and not optional:  # `Math.nope?.()` is undefined, as in JS
                if not hint and len(members) <= 8:
                    hint = f" ({ns.name} has {_words(sorted(members))})"
                self.error(span, f"'{ns.name}.{prop}' is not a function" + hint)
            elif hint:  # a plain read of an unrelated name is just undefined, as in JS
                self.error(span, f"'{ns.name}.{prop}' does not exist" + hint)
            return
        arity = members[prop]
        if call_args is None:
            return
        if arity is None:
            self.error(span, f"'{ns.name}.{prop}' is a value, not a function; remove the parentheses")
            return
        self.check_arity(f"{ns.name}.{prop}", arity, call_args, span)

    def check_arity(self, name: str, arity: tuple[int, int], args, span: A.Span) -> None:
        lo, hi = arity
        if any(isinstance(a, A.Spread) for a in args):
            return
        n = len(args)
        if n < lo or n > hi:
            if hi >= 1000:
                want, plural = f"at least {lo}", "" if lo == 1 else "s"
            else:
                want = f"{lo}" if lo == hi else f"{lo} to {hi}"
                plural = "" if hi == 1 else "s"
            self.error(span, f"'{name}' takes {want} argument{plural}, but {n} {'was' if n == 1 else 'were'} given")

    def expr_Call(self, e: A.Call) -> None:
        callee = e.callee
        is_global_member = (isinstance(callee, A.Member) and isinstance(callee.obj, A.Name)
                            and self.is_global_namespace(callee.obj))
        takes_callback = not is_global_member and isinstance(callee, A.Member) and (
            callee.prop in CALLBACK_METHODS or (callee.prop in ("sort", "toSorted") and bool(e.args)))
        for a in e.args:
            if takes_callback and isinstance(a, A.Name) and self.scope.lookup(a.name) is None:
                continue  # the name of a would-be callback: the callback error says it all
            self.expr(a)
        if is_global_member:
            self.namespace_member(callee.obj, callee.prop, callee.span, e.args, optional=e.optional)
            if (callee.obj.name, callee.prop) == ("Timer", "delay") and e.args and isinstance(e.args[0], A.Num):
                self.warn_long_delay(e.args[0])
            return
        if takes_callback:
            self.error(callee.span, callback_message(callee.prop))
            self.expr(callee.obj)
            return
        if isinstance(callee, A.Name) and self.scope.lookup(callee.name) is None:
            funcs, _ = library()
            if callee.name in funcs:
                self.res.globals[callee] = callee.name
                self.check_arity(callee.name, funcs[callee.name][1:], e.args, e.span)
                return
        self.expr(callee)

    def warn_long_delay(self, arg: A.Num) -> None:
        """Timer.delay(5000) waits 5000 seconds; a JavaScript developer used to setTimeout meant milliseconds."""
        n = arg.value
        if n >= LONG_DELAY_SECONDS:
            meant = f"{n / 1000:g}s"
            self.warn(arg.span, f"Timer.delay takes seconds: this waits {n:g} seconds; did you mean \"{meant}\"?")

    def expr_NewError(self, e: A.NewError) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity("new Error", (0, 2), e.args, e.span)

    def expr_NewRegExp(self, e: A.NewRegExp) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity("new RegExp", (0, 2), e.args, e.span)

    def expr_Assign(self, e: A.Assign) -> None:
        self.expr(e.value)
        self.assign_target(e.target)

    def expr_Update(self, e: A.Update) -> None:
        self.assign_target(e.target)

    def used_too_early(self, e: A.Name) -> bool:
        line = self.scope.declared_later(e.name)
        if line is None:
            return False
        if line == e.span.line:
            self.error(e.span, f"'{e.name}' is used before its declaration is complete; give it a value first")
        else:
            self.error(e.span, f"'{e.name}' is used before its declaration on line {line}; "
                               f"move the declaration above this use")
        return True

    def assign_target(self, t) -> None:
        if isinstance(t, A.Name):
            if self.used_too_early(t):
                return
            b = self.scope.lookup(t.name)
            if b is None:
                if t.name in self.globals:
                    self.error(t.span, f"cannot assign to the built-in '{t.name}'; declare a variable of your own with 'let'")
                elif t.name in NOT_IN_SANDBOX:
                    self.reference(t)
                else:
                    visible = self.visible_names() | self.globals
                    hint = suggest(t.name, visible)
                    self.error(t.span, f"cannot assign to '{t.name}' because it is not declared"
                                       + (hint if hint else f"; declare it with 'let {t.name} = …'"))
                return
            self.check_same_case(t, b)
            if b.kind == "const":
                self.error(t.span, f"cannot assign to '{t.name}' because it is a constant (declared with 'const' "
                                   f"on line {b.decl.line}); declare it with 'let' if it must change")
            self.res.slots[t] = b.slot
            self.res.bindings[t] = b
        elif isinstance(t, (A.Member, A.Index)):
            if isinstance(t.obj, A.Name) and self.is_global_namespace(t.obj):
                self.error(t.span, f"cannot assign to a member of the built-in '{t.obj.name}'")
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
                and e.operand.name not in self.globals and self.scope.declared_later(e.operand.name) is None:
            return  # typeof of an undeclared name is "undefined", not an error (as in JS)
        self.expr(e.operand)


def bound_names(target) -> list[A.Name]:
    """The names a declaration target binds (through array and object patterns)."""
    if isinstance(target, A.Name):
        return [target]
    out: list[A.Name] = []
    if isinstance(target, A.ArrayPattern):
        for el in target.elements:
            if el is not None:
                out += bound_names(el.target)
    elif isinstance(target, A.ObjectPattern):
        for p in target.props:
            out += bound_names(p.target)
    if isinstance(target, (A.ArrayPattern, A.ObjectPattern)) and target.rest is not None:
        out += bound_names(target.rest)
    return out


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def suggest(name: str, candidates, prefix: str = "") -> str:
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{match[0]}'?)" if match else ""


def check(program: A.Program, path: str = "<flow>") -> tuple[Resolution, list[Diagnostic]]:
    c = Checker(path)
    c.program(program)
    c.diags += front_matter_errors(program, path)
    c.diags.sort(key=lambda d: (d.line, d.col))
    return c.res, c.diags
