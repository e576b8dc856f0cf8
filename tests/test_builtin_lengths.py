"""The `name` and `length` of every built-in function a workflow can read, against Node (the oracle).

properties.py keeps the methods' lengths in a table and global_objects.py the globals'; this test asks Node
for each method of every receiver's table and each global function, so a wrong entry or a method added
without its length fails here."""

from __future__ import annotations

import json
import shutil
import subprocess

from rhythm_runtime.execution import values as js
from rhythm_runtime.execution.values.representation import RECEIVER_METHODS, MatchArray

# One value of each receiver type, and the JavaScript that makes the same value.
_RECEIVERS = {
    list: ([], "[]"),
    str: ("", '""'),
    float: (0.0, "0"),
    bool: (True, "true"),
    js.JSRegExp: (js.new_regexp_object("a", ""), "/a/"),
    js.Promise: (js.Promise("value"), "Promise.resolve()"),
    js.JSFunction: (js.global_function("parseInt"), "parseInt"),
    js.JSDate: (js.new_date(0.0), "new Date(0)"),
    js.JSError: (js.new_error("m"), 'new Error("m")'),
    js.JSMap: (js.new_map(), "new Map()"),
    js.JSSet: (js.new_set(), "new Set()"),
}
# Receivers whose table is another's (a match is an array; a closure has a function's methods).
_SAME_TABLE = {MatchArray: list, js.JSClosure: js.JSFunction}
# Globals a workflow reads as values besides GLOBAL_FUNCTIONS (the compiler knows them, not that table).
_OTHER_GLOBALS = ("Promise.all", "Promise.any", "Promise.race", "Promise.allSettled", "Promise.resolve",
                  "Promise.reject")


def _functions() -> dict[str, tuple[object, str]]:
    """Every built-in function as {label: (Rhythm's function value, the JavaScript that reads it)}."""
    found = {}
    for t, table in RECEIVER_METHODS.items():
        if t in _SAME_TABLE:
            assert table is RECEIVER_METHODS[_SAME_TABLE[t]], t
            continue
        value, source = _RECEIVERS[t]
        for name in table:
            found[f"{t.__name__}.{name}"] = (js.get(value, name), f"({source}).{name}")
    for name in (*js.GLOBAL_FUNCTIONS, *_OTHER_GLOBALS):
        found[name] = (js.global_function(name), name)
    return found


def _node_name_and_length(sources: dict[str, str]) -> dict[str, list]:
    node = shutil.which("node")
    assert node is not None, "node is the oracle of this test (it is installed with the project's tools)"
    script = ("const sources = JSON.parse(require('fs').readFileSync(0, 'utf8')); const out = {};"
              "for (const [label, source] of Object.entries(sources)) {"
              " const f = eval(source); out[label] = [f.name, f.length] }"
              "process.stdout.write(JSON.stringify(out))")
    done = subprocess.run([node, "-e", script], input=json.dumps(sources), capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(done.stdout)


def test_every_built_in_function_has_nodes_name_and_length():
    functions = _functions()
    expected = _node_name_and_length({label: source for label, (_, source) in functions.items()})
    got = {label: [js.get(fn, "name"), int(js.get(fn, "length"))] for label, (fn, _) in functions.items()}
    wrong = {label: (got[label], expected[label]) for label in functions if got[label] != expected[label]}
    assert not wrong, f"(Rhythm, Node) differ: {wrong}"
    assert len(functions) > 150


def test_namespaces_that_are_functions_have_nodes_name_and_length():
    """`String.name`, `Date.length`: the function behind a namespace; `Math.name` is undefined."""
    namespaces = ("String", "Number", "Array", "Object", "Date", "Promise", "Math", "JSON")
    expected = _node_name_and_length({ns: ns for ns in namespaces})
    got = {ns: [js.constructor_member(ns, "name"), js.constructor_member(ns, "length")] for ns in namespaces}
    assert got == {ns: [name, float(length)] if name else [js.UNDEFINED, js.UNDEFINED]
                   for ns, (name, length) in expected.items()}
