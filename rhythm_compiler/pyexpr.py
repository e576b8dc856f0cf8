"""Print await-free `.flow` expressions as Python expressions.

Everything a workflow does to a value goes through `rhythm_runtime.execution.values`
(`_js`) or `rhythm_runtime.execution.flowops` (`_op`): no `.flow` name ever becomes a
Python name, no property access becomes a Python attribute, and string
literals are printed with `repr`, so nothing in a `.flow` file can reach
Python or change the generated code's meaning. Workflow variables live in the
locals dict `L`, keyed by their slot (their `.flow` name).
"""

from __future__ import annotations

import math

from . import ast as A
from .check import INPUTS_SLOT, WORKFLOW_NAMESPACES, Resolution, constructor_member, is_namespace, library

BINARY = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "**": "pow",
    "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "===": "strict_eq", "!==": "strict_ne",
    "==": "loose_eq", "!=": "loose_ne",
    "&": "bit_and", "|": "bit_or", "^": "bit_xor", "<<": "shift_left", ">>": "shift_right", ">>>": "shift_right_unsigned",
}
# Operators on numbers only, folded when both sides are number literals.
ARITHMETIC = {"+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>"}
COMPOUND = {f"{op}=": op for op in ARITHMETIC}
UNARY = {"-": "neg", "+": "pos", "~": "bit_not"}
COMBINATORS = {"all", "any", "race", "allSettled"}


def py_str(s: str) -> str:
    """A Python literal for any string (quotes, backslashes, NUL, lone surrogates)."""
    return repr(s)


def py_num(x: float) -> str:
    if math.isnan(x):
        return 'float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else 'float("-inf")'
    return repr(float(x))


def constant_number(e) -> float | None:
    """The value of arithmetic on number literals (`3 * 24 * 3600`), computed by the runtime's own operators
    so that it is exactly what the run would compute; None for anything else."""
    if isinstance(e, A.Num):
        return float(e.value)
    if isinstance(e, A.Unary) and e.op == "-":
        inner = constant_number(e.operand)
        return None if inner is None else -inner
    if isinstance(e, A.Binary) and e.op in ARITHMETIC:
        left, right = constant_number(e.left), constant_number(e.right)
        if left is not None and right is not None:
            from rhythm_runtime.execution import values as _js

            return getattr(_js, BINARY[e.op])(left, right)
    return None


def slot_ref(slot: str) -> str:
    return f"L[{py_str(slot)}]"


class Sites:
    """Numbers every call that schedules durable work, in source order."""

    def __init__(self):
        from .ir import Site

        self._cls = Site
        self.items: list = []

    def add(self, kind: str, line: int, detail: str = "") -> int:
        site = self._cls(len(self.items), kind, line, detail)
        self.items.append(site)
        return site.id


