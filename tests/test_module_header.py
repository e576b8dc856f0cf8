"""The generated module's header: enough for `rhythm compile` to know a module is current without compiling."""

from __future__ import annotations

from rhythm_compiler import compile_source
from rhythm_compiler.header import is_current

SOURCE = 'const r = await Task.run("charge", Inputs.amount)\nreturn r\n'


def test_a_fresh_module_is_current() -> None:
    code = compile_source(SOURCE, "workflows/pay.flow").code
    assert code.splitlines()[3].startswith("# module sha256: ")
    assert is_current(code, SOURCE, "pay.flow")


def test_another_source_or_file_name_is_not_current() -> None:
    code = compile_source(SOURCE, "workflows/pay.flow").code
    assert not is_current(code, SOURCE + "\n", "pay.flow")
    assert not is_current(code, SOURCE, "refund.flow")


def test_any_edit_of_the_module_is_caught_by_its_own_hash() -> None:
    code = compile_source(SOURCE, "workflows/pay.flow").code
    for edited in (code.replace('"charge"', '"refund"'), code + "\n", code.replace("# workflow: pay", "# workflow: x"),
                   code[:-1]):
        assert edited != code
        assert not is_current(edited, SOURCE, "pay.flow")


def test_a_truncated_or_foreign_module_is_not_current() -> None:
    assert not is_current("", SOURCE, "pay.flow")
    assert not is_current("print('hello')\n", SOURCE, "pay.flow")
    assert not is_current("\n".join(compile_source(SOURCE, "pay.flow").code.split("\n")[:4]), SOURCE, "pay.flow")


def test_a_module_from_another_compiler_build_is_not_current() -> None:
    """An upgrade, or any change to the compiler's code, grammar or template, makes every module stale."""
    from rhythm_compiler.header import build

    code = compile_source(SOURCE, "workflows/pay.flow").code
    assert f"build {build()})" in code.splitlines()[1]
    older = code.replace(f"build {build()}", "build 000000000000")
    assert not is_current(older, SOURCE, "pay.flow")
