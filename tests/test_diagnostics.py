"""Golden tests of compile diagnostics: every `.flow` under tests/golden/diagnostics
must fail to compile with exactly the diagnostics in its `.expected` file.

Each `.expected` file is what a user sees on a terminal without colour:
`path:line:col: error: message`, the source line and a caret line, for every
diagnostic of the file. When a change of wording is intended, regenerate them
all with one command and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_diagnostics.py

Further tests here pin properties no golden shows well: one sentence per
message, colour only when asked, carets that keep tabs, every independent
error in one run, and no Python exception other than CompileError.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rhythm_compiler import CompileError, compile_source
from rhythm_compiler.diagnostics import Diagnostic, render, render_all

GOLDEN = Path(__file__).resolve().parent / "golden" / "diagnostics"
CASES = sorted(GOLDEN.glob("*.flow"))
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


def diagnose(source: str, path: str = "t.flow") -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_source(source, path)
    return info.value


def rendered(case: Path) -> str:
    source = case.read_bytes().decode("utf-8")
    try:
        compile_source(source, case.name)
    except CompileError as e:
        return str(e) + "\n"
    return "(compiles without errors)\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    actual = rendered(case)
    expected_file = case.with_suffix(".expected")
    if UPDATE:
        expected_file.write_bytes(actual.encode("utf-8"))
    assert expected_file.exists(), f"no {expected_file.name}; run with UPDATE_GOLDEN=1 to create it"
    assert actual == expected_file.read_bytes().decode("utf-8")


def test_every_golden_case_fails_to_compile() -> None:
    assert len(CASES) > 50
    for case in CASES:
        assert not rendered(case).startswith("(compiles"), case.name


def test_no_stale_expected_files() -> None:
    flows = {c.stem for c in CASES}
    stale = [p.name for p in GOLDEN.glob("*.expected") if p.stem not in flows]
    assert not stale


# Words a message may contain in capitals; anything else in capitals is a leaked token name.
ALLOWED_CAPS = {"JSON", "UTF", "NaN"}
PROPER_NOUNS = {"BigInt"}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_messages_are_one_clear_sentence(case: Path) -> None:
    source = case.read_bytes().decode("utf-8")
    with pytest.raises(CompileError) as info:
        compile_source(source, case.name)
    for d in info.value.diagnostics:
        msg = d.message
        assert "\n" not in msg and msg == msg.strip()
        assert not msg.endswith("."), msg
        assert msg[0].islower() or msg[0] in "'\"" or msg.split()[0] in PROPER_NOUNS, msg
        assert "$END" not in msg and "Token(" not in msg
        for word in re.findall(r"\b[A-Z_]{3,}\b", re.sub(r"'[^']*'", "", msg)):
            assert word in ALLOWED_CAPS or word.startswith("U+"), f"token name {word!r} leaked into: {msg}"
        assert d.line >= 1 and d.col >= 1 and d.width >= 1
        assert d.path == case.name


# -- the unsupported constructs, each with its own message --------------------------

UNSUPPORTED = [
    ("let f = (x) => await x", "'await' can only be used inside an async function, and this arrow function is not one"),
    ("function f(x) { return await x }", "'await' can only be used inside an async function, and this function is not"),
    ("let f = async (a = await 1) => a", "'await' cannot be used in a parameter's default value"),
    ("if (1) function f() {}", "a function declaration cannot be the whole body of an if"),
    ("let o = { get x() { return 1 } }", "getters and setters are not supported in workflows"),
    ("let o = { *g() {} }", "generator methods are not supported in workflows"),
    ("let p = new Promise()", "'new Promise' takes 1 argument"),
    ("setTimeout(() => 1, 1000)", "'setTimeout' is not available in workflows"),
    ("class A {}", "classes are not supported in workflows"),
    ("let m = new WeakMap()", "'new WeakMap' is not supported in workflows"),
    ("let m = new Foo(1)", "'new Foo' is not supported in workflows"),
    ("import x from 'y'", "imports are not supported in workflows"),
    ("export const x = 1", "exports are not supported in workflows"),
    ("eval('1')", "'eval' is not supported in workflows"),
    ("let x = eval('1')", "'eval' is not supported in workflows"),
    ("let r = /(?i:a)/", "a group with flag modifiers (?i:…), which Rhythm cannot match exactly"),
    ("let r = /a/v", "the regular expression flag 'v' is not supported in workflows"),
    ("function* g() {}", "generator functions are not supported in workflows"),
    ("yield 1", "generators are not supported in workflows"),
    ("with (Inputs) {}", "'with' is not supported in workflows"),
    ("let x = this", "'this' is not supported in workflows"),
    ("const C = Object.freeze({ a: 1 })", "'Object.freeze' is not supported in workflows: a workflow cannot make an"),
    ("let x = Math.log(2)", "'Math.log' is not supported in workflows: its last digit differs between machines'"),
    ("let x = Object.groupBy([], v => v)", "group with reduce, as in items.reduce("),
    ("function TypeError(m) { return m }", "'TypeError' is the name of a built-in error constructor; choose another"),
    ("const make = RangeError", "'RangeError' can only be called in workflows, as new RangeError(message) or"),
    ("let x = arguments", "'arguments' is not supported in workflows"),
    ("let x = 10n", "BigInt literals are not supported in workflows"),
    ("let x = void 0", "'void' is not supported in workflows"),
    ("debugger", "'debugger' is not supported in workflows"),
    ("class A extends B {}", "classes are not supported in workflows"),
]


@pytest.mark.parametrize("source,needle", UNSUPPORTED, ids=[s for s, _ in UNSUPPORTED])
def test_unsupported_construct_says_so(source: str, needle: str) -> None:
    err = diagnose(source)
    assert needle in err.diagnostics[0].message, str(err)
    assert "unexpected" not in err.diagnostics[0].message


def test_unsupported_messages_say_what_to_do_instead() -> None:
    from rhythm_compiler.syntax_errors import UNSUPPORTED as MESSAGES

    for word, message in MESSAGES.items():
        assert "not supported in workflows" in message, word
        assert ";" in message, f"{word}: say what to do instead"


# -- specific syntax errors -------------------------------------------------------------


def test_unclosed_brace_points_at_the_opener() -> None:
    err = diagnose("let a = 1\nif (a) {\n  a = 2\n")
    (d,) = err.diagnostics
    assert (d.line, d.col) == (2, 8)
    assert d.message == "this '{' is never closed: expected a matching '}' before the end of the file"


def test_missing_paren_names_the_open_paren() -> None:
    (d,) = diagnose("let x = Math.floor(3\nreturn x\n").diagnostics
    assert (d.line, d.col) == (2, 1)
    assert "')'" in d.message and "line 1" in d.message and "'return'" in d.message


def test_let_without_a_name() -> None:
    (d,) = diagnose("let = 5").diagnostics
    assert d.message == "expected a variable name after 'let', found '='"


def test_stray_closers() -> None:
    assert diagnose("let x = 1)").diagnostics[0].message == "this ')' has no matching '('"
    assert diagnose("let x = 1\n]").diagnostics[0].message == "this ']' has no matching '['"
    assert diagnose("}").diagnostics[0].message == "this '}' has no matching '{'"
    msg = diagnose("let x = [1, 2)").diagnostics[0].message
    assert "does not match the '['" in msg


def test_eof_inside_expression() -> None:
    (d,) = diagnose("let x = 1 +").diagnostics
    assert d.message == "expected an expression, found the end of the file"
    assert (d.line, d.col) == (1, 12)


def test_reserved_words_as_names() -> None:
    for word in ("if", "default", "class", "return", "of", "var"):
        msg = diagnose(f"let {word} = 1").diagnostics[0].message
        assert f"'{word}' is a reserved word" in msg


def test_two_statements_on_one_line_need_a_semicolon() -> None:
    assert diagnose("let a = 1 let b = 2").diagnostics[0].message == "expected ';' or a line break before this statement"
    assert diagnose("let a = 1\nif (a) a = 2 else a = 3").diagnostics[0].message == "expected ';' or a line break before 'else'"
    compile_source("let a = 1; let b = 2\nif (a) a = 2; else a = 3\nif (a) { a = 1 } let c = 3")


def test_syntax_errors_after_the_first_are_reported_when_safe() -> None:
    err = diagnose("let = 1\nlet ok = 2\nlet b = (3 +)\nlet c = ok\nif c) {\n}\n")
    assert [d.line for d in err.diagnostics] == [1, 3, 5]


def test_no_second_error_after_an_unclosed_bracket() -> None:
    err = diagnose("let a = foo(1\nlet b = 2\nlet = 3\n")
    assert len(err.diagnostics) == 1


def test_unclosed_comment_or_template_stop_at_the_first_error() -> None:
    assert len(diagnose("let = 1\n/* never closed\nlet = 2\n").diagnostics) == 1
    assert len(diagnose("let x = `abc\nlet = 2\n").diagnostics) == 1


def test_constructs_rejected_after_parsing_are_all_reported_with_the_checks() -> None:
    err = diagnose("let m = new WeakMap()\nlet s = new WeakSet()\nlet x = undeclared\nlet a = 1 let b = 2\n")
    assert [d.line for d in err.diagnostics] == [1, 2, 3, 4]


def test_async_is_a_name_unless_it_starts_a_function() -> None:
    result = compile_source("let async = 1\nreturn async + 1")
    assert result.code


def test_unicode_identifiers_and_whitespace() -> None:
    compile_source("let café = 1\nlet π\u2003= 3\nreturn café + π")
    msg = diagnose("let x = 1 § 2").diagnostics[0].message
    assert msg.startswith("unexpected character '§' (U+00A7)")


def test_too_deep_nesting_is_a_diagnostic() -> None:
    for source in ("let x = " + "(" * 400 + "1" + ")" * 400,
                   "let x = " + "-" * 2000 + "1",
                   "let a = 1\nlet x = " + "+".join(["a"] * 3000),
                   "if (true) {" * 300 + "}" * 300):
        err = diagnose(source)
        assert "nested" in err.diagnostics[0].message


# -- the checker ------------------------------------------------------------------------


def test_every_independent_check_error_in_one_run() -> None:
    err = diagnose("const a = 1\na = 2\nlet b = c\nbreak\nlet d = 1\nlet d = 2\nMath.flor(1)\nMath.floor()\n")
    assert [d.line for d in err.diagnostics] == [2, 3, 4, 6, 7, 8]


def test_did_you_mean() -> None:
    assert "(did you mean 'count'?)" in diagnose("let count = 1\nreturn cont").diagnostics[0].message
    assert "(did you mean 'Task.run'?)" in diagnose("await Task.rn('a')").diagnostics[0].message
    assert "(did you mean 'outer'?)" in diagnose("outer: while (true) { break outr }").diagnostics[0].message
    assert "(did you mean" not in diagnose("return zzzqqq").diagnostics[0].message


def test_unknown_member_of_small_namespace_lists_members() -> None:
    msg = diagnose("await Timer.sleep(1)").diagnostics[0].message
    assert msg == "'Timer.sleep' is not a function (Timer has delay)"


def test_plain_read_of_unknown_member_is_undefined() -> None:
    compile_source("let x = Math.nothingLikeIt\nreturn x")


def test_arity_messages() -> None:
    assert diagnose("Math.floor()").diagnostics[0].message == "'Math.floor' takes 1 argument, but 0 were given"
    assert diagnose("Task.run('a', 1, {}, 2)").diagnostics[0].message == "'Task.run' takes 1 to 3 arguments, but 4 were given"
    assert diagnose("Object.assign()").diagnostics[0].message == "'Object.assign' takes at least 1 argument, but 0 were given"
    assert diagnose("Math.random(1)").diagnostics[0].message == "'Math.random' takes 0 arguments, but 1 was given"


# -- rendering ----------------------------------------------------------------------------


def test_render_shape() -> None:
    d = Diagnostic(2, 9, "'Task.rn' is not a function (did you mean 'Task.run'?)", 7, "w.flow")
    text = render(d, "let a = 1\nlet r = Task.rn('x')\n")
    assert text.splitlines() == [
        "w.flow:2:9: error: 'Task.rn' is not a function (did you mean 'Task.run'?)",
        " 2 | let r = Task.rn('x')",
        "   |         ^^^^^^^",
    ]


def test_render_keeps_tabs_and_widens_for_wide_characters() -> None:
    lines = render(Diagnostic(1, 3, "m", 1), "\t\tx").splitlines()
    assert lines[2] == "   | \t\t^"
    lines = render(Diagnostic(1, 3, "m", 1), "名前x").splitlines()
    assert lines[2] == "   |     ^"


def test_render_hides_control_characters() -> None:
    text = render(Diagnostic(1, 3, "m", 1), "a\x00b\u2028c\rd\n")
    assert "\x00" not in text and "\u2028" not in text and "\r" not in text


def test_render_crlf_and_lf_numbering_agree() -> None:
    err = diagnose("let a = 1\r\nlet b = zz\r\n")
    assert err.diagnostics[0].line == 2
    assert str(err).splitlines()[1] == " 2 | let b = zz"


def test_colour_only_when_asked() -> None:
    err = diagnose("return zzz")
    assert "\x1b[" not in str(err)
    coloured = render_all(err.diagnostics, err.source, color=True)
    assert "\x1b[31m" in coloured and "\x1b[1m" in coloured


def test_caret_past_end_of_line() -> None:
    lines = render(Diagnostic(1, 4, "m", 1), "abc").splitlines()
    assert lines[2] == "   |    ^"


def test_diagnostics_are_sorted_and_stable() -> None:
    source = (GOLDEN / "check_many_errors.flow").read_text()
    first = str(diagnose(source))
    assert first == str(diagnose(source))
    lines = [(d.line, d.col) for d in diagnose(source).diagnostics]
    assert lines == sorted(lines)


# -- what JavaScript developers type, answered with what to write instead (issue 10) ---------------------


@pytest.mark.parametrize("source, needle", [
    ("await sleep(1000)\n", "'sleep' is not declared; to wait, use await Timer.delay(seconds), e.g. "
                            "await Timer.delay(\"5m\")"),
    ("throw new AggregateError([], 'bad')\n", "throw new Error(message) instead, with the errors in a property of it"),
    ("function f(xs) { for await (const x of xs) {} }\n", "'await' can only be used inside an async function, "
                                                          "and this function is not one"),
    ("for await (const k in {}) {}\n", "expected 'of', found 'in'"),
], ids=["sleep", "new AggregateError", "for await outside async", "for await in"])
def test_hints_for_what_javascript_developers_type(source: str, needle: str) -> None:
    [diag] = diagnose(source).diagnostics
    assert needle in diag.message


def test_a_long_literal_delay_warns_but_compiles_to_the_same_module() -> None:
    source = "await Timer.delay(5000)\nawait Timer.delay(999)\nawait Timer.delay(Inputs.n * 1000)\n"
    compiled = compile_source(source, "t.flow")
    [warning] = compiled.warnings
    assert warning.headline() == 't.flow:1:19: warning: Timer.delay takes seconds: this waits 5000 seconds; ' \
                                 'did you mean "5s"?'
    assert compiled.code == compile_source(source, "t.flow").code and "warning" not in compiled.code


def test_front_matter_between_dashed_lines_as_markdown_writes_it() -> None:
    dashed = compile_source("---\ntitle: approvals\nowner: ops\n---\nreturn 1\n", "t.flow")
    fenced = compile_source("```\ntitle: approvals\nowner: ops\n```\nreturn 1\n", "t.flow")
    assert 'FRONT_MATTER = "title: approvals\\nowner: ops\\n"' in dashed.code
    assert dashed.code.split("FRONT_MATTER")[1] == fenced.code.split("FRONT_MATTER")[1]
