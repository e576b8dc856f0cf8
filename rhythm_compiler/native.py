"""Print await-free statements as plain Python inside the current state.

These statements need no states: loops are Python loops, `try` is Python's
try (JavaScript and Python agree on what `finally` does with return, break
and continue), and `break`/`continue` stay Python's because nothing they
cross was lowered. Every loop iteration ticks the step budget so a runaway
`while (true) {}` ends the run instead of hogging a worker.
"""

from __future__ import annotations

from typing import NamedTuple

from . import ast as A
from .pyexpr import BINARY, COMPOUND, py_str, slot_ref


class Role(NamedTuple):
    """A pattern's source that V8's TypeErrors name by its role, not its text: a parameter (by the argument's
    value: 'undefined', 'object null'), a for…of declaration ('.for'), a catch parameter ('.catch')."""

    name: str


ARGUMENT, FOR_OF, CATCH = Role("argument"), Role(".for"), Role(".catch")


class NativePrinter:
    def __init__(self, lowerer):
        self.lw = lowerer
        self.px = lowerer.px

    # -- output helpers ----------------------------------------------------------
    def code(self, text: str) -> None:
        self.lw.code(text)

    def block(self, body) -> None:
        """An indented Python block (never empty). A Block node's scope starts first: its environment record
        and its hoisted functions."""
        self.lw.indent += 1
        before = len(self.lw.cur.ops)
        if isinstance(body, A.Block):
            self.lw.enter_scope(body)
            body = body.body
        for s in body:
            self.stmt(s)
        if len(self.lw.cur.ops) == before or all(type(op).__name__ == "Comment" for op in self.lw.cur.ops[before:]):
            self.code("pass")
        self.lw.indent -= 1

    def body_of(self, s):
        return s if isinstance(s, A.Block) else [s]

    # -- statements --------------------------------------------------------------------
    def stmt(self, s) -> None:
        if not isinstance(s, (A.Block, A.Empty, A.FunctionDecl)):
            self.lw.comment(s.span)
        getattr(self, "n_" + type(s).__name__)(s)

    def n_Block(self, s: A.Block) -> None:
        self.lw.enter_scope(s)
        for x in s.body:
            if not isinstance(x, A.FunctionDecl):  # made when the block starts (hoisted)
                self.stmt(x)
        self.lw.drop_scope(s)

    def n_FunctionDecl(self, s: A.FunctionDecl) -> None:
        pass  # created where its block starts (see Lowerer.enter_scope)

    def n_Empty(self, s) -> None:
        pass

    def n_VarDecl(self, s: A.VarDecl) -> None:
        for d in s.decls:
            if d.init is None and s.kind == "var":
                continue  # the function's variable, there since it started (check.hoist_vars)
            if d.init is None:
                self.code(f"{self.lw.res.place(d.target).ref} = _js.UNDEFINED")
            else:
                self.assign_stmt(d.target, d.init, declaration=True)

    def assign_stmt(self, target, value, declaration: bool = False) -> None:
        if isinstance(target, A.Name):
            self.code(f"{self.lw.res.place(target).ref} = {self.px.expr(value)}")
        elif isinstance(target, (A.Member, A.Index)):
            self.code(self.px.assign(target, "=", self.px.expr(value)))
        else:
            tmp = self.px.fresh("_d")
            self.code(f"{tmp} = {self.px.expr(value)}")
            self.destructure(target, tmp, False, value, declaration)

    def n_ExprStmt(self, s: A.ExprStmt) -> None:
        e = s.expr
        if isinstance(e, A.Assign) and e.op == "=":
            self.assign_stmt(e.target, e.value)
        elif isinstance(e, A.Assign) and isinstance(e.target, A.Name) and e.op in COMPOUND:
            ref = self.lw.res.place(e.target).ref
            self.code(f"{ref} = _js.{BINARY[COMPOUND[e.op]]}({ref}, {self.px.expr(e.value)})")
        elif isinstance(e, A.Update) and isinstance(e.target, A.Name):
            ref = self.lw.res.place(e.target).ref
            self.code(f"{ref} = _js.to_number({ref}) {'+' if e.op == '++' else '-'} 1.0")
        else:
            self.code(self.px.expr(e))

    def n_If(self, s: A.If) -> None:
        self.code(f"if _js.truthy({self.px.expr(s.test)}):")
        self.block(self.body_of(s.then))
        other = s.other
        while isinstance(other, A.If):
            self.code(f"elif _js.truthy({self.px.expr(other.test)}):")
            self.block(self.body_of(other.then))
            other = other.other
        if other is not None:
            self.code("else:")
            self.block(self.body_of(other))

    def loop_body(self, stmts, prologue=()) -> None:
        self.lw.indent += 1
        self.code("S.tick()")
        for line in prologue:
            self.code(line)
        self.lw.indent -= 1
        self.block(stmts)

    def n_While(self, s: A.While) -> None:
        self.code(f"while _js.truthy({self.px.expr(s.test)}):")
        self.loop_body(self.body_of(s.body))

    def n_DoWhile(self, s: A.DoWhile) -> None:
        first = self.px.fresh("_first")
        self.code(f"{first} = True")
        self.code(f"while {first} or _js.truthy({self.px.expr(s.test)}):")
        self.loop_body(self.body_of(s.body), [f"{first} = False"])

    def n_For(self, s: A.For) -> None:
        self.lw.enter_scope(s)
        if isinstance(s.init, A.VarDecl):
            self.n_VarDecl(s.init)
        else:
            for e in s.init or ():
                self.n_ExprStmt(A.ExprStmt(e, s.span))
        started = self.px.fresh("_started")
        self.code(f"{started} = False")
        self.code("while True:")
        self.lw.indent += 1
        self.code("S.tick()")
        self.lw.next_iteration(s)  # before the update, as JavaScript copies a `let` loop's variables
        if s.update:
            # runs before every test but the first, so `continue` updates too
            self.code(f"if {started}:")
            self.lw.indent += 1
            for e in s.update:
                self.n_ExprStmt(A.ExprStmt(e, s.span))
            self.lw.indent -= 1
            self.code(f"{started} = True")
        if s.test is not None:
            self.code(f"if not _js.truthy({self.px.expr(s.test)}):")
            self.lw.indent += 1
            self.code("break")
            self.lw.indent -= 1
        self.lw.indent -= 1
        self.block(self.body_of(s.body))
        self.lw.drop_scope(s)

    def n_ForOf(self, s: A.ForOf) -> None:
        items, idx = self.px.fresh("_items"), self.px.fresh("_i")
        text = py_str(self.px.iterable_text(s.iterable))
        self.code(f"{idx} = 0")
        if s.is_in:  # (keys deleted since the loop began are skipped, as in JavaScript)
            obj = self.px.fresh("_object")
            self.code(f"{obj} = {self.px.expr(s.iterable)}")
            self.code(f"{items} = _op.for_in_keys({obj}, {text})")
            self.code(f"while ({idx} := _op.next_key({obj}, {items}, {idx})) < len({items}):")
        else:
            self.code(f"{items} = _op.iterable({self.px.expr(s.iterable)}, {text})")
            self.code(f"while {idx} < len({items}):")
        self.lw.indent += 1
        self.code("S.tick()")
        self.code(f"{idx} += 1")
        self.lw.enter_scope(s)
        declared = s.kind is not None and not s.is_in
        self.bind(s.target, f"{items}[{idx} - 1]", s.kind is not None, FOR_OF if declared else None, declared)
        self.lw.indent -= 1
        self.block(self.body_of(s.body))
        self.lw.drop_scope(s)

    def n_Break(self, s) -> None:
        self.code("break")

    def n_Continue(self, s) -> None:
        self.code("continue")

    def n_Return(self, s: A.Return) -> None:
        value = self.px.expr(s.value) if s.value is not None else "_js.UNDEFINED"
        self.code(f"return {value}")

    def n_Throw(self, s: A.Throw) -> None:
        self.code(f"raise _js.JSThrow({self.px.expr(s.value)})")

    def n_Try(self, s: A.Try) -> None:
        self.code("try:")
        self.block(s.block)
        if s.handler is not None:
            err = self.px.fresh("_e")
            self.code(f"except _js.JSThrow as {err}:")
            self.lw.indent += 1
            self.lw.enter_scope(s)
            if s.param is not None:
                self.bind(s.param, f"{err}.value", True, CATCH)
            self.lw.indent -= 1
            self.block(list(s.handler.body))
        if s.finalizer is not None:
            self.code("finally:")
            self.block(s.finalizer)

    def n_Switch(self, s: A.Switch) -> None:
        """Find the index of the case to start at (the first whose test is `===` the value, else `default`),
        then run every case body from there on inside a one-pass loop, so `break` leaves the switch
        (a `continue` of an enclosing loop makes the switch lowered instead: see Facts.jumps_python_cannot_do)."""
        value, start = self.px.fresh("_switch"), self.px.fresh("_case")
        self.code(f"{value} = {self.px.expr(s.discriminant)}")
        self.lw.enter_scope(s)
        default = next((i for i, case in enumerate(s.cases) if case.test is None), len(s.cases))
        keyword = "if"
        for i, case in enumerate(s.cases):
            if case.test is not None:
                self.code(f"{keyword} _js.strict_eq({value}, {self.px.expr(case.test)}):")
                self.indented(f"{start} = {i}")
                keyword = "elif"
        if keyword == "if":
            self.code(f"{start} = {default}")
        else:
            self.code("else:")
            self.indented(f"{start} = {default}")
        self.code("while True:")
        self.lw.indent += 1
        for i, case in enumerate(s.cases):
            if case.body:
                self.code(f"if {start} <= {i}:")
                self.block(case.body)
        self.code("break")
        self.lw.indent -= 1
        self.lw.drop_scope(s)

    def indented(self, line: str) -> None:
        self.lw.indent += 1
        self.code(line)
        self.lw.indent -= 1

    def n_Labeled(self, s: A.Labeled) -> None:
        self.stmt(s.body)

    # -- binding and destructuring -------------------------------------------------------
    def bind(self, target, value_py: str, declare: bool, value=None, declaration: bool = False) -> None:
        """Assign a value (Python expression) to a name or a pattern; `value` is the expression a top-level
        pattern destructures (V8 names it in its TypeErrors)."""
        if isinstance(target, A.Name):
            self.code(f"{self.lw.res.place(target).ref} = {value_py}")
        elif isinstance(target, (A.Member, A.Index)):
            key = py_str(target.prop) if isinstance(target, A.Member) else self.px.expr(target.index)
            self.code(f"_js.set_({self.px.expr(target.obj)}, {key}, {value_py})")
        else:
            tmp = self.px.fresh("_d")
            self.code(f"{tmp} = {value_py}")
            self.destructure(target, tmp, declare, value, declaration)

    def destructure(self, pattern, src: str, declare: bool, value=None, declaration: bool = False) -> None:
        if isinstance(pattern, A.ArrayPattern):
            items = self.px.fresh("_a")
            self.code(f"{items} = _op.iterable({src}, {array_source(self.px, value, declaration)})")
            for i, el in enumerate(pattern.elements):
                if el is None:
                    continue
                self.element(el.target, el.default, f"_op.at({items}, {i})", declare)
            if pattern.rest is not None:
                self.bind(pattern.rest, f"{items}[{len(pattern.elements)}:]", declare)
            return
        self.code(object_check(pattern, src, self.px, value))
        keys = []
        for p in pattern.props:
            if isinstance(p.key, str):
                key = py_str(p.key)
            else:  # evaluated once: the rest pattern needs it too
                key = self.px.fresh("_k")
                self.code(f"{key} = _js.to_property_key({self.px.expr(p.key)})")
            keys.append(key)
            self.element(p.target, p.default, f"_js.get({src}, {key})", declare)
        if pattern.rest is not None:
            self.bind(pattern.rest, f"_op.object_rest({src}, [{', '.join(keys)}])", declare)

    def element(self, target, default, value_py: str, declare: bool, value=None) -> None:
        """Bind one pattern element (or parameter); `value`: what V8's errors name, unless a default applies."""
        if default is None:
            self.bind(target, value_py, declare, value)
            return
        tmp = self.px.fresh("_v")
        self.code(f"{tmp} = {value_py}")
        self.code(f"if {tmp} is _js.UNDEFINED:")
        self.lw.indent += 1
        self.code(f"{tmp} = {self.px.expr(default)}")
        self.lw.indent -= 1
        self.bind(target, tmp, declare)


