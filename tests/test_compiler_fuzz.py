"""The compiler never crashes, and nothing in a `.flow` file can reach Python.

1. Fuzzing (hypothesis): random token soups, random text and random mutations
   of every valid program we have (conformance programs, examples) either
   compile to a module that Python's `compile()` accepts or raise
   `rhythm_compiler.CompileError` with diagnostics that render. Anything else
   (a lark exception, RecursionError, CompilerBug, KeyError, …) is a bug.
   Runs derandomized, so a failure reproduces; RHYTHM_FUZZ_EXAMPLES=2000 to
   search harder.
2. Adversarial sandbox programs: names, property names, strings and comments
   chosen to collide with the generated Python (its keywords, builtins,
   dunders, the generated module's own locals) must compile and behave as
   JavaScript says, and `x.__class__` is `undefined`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rhythm_compiler import CompileError, compile_source
from rhythm_compiler.diagnostics import source_lines
from rhythm_compiler.lex import KEYWORDS, PUNCTUATORS, UNSUPPORTED_WORDS
from rhythm_runtime.api.testing import run_workflow

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted({p.read_text(encoding="utf-8") for pattern in ("tests/conformance/**/*.flow", "examples/**/*.flow",
                                                              "tests/golden/modules/*.flow")
                 for p in ROOT.glob(pattern)})
EXAMPLES = int(os.environ.get("RHYTHM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 150, deadline=None, database=None, derandomize=not EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


def compiles_or_diagnoses(source: str) -> None:
    """The property: a module Python accepts, or a CompileError that renders."""
    try:
        result = compile_source(source, "fuzz.flow")
    except CompileError as e:
        assert e.diagnostics, "a CompileError without diagnostics"
        last_line = len(source_lines(source))
        for d in e.diagnostics:
            assert 1 <= d.line <= last_line and d.col >= 1 and d.width >= 1, d
            assert d.message and "\n" not in d.message, d
        assert str(e)
        return
    compile(result.code, "fuzz.py", "exec")


# -- token soups ------------------------------------------------------------------------------

WORDS = sorted(KEYWORDS) + sorted(UNSUPPORTED_WORDS) + [
    "async", "await", "of", "Inputs", "Task", "Task.run", "Timer", "Signal", "Workflow", "Promise", "Math",
    "JSON", "Object", "Context", "Error", "undefined", "NaN", "x", "y", "L", "S", "s", "_js", "__class__",
    "constructor", "main", "label",
]
LITERALS = ["0", "1", "1.5", ".5", "1e3", "0x1F", "0b101", "0o17", "1_000", "07", "1n", '"a"', "'b'", '""',
            "`t`", "`a${", "${", "`", '"\\u{1F600}"', '"\\x41"', "'\\'", "/re/g"]
SPECIAL = ["\x00", '"', "'", "`", "\\", "${", "}", "{", "\r", "\n", "\r\n", "\f", "\v", "\t", "\u2028",
           "\u2029", "\ufeff", "\u00a0", "\u200b", "\u3000", "é", "ß", "名", "😀", "\U0001d465", "\ud83d",
           "§", "#", "@", "<!--", "-->", "/*", "*/", "//", "```", "```\n", "\\u0041", "\\u{", "0x"]
TOKENS = WORDS + PUNCTUATORS + LITERALS + SPECIAL
SEPARATORS = ["", " ", "\n", " ", "\t"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(SEPARATORS)), max_size=40))
def test_token_soup(parts) -> None:
    compiles_or_diagnoses("".join(tok + sep for tok, sep in parts))


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text) -> None:
    compiles_or_diagnoses(text)


@FUZZ
@given(st.text(alphabet="{}()[];,.=+-*/!?:<>&|`'\"\\$ \n\rabcx01", max_size=80))
def test_punctuation_soup(text) -> None:
    compiles_or_diagnoses(text)


# -- mutations of valid programs ---------------------------------------------------------------

PIECE = re.compile(r"\s+|//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|\w+|\S", re.S)


@st.composite
def mutated_programs(draw) -> str:
    pieces = PIECE.findall(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 5))):
        if not pieces:
            pieces = [""]
        i = draw(st.integers(0, len(pieces) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace", "split"]))
        if op == "delete":
            del pieces[i]
        elif op == "duplicate":
            pieces.insert(i, pieces[i])
        elif op == "swap" and i + 1 < len(pieces):
            pieces[i], pieces[i + 1] = pieces[i + 1], pieces[i]
        elif op == "insert":
            pieces.insert(i, draw(st.sampled_from(TOKENS)))
        elif op == "replace":
            pieces[i] = draw(st.sampled_from(TOKENS))
        elif op == "split" and pieces[i]:
            at = draw(st.integers(0, len(pieces[i])))
            pieces[i] = pieces[i][:at] + draw(st.sampled_from(SPECIAL)) + pieces[i][at:]
    return "".join(pieces)


@pytest.mark.parametrize("literal,value", [
    ("0x" + "f" * 300, None), ("0x" + "f" * 255, float(int("f" * 255, 16))), ("0b" + "1" * 1100, None),
    ("0o" + "7" * 400, None), ("9" * 400, None), ("1e400", None), ("1e-400", 0.0), ("0x1_0", 16.0),
])
def test_number_literals_of_any_size(literal: str, value) -> None:
    assert ok(f"return {literal}") == value  # Infinity leaves the run as null, as JSON.stringify does


def test_corpus_is_not_empty_and_compiles() -> None:
    assert len(CORPUS) > 300
    for source in CORPUS[:20]:
        compile_source(source, "corpus.flow")


@FUZZ
@given(mutated_programs())
def test_mutated_programs(source) -> None:
    compiles_or_diagnoses(source)


@pytest.mark.parametrize("depth", [10, 47, 48, 60, 250, 1500])
@pytest.mark.parametrize("shape", [
    lambda n: "let a = 1\nlet x = " + "+".join(["a"] * n),
    lambda n: "let x = " + "(" * n + "1" + ")" * n,
    lambda n: "let x = " + "[" * n + "1" + "]" * n,
    lambda n: "let x = " + "{a: " * n + "1" + "}" * n,
    lambda n: "let x = " + "Math.abs(" * n + "1" + ")" * n,
    lambda n: "let x = " + "await Task.run('a', " * n + "1" + ")" * n,
    lambda n: "let x = " + "!" * n + "1",
    lambda n: "let a = {}\nlet x = a" + "?.b" * n,
    lambda n: "let a = 1\nlet x = " + "a ? 1 : " * n + "2",
    lambda n: "let x = " + "`${" * n + "1" + "}`" * n,
    lambda n: "if (true) {" * n + "let x = 1" + "}" * n,
    lambda n: "while (false) {" * n + "}" * n,
    lambda n: "try {" * n + "await Task.run('a')" + "} catch (e) {} finally {}" * n,
    lambda n: "{" * n + "}" * n,
    lambda n: "let " + "[" * n + "a" + "]" * n + " = 1",
    lambda n: "let a = 1\n" + " else ".join(f"if (a == {i}) {{ a = 2 }}" for i in range(n)),
], ids=["sum", "parens", "arrays", "objects", "calls", "awaits", "nots", "optional", "ternary", "template",
        "ifs", "whiles", "tries", "blocks", "pattern", "else_if"])
def test_deep_nesting_compiles_or_diagnoses(shape, depth: int) -> None:
    compiles_or_diagnoses(shape(depth))


# -- adversarial sandbox programs -----------------------------------------------------------------

PYTHON_NAMES = ["def", "None", "True", "self", "lambda", "__class__", "__import__", "__builtins__", "constructor",
                "__proto__", "L", "S", "_js", "_op", "s", "awaited", "exc", "print", "_e1", "_c1", "_started1",
                "_items1", "_i1", "body", "WORKFLOW", "yield_", "pass", "import", "global"]
PYTHON_NAMES = [n for n in PYTHON_NAMES if n not in UNSUPPORTED_WORDS]


def ok(source: str, **kw):
    result = run_workflow(source, tasks={"echo": lambda p: p}, **kw)
    assert result.status == "completed", result.error
    return result.output


def test_python_names_as_variables() -> None:
    decls = "\n".join(f"let {n} = {i}" for i, n in enumerate(PYTHON_NAMES))
    assert ok(f"{decls}\nreturn [{', '.join(PYTHON_NAMES)}]") == list(range(len(PYTHON_NAMES)))


def test_python_names_as_variables_across_awaits() -> None:
    decls = "\n".join(f"let {n} = {i}" for i, n in enumerate(PYTHON_NAMES))
    bumps = "\n".join(f"{n} = {n} + 100" for n in PYTHON_NAMES)
    source = f"{decls}\nlet r = await Task.run('echo', [{', '.join(PYTHON_NAMES)}])\n{bumps}\n" \
             f"await Timer.delay(1)\nreturn [r, [{', '.join(PYTHON_NAMES)}]]"
    n = len(PYTHON_NAMES)
    assert ok(source) == [list(range(n)), [i + 100 for i in range(n)]]


def test_python_names_as_properties_and_keys() -> None:
    props = ", ".join(f"{n}: {i}" for i, n in enumerate(PYTHON_NAMES))
    reads = ", ".join(f"o.{n}" for n in PYTHON_NAMES)
    output = ok(f"let o = {{{props}}}\nreturn [[{reads}], Object.keys(o)]")
    assert output == [list(range(len(PYTHON_NAMES))), PYTHON_NAMES]


def test_python_names_in_destructuring_and_loops() -> None:
    source = ("let {def, self, L: S, __class__ = 7} = {def: 1, self: 2, L: 3}\n"
              "let [lambda, ...exc] = [4, 5, 6]\nlet awaited = 0\n"
              "for (const s of [1, 2]) { awaited += s }\n"
              "for (const _js in {a: 1}) { awaited += _js.length }\n"
              "try { throw 9 } catch (_op) { awaited += _op }\n"
              "return [def, self, S, __class__, lambda, exc, awaited]")
    assert ok(source) == [1, 2, 3, 7, 4, [5, 6], 13]


DUNDER_READS = [
    "o.__class__", "o.__dict__", "o.constructor", "o.__proto__", "o.__init__", "o.keys", "o.get", "o.items",
    "o.update", "o.__getattribute__", "a.__class__", "a.append", "a.__len__", "a.extend", "s.__class__",
    "s.format", "s.encode", "s.constructor", "s.__add__", "n.__class__", "n.real", "t.__class__",
    "Inputs.__class__", "Inputs.__dict__", 'o["__class__"]', 'a["__class__"]', 's["__add__"]',
    'o["__globals__"]', "e.__traceback__", "e.__class__", "e.args", "e.with_traceback", "Math.__class__",
    "JSON.__dict__", 'Math["__class__"]', "Context.__class__",
]


@pytest.mark.parametrize("expr", DUNDER_READS)
def test_python_attributes_read_as_undefined(expr: str) -> None:
    source = (f'let o = {{a: 1}}\nlet a = [1]\nlet s = "abc"\nlet n = 5\nlet t = true\nlet e = new Error("x")\n'
              f"return [typeof {expr}, {expr} === undefined]")
    assert ok(source) == ["undefined", True]


@pytest.mark.parametrize("call", ["o.keys()", "o.items()", "a.append(1)", "s.format(1)", "s.encode()",
                                  "o.__class__()", "a.__len__()", 'o["__init__"]()'])
def test_calling_python_methods_is_a_type_error(call: str) -> None:
    source = f'let o = {{}}\nlet a = []\nlet s = "x{{}}"\ntry {{ {call}\nreturn "reached" }} catch (e) {{ return e.name }}'
    assert ok(source) == "TypeError"


def test_python_attribute_writes_are_plain_properties() -> None:
    source = ('let o = {}\no["__class__"] = 1\no.__dict__ = 2\no["__init__"] = 3\n'
              "return [o.__class__, o.__dict__, o.__init__, Object.keys(o), JSON.stringify(o)]")
    assert ok(source) == [1, 2, 3, ["__class__", "__dict__", "__init__"],
                          '{"__class__":1,"__dict__":2,"__init__":3}']


STRINGS = [
    ('"\\"\\"\\""', '"""'), ("'\\'\\'\\''", "'''"), ('"{{ x }}"', "{{ x }}"), ('"{% if x %}"', "{% if x %}"),
    ('"{#"', "{#"), ('"a\\u0000b"', "a\x00b"), ('"a\\nb\\r\\nc"', "a\nb\r\nc"), ('"\\\\"', "\\"),
    ('"\\\\n"', "\\n"), ('"😀"', "😀"), ('"\\u{1F600}"', "😀"), ('"\\uD83D\\uDE00"', "😀"),
    ('"\\u2028\\u2029"', "\u2028\u2029"), ("'\" + __import__(\"os\").name + \"'", '" + __import__("os").name + "'),
    ('"\\"); import os; (\\""', '"); import os; ("'), ("`{{${1}}}`", "{{1}}"), ("`${'}'}`", "}"),
    ("`\\${x}`", "${x}"), ("`a\\`b`", "a`b"), ('"\\x00\\x7f\\xff"', "\x00\x7f\xff"), ('"%s %(x)s {0}"', "%s %(x)s {0}"),
]


@pytest.mark.parametrize("literal,value", STRINGS, ids=[s for s, _ in STRINGS])
def test_string_literals_keep_their_value(literal: str, value: str) -> None:
    assert ok(f"let v = {literal}\nreturn v") == value
    assert ok(f"let v = {literal}\nlet r = await Task.run('echo', v)\nreturn [r, v]") == [value, value]


def test_string_keys_that_look_like_python() -> None:
    source = 'let o = {"\\"\\"\\"": 1, "{{": 2, "__class__": 3, "\\u0000": 4}\nreturn Object.keys(o)'
    assert ok(source) == ['"""', "{{", "__class__", "\x00"]


COMMENTS = [
    ("/* \r\nx = 2; import os; os.system('echo pwned')\r */", 1),
    ("/* \"\"\" ''' {{ }} {% %} \u2028 x = 2 */", 1),
    ("// \"\"\" __import__('os').system('echo pwned')", 1),
    ("// \\", 1),
    ("/* \u2029 \f \v \x00 */", 1),
    # In JavaScript CR, LS and PS end a `//` comment: what follows is code (Node agrees).
    ("// c\rx = 2", 2),
    ("// c\u2028x = 3", 3),
    ("// c\u2029x = 4", 4),
]