class ExprPrinter:
    def __init__(self, res: Resolution, source_lines: list[str], sites: Sites):
        self.res = res
        self.lines = source_lines
        self.sites = sites
        self.counter = 0
        self.funcs, self.consts = library()

    def fresh(self, prefix: str = "_c") -> str:
        """A Python local for a value used twice within one expression."""
        self.counter += 1
        return f"{prefix}{self.counter}"

    def v8_text(self, e) -> str:
        """An expression as V8's messages print it: calls as `f(...)`, `o["key"]` as `o.key`, `o?.["key"]` as
        `o?.key`."""
        if isinstance(e, A.Call) and not e.optional:
            return f"{self.v8_text(e.callee)}(...)"
        if isinstance(e, A.Await):
            return "(intermediate value)"
        dot = "?." if getattr(e, "optional", False) else "."
        if isinstance(e, A.Member):
            return f"{self.v8_receiver_text(e.obj)}{dot}{e.prop}"
        if isinstance(e, A.Index):
            if isinstance(e.index, A.Str):
                return f"{self.v8_receiver_text(e.obj)}{dot}{e.index.value}"
            return f"{self.v8_receiver_text(e.obj)}{'?.' if e.optional else ''}[{self.v8_text(e.index)}]"
        return self.text(e)

    def v8_receiver_text(self, e) -> str:
        """The object of a member as V8 prints it: an operator in parentheses (`(a || b).c`)."""
        if isinstance(e, (A.Binary, A.Logical)):
            return f"({self.text(e)})"
        if isinstance(e, A.Conditional):
            return "(intermediate value)" * 3
        return self.v8_text(e)

    def iterable_text(self, e, call_spread: bool = False) -> str:
        """How V8 names a value that is not iterable (for…of, `[...e]`, `f(...e)`): `o.a`, `g is not a function
        or its return value` (a call's `f(...)` in a call's spread), `(intermediate value)` for an await or an
        optional chain, an operator in parentheses."""
        if isinstance(e, (A.Await, A.OptChain)) or A.has_optional_link(e):
            return "(intermediate value)"
        if isinstance(e, A.Call) and isinstance(e.callee, (A.Name, A.Member, A.Index)):
            callee = self.v8_text(e.callee)
            return f"{callee}(...)" if call_spread else f"{callee} is not a function or its return value"
        if isinstance(e, A.Conditional):
            return "(intermediate value)" * 3
        folded = constant_number(e)
        if folded is not None and not isinstance(e, A.Num):
            from rhythm_runtime.execution.values import to_string

            return to_string(folded)
        if isinstance(e, (A.Binary, A.Logical)):
            return f"({self.text(e)})"
        return self.v8_text(e)

    def text(self, e) -> str:
        """The `.flow` source text of a node (for error messages like Node's)."""
        sp = e.span
        if sp.line == 0:
            return "expression"
        if sp.line == sp.end_line:
            return self.lines[sp.line - 1][sp.col - 1 : sp.end_col - 1]
        return self.lines[sp.line - 1][sp.col - 1 :] + "…"

    # -- entry -----------------------------------------------------------------
    def expr(self, e) -> str:
        return getattr(self, "p_" + type(e).__name__)(e)

    def p_Num(self, e: A.Num) -> str:
        return py_num(e.value)

    def p_Str(self, e: A.Str) -> str:
        return py_str(e.value)

    def p_Bool(self, e: A.Bool) -> str:
        return "True" if e.value else "False"

    def p_Null(self, e) -> str:
        return "None"

    def p_RegexLit(self, e: A.RegexLit) -> str:
        return f"_js.regexp_literal({py_str(e.pattern)}, {py_str(e.flags)})"

    def p_Name(self, e: A.Name) -> str:
        place = self.res.places.get(e)
        if place is not None:
            return place.ref
        return self.global_value(e.name)

    def global_value(self, name: str) -> str:
        if name in self.consts:
            value = self.consts[name]
            if isinstance(value, float):
                return py_num(value)
            return "_js.UNDEFINED"
        if name in self.funcs:  # `Number`, `parseInt` … read as a value
            return f"_op.library_function({py_str(name)})"
        return "_js.UNDEFINED"  # `typeof undeclared` only; the checker rejects other uses

    def p_Template(self, e: A.Template) -> str:
        parts = []
        for i, q in enumerate(e.quasis):
            if q:
                parts.append(py_str(q))
            if i < len(e.exprs):
                parts.append(self.expr(e.exprs[i]))
        return f"_js.template({', '.join(parts)})" if parts else "''"

    def p_ArrayLit(self, e: A.ArrayLit) -> str:
        return "[" + ", ".join(self.element(x, "spread") for x in e.elements) + "]"

    def element(self, x, spread: str = "spread_args") -> str:
        """An argument (or, with spread="spread", an array literal's element): V8 words a bad spread in each
        its own way."""
        if isinstance(x, A.Spread):
            text = self.iterable_text(x.expr, call_spread=spread == "spread_args")
            return f"*_op.{spread}({self.expr(x.expr)}, {py_str(text)})"
        return self.expr(x)

    def p_ObjectLit(self, e: A.ObjectLit) -> str:
        return object_literal(e.props, [self.expr(x) for x in object_parts(e.props)])

    def p_Spread(self, e: A.Spread) -> str:  # pragma: no cover - printed by element()
        raise AssertionError("spread outside a list")

    # -- chains: member, index, call, optional chaining --------------------------
    def p_OptChain(self, e: A.OptChain) -> str:
        return self.expr(e.expr)

    def p_Member(self, e) -> str:
        return self.chain(e)

    p_Index = p_Call = p_Member

    def chain(self, e) -> str:
        """A member/index/call chain; `?.` short-circuits the rest of the chain."""
        links = []
        node = e
        base = None
        while isinstance(node, (A.Member, A.Index, A.Call)):
            if isinstance(node, A.Call):
                base = self.special_call(node)
                if base is not None:
                    break
            elif isinstance(node, A.Member) and self.is_namespace_ref(node.obj):
                base = self.namespace_value(node)  # Math.PI, Context.executionId
                break
            elif isinstance(node, A.Index) and self.is_namespace_ref(node.obj):
                base = f"_op.namespace_get({py_str(node.obj.name)}, {self.expr(node.index)})"
                break
            links.append(node)
            node = node.callee if isinstance(node, A.Call) else node.obj
        if base is None:
            base = self.expr(node)
        links.reverse()
        return self.apply_links(base, links)

    def is_namespace_ref(self, node) -> bool:
        """`Math`, `Task`, … (not a constant such as NaN, not a shadowing local)."""
        return isinstance(node, A.Name) and node in self.res.globals and is_namespace(node.name)

    def apply_links(self, acc: str, links: list, checked: bool = False) -> str:
        """`checked`: the first link is optional and its receiver was found not nullish (its text keeps `?.`,
        as V8's messages do: `o.b?.c is not a function`)."""
        i = 0
        while i < len(links):
            link = links[i]
            if link.optional and not (checked and i == 0):
                var = self.fresh()
                rest = self.apply_links(var, links[i:], checked=True)
                return f"(_js.UNDEFINED if _op.nullish({var} := {acc}) else {rest})"
            nxt = links[i + 1] if i + 1 < len(links) else None
            if isinstance(link, (A.Member, A.Index)) and isinstance(nxt, A.Call) and nxt.optional:
                # obj.method?.(args): the method runs on obj when it is there (`s.at?.(0)`)
                obj, fn = self.fresh(), self.fresh()
                key = py_str(link.prop) if isinstance(link, A.Member) else self.expr(link.index)
                call = f"_js.call_on({obj}, {fn}, {self.args(nxt.args)}, {py_str(self.v8_text(link))})"
                rest = self.apply_links(call, links[i + 2 :])
                return f"(_js.UNDEFINED if _op.nullish({fn} := _js.get({obj} := {acc}, {key})) else {rest})"
            if isinstance(link, A.Member) and isinstance(nxt, A.Call) and not nxt.optional:
                # obj.method(args): one receiver evaluation, Node's error text
                acc = f"_js.call_method({acc}, {py_str(link.prop)}, {self.args(nxt.args)}, {py_str(self.v8_text(link))})"
                i += 2
                continue
            acc = self.link(acc, link)
            i += 1
        return acc

    def link(self, acc: str, link) -> str:
        if isinstance(link, A.Member):
            return f"_js.get({acc}, {py_str(link.prop)})"
        if isinstance(link, A.Index):
            return f"_js.get({acc}, {self.expr(link.index)})"
        return f"_js.call({acc}, {self.args(link.args)}, {py_str(self.v8_text(link.callee))})"

    def args(self, args) -> str:
        return "[" + ", ".join(self.element(a) for a in args) + "]"

    def namespace_value(self, e: A.Member) -> str:
        ns = e.obj.name
        if ns == "Context":
            return {"executionId": "S.run_id", "workflowName": "S.workflow_name"}.get(e.prop, "_js.UNDEFINED")
        if f"{ns}.{e.prop}" in self.funcs or e.prop in WORKFLOW_NAMESPACES.get(ns, {}):
            return f"_op.library_function({py_str(f'{ns}.{e.prop}')})"
        if f"{ns}.{e.prop}" not in self.consts:
            return self.constructor_member(ns, e.prop)
        return self.global_value(f"{ns}.{e.prop}")

    @staticmethod
    def constructor_member(ns: str, prop: str) -> str:
        """`String.name`, `Date.length` (the function behind the namespace), or undefined."""
        value = constructor_member(ns, prop)
        if value is None:
            return "_js.UNDEFINED"
        return py_str(value) if isinstance(value, str) else py_num(value)

    def special_call(self, call: A.Call) -> str | None:
        """Calls of globals: workflow commands and the library."""
        callee = call.callee
        if isinstance(callee, A.Name) and callee in self.res.globals and callee.name in self.funcs:
            return self.library_call(callee.name, call.args)
        if not (isinstance(callee, A.Member) and self.is_namespace_ref(callee.obj)):
            return None
        ns, member = callee.obj.name, callee.prop
        full = f"{ns}.{member}"
        args = self.plain_args(call.args)
        if ns in ("Task", "Promise") and member in COMBINATORS:
            return f"S.combine({py_str(member)}, {args})"
        if ns == "Promise" and member in ("resolve", "reject"):
            return f"S.promise_{member}({args})"
        kind = {"Task.run": "task", "Timer.delay": "timer", "Signal.next": "signal", "Workflow.run": "child"}.get(full)
        if kind is not None:
            site = self.sites.add(kind, call.span.line, self.text(call.args[0]) if call.args else "")
            return f"S.{kind}({site}, {args})"
        if full in self.funcs:
            return self.library_call(full, call.args)
        return None

    def library_call(self, name: str, args) -> str:
        fn, _lo, hi = self.funcs[name]
        if any(isinstance(a, A.Spread) for a in args):  # JS ignores extra arguments
            return f"_op.apply_library(_js.{fn.__name__}, {hi}, {self.args(args)})"
        return f"_js.{fn.__name__}({self.plain_args(args)})"

    def plain_args(self, args) -> str:
        return ", ".join(self.element(a) for a in args)

    # -- operators ---------------------------------------------------------------
    def p_NewError(self, e: A.NewError) -> str:
        return f"_js.new_error({', '.join([self.plain_args(e.args)] * bool(e.args) + error_kind(e))})"

    def p_NewCollection(self, e: A.NewCollection) -> str:
        constructor = f"_js.new_{e.kind.lower()}"
        if any(isinstance(a, A.Spread) for a in e.args):
            return f"_op.apply_library({constructor}, 1, {self.args(e.args)})"
        return f"{constructor}({self.plain_args(e.args)})"

    def p_NewRegExp(self, e: A.NewRegExp) -> str:
        if any(isinstance(a, A.Spread) for a in e.args):
            return f"_op.apply_library(_js.new_regexp_object, 2, {self.args(e.args)})"
        return f"_js.new_regexp_object({self.plain_args(e.args)})"

    def p_Unary(self, e: A.Unary) -> str:
        folded = constant_number(e)
        if folded is not None:
            return py_num(folded)
        if e.op == "delete":
            return self.delete(e.operand)
        inner = self.expr(e.operand)
        if e.op == "!":
            return f"(not _js.truthy({inner}))"
        if e.op == "typeof":
            return f"_js.typeof({inner})"
        return f"_js.{UNARY[e.op]}({inner})"

    def delete(self, target) -> str:
        """`delete o.k` / `delete o[k]`: the object and the key are evaluated, the property is not read."""
        key = py_str(target.prop) if isinstance(target, A.Member) else self.expr(target.index)
        return f"_op.delete_property({self.expr(target.obj)}, {key})"

    def p_Binary(self, e: A.Binary) -> str:
        folded = constant_number(e)
        if folded is not None:
            return py_num(folded)
        if e.op == "instanceof":  # the checker allows only a built-in constructor's name on the right
            return f"_js.instance_of({self.expr(e.left)}, {py_str(e.right.name)})"
        left, right = self.expr(e.left), self.expr(e.right)
        if e.op == "in":
            return f"_js.has_property({left}, {right})"
        return f"_js.{BINARY[e.op]}({left}, {right})"

    def p_Logical(self, e: A.Logical) -> str:
        return self.logical(e.op, self.expr(e.left), self.expr(e.right))

    def logical(self, op: str, left: str, right: str) -> str:
        var = self.fresh()
        if op == "&&":
            return f"({right} if _js.truthy({var} := {left}) else {var})"
        if op == "||":
            return f"({var} if _js.truthy({var} := {left}) else {right})"
        return f"({right} if _op.nullish({var} := {left}) else {var})"

    def p_Conditional(self, e: A.Conditional) -> str:
        return f"({self.expr(e.then)} if _js.truthy({self.expr(e.test)}) else {self.expr(e.other)})"

    def p_Await(self, e) -> str:  # pragma: no cover - lower explodes awaits first
        raise AssertionError("await reached the expression printer")

    # -- functions ---------------------------------------------------------------------
    def p_Function(self, e: A.Function) -> str:
        return self.closure(e)

    def closure(self, fn: A.Function) -> str:
        """A function value: its code's id in this module and the environment record it captures."""
        env, named = self.res.closures[fn]
        fid = self.res.fn_info[fn].fid
        if named is not None:  # `function g() { … g() … }`: g is bound in an environment of its own
            return f"_op.named_closure({fid}, {env}, {py_str(named)})"
        return f"_op.closure({fid}, {env})"

    def p_NewPromise(self, e: A.NewPromise) -> str:
        return f"S.new_promise({self.plain_args(e.args)})"

    # -- assignment as an expression ------------------------------------------------
    def p_Assign(self, e: A.Assign) -> str:
        return self.assign(e.target, e.op, self.expr(e.value))

    def assign(self, target, op: str, value: str) -> str:
        """Assignment as a Python expression that yields the assigned value."""
        if isinstance(target, (A.ArrayPattern, A.ObjectPattern)):
            raise AssertionError("pattern assignment is lowered as a statement")
        if isinstance(target, A.Name):
            place = self.res.place(target)
            setter = lambda v: f"_op.store({place.container}, {py_str(place.key)}, {v})"  # noqa: E731
            return self.combine(op, place.ref, value, setter)
        obj = self.fresh()
        key = self.fresh()
        obj_py = self.expr(target.obj)
        key_py = py_str(target.prop) if isinstance(target, A.Member) else self.expr(target.index)
        if op == "=":
            return f"_js.set_({obj_py}, {key_py}, {value})"
        cur = f"_js.get({obj}, {key})"
        setter = lambda v: f"_js.set_({obj}, {key}, {v})"  # noqa: E731
        return f"(({obj} := {obj_py}), ({key} := {key_py}), {self.combine(op, cur, value, setter)})[2]"

    def combine(self, op: str, cur: str, value: str, setter) -> str:
        if op == "=":
            return setter(value)
        if op in COMPOUND:
            return setter(f"_js.{BINARY[COMPOUND[op]]}({cur}, {value})")
        # logical assignment: assign only when the short-circuit lets it through
        var = self.fresh()
        if op == "&&=":
            return f"({setter(value)} if _js.truthy({var} := {cur}) else {var})"
        if op == "||=":
            return f"({var} if _js.truthy({var} := {cur}) else {setter(value)})"
        return f"({setter(value)} if _op.nullish({var} := {cur}) else {var})"

    def p_Update(self, e: A.Update) -> str:
        delta = "1.0" if e.op == "++" else "-1.0"
        t = e.target
        if isinstance(t, A.Name):
            place = self.res.place(t)
            return f"_op.update_slot({place.container}, {py_str(place.key)}, {delta}, {e.prefix})"
        key_py = py_str(t.prop) if isinstance(t, A.Member) else self.expr(t.index)
        return f"_op.update_prop({self.expr(t.obj)}, {key_py}, {delta}, {e.prefix})"


def object_parts(props) -> list:
    """The expressions of an object literal in evaluation order (a computed key before its value)."""
    parts = []
    for p in props:
        if isinstance(p, A.Spread):
            parts.append(p.expr)
        else:
            if not isinstance(p.key, str):
                parts.append(p.key)
            parts.append(p.value)
    return parts


def object_literal(props, printed: list[str]) -> str:
    """A Python dict display from the props and their `object_parts`, already printed."""
    vals = iter(printed)
    items = []
    for p in props:
        if isinstance(p, A.Spread):
            items.append(f"**_op.spread_object({next(vals)})")
        elif isinstance(p.key, str):
            items.append(f"{py_str(p.key)}: {next(vals)}")
        else:
            key = next(vals)
            items.append(f"_js.to_property_key({key}): {next(vals)}")
    return "{" + ", ".join(items) + "}"


def error_kind(e: A.NewError) -> list[str]:
    """The keyword argument of `_js.new_error` that names an error's kind (none for a plain Error)."""
    return [] if e.kind == "Error" else [f"kind={py_str(e.kind)}"]


def inputs_ref() -> str:
    return slot_ref(INPUTS_SLOT)