def array_source(px, value, declaration: bool) -> str:
    """What `_op.iterable` names when a destructured value is not iterable, as V8 does: the source of a
    declaration's name or literal (`x is not iterable`); None (it then describes the value, `number 5 is
    not iterable (…)`) for member reads, operators, assignments and nested patterns."""
    if isinstance(value, Role):
        return py_str(value.name) if value is FOR_OF else "None"
    if value is None or not declaration:
        return "None"
    if isinstance(value, A.Await):
        return py_str("(intermediate value)")
    if isinstance(value, A.Call) and isinstance(value.callee, A.Name):
        return py_str(f"{px.text(value.callee)} is not a function or its return value")
    if isinstance(value, (A.Name, A.Num, A.Str, A.Bool, A.Null, A.ObjectLit, A.ArrayLit)):
        return py_str(px.text(value))
    return "None"


def object_check(pattern, src: str, px, value) -> str:
    """The `_op.require_object` call of an object pattern: V8 names the value's source (a call or an await
    is an "(intermediate value)", a parameter its value, see Role) and the first key."""
    keys = []
    first = pattern.props[0] if pattern.props else None
    if first is not None and isinstance(first.key, str):
        keys.append(py_str(first.key))
        if first.default is not None:
            keys.append("True")
    if value is ARGUMENT:
        return f"_op.require_argument({', '.join([src, *keys])})"
    if value is None:
        name = "None"
    elif isinstance(value, Role):
        name = py_str(value.name)
    elif isinstance(value, (A.Await, A.OptChain)) or (isinstance(value, A.Call) and value.optional):
        name = py_str("(intermediate value)")
    else:
        name = py_str(px.v8_text(value))
    return f"_op.require_object({', '.join([src, name, *keys])})"
