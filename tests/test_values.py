"""Tests for rhythm_runtime.execution.values, the JavaScript semantics of compiled workflows.

Every expected value in the big tables (NUMBER_STRINGS, RADIX_AND_FIXED,
NODE_CASES) was produced by running the JavaScript shown in the test id
under Node 20 and pasted here as a literal; nothing calls Node at test
time.  Where Rhythm deliberately differs from Node, a test below says so.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import re
import sys
import struct
import time
from collections import OrderedDict
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rhythm_runtime.execution import values as js
from rhythm_runtime.execution.values import INF, NAN, UNDEFINED

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class ERR:
    """Expected: a JSError value with this name and message."""

    def __init__(self, name, message):
        self.name, self.message = name, message


class THROWS(ERR):
    """Expected: the call throws a JSError with this name and message."""


class FN:
    """Expected: a method value (JSFunction) with this name."""

    def __init__(self, name):
        self.name = name


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def same(actual, expected) -> bool:
    """JS-exact equality: types must match (True is not 1.0), NaN equals
    NaN, 0 and -0 differ, dict key order matters."""
    if isinstance(expected, FN):
        return type(actual) is js.JSFunction and actual.name == expected.name
    if isinstance(expected, ERR):
        return type(actual) is js.JSError and (actual.name, actual.message) == (
            expected.name,
            expected.message,
        )
    if type(actual) is not type(expected):
        return False
    if type(actual) is float:
        return bits(actual) == bits(expected) or (
            actual != actual and expected != expected
        )
    if type(actual) is list:
        return len(actual) == len(expected) and all(map(same, actual, expected))
    if type(actual) is dict:
        return js.own_keys(actual) == list(expected) and all(
            same(actual[k], expected[k]) for k in expected
        )
    return actual == expected


def thrown(compute) -> js.JSError:
    with pytest.raises(js.JSThrow) as info:
        compute()
    assert type(info.value.value) is js.JSError
    return info.value.value


# --------------------------------------------------------------------------
# Number formatting (the Node tables are at the end of the file)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, expected",
    [
        (NAN, "NaN"),
        (INF, "Infinity"),
        (-INF, "-Infinity"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_number_to_string_specials(x, expected):
    assert js.number_to_string(x) == expected


# --------------------------------------------------------------------------
# Representation
# --------------------------------------------------------------------------


def test_undefined_is_a_falsy_singleton_that_survives_copies():
    assert js.Undefined() is UNDEFINED
    assert not UNDEFINED
    assert repr(UNDEFINED) == "undefined"
    assert copy.deepcopy([UNDEFINED])[0] is UNDEFINED
    assert copy.copy(UNDEFINED) is UNDEFINED


def test_numbers_are_always_floats():
    assert type(js.get([1.0, 2.0], "length")) is float
    assert type(js.get("ab", "length")) is float
    assert type(js.call_method([], "push", [1.0], "a.push")) is float
    assert type(js.call_method([1.0], "indexOf", [1.0], "a.indexOf")) is float
    assert type(js.call_method("ab", "indexOf", ["b"], "s.indexOf")) is float
    assert type(js.call_method("ab", "charCodeAt", [0.0], "s.charCodeAt")) is float
    assert type(js.math_floor(1.5)) is float
    assert type(js.math_round(1e300)) is float
    assert type(js.parse_int("12")) is float
    assert type(js.to_number(True)) is float
    assert type(js.json_parse("[1]")[0]) is float
    assert type(js.date_now()) is float
    for name in (
        "Number.MAX_SAFE_INTEGER",
        "Math.PI",
        "Infinity",
        "NaN",
        "Number.EPSILON",
    ):
        assert type(js.GLOBAL_CONSTANTS[name]) is float


def test_bool_is_never_a_number():
    assert not js.strict_eq(True, 1.0)
    assert js.call_method([True], "indexOf", [1.0], "a.indexOf") == -1.0
    assert not js.call_method([1.0], "includes", [True], "a.includes")
    assert js.typeof(True) == "boolean"


def test_loose_equality_converts_as_javascript_does():
    """JavaScript's IsLooselyEqual (tests/conformance checks many more cases against Node)."""
    assert js.loose_eq(1.0, "1") and js.loose_eq("1", 1.0)
    assert js.loose_eq(0.0, False) and js.loose_eq("", 0.0) and js.loose_eq([1.0], 1.0)
    assert js.loose_eq(None, UNDEFINED) and js.loose_eq(None, None)
    assert not js.loose_eq(None, 0.0) and not js.loose_eq(UNDEFINED, False)
    assert not js.loose_eq(NAN, NAN) and not js.loose_eq([1.0], [1.0])
    assert js.loose_ne(1.0, "2")


def test_objects_compare_by_identity():
    a, e, p = [], js.new_error("x"), js.Promise("task", "k")
    assert js.strict_eq(a, a) and not js.strict_eq(a, [])
    assert js.strict_eq(e, e) and not js.strict_eq(e, js.new_error("x"))
    assert js.strict_eq(p, p) and not js.strict_eq(p, js.Promise("task", "k"))
    assert js.typeof(p) == "object"


def test_promise_and_function_shapes():
    p = js.Promise("all", items=[js.Promise("task", "a"), 1.0])
    assert (p.kind, p.key, len(p.items)) == ("all", None, 2)
    assert js.Promise.__slots__ == ("kind", "key", "items", "born", "state", "value", "reactions")
    assert p.born is None
    push = js.get([], "push")
    assert (type(push), push.name, js.typeof(push)) == (
        js.JSFunction,
        "push",
        "function",
    )
    then = js.get(p, "then")
    assert (type(then), then.name, then.this) == (js.JSFunction, "then", p)
    assert js.get(p, "nope") is UNDEFINED
    assert js.to_string(p) == "[object Promise]"


def test_method_values_are_not_bound_to_their_receiver():
    """As in JavaScript, ``const f = arr.push; f(1)`` calls push with this = undefined (V8's TypeError);
    ``call``, ``apply`` and ``bind`` give it a receiver, and a property holding it gives its object (which
    Rhythm's methods refuse where JavaScript's generic ones would work on it)."""
    a, b = [1.0], []
    push = js.get(a, "push")
    assert thrown(lambda: js.call(push, [2.0], "f")).message == "Cannot convert undefined or null to object"
    assert thrown(lambda: js.call(js.get("s", "trim"), [], "f")).message \
        == "String.prototype.trim called on null or undefined"
    assert js.call_method(push, "call", [b, 2.0], "f.call") == 1.0
    assert js.call(js.call_method(push, "bind", [b], "f.bind"), [3.0], "g") == 2.0
    assert (a, b) == ([1.0], [2.0, 3.0])
    assert thrown(lambda: js.call_method({"f": push}, "f", [3.0], "o.f")).message \
        == "push cannot be called on #<Object> in a workflow"
    assert js.call_method(js.global_function("Math.max"), "apply", [None, [1.0, 7.0]], "m.apply") == 7.0


def test_callbacks_take_any_function_value():
    """Callback methods call function values (closures need a running workflow: see the conformance
    programs); a global read as a value works as in JS, extra arguments and all."""
    assert js.call_method(["1", "2", "3"], "map", [js.global_function("Number")], "a.map") == [1.0, 2.0, 3.0]
    mapped = js.call_method(["1", "2", "3"], "map", [js.global_function("parseInt")], "a.map")
    assert mapped[0] == 1.0 and all(x != x for x in mapped[1:])  # parseInt("2", 1) is NaN, as in Node
    error = thrown(lambda: js.call_method([2.0, 1.0], "sort", [5.0], "a.sort"))
    assert error.message == "The comparison function must be either a function or undefined"
    assert thrown(lambda: js.call_method([1.0], "map", [{}], "a.map")).message == "#<Object> is not a function"
    # a replacer is called with (key, value): String returns the key, "" for the top value (Node: '""')
    assert js.json_stringify({"a": 1.0}, js.global_function("String")) == '""'
    assert js.json_parse("[1, 2]", js.global_function("Number")) == 0.0  # Number("") of the top value
    assert js.GLOBAL_FUNCTIONS["JSON.parse"][1:] == (1, 2)


def test_global_functions_as_values():
    floor = js.global_function("Math.floor")
    assert floor is js.global_function("Math.floor")
    assert js.strict_eq(floor, js.global_function("Math.floor"))
    assert not js.strict_eq(floor, js.global_function("Math.ceil"))
    assert js.typeof(floor) == "function"
    assert js.to_string(floor) == "function floor() { [native code] }"
    assert js.call(floor, [1.5, "ignored"], "f") == 1.0
    assert js.call(js.global_function("Math.max"), [1.0, 3.0, 2.0], "f") == 3.0
    assert js.call(js.global_function("Number"), [], "f") == 0.0
    run = js.global_function("Task.run")
    assert thrown(lambda: js.call(run, ["x"], "f")).message == (
        "Task.run can only be called directly, as Task.run(…)"
    )
    assert js.json_stringify({"f": floor}) == "{}"


def test_call_of_a_non_function():
    assert thrown(lambda: js.call(5.0, [], "x")).message == "x is not a function"
    assert (
        thrown(lambda: js.call(UNDEFINED, [], "Task.rn")).message
        == "Task.rn is not a function"
    )


# --------------------------------------------------------------------------
# Errors and JSThrow
# --------------------------------------------------------------------------


def test_error_constructors():
    assert (js.new_error().name, js.new_error().message) == ("Error", "")
    assert js.new_error(5.0).message == "5"
    assert js.new_error(UNDEFINED).message == ""
    for make, name in (
        (js.type_error, "TypeError"),
        (js.range_error, "RangeError"),
        (js.syntax_error, "SyntaxError"),
    ):
        throw = make("boom")
        assert isinstance(throw, js.JSThrow) and isinstance(throw, Exception)
        assert (throw.value.name, throw.value.message) == (name, "boom")


def test_jsthrow_describes_its_value():
    assert str(js.type_error("bad")) == "TypeError: bad"
    assert str(js.JSThrow({"code": 1.0})) == '{"code":1}'
    assert str(js.JSThrow("plain")) == "plain"
    cyclic = []
    cyclic.append(cyclic)
    assert str(js.JSThrow(cyclic)) == ""


def test_error_properties():
    e = js.new_error("m")
    js.set_(e, "code", 5.0)
    js.set_(e, "message", 42.0)  # kept as a str (JS would keep the number)
    assert (e.message, e.props, js.get(e, "code")) == ("42", {"code": 5.0}, 5.0)
    assert js.own_keys(e) == ["code"]
    assert js.has_property("code", e) and js.has_property("stack", e)
    assert js.delete(e, "code") and e.props == {}
    assert js.delete(e, "message") and e.message == ""
    assert js.get(e, "stack") == "Error"


# --------------------------------------------------------------------------
# Sandbox: no Python attribute is ever reachable
# --------------------------------------------------------------------------

DUNDERS = [
    "__class__", "__dict__", "__len__", "__init__", "__globals__", "__getattribute__",
    "constructor", "__proto__", "prototype", "toString", "hasOwnProperty", "valueOf",
    "__reduce__", "mro", "__subclasses__", "append", "upper", "impl", "this", "props",
]  # fmt: skip
# Names in DUNDERS that are real JavaScript methods of some receivers.
REAL_METHODS = {"toString": (list, str, float, bool, js.JSError), "valueOf": (str, float)}
# Object.prototype's methods that a call on any value reaches (a read of them is still undefined).
INHERITED_BY_EVERY_VALUE = {"hasOwnProperty"}


@pytest.mark.parametrize("name", DUNDERS)
def test_sandbox_missing_properties(name):
    receivers = [
        {},
        [],
        "x",
        5.0,
        True,
        js.new_error("x"),
        js.Promise("task", "k"),
        js.get([], "push"),
    ]
    for receiver in receivers:
        if type(receiver) in REAL_METHODS.get(name, ()):
            continue  # a real method of those receivers
        assert js.get(receiver, name) is UNDEFINED, (receiver, name)
    assert js.get_optional({}, name) is UNDEFINED
    assert not js.has_property(name, {})
    assert not js.has_property(name, []) or name == "toString"


@pytest.mark.parametrize("name", DUNDERS)
def test_sandbox_calls_and_writes(name):
    for receiver in ({}, [], "x", 5.0, True):
        if type(receiver) in REAL_METHODS.get(name, ()) or name in INHERITED_BY_EVERY_VALUE:
            continue
        error = thrown(lambda: js.call_method(receiver, name, [], f"x.{name}"))
        assert (error.name, error.message) == (
            "TypeError",
            f"x.{name} is not a function",
        )
    obj = {}
    js.set_(obj, name, 1.0)
    assert obj == {name: 1.0}
    assert js.get(obj, name) == 1.0


def test_has_own_property_is_inherited_unless_shadowed():
    call = js.call_method
    assert [call({"a": 1.0}, "hasOwnProperty", ["a"], "t"), call({}, "hasOwnProperty", ["toString"], "t")] == [True, False]
    assert [call([7.0], "hasOwnProperty", [0.0], "t"), call([7.0], "hasOwnProperty", ["push"], "t")] == [True, False]
    assert [call("ab", "hasOwnProperty", ["length"], "t"), call(5.0, "hasOwnProperty", ["x"], "t")] == [True, False]
    error = thrown(lambda: call({"hasOwnProperty": 1.0}, "hasOwnProperty", ["a"], "o.hasOwnProperty"))
    assert (error.name, error.message) == ("TypeError", "o.hasOwnProperty is not a function")


def test_sandbox_error_writes_stay_in_props():
    e = js.new_error("m")
    js.set_(e, "__class__", 1.0)
    js.set_(e, "props", 2.0)
    assert type(e) is js.JSError and e.props == {"__class__": 1.0, "props": 2.0}


# --------------------------------------------------------------------------
# Property writes and deletes that Node cannot show
# --------------------------------------------------------------------------


def test_arrays_have_no_named_properties():
    """Deliberate difference: Rhythm arrays are lists, so ``arr.foo = 1``
    throws instead of adding a property JSON would not show anyway."""
    error = thrown(lambda: js.set_([], "foo", 1.0))
    assert error.name == "TypeError" and "'foo'" in error.message
    assert thrown(lambda: js.set_([], -1.0, 1.0)).name == "TypeError"
    assert thrown(lambda: js.set_([], 1.5, 1.0)).name == "TypeError"
    assert (
        thrown(lambda: js.set_(js.Promise("task", "k"), "x", 1.0)).name == "TypeError"
    )


def test_arrays_are_dense_with_a_cap_on_holes():
    a = []
    js.set_(a, 2.0, "x")
    assert a == [UNDEFINED, UNDEFINED, "x"]
    assert thrown(lambda: js.set_([], 2.0**24, 1.0)).message == "Invalid array length"
    assert (
        thrown(lambda: js.set_([], "length", 2.0**30)).message == "Invalid array length"
    )
    assert (
        thrown(lambda: js.set_([], "length", 2.0**32)).message == "Invalid array length"
    )
    big = [0.0] * 5
    js.set_(big, "length", 2.0)
    assert big == [0.0, 0.0]


def test_set_returns_the_value_and_rejects_primitives():
    d = {}
    assert js.set_(d, "a", 1.0) == 1.0
    # Strict mode (Node runs workflows as strict code): writes to a primitive throw.
    for primitive, shown in (("s", "string 's'"), (5.0, "number '5'"), (True, "boolean 'true'"), (NAN, "number 'NaN'")):
        assert thrown(lambda: js.set_(primitive, "x", 2.0)).message == f"Cannot create property 'x' on {shown}"
    assert thrown(lambda: js.set_("ab", 1.0, "z")).message == "Cannot assign to read only property '1' of string 'ab'"
    assert thrown(lambda: js.set_("ab", "length", 1.0)).message == "Cannot assign to read only property 'length' of string 'ab'"
    assert thrown(lambda: js.set_("ab", 2.0, "z")).message == "Cannot create property '2' on string 'ab'"
    assert (
        thrown(lambda: js.set_(None, "x", 1.0)).message
        == "Cannot set properties of null (setting 'x')"
    )


def test_delete_array_element_leaves_undefined():
    a = [1.0, 2.0]
    assert js.delete(a, 0.0) and a == [UNDEFINED, 2.0]
    assert js.delete(5.0, "x")


# --------------------------------------------------------------------------
# own_keys (for…in), templates, UTF-16
# --------------------------------------------------------------------------


def test_own_keys():
    assert js.own_keys({"b": 1, "10": 1, "2": 1, "a": 1, "01": 1}) == [
        "2",
        "10",
        "b",
        "a",
        "01",
    ]
    assert js.own_keys([5.0, 6.0]) == ["0", "1"]
    assert js.own_keys("a😀") == ["0", "1", "2"]
    assert js.own_keys(js.JSError("Error", "m", {"z": 1.0, "1": 2.0})) == ["1", "z"]
    for nothing in (None, UNDEFINED, 5.0, True, js.Promise("task", "k")):
        assert js.own_keys(nothing) == []


def test_template():
    assert js.template() == ""
    assert (
        js.template("a", 1.0, " ", None, UNDEFINED, [1.0, 2.0], {}, True)
        == "a1 nullundefined1,2[object Object]true"
    )
    assert js.template(js.new_error("x"), 1e21, -0.0) == "Error: x1e+210"


def test_surrogate_pairs_are_stored_joined():
    high, low = "\ud83d", "\ude00"
    assert js.add(high, low) == "😀"
    assert js.template(high, low) == "😀"
    assert js.call_method([high, low], "join", [""], "a.join") == "😀"
    assert js.call_method(high, "concat", [low], "s.concat") == "😀"
    assert js.call_method(low, "padStart", [2.0, high], "s.padStart") == "😀"
    first = js.call_method("😀", "slice", [0.0, 1.0], "s.slice")
    assert (
        first == high
        and js.add(first, js.call_method("😀", "slice", [1.0], "s.slice")) == "😀"
    )
    assert js.from_json("\ud83d\ude00") == "😀"
    assert js.json_stringify(high) == '"\\ud83d"'


# --------------------------------------------------------------------------
# JSON.parse errors, recursion limits
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "",
        "NaN",
        "Infinity",
        "-Infinity",
        "[1,]",
        "'x'",
        "\ufeff1",
        "1 2",
        "{a:1}",
        "[\n\t\r ",
    ],
)
def test_json_parse_errors_are_syntax_errors(text):
    error = thrown(lambda: js.json_parse(text))
    assert error.name == "SyntaxError" and error.message


@pytest.mark.parametrize(
    "text, message",
    [  # what Node 20 says, word for word
        ("", "Unexpected end of JSON input"),
        ("[1,", "Unexpected end of JSON input"),
        ("[1,]", 'Unexpected token \']\', "[1,]" is not valid JSON'),
        ("NaN", '"NaN" is not valid JSON'),
        (" NaN", 'Unexpected token \'N\', " NaN" is not valid JSON'),
        ("{", "Expected property name or '}' in JSON at position 1"),
        ('{"a" 1}', "Expected ':' after property name in JSON at position 5"),
        ('{"a":1,}', "Expected double-quoted property name in JSON at position 7"),
        ('{"a":1,"b"}', 'Unexpected token \'}\', "{"a":1,"b"}" is not valid JSON'),
        ('{"a":1,"b" 2}', "Unexpected number in JSON at position 11"),
        ('{"a":1 "b":2}', "Expected ',' or '}' after property value in JSON at position 7"),
        ("[1 2]", "Expected ',' or ']' after array element in JSON at position 3"),
        ("01", "Unexpected number in JSON at position 1"),
        ("-", "No number after minus sign in JSON at position 1"),
        ("1.", "Unterminated fractional number in JSON at position 2"),
        ("1e+", "Exponent part is missing a number in JSON at position 3"),
        ("nan", 'Unexpected token \'a\', "nan" is not valid JSON'),
        ('"abc', "Unterminated string in JSON at position 4"),
        ('"a\tb"', "Bad control character in string literal in JSON at position 2"),
        ('"\\x"', "Bad escaped character in JSON at position 2"),
        ('"\\u12G4"', "Bad Unicode escape in JSON at position 5"),
        ("1 2", "Unexpected non-whitespace character after JSON at position 2"),
        ('"😀" x', "Unexpected non-whitespace character after JSON at position 5"),
        ("abcdefghijklmnopqrstuvwxyz", 'Unexpected token \'a\', "abcdefghij"... is not valid JSON'),
        ("[1, 2, 3, 4, 5, 6, 7, x, 9, 10, 11, 12]",
         'Unexpected token \'x\', ..." 5, 6, 7, x, 9, 10, "... is not valid JSON'),
        ("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, x]", 'Unexpected token \'x\', ...", 10, 11, x]" is not valid JSON'),
    ],
)
def test_json_parse_error_messages(text, message):
    assert thrown(lambda: js.json_parse(text)).message == message


def test_deep_nesting_throws_range_error_not_recursion_error():
    deep = []
    for _ in range(5000):
        deep = [deep]
    for compute in (
        lambda: js.json_stringify(deep),
        lambda: js.to_string(deep),
        lambda: js.json_parse("[" * 100000 + "]" * 100000),
    ):
        error = thrown(compute)
        assert (error.name, error.message) == (
            "RangeError",
            "Maximum call stack size exceeded",
        )
    cyclic = [1.0]
    cyclic.append(cyclic)
    assert (
        thrown(lambda: js.call_method(cyclic, "flat", [INF], "a.flat")).name
        == "RangeError"
    )


# --------------------------------------------------------------------------
# Globals table
# --------------------------------------------------------------------------


def test_global_functions_table():
    for name, (fn, fewest, most) in js.GLOBAL_FUNCTIONS.items():
        assert getattr(js, fn.__name__) is fn, name
        assert 0 <= fewest <= most, name
    assert js.GLOBAL_FUNCTIONS["Number.parseInt"][0] is js.parse_int
    assert js.GLOBAL_FUNCTIONS["Math.max"][2] == js.VARIADIC
    required = (
        "Math.min Math.max Math.floor Math.ceil Math.abs Math.round Math.sign Math.trunc Math.pow Math.sqrt "
        "Math.random JSON.stringify JSON.parse Object.keys Object.values Object.entries Object.assign "
        "Object.fromEntries Array.isArray Number String Boolean parseInt parseFloat isNaN Number.isInteger "
        "Number.isFinite Number.isNaN Number.parseFloat Number.parseInt Date.now"
    )
    assert set(required.split()) <= set(js.GLOBAL_FUNCTIONS)


def test_global_constants_table():
    c = js.GLOBAL_CONSTANTS
    assert (c["Math.PI"], c["Math.E"]) == (math.pi, math.e)
    assert (c["Number.MAX_SAFE_INTEGER"], c["Number.MIN_SAFE_INTEGER"]) == (
        2.0**53 - 1,
        1 - 2.0**53,
    )
    assert c["Number.EPSILON"] == 2.0**-52
    assert c["Infinity"] == INF and c["NaN"] != c["NaN"] and c["undefined"] is UNDEFINED


def test_nondeterministic_globals():
    assert abs(js.date_now() - time.time() * 1000) < 5000
    assert all(0.0 <= js.math_random() < 1.0 for _ in range(100))
    ids = {js.crypto_random_uuid() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)


# --------------------------------------------------------------------------
# Boundary copies
# --------------------------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


def test_from_json_converts_and_copies():
    source = {
        "n": 3,
        "f": 1.5,
        "b": True,
        "none": None,
        "s": "x",
        "list": [1, (2, 3)],
        "nested": {"k": -0.0},
    }
    value = js.from_json(source)
    assert same(
        value,
        {
            "n": 3.0,
            "f": 1.5,
            "b": True,
            "none": None,
            "s": "x",
            "list": [1.0, [2.0, 3.0]],
            "nested": {"k": -0.0},
        },
    )
    value["list"].append(4.0)
    assert source["list"] == [1, (2, 3)]
    assert same(js.from_json(OrderedDict(a=Color.RED)), {"a": 1.0})
    assert same(js.from_json(10**400), INF)
    assert same(js.from_json(2**53 + 1), 9007199254740992.0)


@pytest.mark.parametrize(
    "bad",
    [{1, 2}, b"x", datetime(2024, 1, 1), NAN, INF, {1: "x"}, object(), [UNDEFINED], 1j],
)
def test_from_json_rejects_non_json(bad):
    with pytest.raises(TypeError):
        js.from_json(bad)


def test_from_json_rejects_cycles():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError):
        js.from_json(cyclic)