@pytest.mark.parametrize("comment,value", COMMENTS, ids=[repr(c) for c, _ in COMMENTS])
def test_comments_cannot_inject_python(comment: str, value: int) -> None:
    source = f"let x = 1 {comment}\nreturn x"
    result = compile_source(source, "c.flow")
    for line in result.code.splitlines():
        assert not line.lstrip().startswith(("import", "x = 2", "os.system")), line
    assert ok(source) == value


def test_comment_lines_stay_comments_in_the_module() -> None:
    source = ("let x = 1 /* \u2028\u2029\r\x0b\x0c\x1c\x1d\x1e\x85 'x' \"\"\" */ // \x0b\x0c\x1c\x1d\x1e\x85\n"
              "return x")
    code = compile_source(source, "c.flow").code
    for line in code.splitlines():
        if "# line 1:" in line:
            assert line.lstrip().startswith("# line 1:")
            assert all(c.isprintable() for c in line)
    assert ok(source) == 1


def test_front_matter_cannot_inject_python() -> None:
    source = '```\n"""\nimport os\n\'\'\'\n{{ x }}\n```\nreturn 1'
    result = compile_source(source, "f.flow")
    assert ok(source) == 1
    assert "\nimport os" not in result.code.split('FRONT_MATTER = ')[0]


