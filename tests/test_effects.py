"""What a generated body can change (execution/effects.py): a warm step trusts it to reuse a list's encoding
without comparing the list's items, so every way to change a container must make the answer None."""

from __future__ import annotations

import ast

import pytest

from rhythm_compiler import compile_source
from rhythm_runtime.execution.effects import growing_slots


def growing(source: str):
    return growing_slots(ast.parse(compile_source(source, "e.flow", fmt=False).code))


def test_a_body_of_reads_arithmetic_and_tasks_changes_no_container():
    assert growing('const o = Inputs.order\nlet t = 0\nconst a = await Task.run("x", { id: o.id, n: `${t}` })\n'
                   't += a.n\nif (t > 1 && !a.ok) { t = -t }\nreturn { t, o }') == frozenset()


def test_pushes_onto_a_slot_that_only_holds_array_literals_are_its_only_change():
    assert growing('const rs = []\nfor (let i = 0; i < 3; i++) { rs.push(await Task.run("x", i)) }\n'
                   'return rs') == {"rs"}


@pytest.mark.parametrize("source", [
    'const o = {}\no.a = await Task.run("x", 1)\nreturn o',  # a property write
    'const rs = []\nrs.push(1)\nrs.sort()\nawait Task.run("x", 1)\nreturn rs',  # another method
    'const rs = Inputs.list\nrs.push(await Task.run("x", 1))\nreturn rs',  # not an array literal: any push
    'let rs = []\nrs = Inputs.list\nrs.push(await Task.run("x", 1))\nreturn rs',
    'const o = { a: 1 }\ndelete o.a\nawait Task.run("x", 1)\nreturn o',
    'const f = (x) => x.n++\nconst a = await Task.run("x", 1)\nf(a)\nreturn a',  # a function call
    'const a = await Task.run("x", 1)\nconst b = [3, 1].map((x) => x + a.n)\nreturn b',  # a callback
    'let n = 0\nconst add = () => { n++ }\nadd()\nawait Task.run("x", 1)\nreturn n',  # a captured variable
])
def test_any_other_change_makes_it_unknown(source):
    assert growing(source) is None