def test_to_json():
    value = {
        "b": 1.0, "a": UNDEFINED, "2": "two", "fn": js.get([], "push"),
        "list": [UNDEFINED, NAN, INF, -0.0, 2.5, 1e300, 2.0**53, 2.0**53 + 2, js.get([], "pop")],
        "error": js.JSError("TypeError", "m", {"code": 7.0, "skip": UNDEFINED}),
        "promise": js.Promise("task", "k"),
    }  # fmt: skip
    result = js.to_json(value)
    assert result == {
        "2": "two", "b": 1, "list": [None, None, None, 0, 2.5, 1e300, 9007199254740992, 9007199254740994.0, None],
        "error": {"code": 7}, "promise": {},
    }  # fmt: skip
    assert list(result) == ["2", "b", "list", "error", "promise"]
    assert type(result["b"]) is int and type(result["list"][7]) is float
    assert js.to_json(UNDEFINED) is None
    assert js.to_json(js.get([], "push")) is None
    json.dumps(result, allow_nan=False)


def test_to_json_cycle_is_the_stringify_type_error():
    cyclic = {}
    cyclic["self"] = cyclic
    error = thrown(lambda: js.to_json(cyclic))
    assert error.name == "TypeError" and error.message.startswith(
        "Converting circular structure to JSON"
    )


_PYTHON_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(2**60), 2**60).map(float)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text() | st.sampled_from(["\ud83d", "\ud83d\ude00", "é"]),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=3) | st.integers(0, 2**33).map(str) | st.sampled_from(["01", "-1", "1.5"]),
                      inner, max_size=4),
    max_leaves=12,
)


@given(_PYTHON_JSON)
@settings(max_examples=300, deadline=None)
def test_json_copy_is_to_json_of_from_json(value):
    """A task's result is stored as json_copy makes it: what to_json(from_json(...)) makes, in one pass."""
    copied, reference = js.json_copy(value), js.to_json(js.from_json(value))
    assert json.dumps(copied) == json.dumps(reference)  # int and float differ in the text too
    assert json.dumps(copied, sort_keys=False) == json.dumps(reference, sort_keys=False)


def test_json_copy_refuses_what_from_json_refuses():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError):
        js.json_copy(cyclic)
    for bad in ({1, 2}, NAN, {1: "x"}, [INF]):
        with pytest.raises(TypeError):
            js.json_copy(bad)
    assert same(js.json_copy(OrderedDict(b=Color.RED, a=10**400, **{"7": 2**53 + 1})),
                {"7": 9007199254740992, "b": 1, "a": None})


def test_to_json_keeps_shared_non_cyclic_values():
    shared = {"v": 1.0}
    assert js.to_json([shared, shared]) == [{"v": 1}, {"v": 1}]


# --------------------------------------------------------------------------
# Hypothesis: arbitrary JS values
# --------------------------------------------------------------------------

keys = st.text(max_size=4) | st.sampled_from(["0", "1", "10", "$", "a", "__class__"])
scalars = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.booleans()
    | st.none()
    | st.just(UNDEFINED)
    | st.sampled_from([0.0, -0.0, 1.0, 0.5, -1.0, 2.0, "", "0", "a", "😀", NAN])
    | st.sampled_from(["Math.floor", "JSON.stringify", "Task.run"]).map(
        js.global_function
    )
    | st.floats(min_value=-8.64e15, max_value=8.64e15).map(lambda t: js.JSDate(float(int(t))))
    | st.just(NAN).map(js.JSDate)
)


def containers(children):
    return (
        st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=4)
        | st.builds(
            js.JSError,
            st.sampled_from(["Error", "TypeError"]),
            st.text(max_size=5),
            st.dictionaries(keys, children, max_size=2),
        )
        | st.builds(
            js.Promise,
            st.sampled_from(["task", "all", "timer"]),
            st.none() | st.text(max_size=5),
            st.none() | st.lists(children, max_size=3),
        )
        | st.builds(
            lambda receiver: js.get(receiver, "push"), st.lists(children, max_size=2)
        )
    )


trees = st.recursive(scalars, containers, max_leaves=20)


@st.composite
def graphs(draw):
    """A tree, then extra edges to containers already in it: sharing and cycles."""
    root = draw(st.dictionaries(keys, trees, max_size=5))
    found = []

    def collect(v):
        if type(v) in (list, dict, js.JSError) and all(v is not f for f in found):
            found.append(v)
            members = v if type(v) is list else v.props if type(v) is js.JSError else v
            for x in list(members.values() if type(members) is dict else members):
                collect(x)

    collect(root)
    for _ in range(draw(st.integers(0, 4))):
        source = draw(st.sampled_from(found))
        target = draw(st.sampled_from(found))
        if type(source) is list:
            source.append(target)
        else:
            (source.props if type(source) is js.JSError else source)[
                draw(keys)
            ] = target
    return root