def test_file_name_with_triple_quotes_compiles() -> None:
    """Regression (emit / templates/module.py.j2): the module docstring used to embed the file
    name and the workflow name without escaping `\"\"\"`, so black rejected the module (CompilerBug)."""
    result = compile_source("return 1", 'say """hi""".flow')
    compile(result.code, "x.py", "exec")


def test_file_name_cannot_inject_python() -> None:
    """Regression (emit / templates/module.py.j2): a `.flow` file named
    `x\"\"\";PWNED=1;\"\"\"y.flow` used to close the module docstring, and the code between ran
    when the module was loaded."""
    from rhythm_runtime.execution.modules import load_module

    result = compile_source("return 1", 'x""";PWNED=1;"""y.flow')
    module = load_module(result.code, "x")
    assert not hasattr(module, "PWNED")


# -- random valid programs: they compile, and running them never raises a Python exception ---------

NAMES = ["a", "b", "c"]
PROPS = ["length", "x", "y", "0", "__class__", "constructor", "toString"]
STRING_LITERALS = ['"x"', '"ab"', '""', '"1"', "'q'", '"\\n"', '"😀"', '"\\u0000"', '"{{ }}"', '"\\"\\"\\""']
NUMBER_LITERALS = ["0", "1", "2", "-1", "1.5", "-0", "1e21", "0.1", "NaN", "Infinity"]
BINARY = ["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "==", "!=", "===", "!==", "&&", "||", "??", "in"]
METHODS = [("includes", 1), ("concat", 1), ("slice", 1), ("indexOf", 1), ("join", 1), ("toUpperCase", 0),
           ("trim", 0), ("split", 1), ("push", 1), ("pop", 0), ("startsWith", 1), ("keys", 0), ("at", 1)]
CALLS = ["Math.floor", "Math.abs", "JSON.stringify", "Object.keys", "String", "Number", "Boolean",
         "Array.isArray", "Math.max", "parseInt"]


def _compound_expressions(sub):
    return st.one_of(
        st.builds(lambda l, op, r: f"({l} {op} {r})", sub, st.sampled_from(BINARY), sub),
        st.builds(lambda op, e: f"({op} {e})", st.sampled_from(["!", "-", "+", "typeof"]), sub),
        st.builds(lambda t, x, y: f"({t} ? {x} : {y})", sub, sub, sub),
        st.builds(lambda e, p: f"({e})?.{p}" if p.isidentifier() else f"({e})?.[{p}]", sub, st.sampled_from(PROPS)),
        st.builds(lambda e, i: f"({e})?.[{i}]", sub, sub),
        st.builds(lambda es: f"[{', '.join(es)}]", st.lists(sub, max_size=3)),
        st.builds(lambda ks, vs: "{" + ", ".join(f"{k}: {v}" for k, v in zip(ks, vs)) + "}",
                  st.lists(st.sampled_from(["k", "x", "__class__", '"a b"', "1"]), max_size=3), st.lists(sub, max_size=3)),
        st.builds(lambda e, m, arg: f"({e})?.{m[0]}?.({arg if m[1] else ''})", sub, st.sampled_from(METHODS), sub),
        st.builds(lambda f, e: f"{f}({e})", st.sampled_from(CALLS), sub),
        st.builds(lambda e: f"`<${{{e}}}>`", sub),
        st.builds(lambda e: f"(await Task.run(\"echo\", {e}))", sub),
        st.builds(lambda e: f"[...[{e}]]", sub),
    )


EXPRESSIONS = st.recursive(
    st.one_of(st.sampled_from(NUMBER_LITERALS), st.sampled_from(STRING_LITERALS),
              st.sampled_from(["true", "false", "null", "undefined", "Inputs", "[]", "{}"] + NAMES)),
    _compound_expressions, max_leaves=8)

SIMPLE_STATEMENTS = st.one_of(
    st.builds(lambda n, x: f"{n} = {x}", st.sampled_from(NAMES), EXPRESSIONS),
    st.builds(lambda n, op, x: f"{n} {op} {x}", st.sampled_from(NAMES), st.sampled_from(["+=", "-=", "??=", "||="]),
              EXPRESSIONS),
    st.builds(lambda x: f"out.push({x})", EXPRESSIONS),
    st.just("await Timer.delay(0)"),
    st.builds(lambda x: f"if ({x}) throw new Error(String({x}))", EXPRESSIONS),
)


def _compound_statements(sub):
    block = st.lists(sub, max_size=3).map(lambda ss: "{\n" + "\n".join(ss) + "\n}")
    return st.one_of(
        st.builds(lambda x, t, f: f"if ({x}) {t} else {f}", EXPRESSIONS, block, block),
        st.builds(lambda x, b: f"for (const v of [{x}, 1]) {b}", EXPRESSIONS, block),
        st.builds(lambda b: f"for (let i = 0; i < 2; i++) {b}", block),
        st.builds(lambda b, h, f: f"try {b} catch (err) {h} finally {f}", block, block, block),
        st.builds(lambda b: f"while (true) {{\n{b}\nbreak\n}}", block),
    )


STATEMENTS = st.recursive(SIMPLE_STATEMENTS, _compound_statements, max_leaves=6)


@st.composite
def valid_programs(draw) -> str:
    body = draw(st.lists(STATEMENTS, min_size=1, max_size=5))
    result = draw(EXPRESSIONS)
    return "\n".join(["let a = 1", 'let b = "s"', "let c = [1, 2]", "const out = []", *body,
                      f"return [out, a, b, c, {result}]"])


@settings(FUZZ, max_examples=EXAMPLES or 40)
@given(valid_programs())
def test_random_valid_programs_compile_and_run(source) -> None:
    result = run_workflow(source, inputs={"k": 1}, tasks={"echo": lambda p: p})
    assert result.status in ("completed", "failed"), result
    if result.status == "failed":
        assert isinstance(result.error["message"], str) and isinstance(result.error["line"], int), result.error


# -- bugs found by differential fuzzing against Node (tests/conformance/harness.js) ----------------


@pytest.mark.parametrize("callee", ["NaN?.push", "Math.nope", "Infinity.x"])
def test_optional_call_of_a_missing_global_member_with_an_awaited_argument(callee: str) -> None:
    """Regression (lower.py): with an `await` among the arguments, `NaN?.push?.(…)`,
    `Math.nope?.(…)` and `Infinity.x?.(…)` used to call undefined instead of short-circuiting;
    Node gives undefined (as Rhythm does when no argument awaits)."""
    assert ok(f"let r = {callee}?.(1)\nreturn [r]") == [None]
    assert ok(f"let r = {callee}?.(await Task.run('echo', 1))\nreturn [r]") == [None]


@pytest.mark.parametrize("key,shown", [("[1]", "[object Array]"), ("({})", "#<Object>"), ("'ab'", "ab")])
def test_in_operator_type_error_names_the_key_as_node_does(key: str, shown: str) -> None:
    """Regression (values.py): for object keys Node says "search for '[object Array]'"."""
    source = f"try {{ return {key} in null }} catch (e) {{ return e.message }}"
    assert ok(source) == f"Cannot use 'in' operator to search for '{shown}' in null"
