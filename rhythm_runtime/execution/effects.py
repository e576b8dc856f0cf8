"""Which containers a generated body can change: read once, when a module is loaded.

A warm step reuses the encoding of a list that only grew since the run's previous step (values/snapshot.py,
_ListMemo); in general it must check, item by item, that the list's first items are still the very objects
with the very keys and values. That check is not needed when nothing but a `push` onto that list can have
happened. Generated code changes a container only by a call (a method such as `push`, a property write, a
workflow function, a library callback) or by a subscript write to something other than the locals dict
`L`. So in a body whose every call is one of the operations below (none changes an existing container or
runs workflow code) or `L["x"].push(…)` where slot `x` is only ever given array literals, and whose every
write is to `L["slot"]`, a Python local or `S.state`, the only change a container can see once made is a
list held by such a slot growing at its end. Anything else (another call, a `del`, a nested function)
makes the answer None: any container may change.
"""

from __future__ import annotations

import ast

# Operations that read their arguments and make new values only (no user code runs: ToPrimitive calls
# no workflow function, values/conversions.py). S's commands schedule work outside the run's values.
_PURE = {
    "_js": frozenset({
        "get", "add", "sub", "mul", "div", "mod", "pow", "neg", "pos", "bit_not", "bit_and", "bit_or", "bit_xor",
        "shift_left", "shift_right", "shift_right_unsigned", "lt", "gt", "le", "ge", "strict_eq", "strict_ne",
        "loose_eq", "loose_ne", "template", "truthy", "to_number", "to_string", "typeof", "new_error", "JSThrow",
    }),
    "_op": frozenset({"nullish", "at", "iterable", "for_in_keys", "next_key"}),
    "S": frozenset({"resume", "task", "timer", "signal", "child", "tick", "catch", "take_thrown"}),
}
_SLOT_OPS = frozenset({"drop", "update_slot"})  # _op's writes of the locals' slots, pure when given `L` itself
_BUILTINS = frozenset({"len", "int"})
_STATEMENTS = (ast.If, ast.While, ast.Try, ast.Expr, ast.Assign, ast.AugAssign, ast.Return, ast.Continue, ast.Break,
               ast.Pass, ast.Raise)


def growing_slots(tree: ast.Module) -> frozenset | None:
    """The slots whose arrays the module's `body` may push onto, if that is the only change it can make to a
    container; None if it can make others (see the module docstring)."""
    body = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "body"), None)
    if body is None:
        return None
    nodes = [node for stmt in body.body for node in ast.walk(stmt)]
    pushed = {_pushed_slot(node) for node in nodes if isinstance(node, ast.Call) and not _pure_call(node)}
    if None in pushed or not all(map(_allowed, nodes)):
        return None
    for node in nodes:  # a pushed slot only ever holds an array literal (so `push` is Array.prototype.push)
        if isinstance(node, ast.Assign) and not isinstance(node.value, ast.List) \
                and any(_slot_name(target) in pushed for target in node.targets):
            return None
        if isinstance(node, ast.AugAssign) and _slot_name(node.target) in pushed:
            return None
        if isinstance(node, ast.Call) and _slot_op(node) and any(_constant(arg) in pushed for arg in node.args[1:2]):
            return None
    return frozenset(pushed)


def _pushed_slot(call: ast.Call) -> str | None:
    """x for `_js.call_method(L["x"], "push", …)`, else None."""
    func = call.func
    if isinstance(func, ast.Attribute) and _is_name(func.value, "_js") and func.attr == "call_method" \
            and len(call.args) >= 2 and _constant(call.args[1]) == "push":
        return _slot_name(call.args[0])
    return None


def _slot_name(node: ast.expr) -> str | None:
    """x for `L["x"]`, else None."""
    if isinstance(node, ast.Subscript) and _is_name(node.value, "L"):
        name = _constant(node.slice)
        return name if type(name) is str else None
    return None


def _constant(node: ast.expr):
    return node.value if isinstance(node, ast.Constant) else None


def _slot_op(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and _is_name(func.value, "_op") and func.attr in _SLOT_OPS


def _allowed(node: ast.AST) -> bool:
    if isinstance(node, ast.stmt):
        if not isinstance(node, _STATEMENTS):
            return False
        if isinstance(node, ast.AugAssign):  # a loop counter: `L["@i2"] += 1.0` (a number: no list grows)
            return _slot_target(node.target) and isinstance(node.value, ast.Constant) \
                and type(node.value.value) is float
        return not isinstance(node, ast.Assign) or all(map(_slot_target, node.targets))
    if isinstance(node, ast.Call):
        return _pure_call(node) or _pushed_slot(node) is not None
    if isinstance(node, ast.NamedExpr):
        return isinstance(node.target, ast.Name)
    return not isinstance(node, (ast.Lambda, ast.Await, ast.YieldFrom))


def _slot_target(target: ast.expr) -> bool:
    """`x = …` (a Python local), `L["slot"] = …` or `S.state = …`."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Subscript):
        return _is_name(target.value, "L") and isinstance(target.slice, ast.Constant) \
            and type(target.slice.value) is str
    return isinstance(target, ast.Attribute) and _is_name(target.value, "S") and target.attr == "state"


def _pure_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in _BUILTINS
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return False
    owner, name = func.value.id, func.attr
    if owner == "_op" and name in _SLOT_OPS:
        return bool(call.args) and _is_name(call.args[0], "L")
    return name in _PURE.get(owner, ())


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name