def isomorphic(a, b, pairs=None) -> bool:
    """Same shape, same scalars (bit for bit) and the same sharing."""
    pairs = {} if pairs is None else pairs
    if type(a) is not type(b):
        return False
    if type(a) is float:  # NaN payloads are invisible to scripts
        return bits(a) == bits(b) or (a != a and b != b)
    if type(a) in (str, bool, type(None), js.Undefined):
        return a == b
    if type(a) is js.JSFunction:
        return (
            a.name == b.name and a.impl is b.impl and isomorphic(a.this, b.this, pairs)
        )
    if id(a) in pairs:
        return pairs[id(a)] is b
    pairs[id(a)] = b
    if type(a) is list:
        return len(a) == len(b) and all(isomorphic(x, y, pairs) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(isomorphic(a[k], b[k], pairs) for k in a)
    if type(a) is js.JSError:
        return (a.name, a.message) == (b.name, b.message) and isomorphic(
            a.props, b.props, pairs
        )
    if type(a) is js.JSDate:
        return isomorphic(a.time, b.time, pairs)
    return (a.kind, a.key) == (b.kind, b.key) and isomorphic(a.items, b.items, pairs)


def through_postgres(value):
    return json.loads(json.dumps(js.encode_snapshot(value), allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_snapshot_round_trips_graphs(value):
    decoded = js.decode_snapshot(through_postgres(value))
    assert isomorphic(value, decoded)
    assert len({id(x) for x in _containers(decoded)}) == len(
        {id(x) for x in _containers(value)}
    )


def _containers(root):
    seen, stack = {}, [root]
    while stack:
        v = stack.pop()
        if type(v) is js.JSFunction:
            stack.append(v.this)
        elif type(v) in (list, dict, js.JSError, js.Promise) and id(v) not in seen:
            seen[id(v)] = v
            stack.extend(
                v
                if type(v) is list
                else (
                    v.values()
                    if type(v) is dict
                    else v.props.values() if type(v) is js.JSError else v.items or []
                )
            )
    return list(seen.values())


@settings(max_examples=200, deadline=None)
@given(trees)
def test_to_json_is_json_parse_of_json_stringify(value):
    text = js.json_stringify(value)
    expected = None if text is UNDEFINED else json.loads(text)
    assert _normalize(js.to_json(value)) == _normalize(expected)


def _normalize(v):
    """Compare numbers by value: JSON text cannot tell 1 from 1.0."""
    if type(v) in (int, float):
        return ("n", float(v))
    if type(v) is list:
        return [_normalize(x) for x in v]
    if type(v) is dict:
        return [(k, _normalize(x)) for k, x in v.items()]
    return v


@settings(max_examples=200, deadline=None)
@given(trees)
def test_json_parse_reads_back_json_stringify(value):
    text = js.json_stringify(value)
    if text is not UNDEFINED:
        assert js.json_stringify(js.json_parse(text)) == text


# Arguments for the fuzz tests stay small so that repeat() and padStart()
# never build huge strings.
small_args = st.lists(
    st.floats(min_value=-40, max_value=40)
    | st.sampled_from(
        [NAN, INF, -INF, -0.0, None, UNDEFINED, "", "a,b", "😀", "$&", True]
    )
    | st.lists(st.sampled_from([1.0, "x", None]), max_size=3),
    max_size=3,
)
METHOD_NAMES = sorted(
    {
        *js._ARRAY_METHODS,
        *js._STRING_METHODS,
        *js._NUMBER_METHODS,
        *js.DATE_METHODS,
        "foo",
        "length",
        "__len__",
    }
)
OPERATORS = [
    js.add,
    js.sub,
    js.mul,
    js.div,
    js.mod,
    js.pow,
    js.lt,
    js.le,
    js.gt,
    js.ge,
    js.strict_eq,
    js.strict_ne,
    js.loose_eq,
    js.loose_ne,
]
JS_TYPES = (
    float,
    str,
    bool,
    type(None),
    js.Undefined,
    list,
    dict,
    js.JSError,
    js.Promise,
    js.JSFunction,
    js.JSDate,
)


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_operators_never_raise_python_errors(a, b):
    for op in OPERATORS:
        assert type(op(a, b)) in JS_TYPES
    for unary in (
        js.neg,
        js.pos,
        js.truthy,
        js.typeof,
        js.to_string,
        js.to_number,
        js.own_keys,
    ):
        try:
            unary(a)
        except js.JSThrow:
            pass
    for key in (b, "length", 0.0, "0"):
        for access in (js.get, js.get_optional, js.has_property):
            try:
                result = (
                    access(a, key) if access is not js.has_property else access(key, a)
                )
            except js.JSThrow:
                continue
            assert type(result) in JS_TYPES


@settings(max_examples=300, deadline=None)
@given(trees, st.sampled_from(METHOD_NAMES), small_args)
def test_methods_never_raise_python_errors(receiver, name, args):
    try:
        result = js.call_method(copy.deepcopy(receiver), name, args, "x.m")
    except js.JSThrow as throw:
        assert type(throw.value) is js.JSError
        return
    assert type(result) in JS_TYPES


@settings(max_examples=200, deadline=None)
@given(small_args)
def test_globals_never_raise_python_errors(args):
    for name, (fn, fewest, most) in js.GLOBAL_FUNCTIONS.items():
        try:
            fn(*args[: min(most, len(args))])
        except js.JSThrow:
            pass


# --------------------------------------------------------------------------
# Snapshot codec: shapes a person reads in Postgres
# --------------------------------------------------------------------------


def test_plain_trees_encode_as_themselves():
    plain = {
        "user": {"id": "u1", "tags": ["a", "b"]},
        "n": 3.0,
        "ok": True,
        "none": None,
        "x": 0.1,
    }
    assert js.encode_snapshot(plain) == plain
    assert js.encode_snapshot(plain) is not plain


def test_special_values_are_tagged():
    encoded = js.encode_snapshot([UNDEFINED, NAN, INF, -INF, -0.0, 0.0, 5e-324])
    assert encoded == [
        {"$": "undefined"},
        {"$": "NaN"},
        {"$": "Infinity"},
        {"$": "-Infinity"},
        {"$": "-0"},
        0.0,
        5e-324,
    ]
    assert js.encode_snapshot({"$": 1.0}) == {"$": "object", "value": {"$": 1.0}}
    error = js.JSError("TypeError", "m", {"code": UNDEFINED})
    assert js.encode_snapshot(error) == {
        "$": "error",
        "name": "TypeError",
        "message": "m",
        "props": {"code": {"$": "undefined"}},
    }
    assert js.encode_snapshot(js.new_error("m")) == {
        "$": "error",
        "name": "Error",
        "message": "m",
    }
    assert js.encode_snapshot(js.Promise("task", "t1")) == {
        "$": "promise",
        "kind": "task",
        "key": "t1",
    }


def test_combinator_creation_seq_round_trips():
    race = js.Promise("race", None, [1.0], born=7)
    assert js.encode_snapshot(race) == {"$": "promise", "kind": "race", "key": None, "items": [1.0], "born": 7}
    assert js.decode_snapshot(through_postgres(race)).born == 7
    old = {"$": "promise", "kind": "race", "key": None, "items": [1.0]}  # a snapshot from before `born`
    assert js.decode_snapshot(old).born is None


def test_sharing_is_marked_once():
    leaf = js.Promise("task", "t1")
    both = js.Promise("all", None, [leaf, js.Promise("timer", "t2")])
    locals_ = {"p": leaf, "all": both, "push": js.get([1.0], "push")}
    encoded = js.encode_snapshot(locals_)
    assert encoded["p"] == {
        "$": "shared",
        "id": 1,
        "value": {"$": "promise", "kind": "task", "key": "t1"},
    }
    assert encoded["all"]["items"][0] == {"$": "ref", "id": 1}
    assert encoded["push"] == {"$": "function", "name": "push", "this": [1.0]}
    decoded = js.decode_snapshot(through_postgres(locals_))
    assert decoded["all"].items[0] is decoded["p"]
    push = decoded["push"]
    assert (push.name, push.this) == ("push", [1.0]) and js.strict_eq(push, js.get([], "push"))


def test_global_function_values_round_trip_by_name():
    floor, run = js.global_function("Math.floor"), js.global_function("Task.run")
    encoded = js.encode_snapshot({"f": floor, "r": run})
    assert encoded == {
        "f": {"$": "function", "name": "Math.floor"},
        "r": {"$": "function", "name": "Task.run"},
    }
    decoded = js.decode_snapshot(through_postgres({"f": floor, "r": run}))
    assert decoded["f"] is floor and decoded["r"] is run


def test_cycles_round_trip():
    a = [1.0]
    a.append(a)
    d = {"k": None}
    d["k"] = d
    e = js.new_error("loop")
    e.props["self"] = e
    decoded = js.decode_snapshot(through_postgres({"a": a, "d": d, "e": e}))
    assert decoded["a"][1] is decoded["a"]
    assert decoded["d"]["k"] is decoded["d"]
    assert decoded["e"].props["self"] is decoded["e"]


def jsonb(data):
    """What Postgres jsonb hands back: object keys sorted by length, then
    bytes."""
    if type(data) is list:
        return [jsonb(x) for x in data]
    if type(data) is dict:
        order = sorted(data, key=lambda k: (len(k.encode()), k.encode()))
        return {k: jsonb(data[k]) for k in order}
    return data


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_snapshot_decoding_survives_jsonb_key_order(value):
    decoded = js.decode_snapshot(jsonb(through_postgres(value)))
    assert isomorphic(sort_keys(value), sort_keys(decoded))


def sort_keys(root):
    """A copy of a graph with every dict's keys in one order (sharing kept)."""
    copies = {}

    def walk(v):
        if type(v) is dict:
            if id(v) not in copies:
                copies[id(v)] = out = {}
                for k in sorted(v):
                    out[k] = walk(v[k])
            return copies[id(v)]
        if type(v) is list:
            if id(v) not in copies:
                copies[id(v)] = out = []
                out.extend(walk(x) for x in v)
            return copies[id(v)]
        if type(v) is js.JSError:
            if id(v) not in copies:
                copies[id(v)] = out = js.JSError(v.name, v.message)
                out.props = walk(v.props)
            return copies[id(v)]
        if type(v) is js.Promise:
            if id(v) not in copies:
                copies[id(v)] = out = js.Promise(v.kind, v.key)
                out.items = None if v.items is None else walk(v.items)
            return copies[id(v)]
        if type(v) is js.JSFunction:
            return js.JSFunction(v.name, walk(v.this), v.impl)
        return v

    return walk(root)


def test_script_objects_that_look_like_tags_stay_objects():
    """After jsonb, the reference under "a" comes before the definition
    under "bbb"; the look-alike under "zz" must not be taken for it."""
    shared = [1.0]
    fake = {"$": "shared", "id": 1.0, "value": ["not", "shared"]}
    value = {
        "bbb": shared,
        "a": shared,
        "zz": fake,
        "ref": {"$": "ref", "id": 1.0},
        "error": js.JSError("Error", "m", dict(fake)),
    }
    for data in (through_postgres(value), jsonb(through_postgres(value))):
        decoded = js.decode_snapshot(data)
        assert decoded["a"] is decoded["bbb"] and decoded["a"] == [1.0]
        assert decoded["zz"] == fake and decoded["error"].props == fake
        assert decoded["ref"] == {"$": "ref", "id": 1.0}


# One-pass encoding: a container is written where it is first reached; when
# it is reached again, that first placement is wrapped in place into a
# "shared" definition and a "ref" is written here.


def test_sharing_found_after_the_first_placement_wraps_it_in_place():
    inner = [-0.0, NAN, INF, -INF, UNDEFINED]
    outer = {"in": inner, "n": 1.0}
    value = {"o": outer, "again": outer, "i": inner}
    assert js.encode_snapshot(value) == {
        "o": {
            "$": "shared",
            "id": 1,
            "value": {
                "in": {
                    "$": "shared",
                    "id": 2,
                    "value": [
                        {"$": "-0"},
                        {"$": "NaN"},
                        {"$": "Infinity"},
                        {"$": "-Infinity"},
                        {"$": "undefined"},
                    ],
                },
                "n": 1.0,
            },
        },
        "again": {"$": "ref", "id": 1},
        "i": {"$": "ref", "id": 2},
    }
    decoded = js.decode_snapshot(through_postgres(value))
    assert decoded["o"] is decoded["again"] and decoded["o"]["in"] is decoded["i"]
    assert isomorphic(value, decoded)


def _receiver_of(x):
    return js.get(x, "push")


# (holder of x, where x's encoding sits in the holder's encoding, where x sits
# in the decoded holder): x is reached first inside the holder, then again.
FIRST_PLACEMENTS = {
    "list item": (lambda x: [0.0, x], lambda e: e[1], lambda d: d[1]),
    "object member": (lambda x: {"a": x}, lambda e: e["a"], lambda d: d["a"]),
    "tagged object member": (
        lambda x: {"$": 1.0, "a": x},
        lambda e: e["value"]["a"],
        lambda d: d["a"],
    ),
    "error props": (
        lambda x: js.JSError("Error", "m", {"a": x}),
        lambda e: e["props"]["a"],
        lambda d: d.props["a"],
    ),
    "error hidden": (
        lambda x: js.JSError("AggregateError", "m", None, {"errors": x}),
        lambda e: e["hidden"]["errors"],
        lambda d: d.hidden["errors"],
    ),
    "promise items": (
        lambda x: js.Promise("all", None, [js.Promise("task", "t0"), x]),
        lambda e: e["items"][1],
        lambda d: d.items[1],
    ),
    "method receiver": (_receiver_of, lambda e: e["this"], lambda d: d.this),
}


@pytest.mark.parametrize("holder", FIRST_PLACEMENTS)
def test_first_placement_is_wrapped_in_any_slot(holder):
    make, encoded_slot, decoded_slot = FIRST_PLACEMENTS[holder]
    x = [1.0, "s"]
    value = {"h": make(x), "x": x}
    encoded = js.encode_snapshot(value)
    assert encoded_slot(encoded["h"]) == {"$": "shared", "id": 1, "value": [1.0, "s"]}
    assert encoded["x"] == {"$": "ref", "id": 1}
    for data in (through_postgres(value), jsonb(through_postgres(value))):
        decoded = js.decode_snapshot(data)
        assert decoded_slot(decoded["h"]) is decoded["x"] == [1.0, "s"]


def test_cycles_through_every_container_kind_round_trip():
    tagged = {"$": "x"}
    tagged["self"] = tagged
    error = js.new_error("e")
    error.props["list"] = [error]
    hidden = js.JSError("Error", "h", None, {})
    hidden.hidden["cause"] = {"back": hidden}
    promise = js.Promise("all", None, [])
    promise.items.append({"p": promise})
    bound = []
    bound.append(js.get(bound, "push"))
    long_way = {"p": js.Promise("any", None, [{"e": js.JSError("Error", "m", {})}])}
    long_way["p"].items[0]["e"].props["up"] = [long_way]
    value = {
        "tagged": tagged,
        "error": error,
        "hidden": hidden,
        "promise": promise,
        "bound": bound,
        "long_way": long_way,
    }
    assert js.encode_snapshot(promise) == {
        "$": "shared",
        "id": 1,
        "value": {
            "$": "promise",
            "kind": "all",
            "key": None,
            "items": [{"p": {"$": "ref", "id": 1}}],
        },
    }
    assert js.encode_snapshot(tagged) == {
        "$": "shared",
        "id": 1,
        "value": {"$": "object", "value": {"$": "x", "self": {"$": "ref", "id": 1}}},
    }
    for data in (through_postgres(value), jsonb(through_postgres(value))):
        d = js.decode_snapshot(data)
        assert d["tagged"]["self"] is d["tagged"] and d["tagged"]["$"] == "x"
        assert d["error"].props["list"][0] is d["error"]
        assert d["hidden"].hidden["cause"]["back"] is d["hidden"]
        assert d["promise"].items[0]["p"] is d["promise"]
        assert d["bound"][0].this is d["bound"]
        assert d["long_way"]["p"].items[0]["e"].props["up"][0] is d["long_way"]
        assert isomorphic(sort_keys(value), sort_keys(d))
    d = js.decode_snapshot(through_postgres(value))
    push = d["bound"][0]
    assert js.call_method(push, "call", [push.this, 2.0], "push.call") == 2.0 and d["bound"][1] == 2.0


def test_sharing_at_the_root():
    loop = [1.0]
    loop.append(loop)
    assert js.encode_snapshot(loop) == {
        "$": "shared",
        "id": 1,
        "value": [1.0, {"$": "ref", "id": 1}],
    }
    root = {"a": {"up": None}, "b": None}
    root["a"]["up"] = root
    root["b"] = root["a"]
    assert js.encode_snapshot(root) == {
        "$": "shared",
        "id": 1,
        "value": {
            "a": {"$": "shared", "id": 2, "value": {"up": {"$": "ref", "id": 1}}},
            "b": {"$": "ref", "id": 2},
        },
    }
    error = js.new_error("root")
    error.props["me"] = error
    for value in (loop, root, error):
        for data in (through_postgres(value), jsonb(through_postgres(value))):
            assert isomorphic(sort_keys(value), sort_keys(js.decode_snapshot(data)))


def test_references_before_their_definitions_after_jsonb_sort():
    """p and q point at each other; after jsonb "aq" (a reference to q)
    comes before "zp", where p is defined with q's definition inside it,
    and inside q the reference to p comes before "name"."""
    p = {"name": "p"}
    q = {"name": "q", "p": p}
    p["q"] = q
    value = {"zp": p, "aq": q}
    encoded = js.encode_snapshot(value)
    assert encoded == {
        "zp": {
            "$": "shared",
            "id": 1,
            "value": {
                "name": "p",
                "q": {
                    "$": "shared",
                    "id": 2,
                    "value": {"name": "q", "p": {"$": "ref", "id": 1}},
                },
            },
        },
        "aq": {"$": "ref", "id": 2},
    }
    data = jsonb(through_postgres(value))
    assert list(data) == ["aq", "zp"] and data["aq"] == {"$": "ref", "id": 2}
    assert list(data["zp"]["value"]["q"]["value"]) == ["p", "name"]
    decoded = js.decode_snapshot(data)
    assert decoded["aq"] is decoded["zp"]["q"] and decoded["aq"]["p"] is decoded["zp"]
    assert decoded["zp"]["name"] == "p" and decoded["aq"]["name"] == "q"


def test_snapshots_numbered_in_first_sight_order_still_decode():
    """Earlier encoders numbered shared containers in the order they were
    first reached; ids are now given in the order sharing is discovered.
    Stored snapshots of either kind decode the same."""
    a, b = [1.0], [2.0]
    value = {"a": a, "b": b, "b2": b, "a2": a}
    assert js.encode_snapshot(value) == {
        "a": {"$": "shared", "id": 2, "value": [1.0]},
        "b": {"$": "shared", "id": 1, "value": [2.0]},
        "b2": {"$": "ref", "id": 1},
        "a2": {"$": "ref", "id": 2},
    }
    stored = {
        "a": {"$": "shared", "id": 1, "value": [1.0]},
        "b": {"$": "shared", "id": 2, "value": [2.0]},
        "b2": {"$": "ref", "id": 2},
        "a2": {"$": "ref", "id": 1},
    }
    for data in (stored, jsonb(stored)):
        decoded = js.decode_snapshot(data)
        assert decoded["a"] is decoded["a2"] == [1.0]
        assert decoded["b"] is decoded["b2"] == [2.0]


def _tags(data):
    """(ids of "shared" definitions in document order, ids of "ref"s) in
    encoded data; walks encoded nodes only, as decode_snapshot does."""
    defined, refs, stack = [], [], [data]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(reversed(node))
        elif type(node) is dict:
            tag = node.get("$")
            if tag is None:
                stack.extend(reversed(node.values()))
            elif tag == "shared":
                defined.append(node["id"])
                stack.append(node["value"])
            elif tag == "ref":
                refs.append(node["id"])
            elif tag == "object":
                stack.extend(reversed(node["value"].values()))
            elif tag == "error":
                stack.extend(node.get("hidden", {}).values())
                stack.extend(node.get("props", {}).values())
            elif tag == "promise":
                stack.extend(node.get("items", ()))
            elif tag == "function" and "this" in node:
                stack.append(node["this"])
    return defined, refs


def _reached_twice(root) -> int:
    """How many containers are reached along more than one edge (the root
    counts as reached once)."""
    counts, stack = {}, [root]
    while stack:
        v = stack.pop()
        if type(v) is js.JSFunction:
            stack.append(v.this)
        elif type(v) in (list, dict, js.JSError, js.Promise):
            counts[id(v)] = counts.get(id(v), 0) + 1
            if counts[id(v)] > 1:
                continue
            if type(v) is list:
                stack.extend(v)
            elif type(v) is dict:
                stack.extend(v.values())
            elif type(v) is js.JSError:
                stack.extend(v.props.values())
                stack.extend((v.hidden or {}).values())
            else:
                stack.extend(v.items or ())
    return sum(1 for n in counts.values() if n > 1)


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_each_shared_container_is_defined_once(value):
    defined, refs = _tags(js.encode_snapshot(value))
    assert sorted(defined) == list(range(1, len(defined) + 1))
    assert len(defined) == _reached_twice(value)
    assert set(refs) == set(defined)


# How to wrap a value one level deeper, and how to unwrap a decoded level.
NESTERS = {
    "list": (lambda inner: [inner], lambda d: d[0]),
    "object": (lambda inner: {"next": inner}, lambda d: d["next"]),
    "tagged object": (lambda inner: {"$": 1.0, "next": inner}, lambda d: d["next"]),
    "error props": (
        lambda inner: js.JSError("Error", "m", {"cause": inner}),
        lambda d: d.props["cause"],
    ),
    "error hidden": (
        lambda inner: js.JSError("Error", "m", None, {"cause": inner}),
        lambda d: d.hidden["cause"],
    ),
    "promise items": (
        lambda inner: js.Promise("all", None, [inner]),
        lambda d: d.items[0],
    ),
    "method receiver": (
        lambda inner: [js.get([inner], "push")],
        lambda d: d[0].this[0],
    ),
}


@pytest.mark.parametrize("nester", NESTERS)
def test_encode_refuses_what_decode_could_not_read_back(nester):
    """A snapshot nested too deeply to decode is refused when it is written,
    not stored and found unreadable at the next step."""
    nest, unnest = NESTERS[nester]

    def nested(depth):
        v = None
        for _ in range(depth):
            v = nest(v)
        return v

    lo, hi = 1, sys.getrecursionlimit()  # the deepest nesting encode_snapshot accepts, by bisection
    with pytest.raises(RecursionError):
        js.encode_snapshot(nested(hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            js.encode_snapshot(nested(mid))
            lo = mid
        except RecursionError:
            hi = mid
    assert lo > 100
    decoded = js.decode_snapshot(json.loads(json.dumps(js.encode_snapshot(nested(lo)))))
    for _ in range(lo):
        assert type(decoded) is type(nest(None))
        decoded = unnest(decoded)
    assert decoded is None


def test_floats_round_trip_exactly_through_json():
    values = [
        0.1,
        1 / 3,
        5e-324,
        1.7976931348623157e308,
        -2.5e-310,
        1e21,
        123456789012345680000.0,
    ]
    assert [bits(x) for x in js.decode_snapshot(through_postgres(values))] == [
        bits(x) for x in values
    ]


def test_decode_accepts_postgres_integers():
    assert same(
        js.decode_snapshot({"n": 3, "big": 10**300, "l": [1]}),
        {"n": 3.0, "big": 1e300, "l": [1.0]},
    )


def test_encode_rejects_python_values():
    with pytest.raises(TypeError):
        js.encode_snapshot({"x": (1, 2)})
    with pytest.raises(TypeError):
        js.encode_snapshot({"x": object()})


# --------------------------------------------------------------------------
# Tables generated with Node 20
# --------------------------------------------------------------------------

# String(x) in Node for tricky doubles: boundaries of the fixed/exponent
# layouts (1e21, 1e-7), integers past 2**53, subnormals, powers of ten and
# random bit patterns.
# fmt: off
NUMBER_STRINGS = [
    (0.0, "0"),
    (-0.0, "0"),
    (5e-324, "5e-324"),
    (-5e-324, "-5e-324"),
    (1.7976931348623157e+308, "1.7976931348623157e+308"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"),
    (2.225073858507201e-308, "2.225073858507201e-308"),
    (1e+21, "1e+21"),
    (-1e+21, "-1e+21"),
    (1e+20, "100000000000000000000"),
    (9.999999999999999e+20, "999999999999999900000"),
    (1.0000000000000001e+21, "1.0000000000000001e+21"),
    (1e-06, "0.000001"),
    (1e-07, "1e-7"),
    (1.5e-07, "1.5e-7"),
    (9.999999999999997e-07, "9.999999999999997e-7"),
    (1.0000000000000002e-06, "0.0000010000000000000002"),
    (1.2345678901234568e+20, "123456789012345680000"),
    (9007199254740992.0, "9007199254740992"),
    (9007199254740994.0, "9007199254740994"),
    (9007199254740991.0, "9007199254740991"),
    (-9007199254740992.0, "-9007199254740992"),
    (1.8014398509481984e+16, "18014398509481984"),
    (9.223372036854776e+18, "9223372036854776000"),
    (1.8446744073709552e+19, "18446744073709552000"),
    (1.1805916207174113e+21, "1.1805916207174113e+21"),
    (1e+16, "10000000000000000"),
    (1000000000000000.2, "1000000000000000.2"),
    (0.30000000000000004, "0.30000000000000004"),
    (0.3333333333333333, "0.3333333333333333"),
    (0.6666666666666666, "0.6666666666666666"),
    (-0.3333333333333333, "-0.3333333333333333"),
    (100.0, "100"),
    (1.5e+300, "1.5e+300"),
    (-1.5e-300, "-1.5e-300"),
    (4.35, "4.35"),
    (0.000123, "0.000123"),
    (1.0000000000000002, "1.0000000000000002"),
    (0.9999999999999999, "0.9999999999999999"),
    (2.9514790517935283e+20, "295147905179352830000"),
    (1e-323, "1e-323"),
    (1.2e-322, "1.2e-322"),
    (0.5, "0.5"),
    (0.25, "0.25"),
    (0.125, "0.125"),
    (1e+100, "1e+100"),
    (1e-100, "1e-100"),
    (3.14159, "3.14159"),
    (2.718281828459045, "2.718281828459045"),
    (1.7976931348623158e+307, "1.7976931348623158e+307"),
    (8.98846567431158e+307, "8.98846567431158e+307"),
    (12345678.9, "12345678.9"),
    (1e-25, "1e-25"),
    (1.2345e-25, "1.2345e-25"),
    (-7e-25, "-7e-25"),
    (1e-24, "1e-24"),
    (1.2344999999999999e-24, "1.2344999999999999e-24"),
    (-7e-24, "-7e-24"),
    (1e-23, "1e-23"),
    (1.2344999999999999e-23, "1.2344999999999999e-23"),
    (-7e-23, "-7e-23"),
    (1e-22, "1e-22"),
    (1.2345e-22, "1.2345e-22"),
    (-7e-22, "-7e-22"),
    (1e-21, "1e-21"),
    (1.2344999999999999e-21, "1.2344999999999999e-21"),
    (-6.999999999999999e-21, "-6.999999999999999e-21"),
    (1e-20, "1e-20"),
    (1.2344999999999998e-20, "1.2344999999999998e-20"),
    (-7e-20, "-7e-20"),
    (1e-19, "1e-19"),
    (1.2344999999999998e-19, "1.2344999999999998e-19"),
    (-6.999999999999999e-19, "-6.999999999999999e-19"),
    (1e-18, "1e-18"),
    (1.2345e-18, "1.2345e-18"),
    (-7e-18, "-7e-18"),
    (1e-17, "1e-17"),
    (1.2345e-17, "1.2345e-17"),
    (-7e-17, "-7e-17"),
    (1e-16, "1e-16"),
    (1.2345e-16, "1.2345e-16"),
    (-6.999999999999999e-16, "-6.999999999999999e-16"),
    (1e-15, "1e-15"),
    (1.2345e-15, "1.2345e-15"),
    (-7e-15, "-7e-15"),
    (1e-14, "1e-14"),
    (1.2345e-14, "1.2345e-14"),
    (-7e-14, "-7e-14"),
    (1e-13, "1e-13"),
    (1.2345e-13, "1.2345e-13"),
    (-7e-13, "-7e-13"),
    (1e-12, "1e-12"),
    (1.2344999999999998e-12, "1.2344999999999998e-12"),
    (-7e-12, "-7e-12"),
    (1e-11, "1e-11"),
    (1.2344999999999999e-11, "1.2344999999999999e-11"),
    (-6.999999999999999e-11, "-6.999999999999999e-11"),
    (1e-10, "1e-10"),
    (1.2345e-10, "1.2345e-10"),
    (-7.000000000000001e-10, "-7.000000000000001e-10"),
    (1e-09, "1e-9"),
    (1.2345e-09, "1.2345e-9"),
    (-7.000000000000001e-09, "-7.000000000000001e-9"),
    (1e-08, "1e-8"),
    (1.2344999999999999e-08, "1.2344999999999999e-8"),
    (-7e-08, "-7e-8"),
    (1.2344999999999998e-07, "1.2344999999999998e-7"),
    (-7e-07, "-7e-7"),
    (1.2344999999999998e-06, "0.0000012344999999999998"),
    (-7e-06, "-0.000007"),
    (1e-05, "0.00001"),
    (1.2345e-05, "0.000012345"),
    (-7.000000000000001e-05, "-0.00007000000000000001"),
    (0.0001, "0.0001"),
    (0.00012345, "0.00012345"),
    (-0.0007, "-0.0007"),
    (0.001, "0.001"),
    (0.0012345, "0.0012345"),
    (-0.007, "-0.007"),
    (0.01, "0.01"),
    (0.012345, "0.012345"),
    (-0.07, "-0.07"),
    (0.1, "0.1"),
    (0.12345, "0.12345"),
    (-0.7000000000000001, "-0.7000000000000001"),
    (1.0, "1"),
    (1.2345, "1.2345"),
    (-7.0, "-7"),
    (10.0, "10"),
    (12.344999999999999, "12.344999999999999"),
    (-70.0, "-70"),
    (123.44999999999999, "123.44999999999999"),
    (-700.0, "-700"),
    (1000.0, "1000"),
    (1234.5, "1234.5"),
    (-7000.0, "-7000"),
    (10000.0, "10000"),
    (12345.0, "12345"),
    (-70000.0, "-70000"),
    (100000.0, "100000"),
    (123450.0, "123450"),
    (-700000.0, "-700000"),
    (1000000.0, "1000000"),
    (1234500.0, "1234500"),
    (-7000000.0, "-7000000"),
    (10000000.0, "10000000"),
    (12345000.0, "12345000"),
    (-70000000.0, "-70000000"),
    (100000000.0, "100000000"),
    (123450000.0, "123450000"),
    (-700000000.0, "-700000000"),
    (1000000000.0, "1000000000"),
    (1234500000.0, "1234500000"),
    (-7000000000.0, "-7000000000"),
    (10000000000.0, "10000000000"),
    (12345000000.0, "12345000000"),
    (-70000000000.0, "-70000000000"),
    (100000000000.0, "100000000000"),
    (123450000000.0, "123450000000"),
    (-700000000000.0, "-700000000000"),
    (1000000000000.0, "1000000000000"),
    (1234500000000.0, "1234500000000"),
    (-7000000000000.0, "-7000000000000"),
    (10000000000000.0, "10000000000000"),
    (12345000000000.0, "12345000000000"),
    (-70000000000000.0, "-70000000000000"),
    (100000000000000.0, "100000000000000"),
    (123450000000000.0, "123450000000000"),
    (-700000000000000.0, "-700000000000000"),
    (1000000000000000.0, "1000000000000000"),
    (1234500000000000.0, "1234500000000000"),
    (-7000000000000000.0, "-7000000000000000"),
    (1.2345e+16, "12345000000000000"),
    (-7e+16, "-70000000000000000"),
    (1e+17, "100000000000000000"),
    (1.2345e+17, "123450000000000000"),
    (-7e+17, "-700000000000000000"),
    (1e+18, "1000000000000000000"),
    (1.2345e+18, "1234500000000000000"),
    (-7e+18, "-7000000000000000000"),
    (1e+19, "10000000000000000000"),
    (1.2345e+19, "12345000000000000000"),
    (-7e+19, "-70000000000000000000"),
    (1.2345e+20, "123450000000000000000"),
    (-7e+20, "-700000000000000000000"),
    (1.2345e+21, "1.2345e+21"),
    (-7e+21, "-7e+21"),
    (1e+22, "1e+22"),
    (1.2345e+22, "1.2345e+22"),
    (-7e+22, "-7e+22"),
    (1.0000000000000001e+23, "1.0000000000000001e+23"),
    (1.2345e+23, "1.2345e+23"),
    (-7e+23, "-7e+23"),
    (1e+24, "1e+24"),
    (1.2345e+24, "1.2345e+24"),
    (-7e+24, "-7e+24"),
    (1e+25, "1e+25"),
    (1.2345e+25, "1.2345e+25"),
    (-7.000000000000001e+25, "-7.000000000000001e+25"),
    (1.3053460867029954e-84, "1.3053460867029954e-84"),
    (-4.593900756363754e-212, "-4.593900756363754e-212"),
    (7.983430509249571e-62, "7.983430509249571e-62"),
    (-4.674232466673235e-33, "-4.674232466673235e-33"),
    (-1676346787.9307153, "-1676346787.9307153"),
    (-91505801076.04057, "-91505801076.04057"),
    (-9.242004904000638e-268, "-9.242004904000638e-268"),
    (-8.72031439815143e-141, "-8.72031439815143e-141"),
    (-1.3466424375819714e-18, "-1.3466424375819714e-18"),
    (5.857245089853537e+128, "5.857245089853537e+128"),
    (-5.6058932322064184e-275, "-5.6058932322064184e-275"),
    (-4.633834494019838e-166, "-4.633834494019838e-166"),
    (1.064411574118151e-39, "1.064411574118151e-39"),
    (-1.3087699255072154e-254, "-1.3087699255072154e-254"),
    (1.8125578230860703e+99, "1.8125578230860703e+99"),
    (1.346681689596359e-216, "1.346681689596359e-216"),
    (-2.327162535179311e+30, "-2.327162535179311e+30"),
    (-5.1701251164991826e+144, "-5.1701251164991826e+144"),
    (-2.333663540648899e-75, "-2.333663540648899e-75"),
    (-6.501815279748911e-28, "-6.501815279748911e-28"),
    (-5.001628063009517e+215, "-5.001628063009517e+215"),
    (-6.447115449024754e+100, "-6.447115449024754e+100"),
    (-1.3354542394704874e-120, "-1.3354542394704874e-120"),
    (-1.1110965234027424e-269, "-1.1110965234027424e-269"),
    (-1.3992996522070256e+145, "-1.3992996522070256e+145"),
    (-8.401153636443164e+282, "-8.401153636443164e+282"),
    (-6.7398649618900644e+25, "-6.7398649618900644e+25"),
    (-5.06868998984818e-150, "-5.06868998984818e-150"),
    (3.224518911819663e+266, "3.224518911819663e+266"),
    (-7.484702137230195e-31, "-7.484702137230195e-31"),
    (2.588700476085742e-137, "2.588700476085742e-137"),
    (2.499949553685165e+95, "2.499949553685165e+95"),
    (9.310895901665851e+99, "9.310895901665851e+99"),
    (-1.3987230868249824e+54, "-1.3987230868249824e+54"),
    (2.4557725950682515e+93, "2.4557725950682515e+93"),
    (1.031878447048137e+203, "1.031878447048137e+203"),
    (-3.3808103698413506e-225, "-3.3808103698413506e-225"),
    (-3.007218575433834e+191, "-3.007218575433834e+191"),
    (7.191242335674431e+193, "7.191242335674431e+193"),
    (1.6266526608241936e-56, "1.6266526608241936e-56"),
    (-1.6268206028814798, "-1.6268206028814798"),
    (-1022358566797290.9, "-1022358566797290.9"),
    (-7.808291293778871e+272, "-7.808291293778871e+272"),
    (187771108119.32678, "187771108119.32678"),
    (-1.0291339019190288e-301, "-1.0291339019190288e-301"),
    (-8.767410170959846e+27, "-8.767410170959846e+27"),
    (-3.90081598379482e-222, "-3.90081598379482e-222"),
    (-1.0791173696284748e-55, "-1.0791173696284748e-55"),
    (-1.7586873779833286e-168, "-1.7586873779833286e-168"),
    (2.2695982181941527e+100, "2.2695982181941527e+100"),
    (-2.4434226281837867e-120, "-2.4434226281837867e-120"),
    (-5.92891181510175e+37, "-5.92891181510175e+37"),
    (1.3771824188622271e-17, "1.3771824188622271e-17"),
    (3.2766214762112476e+264, "3.2766214762112476e+264"),
    (7.78729923227361e-141, "7.78729923227361e-141"),
    (6.071397767104146e+146, "6.071397767104146e+146"),
    (-6.256810315685157e-191, "-6.256810315685157e-191"),
    (-1.0326957467701334e-150, "-1.0326957467701334e-150"),
    (1056624844624708.8, "1056624844624708.8"),
    (-3.3654198689206114e-156, "-3.3654198689206114e-156"),
    (5.56310308827219e+105, "5.56310308827219e+105"),
    (-1.509237848895361e-51, "-1.509237848895361e-51"),
    (-2.522692311181771e-46, "-2.522692311181771e-46"),
    (-3.013159023278787e+137, "-3.013159023278787e+137"),
    (-1.0377024531960915e-81, "-1.0377024531960915e-81"),
    (-1.8862955002187882e+22, "-1.8862955002187882e+22"),
    (6.857029439341655e-146, "6.857029439341655e-146"),
    (-3.1807537675321595e+215, "-3.1807537675321595e+215"),
    (-9.061514923858489e-209, "-9.061514923858489e-209"),
    (5.712467077089321e-228, "5.712467077089321e-228"),
    (-9.512647549987205e+235, "-9.512647549987205e+235"),
    (1.9539401955470455e-94, "1.9539401955470455e-94"),
    (-1.2688032135518973e+185, "-1.2688032135518973e+185"),
    (2.0037910944431919e+232, "2.0037910944431919e+232"),
    (4.7420765793454236e-18, "4.7420765793454236e-18"),
    (7.235502174222167e-27, "7.235502174222167e-27"),
    (2.0314719225839168e-67, "2.0314719225839168e-67"),
    (3.4825980929129125e+42, "3.4825980929129125e+42"),
    (-3.51090488895453e-68, "-3.51090488895453e-68"),
    (-2.977611184107951e-183, "-2.977611184107951e-183"),
    (2.779945189140641e+286, "2.779945189140641e+286"),
    (-1.1016408226190745e+160, "-1.1016408226190745e+160"),
    (-1.308312670230879e-106, "-1.308312670230879e-106"),
    (4.5456367833740966e+203, "4.5456367833740966e+203"),
    (-4.4741925065505884e+114, "-4.4741925065505884e+114"),
    (4.704458858818139e+63, "4.704458858818139e+63"),
    (2.375121349944225e+35, "2.375121349944225e+35"),
    (-4.466565977839332e-229, "-4.466565977839332e-229"),
    (-1.9187743516462272e-23, "-1.9187743516462272e-23"),
    (-5.4262299897932524e-275, "-5.4262299897932524e-275"),
    (4.86282737011383e+302, "4.86282737011383e+302"),
    (-1.5726754496035033e+174, "-1.5726754496035033e+174"),
    (-4.3558328095491836e+42, "-4.3558328095491836e+42"),
    (1.6932082969961052e-91, "1.6932082969961052e-91"),
    (-6.902240523351961e+123, "-6.902240523351961e+123"),
    (3.750250260317813e+86, "3.750250260317813e+86"),
    (-3.0439841358399122, "-3.0439841358399122"),
    (-4.819190387492798e+174, "-4.819190387492798e+174"),
    (1.9829353233877937e-252, "1.9829353233877937e-252"),
    (-2.542832640632858e+186, "-2.542832640632858e+186"),
    (-3.687833414971349e-89, "-3.687833414971349e-89"),
    (6.975356717015037e+156, "6.975356717015037e+156"),
    (-5.144764992170608e-11, "-5.144764992170608e-11"),
    (-4.7343961899911476e+247, "-4.7343961899911476e+247"),
    (3.4326910670132934e-218, "3.4326910670132934e-218"),
    (1.2719426771840465e-25, "1.2719426771840465e-25"),
    (-8.651298641066806e-287, "-8.651298641066806e-287"),
    (-1.0168656673254689e+241, "-1.0168656673254689e+241"),
    (1.9623431153108372e-49, "1.9623431153108372e-49"),
    (-3.1189121571775664e-142, "-3.1189121571775664e-142"),
    (-4.1248868268171187e+214, "-4.1248868268171187e+214"),
    (-3.540746773405349e+242, "-3.540746773405349e+242"),
    (2.0572612958201146e-94, "2.0572612958201146e-94"),
    (6.71892036577166e+293, "6.71892036577166e+293"),
    (-4.528342213552716e+60, "-4.528342213552716e+60"),
    (3.928096795080271e-105, "3.928096795080271e-105"),
    (1.2123785725423196e-201, "1.2123785725423196e-201"),
    (-2.0225309018374553e-163, "-2.0225309018374553e-163"),
    (-1.041697212295719e+76, "-1.041697212295719e+76"),
    (-1.5087827335864302e-192, "-1.5087827335864302e-192"),
    (123.3523, "123.3523"),
    (-0.09304158276708797, "-0.09304158276708797"),
    (-784.1, "-784.1"),
    (61020729.771991216, "61020729.771991216"),
    (-999.07, "-999.07"),
    (-5.797652942351707e+16, "-57976529423517070"),
    (-792.402988, "-792.402988"),
    (0.05528605468375937, "0.05528605468375937"),
    (468.44, "468.44"),
    (486233778240.48834, "486233778240.48834"),
    (-78.049, "-78.049"),
    (-3.711806830233402e-06, "-0.000003711806830233402"),
    (-92.225, "-92.225"),
    (6.50868441552896e-08, "6.50868441552896e-8"),
    (648.023, "648.023"),
    (9984.661695908897, "9984.661695908897"),
    (727.4378, "727.4378"),
    (-691532134361.9958, "-691532134361.9958"),
    (-679.249, "-679.249"),
    (7354414730632.48, "7354414730632.48"),
    (-286.63994, "-286.63994"),
    (-72502810.19277361, "-72502810.19277361"),
    (349.407062, "349.407062"),
    (73.42493534623236, "73.42493534623236"),
    (-162.0, "-162"),
    (4031.3775750175932, "4031.3775750175932"),
    (109.1018, "109.1018"),
    (-88481.89250995107, "-88481.89250995107"),
    (-335.9155, "-335.9155"),
    (2752313556.3454413, "2752313556.3454413"),
    (332.2, "332.2"),
    (393814431521048.1, "393814431521048.1"),
    (653.034148, "653.034148"),
    (-84432797649746.77, "-84432797649746.77"),
    (-650.092259, "-650.092259"),
    (-2910777647.3137684, "-2910777647.3137684"),
    (-9.98, "-9.98"),
    (7514.467126880147, "7514.467126880147"),
    (888.6892, "888.6892"),
    (-6.3103175776959544e+16, "-63103175776959544"),
    (541.0, "541"),
    (-0.0001838536037727178, "-0.0001838536037727178"),
    (910.5288, "910.5288"),
    (-7.803172859791432e+16, "-78031728597914320"),
    (319.0, "319"),
    (-467556502323134.06, "-467556502323134.06"),
    (-364.807255, "-364.807255"),
    (-683013196162.9775, "-683013196162.9775"),
    (139.0, "139"),
    (-0.07631989949168978, "-0.07631989949168978"),
    (411.7, "411.7"),
    (2886514623911.73, "2886514623911.73"),
    (528.0, "528"),
    (-713100266932.1362, "-713100266932.1362"),
    (-244.3147, "-244.3147"),
    (0.027668590577185254, "0.027668590577185254"),
    (577.039378, "577.039378"),
    (2.7285436142107856e-07, "2.7285436142107856e-7"),
    (-416.333126, "-416.333126"),
    (3637859.7891291264, "3637859.7891291264"),
    (-100.0, "-100"),
    (-8.196444398354909e-08, "-8.196444398354909e-8"),
    (-436.6752, "-436.6752"),
    (-47384582373.0171, "-47384582373.0171"),
    (645.366874, "645.366874"),
    (-47679.73603201878, "-47679.73603201878"),
    (577.6364, "577.6364"),
    (-0.00033981280171559185, "-0.00033981280171559185"),
    (370.6, "370.6"),
    (4.874704421777533, "4.874704421777533"),
    (-892.375, "-892.375"),
    (501442272980.67566, "501442272980.67566"),
    (-474.2813, "-474.2813"),
    (50431878.56977013, "50431878.56977013"),
    (-430.2654, "-430.2654"),
    (7621082461299029.0, "7621082461299029"),
    (10.439, "10.439"),
    (-351511131.7051193, "-351511131.7051193"),
    (-505.2108, "-505.2108"),
    (703766674.1975033, "703766674.1975033"),
    (908.34, "908.34"),
    (-1.5886360259973706e+17, "-158863602599737060"),
    (195.214, "195.214"),
    (-8.52248504941418e-07, "-8.52248504941418e-7"),
    (445.4, "445.4"),
    (-0.0023439417023730235, "-0.0023439417023730235"),
    (-352.446598, "-352.446598"),
    (0.7487115943441582, "0.7487115943441582"),
    (-491.472795, "-491.472795"),
    (7855201107.38058, "7855201107.38058"),
    (341.7595, "341.7595"),
    (84587.55948476255, "84587.55948476255"),
    (-664.4818, "-664.4818"),
    (9049759022.771027, "9049759022.771027"),
    (-861.0, "-861"),
    (3676508731.9700074, "3676508731.9700074"),
    (-739.343, "-739.343"),
    (0.009154109338469057, "0.009154109338469057"),
    (-804.234084, "-804.234084"),
    (-4594426721119.045, "-4594426721119.045"),
    (-409.1, "-409.1"),
    (6.00964632349755e-08, "6.00964632349755e-8"),
    (-229.0, "-229"),
    (-69836469.17172632, "-69836469.17172632"),
    (-175.26599, "-175.26599"),
    (-2.3082929338499656, "-2.3082929338499656"),
    (647.0, "647"),
    (3894146146.0291286, "3894146146.0291286"),
    (-236.0297, "-236.0297"),
    (-60.57144891812026, "-60.57144891812026"),
    (597.87, "597.87"),
    (26535391680000.47, "26535391680000.47"),
    (405.42955, "405.42955"),
    (-55925914247455.4, "-55925914247455.4"),
    (626.21717, "626.21717"),
    (-4643629389.378178, "-4643629389.378178"),
    (-950.1359, "-950.1359"),
    (-74738.31504525983, "-74738.31504525983"),
    (62.0, "62"),
    (-6407459423.612975, "-6407459423.612975"),
]

# x.toString(2, 7, 16, 36) and x.toFixed(0, 2, 10, 20) in Node.
RADIX_AND_FIXED = [
    (0.0, ["0", "0", "0", "0"], ["0", "0.00", "0.0000000000", "0.00000000000000000000"]),
    (1e+20, ["1010110101111000111010111100010110101100011000100000000000000000000", "344015313561621001540000", "56bc75e2d63100000", "l3r41ifs0p800"], ["100000000000000000000", "100000000000000000000.00", "100000000000000000000.0000000000", "100000000000000000000.00000000000000000000"]),
    (9007199254740992.0, ["100000000000000000000000000000000000000000000000000000", "5350140446150306054", "20000000000000", "2gosa7pa2gw"], ["9007199254740992", "9007199254740992.00", "9007199254740992.0000000000", "9007199254740992.00000000000000000000"]),
    (1000000000000000.2, ["11100011010111111010100100110001101000000000000000.01", "420430421136212506.2", "38d7ea4c68000.4", "9ugxnorjls.9"], ["1000000000000000", "1000000000000000.25", "1000000000000000.2500000000", "1000000000000000.25000000000000000000"]),
    (0.000123, ["0.0000000000001000000011111001100011111010001101110110100100100011", "0.00002032033121650266164", "0.00080f98fa376923", "0.005qlc86m7qv"], ["0", "0.00", "0.0001230000", "0.00012300000000000001"]),
    (1e+100, ["100100100100110101101001001011001010011000011011111010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "16201341553122251060000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1249ad2594c37d0000000000000000000000000000000000000000000000000000000000000000000000", "2hqbczu2ow6000000000000000000000000000000000000000000000000000000"], None),
    (-7e-25, ["-0.000000000000000000000000000000000000000000000000000000000000000000000000000000001101100010100011101101101011100011111001011100001111", "-0.00000000000000000000000000002153046041004311542", "-0.00000000000000000000d8a3b6b8f970f", "-0.0000000000000005kk3i6dn07"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000000"]),
    (-7e-22, ["-0.000000000000000000000000000000000000000000000000000000000000000000000011010011100011111110000001110000101000111001100001001", "-0.00000000000000000000000006366635241404662136", "-0.0000000000000000034e3f81c28e612", "-0.00000000000004ar29cx6v1a"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000000"]),
    (-6.999999999999999e-19, ["-0.0000000000000000000000000000000000000000000000000000000000001100111010011010100000010010110111111111110000101011", "-0.0000000000000000000002510514401265365206", "-0.000000000000000ce9a812dffc2b", "-0.000000000003benqryxym7"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000070"]),
    (-6.999999999999999e-16, ["-0.00000000000000000000000000000000000000000000000000110010011100001011100010001001101110101111000100001", "-0.0000000000000000010656606014403251321", "-0.0000000000003270b889baf108", "-0.0000000002k4v7jsyndg"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000070000"]),
    (-7e-13, ["-0.00000000000000000000000000000000000000001100010100001000010100001101101000000010001111011001", "-0.0000000000000032156140506523214034", "-0.0000000000c50850da023d9", "-0.00000001z3b6xq4iha"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000070000000"]),
    (-7.000000000000001e-10, ["-0.000000000000000000000000000000110000000110101000011110111101001110011000110000001", "-0.000000000012455202342600253", "-0.0000000301a87bd398c08", "-0.000001iurywotpdd"], ["-0", "-0.00", "-0.0000000007", "-0.00000000070000000000"]),
    (1.2344999999999998e-06, ["0.00000000000000000001010010110110001000110001101010111111110100100111", "0.00000010055003245342254615", "0.000014b6231abfd27", "0.00022n8k6i9a1b"], ["0", "0.00", "0.0000012345", "0.00000123450000000000"]),
    (0.0012345, ["0.0000000001010000111001110111100100100000011111010100111000001", "0.0002651443460230113101", "0.0050e779207d4e08", "0.01llhhskr5qr"], ["0", "0.00", "0.0012345000", "0.00123449999999999992"]),
    (1.2345, ["1.0011110000001000001100010010011011101001011110001101", "1.14330145556143043", "1.3c083126e978d", "1.8fwty9sifjj"], ["1", "1.23", "1.2345000000", "1.23449999999999993072"]),
    (-7000.0, ["-1101101011000", "-26260", "-1b58", "-5eg"], ["-7000", "-7000.00", "-7000.0000000000", "-7000.00000000000000000000"]),
    (-7000000.0, ["-11010101100111111000000", "-113333110", "-6acfc0", "-4618g"], ["-7000000", "-7000000.00", "-7000000.0000000000", "-7000000.00000000000000000000"]),
    (-7000000000.0, ["-110100001001110111000011000000000", "-335316006160", "-1a13b8600", "-37rmakg"], ["-7000000000", "-7000000000.00", "-7000000000.0000000000", "-7000000000.00000000000000000000"]),
    (-7000000000000.0, ["-1100101110111010000100000110111000000000000", "-1321506345160210", "-65dd0837000", "-2hbr79jwg"], ["-7000000000000", "-7000000000000.00", "-7000000000000.0000000000", "-7000000000000.00000000000000000000"]),
    (-7000000000000000.0, ["-11000110111100111011010000001011011011000000000000000", "-4204304211362125060", "-18de76816d8000", "-1wxajltct8g"], ["-7000000000000000", "-7000000000000000.00", "-7000000000000000.0000000000", "-7000000000000000.00000000000000000000"]),
    (1e+19, ["1000101011000111001000110000010010001001111010000000000000000000", "23621642325042620562000", "8ac7230489e80000", "23z405fz79ts0"], ["10000000000000000000", "10000000000000000000.00", "10000000000000000000.0000000000", "10000000000000000000.00000000000000000000"]),
    (-7e+22, ["-1110110100101011010100100101100001000001101011100000000000000000000000000000", "-1031244300061410422300000000", "-ed2b525841ae0000000", "-becz6leisu80000"], None),
    (-7.000000000000001e+25, ["-11100111100111000100111001101010001100000010001111110000000000000000000000000000000000", "-3051151154641044436600000000000", "-39e7139a8c08fc00000000", "-8smwhb6je90000000"], None),
    (-1.3466424375819714e-18, ["-0.0000000000000000000000000000000000000000000000000000000000011000110101110101011011010000000001010101100101111001", "-0.0000000000000000000005156640251024315144", "-0.0000000000000018d756d0055979", "-0.000000000006dpnisow87r"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000135"]),
    (-5.1701251164991826e+144, ["-1101001111111101001001111111111101001111011000001000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-1406540006654161516100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-1a7fa4ffe9ec1100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-y66yz8ouus00000000000000000000000000000000000000000000000000000000000000000000000000000000000"], None),
    (-6.7398649618900644e+25, ["-11011111000000001110000001110111110001110000000010000000000000000000000000000000000000", "-2663442641523426302500000000000", "-37c0381df1c02000000000", "-8gvalqj28uk000000"], None),
    (1.031878447048137e+203, ["101010001000001000100011011010100001100110111000101010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "1356236146113043431300000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "544111b50cdc5400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "4y2qsdzy4ls000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"], None),
    (-1.0291339019190288e-301, ["-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000110100100110000111101100000001101101011010100001", "-0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005105104506113322026", "-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000011a4c3d80dad42", "-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008m2iirs784g"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000000"]),
    (3.2766214762112476e+264, ["110100000001110100000111111101011110111111001001110100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "6665363432251315241000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "680e83faf7e4e800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "vn7s63kn0gg000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"], None),
    (-2.522692311181771e-46, ["-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000101110000101100010001111111111100100101001001001011", "-0.0000000000000000000000000000000000000000000000000000010424321663235633465", "-0.0000000000000000000000000000000000000170b11ffc9492c", "-0.00000000000000000000000000000cbusztgdnu"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000000"]),
    (1.9539401955470455e-94, ["0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000011010000101011011111011010111111100110101110011101011", "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000011514306051045413546", "0.000000000000000000000000000000000000000000000000000000000000000000000000000001a15bed7f35ceb", "0.000000000000000000000000000000000000000000000000000000000000gsvj85ogfpg"], ["0", "0.00", "0.0000000000", "0.00000000000000000000"]),
    (2.779945189140641e+286, ["1011101011110010101000100001101111100111110111100011100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "621544446461642052100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "baf2a21be7de3800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "17pwwzo2ccyo00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"], None),
    (-5.4262299897932524e-275, ["-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000011110000011110001100101000000000000011100100111101001", "-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000023144154264305442252", "-0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001e0f194001c9e9", "-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000fum5ampp75w"], ["-0", "-0.00", "-0.0000000000", "-0.00000000000000000000"]),
    (1.9829353233877937e-252, ["0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001110100010011011101011100110010111110001111110011111", "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000012404612410300465654", "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e89bae65f1f9f", "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002mbm7dy6zh4"], ["0", "0.00", "0.0000000000", "0.00000000000000000000"]),
    (-1.0168656673254689e+241, ["-110000110011001011100001000000001111100000110001100010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-1266226530500362205000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-18665c201f06310000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "-lpld8os7q0g000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"], None),
    (1.2123785725423196e-201, ["0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001011111000001110110000010100101111011001010100100101", "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000014351660251100435345", "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000017c1d8297b2a4a", "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000pagxp2vgj0f"], ["0", "0.00", "0.0000000000", "0.00000000000000000000"]),
    (-5.797652942351707e+16, ["-11001101111110010101100010101001100110010100010110010000", "-50413566011065543354", "-cdf958a9994590", "-fuuypxh4qs0"], ["-57976529423517072", "-57976529423517072.00", "-57976529423517072.0000000000", "-57976529423517072.00000000000000000000"]),
    (648.023, ["1010001000.0000010111100011010100111111011111001110111", "1614.010613632650424", "288.05e353f7cee", "i0.0tt361q7k"], ["648", "648.02", "648.0230000000", "648.02300000000002455636"]),
    (73.42493534623236, ["1001001.01101100110010001001000000010110111110111", "133.26551613465102603", "49.6cc89016fb8", "21.faps7fmcd"], ["73", "73.42", "73.4249353462", "73.42493534623235973413"]),
    (653.034148, ["1010001101.000010001011110111101100010111110011100101", "1622.0144663226542242", "28d.08bdec5f394", "i5.1897iz7jp"], ["653", "653.03", "653.0341480000", "653.03414799999995921098"]),
    (-0.0001838536037727178, ["-0.000000000000110000001100100011010011011100101000000110001000111", "-0.000030426104350510222243", "-0.000c0c8d3728188e", "-0.008ksx9z4hm6s"], ["-0", "-0.00", "-0.0001838536", "-0.00018385360377271779"]),
    (411.7, ["110011011.10110011001100110011001100110011001100110011", "1125.462046204620462", "19b.b3333333333", "bf.p77777776"], ["412", "411.70", "411.7000000000", "411.69999999999998863132"]),
    (3637859.7891291264, ["1101111000001001100011.1100101000000100010111011100111", "42631001.53444615243", "378263.ca045dce", "25yzn.seplwn"], ["3637860", "3637859.79", "3637859.7891291264", "3637859.78912912635132670403"]),
    (370.6, ["101110010.1001100110011001100110011001100110011001101", "1036.412541254125413", "172.9999999999a", "aa.llllllllo"], ["371", "370.60", "370.6000000000", "370.60000000000002273737"]),
    (-351511131.7051193, ["-10100111100111010001001011011.101101001000001010110011", "-11465536536.463566404", "-14f3a25b.b482b3", "-5ta3q3.pdu1o"], ["-351511132", "-351511131.71", "-351511131.7051193118", "-351511131.70511931180953979492"]),
    (-352.446598, ["-101100000.01110010010101000011111100011100011101011", "-1012.3061165441152513", "-160.72543f1c758", "-9s.g2sh59oy"], ["-352", "-352.45", "-352.4465980000", "-352.44659799999999449938"]),
    (3676508731.9700074, ["11011011001000110001001000111011.111110000101001001101", "160051544230.6534663", "db23123b.f85268", "1oswcaj.yx4o"], ["3676508732", "3676508731.97", "3676508731.9700074196", "3676508731.97000741958618164063"]),
    (-175.26599, ["-10101111.0100010000010111111010111010111100010000001", "-340.1601433126324105", "-af.4417ebaf102", "-4v.9kq125jw7"], ["-175", "-175.27", "-175.2659900000", "-175.26598999999998795829"]),
    (-55925914247455.4, ["-1100101101110101000100010000001010000100011111.0110011", "-14531341201423540.254", "-32dd4440a11f.66", "-jto0ddmov.ec"], ["-55925914247455", "-55925914247455.40", "-55925914247455.3984375000", "-55925914247455.39843750000000000000"]),
]

# x ** y in Node where the C library's pow (Python's math.pow) differs in
# the last bit, plus overflow, underflow and subnormal results: V8 uses
# fdlibm's pow, which values.py ports.
POW_CASES = [
    (4.94930187180932, -35.324440118336184, 2.921622226230774e-25),
    (1.5890863641737993, 789.3425428545577, 5.946753642397412e+158),
    (0.4270437881727809, 691.2165006412313, 3.770783737330982e-256),
    (6.289545207810299, -4.0, 0.0006390326200013429),
    (41.890874158403435, -6.352414930864633, 4.961629796895961e-11),
    (0.29538861491265167, -113.96586769899807, 2.2752836538598668e+60),
    (1.6874150088430206, 271.7223257987878, 5.511441730638631e+61),
    (1.5438740480994069, -427.4620888573912, 2.3745284018142914e-81),
    (9.351853745288263, 35.0, 9.581195854326156e+33),
    (1.5757104360314123, 72.51717505060378, 209137297996101.88),
    (2.386103541541056, -2.0, 0.17563919151732837),
    (12.422204901750844, -43.84659919346946, 1.0546507463679326e-48),
    (57.89154049121884, 10.54173723849712, 3.8108802579340974e+18),
    (0.5675478000818213, 258.658561384005, 2.3476114486094686e-64),
    (1.8890843675730296, -900.3643622365181, 1.875537130800652e-249),
    (0.8490890381950496, 734.7491185960705, 6.287115033295443e-53),
    (1.9401123276863625, 31.0, 836822082.6421561),
    (87.83117965418296, -26.381158042217102, 5.300246290417355e-52),
    (1.4513931601793244, -470.3250660981902, 8.098885732584411e-77),
    (1.9512723494984456, 772.9572603389238, 2.5311693903265278e+224),
    (7.907303883328121, 48.09341093145247, 1.5461452180108836e+43),
    (0.133945607320207, 306.39062483032717, 3.155514279778688e-268),
    (-1.7910212547184639, 37.0, -2315940369.9768734),
    (-6.857586987859472, -7.0, -1.4021701677377735e-06),
    (16.596148451205273, 10.493074758404866, 6333268772738.133),
    (22.61526813867354, -3.641511946817076, 1.1693105770336952e-05),
    (1.3858786946119732, 5.0, 5.112414896465763),
    (0.6069464866955083, 640.7194784109022, 1.1487845397200796e-139),
    (32.105936503418064, -39.69000319362872, 1.598169899920199e-60),
    (1.026290699586479, 756.6257539026681, 336875795.9320282),
    (1.2039062180330014, 32.0, 379.2844530484065),
    (1.8701770430125624, -37.0, 8.716443128491804e-11),
    (87.33715145439301, 42.157947617233816, 6.870158072547196e+81),
    (1.810279158465572, -366.85996522496293, 2.7763611190312865e-95),
    (0.9871981067567033, -994.0546654612934, 365105.16036287346),
    (1.0792642538244093, -95.84590986119565, 0.0006680923978402773),
    (5.499127310468614, -22.0, 5.170552693382617e-17),
    (5.599294812234266, 9.0, 5410034.191319328),
    (65.510722139366, 24.435470349778328, 2.4123897425482256e+44),
    (-4.882087988004448, -35.0, -7.921436047962198e-25),
    (89.64369589831655, 30.3006650443578, 1.4542767065120976e+59),
    (8.72631869913021, -35.0, 1.1773688667323499e-33),
    (1.8625281789704244, 167.0065761462356, 1.2851461971989378e+45),
    (0.33187213461444154, 4.5435000028421015, 0.006660867234036713),
    (66.73128447251861, -38.815599697777394, 1.5401287071866552e-71),
    (1.744103907836761, -722.1917377739493, 3.4549440739372746e-175),
    (-6.622052208564748, 5.0, -12733.945949812434),
    (89.51477004933317, 29.21949200344794, 1.0798702801483745e+57),
    (0.5975815867752625, -411.46831523666935, 1.012661877235526e+92),
    (39.806630874819994, 6.085712537147494, 5455929731.904093),
    (-9.12650509259345, -34.0, 2.2369021346724127e-33),
    (13.222772116266635, 15.467620509098055, 2.2089765414801427e+17),
    (1.8790567258264317, -714.007079952828, 2.5408460922992923e-196),
    (94.75727472392502, 6.792940898830302, 26730821832930.367),
    (34.85052055249328, 18.71930966695578, 7.397634763316814e+28),
    (0.3444549914241912, -559.5829192324798, 1.0298090754787756e+259),
    (83.27816320886244, -47.439811144444, 7.769007259977886e-92),
    (22.518803866275906, 0.13950321202879223, 1.5441319754860405),
    (2.6526584481091007, -24.0, 6.786533088402294e-11),
    (84.59688828403097, 36.81353431781781, 8.968647032376659e+70),
    (0.18510735568417247, -894.6640726102386, INF),
    (0.04620282827650013, -291.0214631773, INF),
    (0.02577070026743211, 986.7280118511142, 0.0),
    (0.22006543929718303, -589.7178961865864, INF),
    (0.07770584096151212, 561.6243289115346, 0.0),
    (0.22809028008244403, -979.7242864631914, INF),
    (0.07730013189099783, -728.0755494895907, INF),
    (0.03114099388153191, 407.29096153717114, 0.0),
    (0.3206733087853175, -692.8736871362169, INF),
    (0.10486179722408151, 579.6600130891206, 0.0),
    (0.13217937213907716, 437.7997027179979, 0.0),
    (0.0401491142034045, 466.73872590021165, 0.0),
    (0.47129364510653127, -986.358831935546, INF),
    (0.2871149683502501, 604.8702210377451, 0.0),
    (0.012510716876489303, -422.18851835440967, INF),
    (0.043743466459504, 938.1065061614863, 0.0),
    (0.2761996302982659, 856.0359693331586, 0.0),
    (0.07246718137741537, -820.8831046438892, INF),
    (0.15795600798017984, 514.5388481430534, 0.0),
    (0.4338460855212085, 963.198955660343, 0.0),
]

# Operators, conversions, property access, methods and globals: the id is
# the JavaScript that Node ran, the lambda is the same thing in Rhythm's
# calling convention (``text`` arguments are what the compiler would pass).
NODE_CASES = [
    pytest.param(lambda: js.add(1.0, 2.0), 3.0, id="1 + 2"),
    pytest.param(lambda: js.add(0.1, 0.2), 0.30000000000000004, id="0.1 + 0.2"),
    pytest.param(lambda: js.add(1.0, "2"), "12", id="1 + '2'"),
    pytest.param(lambda: js.add("1", 2.0), "12", id="'1' + 2"),
    pytest.param(lambda: js.add("a", None), "anull", id="'a' + null"),
    pytest.param(lambda: js.add("a", js.UNDEFINED), "aundefined", id="'a' + undefined"),
    pytest.param(lambda: js.add(1.0, None), 1.0, id="1 + null"),
    pytest.param(lambda: js.add(1.0, js.UNDEFINED), NAN, id="1 + undefined"),
    pytest.param(lambda: js.add(True, 1.0), 2.0, id="true + 1"),
    pytest.param(lambda: js.add(True, True), 2.0, id="true + true"),
    pytest.param(lambda: js.add([1.0, 2.0], [3.0]), "1,23", id="[1, 2] + [3]"),
    pytest.param(lambda: js.add([], []), "", id="[] + []"),
    pytest.param(lambda: js.add({}, "x"), "[object Object]x", id="({}) + 'x'"),
    pytest.param(lambda: js.add([1.0, [2.0, 3.0]], 1.0), "1,2,31", id="[1, [2, 3]] + 1"),
    pytest.param(lambda: js.add("x", 1e21), "x1e+21", id="'x' + 1e21"),
    pytest.param(lambda: js.add("x", -0.0), "x0", id="'x' + -0"),
    pytest.param(lambda: js.add("x", 1/3), "x0.3333333333333333", id="'x' + 1/3"),
    pytest.param(lambda: js.add(js.INF, -js.INF), NAN, id="Infinity + -Infinity"),
    pytest.param(lambda: js.add("\ud83d", "\ude00"), "😀", id="'\\ud83d' + '\\ude00'"),
    pytest.param(lambda: js.sub(5.0, "2"), 3.0, id="5 - '2'"),
    pytest.param(lambda: js.sub("5", "2"), 3.0, id="'5' - '2'"),
    pytest.param(lambda: js.sub("a", 1.0), NAN, id="'a' - 1"),
    pytest.param(lambda: js.sub(None, 1.0), -1.0, id="null - 1"),
    pytest.param(lambda: js.sub([5.0], [2.0]), 3.0, id="[5] - [2]"),
    pytest.param(lambda: js.mul(3.0, "4"), 12.0, id="3 * '4'"),
    pytest.param(lambda: js.mul(js.INF, 0.0), NAN, id="Infinity * 0"),
    pytest.param(lambda: js.mul(-1.0, 0.0), -0.0, id="-1 * 0"),
    pytest.param(lambda: js.div(7.0, 2.0), 3.5, id="7 / 2"),
    pytest.param(lambda: js.div(6.0, 2.0), 3.0, id="6 / 2"),
    pytest.param(lambda: js.div(1.0, 0.0), INF, id="1 / 0"),
    pytest.param(lambda: js.div(-1.0, 0.0), -INF, id="-1 / 0"),
    pytest.param(lambda: js.div(1.0, -0.0), -INF, id="1 / -0"),
    pytest.param(lambda: js.div(0.0, 0.0), NAN, id="0 / 0"),
    pytest.param(lambda: js.div(js.INF, 0.0), INF, id="Infinity / 0"),
    pytest.param(lambda: js.div("6", "3"), 2.0, id="'6' / '3'"),
    pytest.param(lambda: js.div(1.0, None), INF, id="1 / null"),
    pytest.param(lambda: js.mod(-7.0, 3.0), -1.0, id="-7 % 3"),
    pytest.param(lambda: js.mod(7.0, -3.0), 1.0, id="7 % -3"),
    pytest.param(lambda: js.mod(5.5, 2.0), 1.5, id="5.5 % 2"),
    pytest.param(lambda: js.mod(5.0, 0.0), NAN, id="5 % 0"),
    pytest.param(lambda: js.mod(js.INF, 2.0), NAN, id="Infinity % 2"),
    pytest.param(lambda: js.mod(5.0, js.INF), 5.0, id="5 % Infinity"),
    pytest.param(lambda: js.mod(-0.0, 5.0), -0.0, id="-0 % 5"),
    pytest.param(lambda: js.mod(-5.0, 5.0), -0.0, id="-5 % 5"),
    pytest.param(lambda: js.mod("7", "4"), 3.0, id="'7' % '4'"),
    pytest.param(lambda: js.pow(2.0, 10.0), 1024.0, id="2 ** 10"),
    pytest.param(lambda: js.pow(2.0, -1.0), 0.5, id="2 ** -1"),
    pytest.param(lambda: js.pow(-8.0, 1/3), NAN, id="(-8) ** (1/3)"),
    pytest.param(lambda: js.pow(-2.0, 3.0), -8.0, id="(-2) ** 3"),
    pytest.param(lambda: js.pow(0.0, -1.0), INF, id="0 ** -1"),
    pytest.param(lambda: js.pow(-0.0, -1.0), -INF, id="(-0) ** -1"),
    pytest.param(lambda: js.pow(-0.0, -2.0), INF, id="(-0) ** -2"),
    pytest.param(lambda: js.pow(-0.0, 3.0), -0.0, id="(-0) ** 3"),
    pytest.param(lambda: js.pow(1.0, js.INF), NAN, id="1 ** Infinity"),
    pytest.param(lambda: js.pow(-1.0, -js.INF), NAN, id="(-1) ** -Infinity"),
    pytest.param(lambda: js.pow(js.NAN, 0.0), 1.0, id="NaN ** 0"),
    pytest.param(lambda: js.pow(1.0, js.NAN), NAN, id="1 ** NaN"),
    pytest.param(lambda: js.pow(10.0, 308.0), 1e+308, id="10 ** 308"),
    pytest.param(lambda: js.pow(10.0, 309.0), INF, id="10 ** 309"),
    pytest.param(lambda: js.pow(-10.0, 309.0), -INF, id="(-10) ** 309"),
    pytest.param(lambda: js.pow(10.0, -400.0), 0.0, id="10 ** -400"),
    pytest.param(lambda: js.pow(2.0, 0.5), 1.4142135623730951, id="2 ** 0.5"),
    pytest.param(lambda: js.pow(0.5, -0.5), 1.414213562373095, id="0.5 ** -0.5"),
    pytest.param(lambda: js.pow(1/3, -2.0), 9.000000000000002, id="(1/3) ** -2"),
    pytest.param(lambda: js.pow(1.1, 10.0), 2.5937424601000023, id="1.1 ** 10"),
    pytest.param(lambda: js.pow(-js.INF, 3.0), -INF, id="(-Infinity) ** 3"),
    pytest.param(lambda: js.pow(-js.INF, 0.5), INF, id="(-Infinity) ** 0.5"),
    pytest.param(lambda: js.pow(js.INF, -1.0), 0.0, id="Infinity ** -1"),
    pytest.param(lambda: js.pow("2", "3"), 8.0, id="'2' ** '3'"),
    pytest.param(lambda: js.pow(1.0000001, 1e10), INF, id="1.0000001 ** 1e10"),
    pytest.param(lambda: js.pow(0.9999999, 1e300), 0.0, id="0.9999999 ** 1e300"),
    pytest.param(lambda: js.neg("3"), -3.0, id="-'3'"),
    pytest.param(lambda: js.neg(0.0), -0.0, id="-0"),
    pytest.param(lambda: js.neg(None), -0.0, id="-null"),
    pytest.param(lambda: js.pos(""), 0.0, id="+''"),
    pytest.param(lambda: js.pos(" 12 "), 12.0, id="+' 12 '"),
    pytest.param(lambda: js.pos("0x1f"), 31.0, id="+'0x1f'"),
    pytest.param(lambda: js.pos("-0x1f"), NAN, id="+'-0x1f'"),
    pytest.param(lambda: js.pos("0b101"), 5.0, id="+'0b101'"),
    pytest.param(lambda: js.pos("0o17"), 15.0, id="+'0o17'"),
    pytest.param(lambda: js.pos("0x"), NAN, id="+'0x'"),
    pytest.param(lambda: js.pos("1e3"), 1000.0, id="+'1e3'"),
    pytest.param(lambda: js.pos("1_000"), NAN, id="+'1_000'"),
    pytest.param(lambda: js.pos(".5"), 0.5, id="+'.5'"),
    pytest.param(lambda: js.pos("5."), 5.0, id="+'5.'"),
    pytest.param(lambda: js.pos("."), NAN, id="+'.'"),
    pytest.param(lambda: js.pos("Infinity"), INF, id="+'Infinity'"),
    pytest.param(lambda: js.pos("-Infinity"), -INF, id="+'-Infinity'"),
    pytest.param(lambda: js.pos("inf"), NAN, id="+'inf'"),
    pytest.param(lambda: js.pos("nan"), NAN, id="+'nan'"),
    pytest.param(lambda: js.pos("\u00a0 7 \n\t"), 7.0, id="+'\\u00a0 7 \\n\\t'"),
    pytest.param(lambda: js.pos("\ufeff8"), 8.0, id="+'\\ufeff8'"),
    pytest.param(lambda: js.pos("\x1c9"), NAN, id="+'\\x1c9'"),
    pytest.param(lambda: js.pos("١"), NAN, id="+'١'"),
    pytest.param(lambda: js.pos([]), 0.0, id="+[]"),
    pytest.param(lambda: js.pos([7.0]), 7.0, id="+[7]"),
    pytest.param(lambda: js.pos([1.0, 2.0]), NAN, id="+[1, 2]"),
    pytest.param(lambda: js.pos({}), NAN, id="+({})"),
    pytest.param(lambda: js.pos(True), 1.0, id="+true"),
    pytest.param(lambda: js.pos(js.UNDEFINED), NAN, id="+undefined"),
    pytest.param(lambda: js.pos("1e1000"), INF, id="+'1e1000'"),
    pytest.param(lambda: js.lt(1.0, 2.0), True, id="1 < 2"),
    pytest.param(lambda: js.lt(js.NAN, 1.0), False, id="NaN < 1"),
    pytest.param(lambda: js.lt("10", "9"), True, id="'10' < '9'"),
    pytest.param(lambda: js.lt("10", 9.0), False, id="'10' < 9"),
    pytest.param(lambda: js.lt("a", "B"), False, id="'a' < 'B'"),
    pytest.param(lambda: js.lt("\uffff", "😀"), False, id="'\\uffff' < '😀'"),
    pytest.param(lambda: js.lt("é", "😀"), True, id="'é' < '😀'"),
    pytest.param(lambda: js.lt("😀", "\ufb01"), True, id="'😀' < '\\ufb01'"),
    pytest.param(lambda: js.lt([2.0], [10.0]), False, id="[2] < [10]"),
    pytest.param(lambda: js.lt(None, 1.0), True, id="null < 1"),
    pytest.param(lambda: js.lt(js.UNDEFINED, 1.0), False, id="undefined < 1"),
    pytest.param(lambda: js.le(None, 0.0), True, id="null <= 0"),
    pytest.param(lambda: js.le(js.UNDEFINED, js.UNDEFINED), False, id="undefined <= undefined"),
    pytest.param(lambda: js.le(js.NAN, js.NAN), False, id="NaN <= NaN"),
    pytest.param(lambda: js.le("b", "b"), True, id="'b' <= 'b'"),
    pytest.param(lambda: js.gt("a", "b"), False, id="'a' > 'b'"),
    pytest.param(lambda: js.gt(2.0, 1.0), True, id="2 > 1"),
    pytest.param(lambda: js.ge("2", 2.0), True, id="'2' >= 2"),
    pytest.param(lambda: js.gt(True, False), True, id="true > false"),
    pytest.param(lambda: js.lt("abc", "abd"), True, id="'abc' < 'abd'"),
    pytest.param(lambda: js.lt("ab", "abc"), True, id="'ab' < 'abc'"),
    pytest.param(lambda: js.lt({}, {}), False, id="({}) < ({})"),
    pytest.param(lambda: js.strict_eq(1.0, 1.0), True, id="1 === 1"),
    pytest.param(lambda: js.strict_eq(js.NAN, js.NAN), False, id="NaN === NaN"),
    pytest.param(lambda: js.strict_eq(0.0, -0.0), True, id="0 === -0"),
    pytest.param(lambda: js.strict_eq(1.0, True), False, id="1 === true"),
    pytest.param(lambda: js.strict_eq(0.0, False), False, id="0 === false"),
    pytest.param(lambda: js.strict_eq("1", 1.0), False, id="'1' === 1"),
    pytest.param(lambda: js.strict_eq(None, js.UNDEFINED), False, id="null === undefined"),
    pytest.param(lambda: js.strict_eq(None, None), True, id="null === null"),
    pytest.param(lambda: js.strict_eq(js.UNDEFINED, js.UNDEFINED), True, id="undefined === undefined"),
    pytest.param(lambda: js.strict_eq([], []), False, id="[] === []"),
    pytest.param(lambda: js.strict_eq({}, {}), False, id="({}) === ({})"),
    pytest.param(lambda: js.strict_eq("a", "a"), True, id="'a' === 'a'"),
    pytest.param(lambda: js.strict_eq(js.get([], "push"), js.get([1.0], "push")), True, id="[].push === [1].push"),
    pytest.param(lambda: js.strict_eq(js.get([], "push"), js.get([], "pop")), False, id="[].push === [].pop"),
    pytest.param(lambda: js.strict_ne(1.0, True), True, id="1 !== true"),
    pytest.param(lambda: js.loose_eq(None, js.UNDEFINED), True, id="null == undefined"),
    pytest.param(lambda: js.loose_eq(js.UNDEFINED, None), True, id="undefined == null"),
    pytest.param(lambda: js.loose_eq(None, 0.0), False, id="null == 0"),
    pytest.param(lambda: js.loose_eq(js.UNDEFINED, False), False, id="undefined == false"),
    pytest.param(lambda: js.loose_eq(NAN, NAN), False, id="NaN == NaN"),
    pytest.param(lambda: js.loose_ne(None, js.UNDEFINED), False, id="null != undefined"),
    pytest.param(lambda: js.typeof(1.0), "number", id="typeof 1"),
    pytest.param(lambda: js.typeof("x"), "string", id="typeof 'x'"),
    pytest.param(lambda: js.typeof(True), "boolean", id="typeof true"),
    pytest.param(lambda: js.typeof(None), "object", id="typeof null"),
    pytest.param(lambda: js.typeof(js.UNDEFINED), "undefined", id="typeof undefined"),
    pytest.param(lambda: js.typeof([]), "object", id="typeof []"),
    pytest.param(lambda: js.typeof({}), "object", id="typeof {}"),
    pytest.param(lambda: js.typeof(js.new_error("x")), "object", id="typeof new Error('x')"),
    pytest.param(lambda: js.typeof(js.get([], "push")), "function", id="typeof [].push"),
    pytest.param(lambda: js.typeof(js.get("x", "trim")), "function", id="typeof 'x'.trim"),
    pytest.param(lambda: js.typeof(js.get(5.0, "toFixed")), "function", id="typeof (5).toFixed"),
    pytest.param(lambda: js.typeof(js.Promise("task", "k")), "object", id="typeof Promise.resolve()"),
    pytest.param(lambda: js.boolean_call(0.0), False, id="Boolean(0)"),
    pytest.param(lambda: js.boolean_call(-0.0), False, id="Boolean(-0)"),
    pytest.param(lambda: js.boolean_call(js.NAN), False, id="Boolean(NaN)"),
    pytest.param(lambda: js.boolean_call(""), False, id="Boolean('')"),
    pytest.param(lambda: js.boolean_call("0"), True, id="Boolean('0')"),
    pytest.param(lambda: js.boolean_call(" "), True, id="Boolean(' ')"),
    pytest.param(lambda: js.boolean_call([]), True, id="Boolean([])"),
    pytest.param(lambda: js.boolean_call({}), True, id="Boolean({})"),
    pytest.param(lambda: js.boolean_call(None), False, id="Boolean(null)"),
    pytest.param(lambda: js.boolean_call(js.UNDEFINED), False, id="Boolean(undefined)"),
    pytest.param(lambda: js.boolean_call(), False, id="Boolean()"),
    pytest.param(lambda: js.boolean_call(js.new_error("")), True, id="Boolean(new Error(''))"),
    pytest.param(lambda: js.boolean_call(0.1), True, id="Boolean(0.1)"),
    pytest.param(lambda: js.boolean_call(-js.INF), True, id="Boolean(-Infinity)"),
    pytest.param(lambda: js.string_call(1.5), "1.5", id="String(1.5)"),
    pytest.param(lambda: js.string_call(-0.0), "0", id="String(-0)"),
    pytest.param(lambda: js.string_call(None), "null", id="String(null)"),
    pytest.param(lambda: js.string_call(js.UNDEFINED), "undefined", id="String(undefined)"),
    pytest.param(lambda: js.string_call(), "", id="String()"),
    pytest.param(lambda: js.string_call(True), "true", id="String(true)"),
    pytest.param(lambda: js.string_call([1.0, [2.0, [3.0, None]], js.UNDEFINED]), "1,2,3,,", id="String([1, [2, [3, null]], undefined])"),
    pytest.param(lambda: js.string_call({"a": 1.0}), "[object Object]", id="String({a: 1})"),
    pytest.param(lambda: js.string_call(js.new_error("boom")), "Error: boom", id="String(new Error('boom'))"),
    pytest.param(lambda: js.string_call(js.new_error()), "Error", id="String(new Error())"),
    pytest.param(lambda: js.string_call(js.JSError("TypeError", "bad")), "TypeError: bad", id="String(new TypeError('bad'))"),
    pytest.param(lambda: js.string_call(js.get([], "push")), "function push() { [native code] }", id="String([].push)"),
    pytest.param(lambda: js.string_call([js.new_error("e"), {}]), "Error: e,[object Object]", id="String([new Error('e'), {}])"),
    pytest.param(lambda: js.number_call(), 0.0, id="Number()"),
    pytest.param(lambda: js.number_call(js.UNDEFINED), NAN, id="Number(undefined)"),
    pytest.param(lambda: js.number_call(None), 0.0, id="Number(null)"),
    pytest.param(lambda: js.number_call("  42  "), 42.0, id="Number('  42  ')"),
    pytest.param(lambda: js.number_call("4 2"), NAN, id="Number('4 2')"),
    pytest.param(lambda: js.number_call(False), 0.0, id="Number(false)"),
    pytest.param(lambda: js.number_call([]), 0.0, id="Number([])"),
    pytest.param(lambda: js.number_call(["9"]), 9.0, id="Number(['9'])"),
    pytest.param(lambda: js.number_call(js.new_error("x")), NAN, id="Number(new Error('x'))"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], 1.0), 20.0, id="[10, 20, 30][1]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], "2"), 30.0, id="[10, 20, 30]['2']"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], "02"), UNDEFINED, id="[10, 20, 30]['02']"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], -1.0), UNDEFINED, id="[10, 20, 30][-1]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], 3.0), UNDEFINED, id="[10, 20, 30][3]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], 1.5), UNDEFINED, id="[10, 20, 30][1.5]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], js.NAN), UNDEFINED, id="[10, 20, 30][NaN]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], -0.0), 10.0, id="[10, 20, 30][-0]"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], "length"), 3.0, id="[10, 20, 30].length"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], "foo"), UNDEFINED, id="[10, 20, 30].foo"),
    pytest.param(lambda: js.get([10.0, 20.0, 30.0], True), UNDEFINED, id="[10, 20, 30][true]"),
    pytest.param(lambda: js.get("héllo", 1.0), "é", id="'héllo'[1]"),
    pytest.param(lambda: js.get("héllo", "length"), 5.0, id="'héllo'.length"),
    pytest.param(lambda: js.get("😀x", "length"), 3.0, id="'😀x'.length"),
    pytest.param(lambda: js.get("😀x", 0.0), "\ud83d", id="'😀x'[0]"),
    pytest.param(lambda: js.get("😀x", 1.0), "\ude00", id="'😀x'[1]"),
    pytest.param(lambda: js.get("😀x", 2.0), "x", id="'😀x'[2]"),
    pytest.param(lambda: js.get("😀x", "2"), "x", id="'😀x'['2']"),
    pytest.param(lambda: js.get("abc", 5.0), UNDEFINED, id="'abc'[5]"),
    pytest.param(lambda: js.get("abc", -1.0), UNDEFINED, id="'abc'[-1]"),
    pytest.param(lambda: js.get("abc", "foo"), UNDEFINED, id="'abc'.foo"),
    pytest.param(lambda: js.get({"a": 1.0}, "a"), 1.0, id="({a: 1}).a"),
    pytest.param(lambda: js.get({"a": 1.0}, "b"), UNDEFINED, id="({a: 1}).b"),
    pytest.param(lambda: js.get({"1": "one"}, 1.0), "one", id="({1: 'one'})[1]"),
    pytest.param(lambda: js.get({"1.5": "x"}, 1.5), "x", id="({'1.5': 'x'})[1.5]"),
    pytest.param(lambda: js.get({"null": "n"}, None), "n", id="({null: 'n'})[null]"),
    pytest.param(lambda: js.get({"undefined": "u"}, js.UNDEFINED), "u", id="({undefined: 'u'})[undefined]"),
    pytest.param(lambda: js.get({"1,2": "x"}, [1.0, 2.0]), "x", id="({'1,2': 'x'})[[1, 2]]"),
    pytest.param(lambda: js.get(5.0, "foo"), UNDEFINED, id="(5).foo"),
    pytest.param(lambda: js.get(True, "foo"), UNDEFINED, id="true.foo"),
    pytest.param(lambda: js.get(js.new_error("m"), "message"), "m", id="new Error('m').message"),
    pytest.param(lambda: js.get(js.new_error("m"), "name"), "Error", id="new Error('m').name"),
    pytest.param(lambda: js.get(js.new_error("m"), "stack"), "Error: m", id="new Error('m').stack.split('\\n')[0]"),
    pytest.param(lambda: js.get(js.new_error(""), "stack"), "Error", id="new Error('').stack.split('\\n')[0]"),
    pytest.param(lambda: js.get(js.new_error("m"), "code"), UNDEFINED, id="new Error('m').code"),
    pytest.param(lambda: js.get(js.UNDEFINED, "x"), THROWS("TypeError", "Cannot read properties of undefined (reading 'x')"), id="undefined.x"),
    pytest.param(lambda: js.get(None, "x"), THROWS("TypeError", "Cannot read properties of null (reading 'x')"), id="null.x"),
    pytest.param(lambda: js.get(js.UNDEFINED, 0.0), THROWS("TypeError", "Cannot read properties of undefined (reading '0')"), id="undefined[0]"),
    pytest.param(lambda: js.get(None, 1.5), THROWS("TypeError", "Cannot read properties of null (reading '1.5')"), id="null[1.5]"),
    pytest.param(lambda: js.get_optional(js.UNDEFINED, "x"), UNDEFINED, id="undefined?.x"),
    pytest.param(lambda: js.get_optional(None, "x"), UNDEFINED, id="null?.x"),
    pytest.param(lambda: js.get_optional({"a": 1.0}, "a"), 1.0, id="({a: 1})?.a"),
    pytest.param(lambda: (lambda o: [js.set_(o, "x", 1.0), js.set_(o, 2.0, "two"), js.set_(o, 1.5, "f"), o][-1])({}), {"2": "two", "x": 1.0, "1.5": "f"}, id="(() => { const o = {}; o.x = 1; o[2] = 'two'; o[1.5] = 'f'; return o })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, 3.0, 4.0), a][-1])([1.0]), [1.0, UNDEFINED, UNDEFINED, 4.0], id="(() => { const a = [1]; a[3] = 4; return a })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, "2", 3.0), a][-1])([1.0]), [1.0, UNDEFINED, 3.0], id="(() => { const a = [1]; a['2'] = 3; return a })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, "length", 1.0), a][-1])([1.0, 2.0, 3.0]), [1.0], id="(() => { const a = [1, 2, 3]; a.length = 1; return a })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, "length", 3.0), a][-1])([1.0]), [1.0, UNDEFINED, UNDEFINED], id="(() => { const a = [1]; a.length = 3; return a })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, "length", "2"), a][-1])([1.0, 2.0, 3.0]), [1.0, 2.0], id="(() => { const a = [1, 2, 3]; a.length = '2'; return a })()"),
    pytest.param(lambda: js.set_([], "length", -1.0), THROWS("RangeError", "Invalid array length"), id="(() => { const a = []; a.length = -1 })()"),
    pytest.param(lambda: js.set_([], "length", 1.5), THROWS("RangeError", "Invalid array length"), id="(() => { const a = []; a.length = 1.5 })()"),
    pytest.param(lambda: js.set_([], "length", "x"), THROWS("RangeError", "Invalid array length"), id="(() => { const a = []; a.length = 'x' })()"),
    pytest.param(lambda: (lambda a: [js.set_(a, 0.0, "x"), a][-1])([1.0, 2.0]), ["x", 2.0], id="(() => { const a = [1, 2]; a[0] = 'x'; return a })()"),
    pytest.param(lambda: js.set_(js.UNDEFINED, "x", 1.0), THROWS("TypeError", "Cannot set properties of undefined (setting 'x')"), id="(() => { let u; u.x = 1 })()"),
    pytest.param(lambda: js.set_(None, 0.0, 1.0), THROWS("TypeError", "Cannot set properties of null (setting '0')"), id="(() => { let u = null; u[0] = 1 })()"),
    pytest.param(lambda: js.set_("abc", 0.0, "x"), THROWS("TypeError", "Cannot assign to read only property '0' of string 'abc'"), id="(() => { 'use strict'; const s = 'abc'; s[0] = 'x'; return s })()"),
    pytest.param(lambda: js.set_(5.0, "x", 1.0), THROWS("TypeError", "Cannot create property 'x' on number '5'"), id="(() => { 'use strict'; const n = 5; n.x = 1 })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "code", 5.0), js.set_(e, "message", "n"), [js.get(e, "code"), js.get(e, "message"), js.to_string(e), js.json_stringify(e)]][-1])(js.new_error("m")), [5.0, "n", "Error: n", "{\"code\":5}"], id="(() => { const e = new Error('m'); e.code = 5; e.message = 'n'; return [e.code, e.message, String(e), JSON.stringify(e)] })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "name", "Custom"), js.to_string(e)][-1])(js.new_error("m")), "Custom: m", id="(() => { const e = new Error('m'); e.name = 'Custom'; return String(e) })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "name", ""), js.to_string(e)][-1])(js.new_error("m")), "m", id="(() => { const e = new Error('m'); e.name = ''; return String(e) })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "name", "QuotaError"), js.set_(e, "code", 429.0), [js.get(e, "name"), js.to_string(e), js.json_stringify(e), js.object_keys(e)]][-1])(js.new_error("quota")), ["QuotaError", "QuotaError: quota", "{\"name\":\"QuotaError\",\"code\":429}", ["name", "code"]], id="(() => { const e = new Error('quota'); e.name = 'QuotaError'; e.code = 429; return [e.name, String(e), JSON.stringify(e), Object.keys(e)] })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "name", 7.0), [js.typeof(js.get(e, "name")), js.get(e, "name"), js.to_string(e), js.json_stringify(e)]][-1])(js.new_error("m")), ["number", 7.0, "7: m", "{\"name\":7}"], id="(() => { const e = new Error('m'); e.name = 7; return [typeof e.name, e.name, String(e), JSON.stringify(e)] })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "name", js.UNDEFINED), [js.to_string(e), js.json_stringify(e), js.has_property("name", e)]][-1])(js.JSError("TypeError", "m")), ["Error: m", "{}", True], id="(() => { const e = new TypeError('m'); e.name = undefined; return [String(e), JSON.stringify(e), 'name' in e] })()"),
    pytest.param(lambda: (lambda o: [js.delete(o, "a"), o][-1])({"a": 1.0, "b": 2.0}), {"b": 2.0}, id="(() => { const o = {a: 1, b: 2}; delete o.a; return o })()"),
    pytest.param(lambda: js.delete({"a": 1.0}, "zz"), True, id="(() => { const o = {a: 1}; return delete o.zz })()"),
    pytest.param(lambda: js.delete([1.0, 2.0], "length"), False, id="(() => { const a = [1, 2]; return delete a.length })()"),
    pytest.param(lambda: (lambda a: [js.delete(a, 0.0), js.get(a, 0.0)][-1])([1.0, 2.0]), UNDEFINED, id="(() => { const a = [1, 2]; delete a[0]; return a[0] })()"),
    pytest.param(lambda: js.delete("abc", 0.0), False, id="(() => { return delete 'abc'[0] })()"),
    pytest.param(lambda: js.delete("abc", "length"), False, id="(() => { return delete 'abc'.length })()"),
    pytest.param(lambda: js.delete("abc", 7.0), True, id="(() => { return delete 'abc'[7] })()"),
    pytest.param(lambda: js.delete(js.UNDEFINED, "x"), THROWS("TypeError", "Cannot convert undefined or null to object"), id="(() => { let u; delete u.x })()"),
    pytest.param(lambda: js.has_property("a", {"a": 1.0}), True, id="'a' in {a: 1}"),
    pytest.param(lambda: js.has_property("b", {"a": 1.0}), False, id="'b' in {a: 1}"),
    pytest.param(lambda: js.has_property(1.0, {"1": 1.0}), True, id="1 in {1: 1}"),
    pytest.param(lambda: js.has_property(0.0, [5.0]), True, id="0 in [5]"),
    pytest.param(lambda: js.has_property(1.0, [5.0]), False, id="1 in [5]"),
    pytest.param(lambda: js.has_property("length", []), True, id="'length' in []"),
    pytest.param(lambda: js.has_property("push", []), True, id="'push' in []"),
    pytest.param(lambda: js.has_property("message", js.new_error("x")), True, id="'message' in new Error('x')"),
    pytest.param(lambda: js.has_property("code", js.new_error("x")), False, id="'code' in new Error('x')"),
    pytest.param(lambda: js.has_property("x", 5.0), THROWS("TypeError", "Cannot use 'in' operator to search for 'x' in 5"), id="'x' in 5"),
    pytest.param(lambda: js.has_property("x", "abc"), THROWS("TypeError", "Cannot use 'in' operator to search for 'x' in abc"), id="'x' in 'abc'"),
    pytest.param(lambda: js.has_property(1.0, 5.0), THROWS("TypeError", "Cannot use 'in' operator to search for '1' in 5"), id="1 in 5"),
    pytest.param(lambda: js.has_property("x", js.UNDEFINED), THROWS("TypeError", "Cannot use 'in' operator to search for 'x' in undefined"), id="'x' in undefined"),
    pytest.param(lambda: js.has_property("x", None), THROWS("TypeError", "Cannot use 'in' operator to search for 'x' in null"), id="'x' in null"),
    pytest.param(lambda: js.has_property("x", True), THROWS("TypeError", "Cannot use 'in' operator to search for 'x' in true"), id="'x' in true"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "push", [2.0, 3.0], "a.push"), a])([1.0]), [3.0, [1.0, 2.0, 3.0]], id="(() => { const a = [1]; return [a.push(2, 3), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "pop", [], "a.pop"), a])([1.0, 2.0]), [2.0, [1.0]], id="(() => { const a = [1, 2]; return [a.pop(), a] })()"),
    pytest.param(lambda: js.call_method([], "pop", [], "a.pop"), UNDEFINED, id="[].pop()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "shift", [], "a.shift"), a])([1.0, 2.0]), [1.0, [2.0]], id="(() => { const a = [1, 2]; return [a.shift(), a] })()"),
    pytest.param(lambda: js.call_method([], "shift", [], "a.shift"), UNDEFINED, id="[].shift()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "unshift", [1.0, 2.0], "a.unshift"), a])([3.0]), [3.0, [1.0, 2.0, 3.0]], id="(() => { const a = [3]; return [a.unshift(1, 2), a] })()"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [1.0, 3.0], "a.slice"), [2.0, 3.0], id="[1, 2, 3, 4].slice(1, 3)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [-2.0], "a.slice"), [3.0, 4.0], id="[1, 2, 3, 4].slice(-2)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [-10.0, -1.0], "a.slice"), [1.0, 2.0, 3.0], id="[1, 2, 3, 4].slice(-10, -1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [2.0, 1.0], "a.slice"), [], id="[1, 2, 3, 4].slice(2, 1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [], "a.slice"), [1.0, 2.0, 3.0, 4.0], id="[1, 2, 3, 4].slice()"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", ["1", js.UNDEFINED], "a.slice"), [2.0, 3.0, 4.0], id="[1, 2, 3, 4].slice('1', undefined)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [1.7, js.INF], "a.slice"), [2.0, 3.0, 4.0], id="[1, 2, 3, 4].slice(1.7, Infinity)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "slice", [js.NAN, -js.INF], "a.slice"), [], id="[1, 2, 3, 4].slice(NaN, -Infinity)"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [1.0, 2.0, "x", "y", "z"], "a.splice"), a])([1.0, 2.0, 3.0, 4.0, 5.0]), [[2.0, 3.0], [1.0, "x", "y", "z", 4.0, 5.0]], id="(() => { const a = [1, 2, 3, 4, 5]; return [a.splice(1, 2, 'x', 'y', 'z'), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [-1.0], "a.splice"), a])([1.0, 2.0, 3.0]), [[3.0], [1.0, 2.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(-1), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [0.0, js.UNDEFINED], "a.splice"), a])([1.0, 2.0, 3.0]), [[], [1.0, 2.0, 3.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(0, undefined), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [], "a.splice"), a])([1.0, 2.0, 3.0]), [[], [1.0, 2.0, 3.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [1.0, 100.0], "a.splice"), a])([1.0, 2.0, 3.0]), [[2.0, 3.0], [1.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(1, 100), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [1.0, -5.0, 9.0], "a.splice"), a])([1.0, 2.0, 3.0]), [[], [1.0, 9.0, 2.0, 3.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(1, -5, 9), a] })()"),
    pytest.param(lambda: (lambda a: [js.call_method(a, "splice", [5.0, 1.0, 9.0], "a.splice"), a])([1.0, 2.0, 3.0]), [[], [1.0, 2.0, 3.0, 9.0]], id="(() => { const a = [1, 2, 3]; return [a.splice(5, 1, 9), a] })()"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "indexOf", [1.0], "a.indexOf"), 0.0, id="[1, 2, 1].indexOf(1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "indexOf", [1.0, 1.0], "a.indexOf"), 2.0, id="[1, 2, 1].indexOf(1, 1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "indexOf", [1.0, -1.0], "a.indexOf"), 2.0, id="[1, 2, 1].indexOf(1, -1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "indexOf", [1.0, -10.0], "a.indexOf"), 0.0, id="[1, 2, 1].indexOf(1, -10)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "indexOf", ["1"], "a.indexOf"), -1.0, id="[1, 2, 1].indexOf('1')"),
    pytest.param(lambda: js.call_method([True, 1.0], "indexOf", [1.0], "a.indexOf"), 1.0, id="[true, 1].indexOf(1)"),
    pytest.param(lambda: js.call_method([js.NAN], "indexOf", [js.NAN], "a.indexOf"), -1.0, id="[NaN].indexOf(NaN)"),
    pytest.param(lambda: js.call_method([-0.0], "indexOf", [0.0], "a.indexOf"), 0.0, id="[-0].indexOf(0)"),
    pytest.param(lambda: js.call_method(["a", "b"], "indexOf", ["b"], "a.indexOf"), 1.0, id="['a', 'b'].indexOf('b')"),
    pytest.param(lambda: js.call_method([None, js.UNDEFINED], "indexOf", [js.UNDEFINED], "a.indexOf"), 1.0, id="[null, undefined].indexOf(undefined)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "lastIndexOf", [1.0], "a.lastIndexOf"), 2.0, id="[1, 2, 1].lastIndexOf(1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "lastIndexOf", [1.0, js.UNDEFINED], "a.lastIndexOf"), 0.0, id="[1, 2, 1].lastIndexOf(1, undefined)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "lastIndexOf", [1.0, -2.0], "a.lastIndexOf"), 0.0, id="[1, 2, 1].lastIndexOf(1, -2)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "lastIndexOf", [1.0, -5.0], "a.lastIndexOf"), -1.0, id="[1, 2, 1].lastIndexOf(1, -5)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 1.0], "lastIndexOf", [1.0, 10.0], "a.lastIndexOf"), 2.0, id="[1, 2, 1].lastIndexOf(1, 10)"),
    pytest.param(lambda: js.call_method([js.NAN], "includes", [js.NAN], "a.includes"), True, id="[NaN].includes(NaN)"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "includes", [2.0, -1.0], "a.includes"), True, id="[1, 2].includes(2, -1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "includes", [1.0, 1.0], "a.includes"), False, id="[1, 2].includes(1, 1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "includes", ["1"], "a.includes"), False, id="[1, 2].includes('1')"),
    pytest.param(lambda: js.call_method([js.UNDEFINED], "includes", [], "a.includes"), True, id="[undefined].includes()"),
    pytest.param(lambda: js.call_method([1.0, None, js.UNDEFINED, "a", [2.0, 3.0]], "join", [], "a.join"), "1,,,a,2,3", id="[1, null, undefined, 'a', [2, 3]].join()"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "join", [""], "a.join"), "12", id="[1, 2].join('')"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "join", [js.UNDEFINED], "a.join"), "1,2", id="[1, 2].join(undefined)"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "join", [None], "a.join"), "1null2", id="[1, 2].join(null)"),
    pytest.param(lambda: js.call_method([1.0, 2.0], "join", [" - "], "a.join"), "1 - 2", id="[1, 2].join(' - ')"),
    pytest.param(lambda: js.call_method([{}, True, 1.5], "join", [";"], "a.join"), "[object Object];true;1.5", id="[{}, true, 1.5].join(';')"),
    pytest.param(lambda: (lambda a: [a.append(a), js.call_method(a, "join", ["-"], "a.join")][-1])([1.0]), "1-", id="(() => { const a = [1]; a.push(a); return a.join('-') })()"),
    pytest.param(lambda: (lambda a: [js.strict_eq(js.call_method(a, "reverse", [], "a.reverse"), a), a])([1.0, 2.0, 3.0]), [True, [3.0, 2.0, 1.0]], id="(() => { const a = [1, 2, 3]; const r = a.reverse(); return [r === a, a] })()"),
    pytest.param(lambda: js.call_method([1.0], "concat", [2.0, [3.0, [4.0]], "x"], "a.concat"), [1.0, 2.0, 3.0, [4.0], "x"], id="[1].concat(2, [3, [4]], 'x')"),
    pytest.param(lambda: js.call_method([1.0], "concat", [], "a.concat"), [1.0], id="[1].concat()"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "at", [-1.0], "a.at"), 3.0, id="[1, 2, 3].at(-1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "at", [3.0], "a.at"), UNDEFINED, id="[1, 2, 3].at(3)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "at", [-4.0], "a.at"), UNDEFINED, id="[1, 2, 3].at(-4)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "at", [], "a.at"), 1.0, id="[1, 2, 3].at()"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "at", [1.9], "a.at"), 2.0, id="[1, 2, 3].at(1.9)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0, 4.0], "fill", [0.0, 1.0, -1.0], "a.fill"), [1.0, 0.0, 0.0, 4.0], id="[1, 2, 3, 4].fill(0, 1, -1)"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "fill", ["x"], "a.fill"), ["x", "x", "x"], id="[1, 2, 3].fill('x')"),
    pytest.param(lambda: js.call_method([1.0, 2.0, 3.0], "fill", [0.0, 5.0], "a.fill"), [1.0, 2.0, 3.0], id="[1, 2, 3].fill(0, 5)"),
    pytest.param(lambda: js.call_method([1.0, [2.0, [3.0, [4.0]]]], "flat", [], "a.flat"), [1.0, 2.0, [3.0, [4.0]]], id="[1, [2, [3, [4]]]].flat()"),
    pytest.param(lambda: js.call_method([1.0, [2.0, [3.0, [4.0]]]], "flat", [js.INF], "a.flat"), [1.0, 2.0, 3.0, 4.0], id="[1, [2, [3, [4]]]].flat(Infinity)"),
    pytest.param(lambda: js.call_method([1.0, [2.0, [3.0, [4.0]]]], "flat", [2.0], "a.flat"), [1.0, 2.0, 3.0, [4.0]], id="[1, [2, [3, [4]]]].flat(2)"),
    pytest.param(lambda: js.call_method([1.0, [2.0]], "flat", [0.0], "a.flat"), [1.0, [2.0]], id="[1, [2]].flat(0)"),
    pytest.param(lambda: js.call_method([1.0, [2.0]], "flat", [-1.0], "a.flat"), [1.0, [2.0]], id="[1, [2]].flat(-1)"),
    pytest.param(lambda: js.call_method([1.0, [2.0]], "flat", ["1"], "a.flat"), [1.0, 2.0], id="[1, [2]].flat('1')"),
    pytest.param(lambda: js.call_method([3.0, 1.0, js.UNDEFINED, 10.0, None, "b", "a", js.NAN, True, -1.0, -0.5], "sort", [], "a.sort"), [-0.5, -1.0, 1.0, 10.0, 3.0, NAN, "a", "b", None, True, UNDEFINED], id="[3, 1, undefined, 10, null, 'b', 'a', NaN, true, -1, -0.5].sort()"),
    pytest.param(lambda: js.call_method(["b", "a", "B", "é", "😀", "\ufb01", "aa"], "sort", [], "a.sort"), ["B", "a", "aa", "b", "é", "😀", "ﬁ"], id="['b', 'a', 'B', 'é', '😀', '\\ufb01', 'aa'].sort()"),
    pytest.param(lambda: js.call_method([[2.0, 1.0], [1.0, 2.0], [10.0]], "sort", [], "a.sort"), [[1.0, 2.0], [10.0], [2.0, 1.0]], id="[[2, 1], [1, 2], [10]].sort()"),
    pytest.param(lambda: js.call_method([1.0], "sort", [5.0], "a.sort"), THROWS("TypeError", "The comparison function must be either a function or undefined"), id="[1].sort(5)"),
    pytest.param(lambda: js.call_method([1.0], "sort", [None], "a.sort"), THROWS("TypeError", "The comparison function must be either a function or undefined"), id="[1].sort(null)"),
    pytest.param(lambda: js.call_method([2.0, 1.0], "sort", [js.UNDEFINED], "a.sort"), [1.0, 2.0], id="[2, 1].sort(undefined)"),
    pytest.param(lambda: js.call_method([1.0, [2.0, 3.0]], "toString", [], "a.toString"), "1,2,3", id="[1, [2, 3]].toString()"),
    pytest.param(lambda: js.call_method([1.0], "foo", [], "[1].foo"), THROWS("TypeError", "[1].foo is not a function"), id="[1].foo()"),
    pytest.param(lambda: js.call_method("Hello", "toUpperCase", [], "s.toUpperCase"), "HELLO", id="'Hello'.toUpperCase()"),
    pytest.param(lambda: js.call_method("straße", "toUpperCase", [], "s.toUpperCase"), "STRASSE", id="'straße'.toUpperCase()"),
    pytest.param(lambda: js.call_method("İSTANBUL", "toLowerCase", [], "s.toLowerCase"), "i̇stanbul", id="'İSTANBUL'.toLowerCase()"),
    pytest.param(lambda: js.call_method("ΟΔΟΣ", "toLowerCase", [], "s.toLowerCase"), "οδος", id="'ΟΔΟΣ'.toLowerCase()"),
    pytest.param(lambda: js.call_method(" \t\n\u00a0\ufeff x \u2028\u3000", "trim", [], "s.trim"), "x", id="' \\t\\n\\u00a0\\ufeff x \\u2028\\u3000'.trim()"),
    pytest.param(lambda: js.call_method("\x1c x \x85", "trim", [], "s.trim"), "\u001c x \x85", id="'\\x1c x \\x85'.trim()"),
    pytest.param(lambda: js.call_method("  x  ", "trimStart", [], "s.trimStart"), "x  ", id="'  x  '.trimStart()"),
    pytest.param(lambda: js.call_method("  x  ", "trimEnd", [], "s.trimEnd"), "  x", id="'  x  '.trimEnd()"),
    pytest.param(lambda: js.call_method("a,b,,c", "split", [","], "s.split"), ["a", "b", "", "c"], id="'a,b,,c'.split(',')"),
    pytest.param(lambda: js.call_method("a,b,c", "split", [",", 2.0], "s.split"), ["a", "b"], id="'a,b,c'.split(',', 2)"),
    pytest.param(lambda: js.call_method("a,b,c", "split", [",", 0.0], "s.split"), [], id="'a,b,c'.split(',', 0)"),
    pytest.param(lambda: js.call_method("a,b,c", "split", [",", -1.0], "s.split"), ["a", "b", "c"], id="'a,b,c'.split(',', -1)"),
    pytest.param(lambda: js.call_method("abc", "split", [""], "s.split"), ["a", "b", "c"], id="'abc'.split('')"),
    pytest.param(lambda: js.call_method("abc", "split", ["", 2.0], "s.split"), ["a", "b"], id="'abc'.split('', 2)"),
    pytest.param(lambda: js.call_method("abc", "split", [], "s.split"), ["abc"], id="'abc'.split()"),
    pytest.param(lambda: js.call_method("abc", "split", [js.UNDEFINED, 0.0], "s.split"), [], id="'abc'.split(undefined, 0)"),
    pytest.param(lambda: js.call_method("", "split", [","], "s.split"), [""], id="''.split(',')"),
    pytest.param(lambda: js.call_method("", "split", [""], "s.split"), [], id="''.split('')"),
    pytest.param(lambda: js.call_method("a1b1c", "split", [1.0], "s.split"), ["a", "b", "c"], id="'a1b1c'.split(1)"),
    pytest.param(lambda: js.call_method("😀a😀", "split", [""], "s.split"), ["\ud83d", "\ude00", "a", "\ud83d", "\ude00"], id="'😀a😀'.split('')"),
    pytest.param(lambda: js.call_method("😀a😀", "split", ["a"], "s.split"), ["😀", "😀"], id="'😀a😀'.split('a')"),
    pytest.param(lambda: js.call_method("😀a😀", "split", ["\ud83d"], "s.split"), ["", "\ude00a", "\ude00"], id="'😀a😀'.split('\\ud83d')"),
    pytest.param(lambda: js.call_method("abcabc", "split", ["bc"], "s.split"), ["a", "a", ""], id="'abcabc'.split('bc')"),
    pytest.param(lambda: js.call_method("abc", "startsWith", ["ab"], "s.startsWith"), True, id="'abc'.startsWith('ab')"),
    pytest.param(lambda: js.call_method("abc", "startsWith", ["bc", 1.0], "s.startsWith"), True, id="'abc'.startsWith('bc', 1)"),
    pytest.param(lambda: js.call_method("abc", "startsWith", ["", 10.0], "s.startsWith"), True, id="'abc'.startsWith('', 10)"),
    pytest.param(lambda: js.call_method("abc", "startsWith", ["a", -5.0], "s.startsWith"), True, id="'abc'.startsWith('a', -5)"),
    pytest.param(lambda: js.call_method("😀x", "startsWith", ["x", 2.0], "s.startsWith"), True, id="'😀x'.startsWith('x', 2)"),
    pytest.param(lambda: js.call_method("abc", "endsWith", ["bc"], "s.endsWith"), True, id="'abc'.endsWith('bc')"),
    pytest.param(lambda: js.call_method("abc", "endsWith", ["ab", 2.0], "s.endsWith"), True, id="'abc'.endsWith('ab', 2)"),
    pytest.param(lambda: js.call_method("abc", "endsWith", ["abc", 2.0], "s.endsWith"), False, id="'abc'.endsWith('abc', 2)"),
    pytest.param(lambda: js.call_method("abc", "endsWith", ["", -1.0], "s.endsWith"), True, id="'abc'.endsWith('', -1)"),
    pytest.param(lambda: js.call_method("abc", "endsWith", ["c", 99.0], "s.endsWith"), True, id="'abc'.endsWith('c', 99)"),
    pytest.param(lambda: js.call_method("abc", "replace", ["b", "[$&|$`|$'|$$|$1|$]"], "s.replace"), "a[b|a|c|$|$1|$]c", id="'abc'.replace('b', '[$&|$`|$\\'|$$|$1|$]')"),
    pytest.param(lambda: js.call_method("abc", "replace", ["", "x"], "s.replace"), "xabc", id="'abc'.replace('', 'x')"),
    pytest.param(lambda: js.call_method("abcb", "replace", ["b", "x"], "s.replace"), "axcb", id="'abcb'.replace('b', 'x')"),
    pytest.param(lambda: js.call_method("abc", "replace", ["z", "x"], "s.replace"), "abc", id="'abc'.replace('z', 'x')"),
    pytest.param(lambda: js.call_method("abc", "replace", ["b"], "s.replace"), "aundefinedc", id="'abc'.replace('b')"),
    pytest.param(lambda: js.call_method("a1c", "replace", [1.0, 2.0], "s.replace"), "a2c", id="'a1c'.replace(1, 2)"),
    pytest.param(lambda: js.call_method("xax", "replace", ["a", "$0$<n>$"], "s.replace"), "x$0$<n>$x", id="'xax'.replace('a', '$0$<n>$')"),
    pytest.param(lambda: js.call_method("aaa", "replaceAll", ["a", "b"], "s.replaceAll"), "bbb", id="'aaa'.replaceAll('a', 'b')"),
    pytest.param(lambda: js.call_method("aaaa", "replaceAll", ["aa", "b"], "s.replaceAll"), "bb", id="'aaaa'.replaceAll('aa', 'b')"),
    pytest.param(lambda: js.call_method("abc", "replaceAll", ["", "-"], "s.replaceAll"), "-a-b-c-", id="'abc'.replaceAll('', '-')"),
    pytest.param(lambda: js.call_method("😀", "replaceAll", ["", "-"], "s.replaceAll"), "-\ud83d-\ude00-", id="'😀'.replaceAll('', '-')"),
    pytest.param(lambda: js.call_method("a.b.c", "replaceAll", [".", "$&$&"], "s.replaceAll"), "a..b..c", id="'a.b.c'.replaceAll('.', '$&$&')"),
    pytest.param(lambda: js.call_method("a-b", "replaceAll", ["-", "$'$`"], "s.replaceAll"), "abab", id="'a-b'.replaceAll('-', \"$'$`\")"),
    pytest.param(lambda: js.call_method("😀-😀", "replace", ["-", "$'"], "s.replace"), "😀😀😀", id="'😀-😀'.replace('-', \"$'\")"),
    pytest.param(lambda: js.call_method("abc", "padStart", [6.0, "12"], "s.padStart"), "121abc", id="'abc'.padStart(6, '12')"),
    pytest.param(lambda: js.call_method("abc", "padStart", [6.0], "s.padStart"), "   abc", id="'abc'.padStart(6)"),
    pytest.param(lambda: js.call_method("abc", "padStart", [2.0], "s.padStart"), "abc", id="'abc'.padStart(2)"),
    pytest.param(lambda: js.call_method("abc", "padStart", [6.0, ""], "s.padStart"), "abc", id="'abc'.padStart(6, '')"),
    pytest.param(lambda: js.call_method("a", "padStart", [3.0, "😀"], "s.padStart"), "😀a", id="'a'.padStart(3, '😀')"),
    pytest.param(lambda: js.call_method("a", "padStart", [2.0, "😀"], "s.padStart"), "\ud83da", id="'a'.padStart(2, '😀')"),
    pytest.param(lambda: js.call_method("7", "padStart", [3.0, 0.0], "s.padStart"), "007", id="'7'.padStart(3, 0)"),
    pytest.param(lambda: js.call_method("abc", "padEnd", [7.0, "xy"], "s.padEnd"), "abcxyxy", id="'abc'.padEnd(7, 'xy')"),
    pytest.param(lambda: js.call_method("abc", "padEnd", [-1.0], "s.padEnd"), "abc", id="'abc'.padEnd(-1)"),
    pytest.param(lambda: js.call_method("abc", "padEnd", [js.INF], "s.padEnd"), THROWS("RangeError", "Invalid string length"), id="'abc'.padEnd(Infinity)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [3.0], "s.repeat"), "ababab", id="'ab'.repeat(3)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [0.0], "s.repeat"), "", id="'ab'.repeat(0)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [2.9], "s.repeat"), "abab", id="'ab'.repeat(2.9)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [], "s.repeat"), "", id="'ab'.repeat()"),
    pytest.param(lambda: js.call_method("ab", "repeat", [-1.0], "s.repeat"), THROWS("RangeError", "Invalid count value: -1"), id="'ab'.repeat(-1)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [-1.5], "s.repeat"), THROWS("RangeError", "Invalid count value: -1.5"), id="'ab'.repeat(-1.5)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [js.INF], "s.repeat"), THROWS("RangeError", "Invalid count value: Infinity"), id="'ab'.repeat(Infinity)"),
    pytest.param(lambda: js.call_method("", "repeat", [js.INF], "s.repeat"), THROWS("RangeError", "Invalid count value: Infinity"), id="''.repeat(Infinity)"),
    pytest.param(lambda: js.call_method("ab", "repeat", [2.0 ** 30], "s.repeat"), THROWS("RangeError", "Invalid string length"), id="'ab'.repeat(2 ** 30)"),
    pytest.param(lambda: js.call_method("abcdef", "slice", [2.0], "s.slice"), "cdef", id="'abcdef'.slice(2)"),
    pytest.param(lambda: js.call_method("abcdef", "slice", [-2.0], "s.slice"), "ef", id="'abcdef'.slice(-2)"),
    pytest.param(lambda: js.call_method("abcdef", "slice", [2.0, -1.0], "s.slice"), "cde", id="'abcdef'.slice(2, -1)"),
    pytest.param(lambda: js.call_method("abcdef", "slice", [4.0, 1.0], "s.slice"), "", id="'abcdef'.slice(4, 1)"),
    pytest.param(lambda: js.call_method("😀abc", "slice", [1.0], "s.slice"), "\ude00abc", id="'😀abc'.slice(1)"),
    pytest.param(lambda: js.call_method("😀abc", "slice", [0.0, 2.0], "s.slice"), "😀", id="'😀abc'.slice(0, 2)"),
    pytest.param(lambda: js.call_method("😀abc", "slice", [-4.0, -3.0], "s.slice"), "\ude00", id="'😀abc'.slice(-4, -3)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [4.0, 1.0], "s.substring"), "bcd", id="'abcdef'.substring(4, 1)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [-3.0, 2.0], "s.substring"), "ab", id="'abcdef'.substring(-3, 2)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [js.NAN, 2.0], "s.substring"), "ab", id="'abcdef'.substring(NaN, 2)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [3.0], "s.substring"), "def", id="'abcdef'.substring(3)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [3.0, js.UNDEFINED], "s.substring"), "def", id="'abcdef'.substring(3, undefined)"),
    pytest.param(lambda: js.call_method("abcdef", "substring", [2.0, 100.0], "s.substring"), "cdef", id="'abcdef'.substring(2, 100)"),
    pytest.param(lambda: js.call_method("a😀b", "indexOf", ["b"], "s.indexOf"), 3.0, id="'a😀b'.indexOf('b')"),
    pytest.param(lambda: js.call_method("abcabc", "indexOf", ["c", 3.0], "s.indexOf"), 5.0, id="'abcabc'.indexOf('c', 3)"),
    pytest.param(lambda: js.call_method("abc", "indexOf", ["", 10.0], "s.indexOf"), 3.0, id="'abc'.indexOf('', 10)"),
    pytest.param(lambda: js.call_method("abc", "indexOf", ["c", -5.0], "s.indexOf"), 2.0, id="'abc'.indexOf('c', -5)"),
    pytest.param(lambda: js.call_method("abc", "indexOf", ["z"], "s.indexOf"), -1.0, id="'abc'.indexOf('z')"),
    pytest.param(lambda: js.call_method("undefined", "indexOf", [], "s.indexOf"), 0.0, id="'undefined'.indexOf()"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["a"], "s.lastIndexOf"), 3.0, id="'canal'.lastIndexOf('a')"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["a", 2.0], "s.lastIndexOf"), 1.0, id="'canal'.lastIndexOf('a', 2)"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["a", 0.0], "s.lastIndexOf"), -1.0, id="'canal'.lastIndexOf('a', 0)"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["x"], "s.lastIndexOf"), -1.0, id="'canal'.lastIndexOf('x')"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["", 2.0], "s.lastIndexOf"), 2.0, id="'canal'.lastIndexOf('', 2)"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["", 99.0], "s.lastIndexOf"), 5.0, id="'canal'.lastIndexOf('', 99)"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["a", js.NAN], "s.lastIndexOf"), 3.0, id="'canal'.lastIndexOf('a', NaN)"),
    pytest.param(lambda: js.call_method("canal", "lastIndexOf", ["a", -5.0], "s.lastIndexOf"), -1.0, id="'canal'.lastIndexOf('a', -5)"),
    pytest.param(lambda: js.call_method("😀😀", "lastIndexOf", ["😀"], "s.lastIndexOf"), 2.0, id="'😀😀'.lastIndexOf('😀')"),
    pytest.param(lambda: js.call_method("abc", "charAt", [1.0], "s.charAt"), "b", id="'abc'.charAt(1)"),
    pytest.param(lambda: js.call_method("abc", "charAt", [-1.0], "s.charAt"), "", id="'abc'.charAt(-1)"),
    pytest.param(lambda: js.call_method("abc", "charAt", [3.0], "s.charAt"), "", id="'abc'.charAt(3)"),
    pytest.param(lambda: js.call_method("abc", "charAt", [], "s.charAt"), "a", id="'abc'.charAt()"),
    pytest.param(lambda: js.call_method("😀", "charAt", [1.0], "s.charAt"), "\ude00", id="'😀'.charAt(1)"),
    pytest.param(lambda: js.call_method("abc", "charCodeAt", [1.0], "s.charCodeAt"), 98.0, id="'abc'.charCodeAt(1)"),
    pytest.param(lambda: js.call_method("abc", "charCodeAt", [5.0], "s.charCodeAt"), NAN, id="'abc'.charCodeAt(5)"),
    pytest.param(lambda: js.call_method("😀", "charCodeAt", [0.0], "s.charCodeAt"), 55357.0, id="'😀'.charCodeAt(0)"),
    pytest.param(lambda: js.call_method("😀", "charCodeAt", [1.0], "s.charCodeAt"), 56832.0, id="'😀'.charCodeAt(1)"),
    pytest.param(lambda: js.call_method("abc", "at", [-1.0], "s.at"), "c", id="'abc'.at(-1)"),
    pytest.param(lambda: js.call_method("abc", "at", [5.0], "s.at"), UNDEFINED, id="'abc'.at(5)"),
    pytest.param(lambda: js.call_method("😀", "at", [-1.0], "s.at"), "\ude00", id="'😀'.at(-1)"),
    pytest.param(lambda: js.call_method("abc", "includes", ["bc"], "s.includes"), True, id="'abc'.includes('bc')"),
    pytest.param(lambda: js.call_method("abc", "includes", ["a", 1.0], "s.includes"), False, id="'abc'.includes('a', 1)"),
    pytest.param(lambda: js.call_method("abc", "includes", [""], "s.includes"), True, id="'abc'.includes('')"),
    pytest.param(lambda: js.call_method("a", "concat", [1.0, None, [2.0, 3.0], js.UNDEFINED], "s.concat"), "a1null2,3undefined", id="'a'.concat(1, null, [2, 3], undefined)"),
    pytest.param(lambda: js.call_method("abc", "toString", [], "s.toString"), "abc", id="'abc'.toString()"),
    pytest.param(lambda: js.call_method("abc", "foo", [], '"abc".foo'), THROWS("TypeError", "\"abc\".foo is not a function"), id="'abc'.foo()"),
    pytest.param(lambda: js.call_method("abc", "length", [], '"abc".length'), THROWS("TypeError", "\"abc\".length is not a function"), id="'abc'.length()"),
    pytest.param(lambda: js.call_method(1.005, "toFixed", [2.0], "n.toFixed"), "1.00", id="(1.005).toFixed(2)"),
    pytest.param(lambda: js.call_method(1.45, "toFixed", [1.0], "n.toFixed"), "1.4", id="(1.45).toFixed(1)"),
    pytest.param(lambda: js.call_method(8.345, "toFixed", [2.0], "n.toFixed"), "8.35", id="(8.345).toFixed(2)"),
    pytest.param(lambda: js.call_method(2.5, "toFixed", [0.0], "n.toFixed"), "3", id="(2.5).toFixed(0)"),
    pytest.param(lambda: js.call_method(-2.5, "toFixed", [0.0], "n.toFixed"), "-3", id="(-2.5).toFixed(0)"),
    pytest.param(lambda: js.call_method(0.5, "toFixed", [], "n.toFixed"), "1", id="(0.5).toFixed()"),
    pytest.param(lambda: js.call_method(-0.0001, "toFixed", [2.0], "n.toFixed"), "-0.00", id="(-0.0001).toFixed(2)"),
    pytest.param(lambda: js.call_method(-0.0, "toFixed", [2.0], "n.toFixed"), "0.00", id="(-0).toFixed(2)"),
    pytest.param(lambda: js.call_method(1e21, "toFixed", [2.0], "n.toFixed"), "1e+21", id="(1e21).toFixed(2)"),
    pytest.param(lambda: js.call_method(1e20, "toFixed", [2.0], "n.toFixed"), "100000000000000000000.00", id="(1e20).toFixed(2)"),
    pytest.param(lambda: js.call_method(js.NAN, "toFixed", [2.0], "n.toFixed"), "NaN", id="(NaN).toFixed(2)"),
    pytest.param(lambda: js.call_method(-js.INF, "toFixed", [2.0], "n.toFixed"), "-Infinity", id="(-Infinity).toFixed(2)"),
    pytest.param(lambda: js.call_method(0.1, "toFixed", [20.0], "n.toFixed"), "0.10000000000000000555", id="(0.1).toFixed(20)"),
    pytest.param(lambda: js.call_method(123.456, "toFixed", [1.9], "n.toFixed"), "123.5", id="(123.456).toFixed(1.9)"),
    pytest.param(lambda: js.call_method(1.0, "toFixed", [101.0], "n.toFixed"), THROWS("RangeError", "toFixed() digits argument must be between 0 and 100"), id="(1).toFixed(101)"),
    pytest.param(lambda: js.call_method(1.0, "toFixed", [-1.0], "n.toFixed"), THROWS("RangeError", "toFixed() digits argument must be between 0 and 100"), id="(1).toFixed(-1)"),
    pytest.param(lambda: js.call_method(js.NAN, "toFixed", [101.0], "n.toFixed"), THROWS("RangeError", "toFixed() digits argument must be between 0 and 100"), id="(NaN).toFixed(101)"),
    pytest.param(lambda: js.call_method(5e-324, "toFixed", [100.0], "n.toFixed"), "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", id="(5e-324).toFixed(100)"),
    pytest.param(lambda: js.call_method(255.0, "toString", [16.0], "n.toString"), "ff", id="(255).toString(16)"),
    pytest.param(lambda: js.call_method(255.0, "toString", [2.0], "n.toString"), "11111111", id="(255).toString(2)"),
    pytest.param(lambda: js.call_method(-255.0, "toString", [36.0], "n.toString"), "-73", id="(-255).toString(36)"),
    pytest.param(lambda: js.call_method(0.5, "toString", [2.0], "n.toString"), "0.1", id="(0.5).toString(2)"),
    pytest.param(lambda: js.call_method(0.1, "toString", [3.0], "n.toString"), "0.0022002200220022002200220022002201", id="(0.1).toString(3)"),
    pytest.param(lambda: js.call_method(1e21, "toString", [36.0], "n.toString"), "5v1j4f4ds7c000", id="(1e21).toString(36)"),
    pytest.param(lambda: js.call_method(3.14159, "toString", [7.0], "n.toString"), "3.066364631133534554", id="(3.14159).toString(7)"),
    pytest.param(lambda: js.call_method(1.5, "toString", [], "n.toString"), "1.5", id="(1.5).toString()"),
    pytest.param(lambda: js.call_method(1.5, "toString", [10.0], "n.toString"), "1.5", id="(1.5).toString(10)"),
    pytest.param(lambda: js.call_method(1.5, "toString", [js.UNDEFINED], "n.toString"), "1.5", id="(1.5).toString(undefined)"),
    pytest.param(lambda: js.call_method(1.0, "toString", [1.0], "n.toString"), THROWS("RangeError", "toString() radix argument must be between 2 and 36"), id="(1).toString(1)"),
    pytest.param(lambda: js.call_method(1.0, "toString", [37.0], "n.toString"), THROWS("RangeError", "toString() radix argument must be between 2 and 36"), id="(1).toString(37)"),
    pytest.param(lambda: js.call_method(js.NAN, "toString", [2.0], "n.toString"), "NaN", id="(NaN).toString(2)"),
    pytest.param(lambda: js.call_method(-js.INF, "toString", [16.0], "n.toString"), "-Infinity", id="(-Infinity).toString(16)"),
    pytest.param(lambda: js.call_method(-0.0, "toString", [2.0], "n.toString"), "0", id="(-0).toString(2)"),
    pytest.param(lambda: js.call_method(5.0, "foo", [], "5.foo"), THROWS("TypeError", "5.foo is not a function"), id="(5).foo()"),
    pytest.param(lambda: js.call_method(True, "toString", [], "b.toString"), "true", id="true.toString()"),
    pytest.param(lambda: js.get(True, "toFixed"), UNDEFINED, id="true.toFixed"),
    pytest.param(lambda: js.call_method(js.new_error("m"), "toString", [], "e.toString"), "Error: m", id="new Error('m').toString()"),
    pytest.param(lambda: js.call_method(None, "foo", [], "x.foo"), THROWS("TypeError", "Cannot read properties of null (reading 'foo')"), id="null.foo()"),
    pytest.param(lambda: js.call_method(js.UNDEFINED, "foo", [], "x.foo"), THROWS("TypeError", "Cannot read properties of undefined (reading 'foo')"), id="undefined.foo()"),
    pytest.param(lambda: js.call_method({}, "foo", [], "{}.foo"), THROWS("TypeError", "{}.foo is not a function"), id="({}).foo()"),
    pytest.param(lambda: js.call_method({"foo": 1.0}, "foo", [], "{(intermediate value)}.foo"), THROWS("TypeError", "{(intermediate value)}.foo is not a function"), id="({foo: 1}).foo()"),
    pytest.param(lambda: js.math_min(), INF, id="Math.min()"),
    pytest.param(lambda: js.math_max(), -INF, id="Math.max()"),
    pytest.param(lambda: js.math_min(3.0, 1.0, 2.0), 1.0, id="Math.min(3, 1, 2)"),
    pytest.param(lambda: js.math_max(3.0, "10", 2.0), 10.0, id="Math.max(3, '10', 2)"),
    pytest.param(lambda: js.math_max(1.0, js.NAN, 3.0), NAN, id="Math.max(1, NaN, 3)"),
    pytest.param(lambda: js.math_min(1.0, js.UNDEFINED), NAN, id="Math.min(1, undefined)"),
    pytest.param(lambda: js.math_min(0.0, -0.0), -0.0, id="Math.min(0, -0)"),
    pytest.param(lambda: js.math_min(-0.0, 0.0), -0.0, id="Math.min(-0, 0)"),
    pytest.param(lambda: js.math_max(-0.0, 0.0), 0.0, id="Math.max(-0, 0)"),
    pytest.param(lambda: js.math_max(0.0, -0.0), 0.0, id="Math.max(0, -0)"),
    pytest.param(lambda: js.math_max(None, -1.0), 0.0, id="Math.max(null, -1)"),
    pytest.param(lambda: js.math_max([5.0], [[6.0]]), 6.0, id="Math.max([5], [[6]])"),
    pytest.param(lambda: js.math_floor(1.7), 1.0, id="Math.floor(1.7)"),
    pytest.param(lambda: js.math_floor(-1.2), -2.0, id="Math.floor(-1.2)"),
    pytest.param(lambda: js.math_floor(-0.0), -0.0, id="Math.floor(-0)"),
    pytest.param(lambda: js.math_floor(-0.5), -1.0, id="Math.floor(-0.5)"),
    pytest.param(lambda: js.math_floor("3.9"), 3.0, id="Math.floor('3.9')"),
    pytest.param(lambda: js.math_floor(js.NAN), NAN, id="Math.floor(NaN)"),
    pytest.param(lambda: js.math_floor(-js.INF), -INF, id="Math.floor(-Infinity)"),
    pytest.param(lambda: js.math_floor(1e300), 1e+300, id="Math.floor(1e300)"),
    pytest.param(lambda: js.math_floor(), NAN, id="Math.floor()"),
    pytest.param(lambda: js.math_ceil(1.2), 2.0, id="Math.ceil(1.2)"),
    pytest.param(lambda: js.math_ceil(-0.5), -0.0, id="Math.ceil(-0.5)"),
    pytest.param(lambda: js.math_ceil(-1.5), -1.0, id="Math.ceil(-1.5)"),
    pytest.param(lambda: js.math_ceil(-1.0), -1.0, id="Math.ceil(-1)"),
    pytest.param(lambda: js.math_ceil(0.0000001), 1.0, id="Math.ceil(0.0000001)"),
    pytest.param(lambda: js.math_abs(-3.0), 3.0, id="Math.abs(-3)"),
    pytest.param(lambda: js.math_abs(-0.0), 0.0, id="Math.abs(-0)"),
    pytest.param(lambda: js.math_abs("-2"), 2.0, id="Math.abs('-2')"),
    pytest.param(lambda: js.math_abs(None), 0.0, id="Math.abs(null)"),
    pytest.param(lambda: js.math_abs([]), 0.0, id="Math.abs([])"),
    pytest.param(lambda: js.math_abs({}), NAN, id="Math.abs({})"),
    pytest.param(lambda: js.math_round(2.5), 3.0, id="Math.round(2.5)"),
    pytest.param(lambda: js.math_round(-2.5), -2.0, id="Math.round(-2.5)"),
    pytest.param(lambda: js.math_round(-2.6), -3.0, id="Math.round(-2.6)"),
    pytest.param(lambda: js.math_round(-0.5), -0.0, id="Math.round(-0.5)"),
    pytest.param(lambda: js.math_round(-0.4), -0.0, id="Math.round(-0.4)"),
    pytest.param(lambda: js.math_round(0.49999999999999994), 0.0, id="Math.round(0.49999999999999994)"),
    pytest.param(lambda: js.math_round(4503599627370495.5), 4503599627370496.0, id="Math.round(4503599627370495.5)"),
    pytest.param(lambda: js.math_round(-4503599627370495.5), -4503599627370495.0, id="Math.round(-4503599627370495.5)"),
    pytest.param(lambda: js.math_round(1.5), 2.0, id="Math.round(1.5)"),
    pytest.param(lambda: js.math_round(-0.0), -0.0, id="Math.round(-0)"),
    pytest.param(lambda: js.math_round("2.5"), 3.0, id="Math.round('2.5')"),
    pytest.param(lambda: js.math_sign(-3.0), -1.0, id="Math.sign(-3)"),
    pytest.param(lambda: js.math_sign(0.0), 0.0, id="Math.sign(0)"),
    pytest.param(lambda: js.math_sign(-0.0), -0.0, id="Math.sign(-0)"),
    pytest.param(lambda: js.math_sign("5"), 1.0, id="Math.sign('5')"),
    pytest.param(lambda: js.math_sign(js.NAN), NAN, id="Math.sign(NaN)"),
    pytest.param(lambda: js.math_trunc(-4.7), -4.0, id="Math.trunc(-4.7)"),
    pytest.param(lambda: js.math_trunc(-0.3), -0.0, id="Math.trunc(-0.3)"),
    pytest.param(lambda: js.math_trunc(4.7), 4.0, id="Math.trunc(4.7)"),
    pytest.param(lambda: js.math_trunc(js.INF), INF, id="Math.trunc(Infinity)"),
    pytest.param(lambda: js.math_pow(2.0, 10.0), 1024.0, id="Math.pow(2, 10)"),
    pytest.param(lambda: js.math_pow("2", "0.5"), 1.4142135623730951, id="Math.pow('2', '0.5')"),
    pytest.param(lambda: js.math_pow(js.NAN, 0.0), 1.0, id="Math.pow(NaN, 0)"),
    pytest.param(lambda: js.math_pow(2.0), NAN, id="Math.pow(2)"),
    pytest.param(lambda: js.math_sqrt(16.0), 4.0, id="Math.sqrt(16)"),
    pytest.param(lambda: js.math_sqrt(2.0), 1.4142135623730951, id="Math.sqrt(2)"),
    pytest.param(lambda: js.math_sqrt(-1.0), NAN, id="Math.sqrt(-1)"),
    pytest.param(lambda: js.math_sqrt(-0.0), -0.0, id="Math.sqrt(-0)"),
    pytest.param(lambda: js.math_sqrt(js.INF), INF, id="Math.sqrt(Infinity)"),
    pytest.param(lambda: js.math_sqrt("9"), 3.0, id="Math.sqrt('9')"),
    pytest.param(lambda: js.parse_int("42px"), 42.0, id="parseInt('42px')"),
    pytest.param(lambda: js.parse_int("  -17  "), -17.0, id="parseInt('  -17  ')"),
    pytest.param(lambda: js.parse_int("0x1F"), 31.0, id="parseInt('0x1F')"),
    pytest.param(lambda: js.parse_int("-0x1F"), -31.0, id="parseInt('-0x1F')"),
    pytest.param(lambda: js.parse_int("0x1F", 16.0), 31.0, id="parseInt('0x1F', 16)"),
    pytest.param(lambda: js.parse_int("0x1F", 10.0), 0.0, id="parseInt('0x1F', 10)"),
    pytest.param(lambda: js.parse_int("ff", 16.0), 255.0, id="parseInt('ff', 16)"),
    pytest.param(lambda: js.parse_int("zz", 36.0), 1295.0, id="parseInt('zz', 36)"),
    pytest.param(lambda: js.parse_int("10", 37.0), NAN, id="parseInt('10', 37)"),
    pytest.param(lambda: js.parse_int("10", 1.0), NAN, id="parseInt('10', 1)"),
    pytest.param(lambda: js.parse_int("10", 0.0), 10.0, id="parseInt('10', 0)"),
    pytest.param(lambda: js.parse_int("11", 2.9), 3.0, id="parseInt('11', 2.9)"),
    pytest.param(lambda: js.parse_int("11", "3"), 4.0, id="parseInt('11', '3')"),
    pytest.param(lambda: js.parse_int("12", 4294967298.0), 1.0, id="parseInt('12', 4294967298)"),
    pytest.param(lambda: js.parse_int("1e3"), 1.0, id="parseInt('1e3')"),
    pytest.param(lambda: js.parse_int(""), NAN, id="parseInt('')"),
    pytest.param(lambda: js.parse_int("-"), NAN, id="parseInt('-')"),
    pytest.param(lambda: js.parse_int("0x"), NAN, id="parseInt('0x')"),
    pytest.param(lambda: js.parse_int("-0"), -0.0, id="parseInt('-0')"),
    pytest.param(lambda: js.parse_int(0.0000005), 5.0, id="parseInt(0.0000005)"),
    pytest.param(lambda: js.parse_int(None), NAN, id="parseInt(null)"),
    pytest.param(lambda: js.parse_int("Infinity"), NAN, id="parseInt('Infinity')"),
    pytest.param(lambda: js.parse_int("9007199254740993"), 9007199254740992.0, id="parseInt('9007199254740993')"),
    pytest.param(lambda: js.parse_int("123456789012345678901234567890"), 1.2345678901234568e+29, id="parseInt('123456789012345678901234567890')"),
    pytest.param(lambda: js.parse_int("1" * 400), INF, id="parseInt('1'.repeat(400))"),
    pytest.param(lambda: js.parse_int("1" * 1100, 2.0), INF, id="parseInt('1'.repeat(1100), 2)"),
    pytest.param(lambda: js.parse_int("٣"), NAN, id="parseInt('٣')"),
    pytest.param(lambda: js.parse_int("\u00a0\ufeff12"), 12.0, id="parseInt('\\u00a0\\ufeff12')"),
    pytest.param(lambda: js.parse_int(), NAN, id="parseInt()"),
    pytest.param(lambda: js.parse_float("3.14abc"), 3.14, id="parseFloat('3.14abc')"),
    pytest.param(lambda: js.parse_float("  -1.5e3x"), -1500.0, id="parseFloat('  -1.5e3x')"),
    pytest.param(lambda: js.parse_float(".5"), 0.5, id="parseFloat('.5')"),
    pytest.param(lambda: js.parse_float("1.e2"), 100.0, id="parseFloat('1.e2')"),
    pytest.param(lambda: js.parse_float("1e"), 1.0, id="parseFloat('1e')"),
    pytest.param(lambda: js.parse_float("Infinityx"), INF, id="parseFloat('Infinityx')"),
    pytest.param(lambda: js.parse_float("-Infinity"), -INF, id="parseFloat('-Infinity')"),
    pytest.param(lambda: js.parse_float("-.e1"), NAN, id="parseFloat('-.e1')"),
    pytest.param(lambda: js.parse_float("0x10"), 0.0, id="parseFloat('0x10')"),
    pytest.param(lambda: js.parse_float(""), NAN, id="parseFloat('')"),
    pytest.param(lambda: js.parse_float([" 2.5"]), 2.5, id="parseFloat([' 2.5'])"),
    pytest.param(lambda: js.parse_float("1_0"), 1.0, id="parseFloat('1_0')"),
    pytest.param(lambda: js.parse_float("-0"), -0.0, id="parseFloat('-0')"),
    pytest.param(lambda: js.is_nan("abc"), True, id="isNaN('abc')"),
    pytest.param(lambda: js.is_nan("12"), False, id="isNaN('12')"),
    pytest.param(lambda: js.is_nan(js.UNDEFINED), True, id="isNaN(undefined)"),
    pytest.param(lambda: js.is_nan(None), False, id="isNaN(null)"),
    pytest.param(lambda: js.is_finite("12"), True, id="isFinite('12')"),
    pytest.param(lambda: js.is_finite(js.INF), False, id="isFinite(Infinity)"),
    pytest.param(lambda: js.number_is_nan("abc"), False, id="Number.isNaN('abc')"),
    pytest.param(lambda: js.number_is_nan(js.NAN), True, id="Number.isNaN(NaN)"),
    pytest.param(lambda: js.number_is_finite("12"), False, id="Number.isFinite('12')"),
    pytest.param(lambda: js.number_is_finite(12.0), True, id="Number.isFinite(12)"),
    pytest.param(lambda: js.number_is_finite(-js.INF), False, id="Number.isFinite(-Infinity)"),
    pytest.param(lambda: js.number_is_integer(5.0), True, id="Number.isInteger(5)"),
    pytest.param(lambda: js.number_is_integer(5.5), False, id="Number.isInteger(5.5)"),
    pytest.param(lambda: js.number_is_integer("5"), False, id="Number.isInteger('5')"),
    pytest.param(lambda: js.number_is_integer(js.INF), False, id="Number.isInteger(Infinity)"),
    pytest.param(lambda: js.number_is_integer(1e300), True, id="Number.isInteger(1e300)"),
    pytest.param(lambda: js.number_is_integer(-0.0), True, id="Number.isInteger(-0)"),
    pytest.param(lambda: js.number_is_integer(True), False, id="Number.isInteger(true)"),
    pytest.param(lambda: js.array_is_array([]), True, id="Array.isArray([])"),
    pytest.param(lambda: js.array_is_array({}), False, id="Array.isArray({})"),
    pytest.param(lambda: js.array_is_array("a"), False, id="Array.isArray('a')"),
    pytest.param(lambda: js.object_keys({"b": 1.0, "a": 2.0, "10": "x", "2": "y", "01": "z", "-1": "n", "4294967294": "max", "4294967295": "big"}), ["2", "10", "4294967294", "b", "a", "01", "-1", "4294967295"], id="Object.keys({b: 1, a: 2, 10: 'x', 2: 'y', '01': 'z', '-1': 'n', 4294967294: 'max', 4294967295: 'big'})"),
    pytest.param(lambda: js.object_keys([5.0, 6.0]), ["0", "1"], id="Object.keys([5, 6])"),
    pytest.param(lambda: js.object_keys("a😀"), ["0", "1", "2"], id="Object.keys('a😀')"),
    pytest.param(lambda: js.object_keys(5.0), [], id="Object.keys(5)"),
    pytest.param(lambda: js.object_keys(True), [], id="Object.keys(true)"),
    pytest.param(lambda: js.object_keys(None), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.keys(null)"),
    pytest.param(lambda: js.object_keys(), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.keys()"),
    pytest.param(lambda: js.object_keys(js.JSError("Error", "m", {"code": 1.0})), ["code"], id="Object.keys(Object.assign(new Error('m'), {code: 1}))"),
    pytest.param(lambda: js.object_values({"b": 1.0, "3": "x", "a": [2.0]}), ["x", 1.0, [2.0]], id="Object.values({b: 1, 3: 'x', a: [2]})"),
    pytest.param(lambda: js.object_values("ab"), ["a", "b"], id="Object.values('ab')"),
    pytest.param(lambda: js.object_values([1.0, 2.0]), [1.0, 2.0], id="Object.values([1, 2])"),
    pytest.param(lambda: js.object_values(js.UNDEFINED), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.values(undefined)"),
    pytest.param(lambda: js.object_entries({"b": 1.0, "0": "z"}), [["0", "z"], ["b", 1.0]], id="Object.entries({b: 1, 0: 'z'})"),
    pytest.param(lambda: js.object_entries([7.0]), [["0", 7.0]], id="Object.entries([7])"),
    pytest.param(lambda: js.object_entries("hi"), [["0", "h"], ["1", "i"]], id="Object.entries('hi')"),
    pytest.param(lambda: js.object_entries(None), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.entries(null)"),
    pytest.param(lambda: js.object_assign({"a": 1.0}, {"b": 2.0}, None, js.UNDEFINED, {"a": 3.0}), {"a": 3.0, "b": 2.0}, id="Object.assign({a: 1}, {b: 2}, null, undefined, {a: 3})"),
    pytest.param(lambda: js.object_assign({}, "ab", [9.0]), {"0": 9.0, "1": "b"}, id="Object.assign({}, 'ab', [9])"),
    pytest.param(lambda: js.object_assign({}, js.JSError("Error", "x", {"code": 7.0})), {"code": 7.0}, id="Object.assign({}, Object.assign(new Error('x'), {code: 7}))"),
    pytest.param(lambda: js.object_assign([1.0, 2.0], [3.0]), [3.0, 2.0], id="Object.assign([1, 2], [3])"),
    pytest.param(lambda: js.object_assign(None, {}), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.assign(null, {})"),
    pytest.param(lambda: js.object_assign(js.UNDEFINED), THROWS("TypeError", "Cannot convert undefined or null to object"), id="Object.assign(undefined)"),
    pytest.param(lambda: js.object_from_entries([["a", 1.0], ["b", 2.0], ["a", 3.0]]), {"a": 3.0, "b": 2.0}, id="Object.fromEntries([['a', 1], ['b', 2], ['a', 3]])"),
    pytest.param(lambda: js.object_from_entries([[1.0, "x"], [None, "n"], ["c"]]), {"1": "x", "null": "n", "c": UNDEFINED}, id="Object.fromEntries([[1, 'x'], [null, 'n'], ['c']])"),
    pytest.param(lambda: js.object_from_entries([{"0": "k", "1": "v"}]), {"k": "v"}, id="Object.fromEntries([{0: 'k', 1: 'v'}])"),
    pytest.param(lambda: js.object_from_entries([1.0]), THROWS("TypeError", "Iterator value 1 is not an entry object"), id="Object.fromEntries([1])"),
    pytest.param(lambda: js.object_from_entries(["ab"]), THROWS("TypeError", "Iterator value ab is not an entry object"), id="Object.fromEntries(['ab'])"),
    pytest.param(lambda: js.object_from_entries("ab"), THROWS("TypeError", "Iterator value a is not an entry object"), id="Object.fromEntries('ab')"),
    pytest.param(lambda: js.object_from_entries(""), {}, id="Object.fromEntries('')"),
    pytest.param(lambda: js.object_from_entries({}), THROWS("TypeError", "object is not iterable (cannot read property Symbol(Symbol.iterator))"), id="Object.fromEntries({})"),
    pytest.param(lambda: js.object_from_entries(None), THROWS("TypeError", "undefined is not iterable"), id="Object.fromEntries(null)"),
    pytest.param(lambda: js.object_from_entries(5.0), THROWS("TypeError", "number 5 is not iterable (cannot read property Symbol(Symbol.iterator))"), id="Object.fromEntries(5)"),
    pytest.param(lambda: js.object_from_entries(js.object_entries({"x": 1.0, "y": [2.0]})), {"x": 1.0, "y": [2.0]}, id="Object.fromEntries(Object.entries({x: 1, y: [2]}))"),
    pytest.param(lambda: js.json_stringify({"a": [1.0, {}], "b": [], "c": "x"}), "{\"a\":[1,{}],\"b\":[],\"c\":\"x\"}", id="JSON.stringify({a: [1, {}], b: [], c: 'x'})"),
    pytest.param(lambda: js.json_stringify({"a": [1.0, {"b": 2.0}], "c": []}, None, 2.0), "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": []\n}", id="JSON.stringify({a: [1, {b: 2}], c: []}, null, 2)"),
    pytest.param(lambda: js.json_stringify([1.0], None, "--"), "[\n--1\n]", id="JSON.stringify([1], null, '--')"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, 20.0), "{\n          \"a\": 1\n}", id="JSON.stringify({a: 1}, null, 20)"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, 0.0), "{\"a\":1}", id="JSON.stringify({a: 1}, null, 0)"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, -3.0), "{\"a\":1}", id="JSON.stringify({a: 1}, null, -3)"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, 2.7), "{\n  \"a\": 1\n}", id="JSON.stringify({a: 1}, null, 2.7)"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, "12345678901234"), "{\n1234567890\"a\": 1\n}", id="JSON.stringify({a: 1}, null, '12345678901234')"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, ""), "{\"a\":1}", id="JSON.stringify({a: 1}, null, '')"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, None, True), "{\"a\":1}", id="JSON.stringify({a: 1}, null, true)"),
    pytest.param(lambda: js.json_stringify([js.UNDEFINED, js.get([], "push"), js.NAN, js.INF, -0.0, None], None, 1.0), "[\n null,\n null,\n null,\n null,\n 0,\n null\n]", id="JSON.stringify([undefined, [].push, NaN, Infinity, -0, null], null, 1)"),
    pytest.param(lambda: js.json_stringify({"a": js.UNDEFINED, "b": 1.0, "c": js.get([], "push"), "d": js.NAN}), "{\"b\":1,\"d\":null}", id="JSON.stringify({a: undefined, b: 1, c: [].push, d: NaN})"),
    pytest.param(lambda: js.json_stringify({"a": js.UNDEFINED}, None, 2.0), "{}", id="JSON.stringify({a: undefined}, null, 2)"),
    pytest.param(lambda: js.json_stringify("\u2028\ud800\x7f\x01\x1f\"\\\b\f\n\r\t/é😀"), "\"\u2028\\ud800\x7f\\u0001\\u001f\\\"\\\\\\b\\f\\n\\r\\t/é😀\"", id="JSON.stringify('\\u2028\\ud800\\x7f\\x01\\x1f\"\\\\\\b\\f\\n\\r\\t/é😀')"),
    pytest.param(lambda: js.json_stringify(js.UNDEFINED), UNDEFINED, id="JSON.stringify(undefined)"),
    pytest.param(lambda: js.json_stringify(), UNDEFINED, id="JSON.stringify()"),
    pytest.param(lambda: js.json_stringify(js.get([], "push")), UNDEFINED, id="JSON.stringify([].push)"),
    pytest.param(lambda: js.json_stringify(None), "null", id="JSON.stringify(null)"),
    pytest.param(lambda: js.json_stringify(1e21), "1e+21", id="JSON.stringify(1e21)"),
    pytest.param(lambda: js.json_stringify(-1e-7), "-1e-7", id="JSON.stringify(-1e-7)"),
    pytest.param(lambda: js.json_stringify(True), "true", id="JSON.stringify(true)"),
    pytest.param(lambda: js.json_stringify({"b": 1.0, "a": 2.0, "c": {"b": 1.0, "a": 2.0}}, ["a", "b", "a", 1.0]), "{\"a\":2,\"b\":1}", id="JSON.stringify({b: 1, a: 2, c: {b: 1, a: 2}}, ['a', 'b', 'a', 1])"),
    pytest.param(lambda: js.json_stringify({"1": "one", "c": {"1": "x", "2": "y"}}, [1.0, "c"]), "{\"1\":\"one\",\"c\":{\"1\":\"x\"}}", id="JSON.stringify({1: 'one', c: {1: 'x', 2: 'y'}}, [1, 'c'])"),
    pytest.param(lambda: js.json_stringify([{"a": 1.0, "b": 2.0}], ["b"]), "[{\"b\":2}]", id="JSON.stringify([{a: 1, b: 2}], ['b'])"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, [True, None, {}]), "{}", id="JSON.stringify({a: 1}, [true, null, {}])"),
    pytest.param(lambda: js.json_stringify({"a": 1.0}, "a"), "{\"a\":1}", id="JSON.stringify({a: 1}, 'a')"),
    pytest.param(lambda: js.json_stringify({"z": 1.0, "2": "b", "1": "a"}), "{\"1\":\"a\",\"2\":\"b\",\"z\":1}", id="JSON.stringify({z: 1, 2: 'b', 1: 'a'})"),
    pytest.param(lambda: js.json_stringify(js.new_error("x")), "{}", id="JSON.stringify(new Error('x'))"),
    pytest.param(lambda: js.json_stringify(js.JSError("Error", "x", {"code": 5.0})), "{\"code\":5}", id="JSON.stringify(Object.assign(new Error('x'), {code: 5}))"),
    pytest.param(lambda: js.json_stringify(js.JSError("Error", "m", {"code": 5.0}), ["message", "code", "name"]), "{\"message\":\"m\",\"code\":5,\"name\":\"Error\"}", id="JSON.stringify(Object.assign(new Error('m'), {code: 5}), ['message', 'code', 'name'])"),
    pytest.param(lambda: js.json_stringify({"p": js.Promise("task", "k")}), "{\"p\":{}}", id="JSON.stringify({p: Promise.resolve(1)})"),
    pytest.param(lambda: js.json_stringify({"a\nb": 1.0, "😀": 2.0}), "{\"a\\nb\":1,\"😀\":2}", id="JSON.stringify({'a\\nb': 1, '😀': 2})"),
    pytest.param(lambda: (lambda a: [js.set_(a, "self", a), js.json_stringify(a)][-1])({}), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle"), id="(() => { const a = {}; a.self = a; return JSON.stringify(a) })()"),
    pytest.param(lambda: (lambda a: [a["b"]["c"].append(a), js.json_stringify(a)][-1])({"b": {"c": [1.0]}}), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    |     property 'b' -> object with constructor 'Object'\n    |     property 'c' -> object with constructor 'Array'\n    --- index 1 closes the circle"), id="(() => { const a = {b: {c: [1]}}; a.b.c.push(a); return JSON.stringify(a) })()"),
    pytest.param(lambda: (lambda a: [a.append(a), js.json_stringify(a)][-1])([1.0]), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Array'\n    --- index 1 closes the circle"), id="(() => { const a = [1]; a.push(a); return JSON.stringify(a) })()"),
    pytest.param(lambda: (lambda e: [js.set_(e, "me", e), js.json_stringify(e)][-1])(js.new_error("x")), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Error'\n    --- property 'me' closes the circle"), id="(() => { const e = new Error('x'); e.me = e; return JSON.stringify(e) })()"),
    pytest.param(lambda: (lambda a: [js.set_(js.get(js.get(js.get(js.get(js.get(js.get(js.get(js.get(a, "n"), "n"), "n"), "n"), "n"), "n"), "n"), "n"), "back", a), js.json_stringify({"root": a})][-1])({"n": {"n": {"n": {"n": {"n": {"n": {"n": {"n": {}}}}}}}}}), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    |     property 'n' -> object with constructor 'Object'\n    |     property 'n' -> object with constructor 'Object'\n    |     ...\n    |     property 'n' -> object with constructor 'Object'\n    --- property 'back' closes the circle"), id="(() => { const a = {}; let c = a; for (let i = 0; i < 8; i++) { c.n = {}; c = c.n } c.back = a; return JSON.stringify({root: a}) })()"),
    pytest.param(lambda: (lambda a: [js.set_(a["x"], "y", [a["x"]]), js.json_stringify(a)][-1])({"x": {}}), THROWS("TypeError", "Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    |     property 'y' -> object with constructor 'Array'\n    --- index 0 closes the circle"), id="(() => { const a = {x: {}}; a.x.y = [a.x]; return JSON.stringify(a) })()"),
    pytest.param(lambda: (lambda s: js.json_stringify([s, s, {"s": s}]))({"v": 1.0}), "[{\"v\":1},{\"v\":1},{\"s\":{\"v\":1}}]", id="(() => { const s = {v: 1}; return JSON.stringify([s, s, {s}]) })()"),
    pytest.param(lambda: js.json_parse('{"a":1,"b":[true,null,"x"],"a":3}'), {"a": 3.0, "b": [True, None, "x"]}, id="JSON.parse('{\"a\":1,\"b\":[true,null,\"x\"],\"a\":3}')"),
    pytest.param(lambda: js.json_parse('{"b":1,"2":0,"1":0}'), {"1": 0.0, "2": 0.0, "b": 1.0}, id="JSON.parse('{\"b\":1,\"2\":0,\"1\":0}')"),
    pytest.param(lambda: js.json_parse("-0"), -0.0, id="JSON.parse('-0')"),
    pytest.param(lambda: js.json_parse("1E400"), INF, id="JSON.parse('1E400')"),
    pytest.param(lambda: js.json_parse("123456789012345678901234567890"), 1.2345678901234568e+29, id="JSON.parse('123456789012345678901234567890')"),
    pytest.param(lambda: js.json_parse(' "\\ud83d\\ude00" '), "😀", id="JSON.parse(' \"\\\\ud83d\\\\ude00\" ')"),
    pytest.param(lambda: js.json_parse('"\\ud83d"'), "\ud83d", id="JSON.parse('\"\\\\ud83d\"')"),
    pytest.param(lambda: js.json_parse(" [1, 2.5e-3] "), [1.0, 0.0025], id="JSON.parse(' [1, 2.5e-3] ')"),
    pytest.param(lambda: js.json_parse('{"__proto__": 1}'), {"__proto__": 1.0}, id="JSON.parse('{\"__proto__\": 1}')"),
    pytest.param(lambda: js.json_parse(1.0), 1.0, id="JSON.parse(1)"),
    pytest.param(lambda: js.json_parse(None), None, id="JSON.parse(null)"),
    pytest.param(lambda: js.json_parse(True), True, id="JSON.parse(true)"),
    pytest.param(lambda: js.json_parse([5.0]), 5.0, id="JSON.parse([5])"),
    pytest.param(lambda: js.json_parse('"x"'), "x", id="JSON.parse('\"x\"')"),
    pytest.param(lambda: js.object_keys(js.json_parse('{"b":1,"a":2}')), ["b", "a"], id="Object.keys(JSON.parse('{\"b\":1,\"a\":2}'))"),
]
# fmt: on


@pytest.mark.parametrize("x, expected", NUMBER_STRINGS)
def test_number_to_string_matches_node(x, expected):
    assert js.number_to_string(x) == expected
    assert js.to_string(x) == expected
    assert js.template(x) == expected


@pytest.mark.parametrize("x, radix_strings, fixed_strings", RADIX_AND_FIXED)
def test_number_methods_match_node(x, radix_strings, fixed_strings):
    for radix, expected in zip((2.0, 7.0, 16.0, 36.0), radix_strings):
        assert js.call_method(x, "toString", [radix], "x.toString") == expected
    if fixed_strings is not None:
        for digits, expected in zip((0.0, 2.0, 10.0, 20.0), fixed_strings):
            assert js.call_method(x, "toFixed", [digits], "x.toFixed") == expected


@pytest.mark.parametrize("compute, expected", NODE_CASES)
def test_matches_node(compute, expected):
    if isinstance(expected, THROWS):
        error = thrown(compute)
        assert (error.name, error.message) == (expected.name, expected.message)
    else:
        assert same(compute(), expected)


@pytest.mark.parametrize("x, y, expected", POW_CASES)
def test_pow_matches_node_bit_for_bit(x, y, expected):
    assert bits(js.pow(x, y)) == bits(expected)
    assert bits(js.math_pow(x, y)) == bits(expected)


# -- Map and Set ----------------------------------------------------------------------------------


def test_maps_and_sets_survive_a_snapshot_with_their_order_sharing_and_object_keys():
    key = {"id": 7.0}
    inner = js.new_set(["x", 1.0, js.NAN, -0.0])
    m = js.new_map([[key, inner], ["b", 2.0], [js.NAN, "nan"]])
    m.data[js.key_token("self")] = ["self", m]  # a cycle through the map itself
    add = js.call_method(js.get(inner, "add"), "bind", [inner], "add.bind")  # the set's add, bound to it
    snap = json.loads(json.dumps(js.encode_snapshot({"m": m, "key": key, "inner": inner, "add": add})))
    back = js.decode_snapshot(snap)
    m2, key2, inner2 = back["m"], back["key"], back["inner"]
    keys = [k for k, _ in m2.data.values()]
    assert keys[0] is key2 and keys[1] == "b" and math.isnan(keys[2]) and keys[3] == "self"
    assert js.call_method(m2, "get", [key2], "m.get") is inner2  # the key object is the same one as before
    assert js.call_method(m2, "get", [{"id": 7.0}], "m.get") is js.UNDEFINED  # an equal object is another key
    assert js.call_method(m2, "get", ["self"], "m.get") is m2
    assert js.collection_items(inner2)[:2] == ["x", 1.0] and js.get(inner2, "size") == 4.0
    assert js.call_method(inner2, "has", [0.0], "s.has") and js.call_method(inner2, "has", [js.NAN], "s.has")
    js.call(back["add"], ["y"], "add")  # the bound function still adds to the decoded set
    assert js.call_method(inner2, "has", ["y"], "s.has")


def test_map_keys_compare_as_same_value_zero_never_as_python_equality():
    m = js.new_map([[1.0, "one"], [True, "true"], ["1", "string"], [0.0, "zero"]])
    assert js.get(m, "size") == 4.0
    assert js.call_method(m, "get", [-0.0], "m.get") == "zero"
    assert [k for k, _ in m.data.values()] == [1.0, True, "1", 0.0]
    s = js.new_set([None, js.UNDEFINED, None, False, 0.0])
    assert js.collection_items(s) == [None, js.UNDEFINED, False, 0.0]


def test_maps_and_sets_hold_no_named_properties_and_json_shows_them_empty():
    m = js.new_map([["a", 1.0]])
    with pytest.raises(js.JSThrow, match="Cannot create property 'x' on a Map"):
        js.set_(m, "x", 1.0)
    assert js.json_stringify({"m": m, "s": js.new_set([1.0])}) == '{"m":{},"s":{}}'
    assert js.to_json([m]) == [{}]
    assert js.typeof(m) == "object" and js.to_string(js.new_set()) == "[object Set]"


def test_an_object_with_its_own_conversion_method_is_refused():
    """JavaScript would call an object's own toString or valueOf in a conversion; a conversion runs no
    workflow code (execution/effects.py), so it is a TypeError that says what to write instead."""
    method = js.get([], "push")  # any function value
    for obj in ({"toString": method}, {"valueOf": method, "a": 1.0}):
        assert "call the method instead" in thrown(lambda: js.to_string(obj)).message
        assert "call the method instead" in thrown(lambda: js.add(obj, 1.0)).message
    assert thrown(lambda: js.to_string({"toString": 5.0})).message == "Cannot convert object to primitive value"
    assert js.to_string({"valueOf": 5.0}) == "[object Object]" and js.json_stringify({"toString": method}) == "{}"
