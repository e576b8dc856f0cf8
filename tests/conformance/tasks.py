"""The standard tasks of the conformance suite (Python side).

Same names and results as `makeTasks` in harness.js. Tasks receive plain JSON
(ints for integral numbers) and return plain JSON. Where JavaScript turns a
value into a string (``"user" + id``, ``"failed: " + value``) the Python
versions use :func:`js_string`, which follows JavaScript's ``String(value)``
for JSON values, so both sides produce identical text.

``make_tasks()`` returns a fresh dict of task functions sharing a fresh
key-value store, so fire-and-forget tasks are observable within one run and
runs never see each other's state.
"""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from typing import Any, Callable


class TaskFailure(Exception):
    """Raised by the failing tasks; ``str(exc)`` is the message."""


def _js_number(value: float | int) -> str:
    """JavaScript's Number::toString(10) for a double."""
    if isinstance(value, int):
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-tripping digits, as JavaScript does.
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    k = len(digits)
    n = k + parts.exponent  # position of the decimal point in `digits`
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + exp
    return sign + out


def js_string(value: Any) -> str:
    """JavaScript's ``String(value)`` for JSON values."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    raise TypeError(f"not a JSON value: {value!r}")


def _js_add(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str):
        return js_string(a) + js_string(b)
    return a + b


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value) or isinstance(value, (dict, list))


def _number(value: float) -> int | float:
    """Integral doubles become ints (JSON has one number type)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def make_tasks() -> dict[str, Callable[[Any], Any]]:
    store: dict[str, Any] = {}

    def echo(p: Any) -> Any:
        return p

    def add(p: dict) -> Any:
        return _js_add(p.get("a"), p.get("b"))

    def double(p: int | float) -> int | float:
        return p * 2

    def upper(p: str) -> str:
        return p.upper()

    def concat(p: list) -> str:
        return "".join("" if item is None else js_string(item) for item in p)

    def sum_(p: list) -> int | float:
        total: int | float = 0
        for x in p:
            total += x
        return total

    def divide(p: dict) -> int | float:
        if p["b"] == 0:
            raise TaskFailure("division by zero")
        return _number(p["a"] / p["b"])

    def fail(p: Any) -> Any:
        if isinstance(p, dict) and isinstance(p.get("message"), str):
            raise TaskFailure(p["message"])
        raise TaskFailure("task failed")

    def fail_if(p: dict) -> Any:
        if _truthy(p.get("fail")):
            raise TaskFailure("failed: " + js_string(p.get("value")))
        return p.get("value")

    def make_user(p: dict) -> dict:
        uid = p["id"]
        return {
            "id": uid,
            "name": "user" + js_string(uid),
            "tags": ["new", "trial"],
            "profile": {"age": 20 + uid, "emails": ["u" + js_string(uid) + "@example.com"]},
            "active": True,
            "manager": None,
        }

    def kv_set(p: dict) -> Any:
        prev = copy.deepcopy(store.get(p["key"]))
        store[p["key"]] = copy.deepcopy(p.get("value"))
        return prev

    def kv_get(p: dict) -> Any:
        return copy.deepcopy(store.get(p["key"]))

    def kv_append(p: dict) -> int:
        items = store.setdefault(p["key"], [])
        items.append(copy.deepcopy(p.get("value")))
        return len(items)

    def nothing(p: Any) -> None:
        return None

    return {
        "echo": echo,
        "add": add,
        "double": double,
        "upper": upper,
        "concat": concat,
        "sum": sum_,
        "divide": divide,
        "fail": fail,
        "fail_if": fail_if,
        "make_user": make_user,
        "kv_set": kv_set,
        "kv_get": kv_get,
        "kv_append": kv_append,
        "nothing": nothing,
    }
