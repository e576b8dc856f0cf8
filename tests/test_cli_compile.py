"""`rhythm compile`: Black's conventions, checked from the outside.

Data (diffs) on stdout, messages on stderr; exit 0 ok, 1 compile errors or
stale modules with --check, 2 usage errors, 123 internal compiler errors.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import rhythm_runtime.cli.compile as compile_cli
from rhythm_runtime.cli.main import main
from rhythm_compiler import CompilerBug, compile_source

RHYTHM = Path(sys.executable).with_name("rhythm")

GOOD_A = 'let r = await Task.run("charge", Inputs.amount)\nreturn r\n'
GOOD_B = "let total = 0\nfor (const x of [1, 2, 3]) {\n  total += x\n}\nreturn total\n"
BAD = 'let count = 1\nlet r = await Task.rn("charge", cont)\n'


def invoke(*args: str):
    return CliRunner().invoke(main, ["compile", *args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    wf = tmp_path / "workflows"
    wf.mkdir()
    (wf / "a.flow").write_text(GOOD_A)
    (wf / "b.flow").write_text(GOOD_B)
    return tmp_path


def modules(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.py"))}


def test_compile_writes_modules_and_a_summary(project: Path) -> None:
    wf = project / "workflows"
    result = invoke(str(wf))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == "compiled 2 workflows, 2 written, 0 unchanged"
    written = modules(wf / "compiled")
    assert set(written) == {"a.py", "b.py"}
    assert written["a.py"].decode() == compile_source(GOOD_A, str(wf / "a.flow")).code


def test_second_run_writes_nothing(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    before = {p: p.stat().st_mtime_ns for p in (wf / "compiled").glob("*.py")}
    result = invoke(str(wf))
    assert result.exit_code == 0
    assert result.stderr.strip().endswith("compiled 2 workflows, 0 written, 2 unchanged")
    assert before == {p: p.stat().st_mtime_ns for p in (wf / "compiled").glob("*.py")}


def test_single_file_argument(project: Path) -> None:
    result = invoke(str(project / "workflows" / "a.flow"))
    assert result.exit_code == 0
    assert "compiled 1 workflow, 1 written" in result.stderr
    assert set(modules(project / "workflows" / "compiled")) == {"a.py"}


def test_default_path_is_workflows_in_the_current_directory(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    result = invoke()
    assert result.exit_code == 0, result.stderr
    assert set(modules(project / "workflows" / "compiled")) == {"a.py", "b.py"}


def test_out_dir(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated" / "mods"
    result = invoke(str(project / "workflows"), "--out", str(out))
    assert result.exit_code == 0
    assert set(modules(out)) == {"a.py", "b.py"}
    assert not (project / "workflows" / "compiled").exists()


def test_out_dir_name_collision_is_an_error(tmp_path: Path) -> None:
    for d in ("one", "two"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.flow").write_text("return 1\n")
    result = invoke(str(tmp_path / "one"), str(tmp_path / "two"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "another workflow is also named 'same'" in result.stderr


# -- --check and --diff ------------------------------------------------------------------


def test_check_on_fresh_modules_exits_0(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    result = invoke(str(wf), "--check")
    assert result.exit_code == 0
    assert "0 would change" in result.stderr


def test_check_lists_stale_and_missing_modules_without_writing(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    (wf / "a.flow").write_text(GOOD_A.replace("charge", "refund"))
    (wf / "compiled" / "b.py").unlink()
    before = modules(wf / "compiled")
    result = invoke(str(wf), "--check")
    assert result.exit_code == 1
    assert f"stale: {wf / 'compiled' / 'a.py'} (from {wf / 'a.flow'})" in result.stderr
    assert f"missing: {wf / 'compiled' / 'b.py'} (from {wf / 'b.flow'})" in result.stderr
    assert "2 would change" in result.stderr
    assert modules(wf / "compiled") == before
    assert result.stdout == ""


def test_diff_prints_a_unified_diff_on_stdout_without_writing(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    (wf / "a.flow").write_text(GOOD_A.replace("charge", "refund"))
    before = modules(wf / "compiled")
    result = invoke(str(wf), "--diff")
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    assert out[0] == f"--- {wf / 'compiled' / 'a.py'} (current)"
    assert out[1] == f"+++ {wf / 'compiled' / 'a.py'} (compiled)"
    assert any(line.startswith("@@") for line in out)
    assert any(line.startswith("-") and "charge" in line for line in out[2:])
    assert any(line.startswith("+") and "refund" in line for line in out[2:])
    assert modules(wf / "compiled") == before
    assert "1 would change" in result.stderr


def test_diff_of_a_missing_module_is_against_dev_null(project: Path) -> None:
    result = invoke(str(project / "workflows" / "b.flow"), "--diff")
    assert result.stdout.startswith("--- /dev/null\n")
    assert not (project / "workflows" / "compiled").exists()


def test_check_and_diff_together(project: Path) -> None:
    result = invoke(str(project / "workflows"), "--check", "--diff")
    assert result.exit_code == 1
    assert result.stdout.count("+++ ") == 2
    assert result.stderr.count("missing: ") == 2


# -- current modules are recognised from their header, not compiled again ---------------------


def refuse_to_compile(monkeypatch) -> None:
    def refuse(source, path, *a, **k):
        raise AssertionError(f"{path} was compiled although its module is current")

    monkeypatch.setattr(compile_cli, "compile_source", refuse)


def test_check_of_current_modules_compiles_nothing(project: Path, monkeypatch) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    refuse_to_compile(monkeypatch)
    result = invoke(str(wf), "--check")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith("compiled 2 workflows, 0 would change, 2 unchanged")


def test_a_hand_edited_module_is_stale(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    module = wf / "compiled" / "a.py"
    edited = module.read_text().replace('"charge"', '"refund"')
    assert edited != module.read_text()
    module.write_text(edited)
    result = invoke(str(wf), "--check")
    assert result.exit_code == 1
    assert f"stale: {module} (from {wf / 'a.flow'})" in result.stderr
    assert invoke(str(wf)).exit_code == 0
    assert module.read_text() == compile_source(GOOD_A, str(wf / "a.flow")).code


def test_a_module_with_another_header_is_compiled_again(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    module = wf / "compiled" / "b.py"
    fresh = module.read_text()
    for line in (1, 2, 3):  # compiler and code shape, source hash, module hash
        lines = fresh.split("\n")
        lines[line] = lines[line][:-1] + ("0" if lines[line][-1] != "0" else "1")
        module.write_text("\n".join(lines))
        assert invoke(str(wf), "--check").exit_code == 1, line
    module.write_text(fresh)
    (wf / "b.flow").write_text(GOOD_B + "// a comment changes the source hash\n")
    assert invoke(str(wf), "--check").exit_code == 1


def test_many_files_compile_in_parallel_in_order(tmp_path: Path) -> None:
    wf = tmp_path / "workflows"
    wf.mkdir()
    for i in range(6):
        (wf / f"w{i}.flow").write_text(GOOD_A.replace("charge", f"charge-{i}") if i != 3 else BAD)
    result = invoke(str(wf))
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 2 and f"{wf / 'w3.flow'}:2:15: error:" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "compiled 5 workflows, 5 written, 0 unchanged, 1 failed with 2 errors"
    for i in (0, 1, 2, 4, 5):
        code = (wf / "compiled" / f"w{i}.py").read_text()
        assert code == compile_source((wf / f"w{i}.flow").read_text(), str(wf / f"w{i}.flow")).code


# -- compile errors -----------------------------------------------------------------------


def test_compile_errors_go_to_stderr_and_other_files_still_compile(project: Path) -> None:
    wf = project / "workflows"
    (wf / "bad.flow").write_text(BAD)
    result = invoke(str(wf))
    assert result.exit_code == 1
    assert result.stdout == ""
    err = result.stderr
    path = wf / "bad.flow"
    assert f"{path}:2:15: error: 'Task.rn' is not a function (did you mean 'Task.run'?)" in err
    assert f"{path}:2:33: error: 'cont' is not declared (did you mean 'count'?)" in err
    assert ' 2 | let r = await Task.rn("charge", cont)' in err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "compiled 2 workflows, 2 written, 0 unchanged, 1 failed with 2 errors"
    assert set(modules(wf / "compiled")) == {"a.py", "b.py"}


def test_syntax_error_exit_1(tmp_path: Path) -> None:
    (tmp_path / "s.flow").write_text("let x = (1 + 2\n")
    result = invoke(str(tmp_path / "s.flow"))
    assert result.exit_code == 1
    assert f"{tmp_path / 's.flow'}:1:9: error: this '(' is never closed" in result.stderr


def test_invalid_utf8_is_a_compile_error(tmp_path: Path) -> None:
    (tmp_path / "latin.flow").write_bytes(b"// menu\nlet s = 'caf\xe9'\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'latin.flow'}:2:13: error: the file is not valid UTF-8" in result.stderr
    assert "2 | let s = 'caf\ufffd'\n   |             ^" in result.stderr  # the caret under the bad byte


def test_check_with_compile_errors_exits_1(project: Path) -> None:
    wf = project / "workflows"
    invoke(str(wf))
    (wf / "bad.flow").write_text(BAD)
    result = invoke(str(wf), "--check")
    assert result.exit_code == 1
    assert "1 failed with 2 errors" in result.stderr


def test_quiet_prints_only_errors(project: Path) -> None:
    wf = project / "workflows"
    assert invoke(str(wf), "-q").stderr == ""
    (wf / "bad.flow").write_text(BAD)
    result = invoke(str(wf), "--quiet")
    assert "error:" in result.stderr and "compiled" not in result.stderr


# -- usage errors ---------------------------------------------------------------------------


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such .flow file or directory" in result.stderr
    assert not any(tmp_path.iterdir())


def test_no_workflows_directory_is_a_usage_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke().exit_code == 2


def test_non_flow_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "x.js").write_text("1")
    assert invoke(str(tmp_path / "x.js")).exit_code == 2


def test_unknown_option_is_a_usage_error(project: Path) -> None:
    assert invoke(str(project), "--frobnicate").exit_code == 2


# -- internal errors -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _bug_reports_in_tmp_path(tmp_path: Path, monkeypatch) -> None:
    """The bug reports of the internal-error tests go to the test's own directory, not the machine's /tmp."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again


def test_internal_error_exits_123_without_traceback(project: Path, monkeypatch) -> None:
    real = compile_cli.compile_source

    def broken(source, path, *a, **k):
        if path.endswith("a.flow"):
            raise KeyError("lowering lost its way")
        return real(source, path, *a, **k)

    monkeypatch.setattr(compile_cli, "compile_source", broken)
    result = invoke(str(project / "workflows"))
    assert result.exit_code == 123
    assert "internal compiler error: KeyError" in result.stderr
    assert "please report this bug" in result.stderr
    assert "Traceback" not in result.stderr
    assert set(modules(project / "workflows" / "compiled")) == {"b.py"}  # the others still compile


def test_compiler_bug_exits_123(project: Path, monkeypatch) -> None:
    def bug(*a, **k):
        raise CompilerBug("internal compiler error: the generated module does not compile")

    monkeypatch.setattr(compile_cli, "compile_source", bug)
    result = invoke(str(project / "workflows"))
    assert result.exit_code == 123
    assert "the generated module does not compile" in result.stderr


def test_internal_error_wins_over_compile_errors(project: Path, monkeypatch) -> None:
    (project / "workflows" / "bad.flow").write_text(BAD)
    real = compile_cli.compile_source

    def broken(source, path, *a, **k):
        if path.endswith("a.flow"):
            raise RecursionError()
        return real(source, path, *a, **k)

    monkeypatch.setattr(compile_cli, "compile_source", broken)
    assert invoke(str(project / "workflows")).exit_code == 123


# -- determinism and the real executable -------------------------------------------------------


def run_rhythm(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(RHYTHM), "compile", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_output_is_byte_for_byte_deterministic_across_processes(project: Path, tmp_path: Path) -> None:
    wf = project / "workflows"
    (wf / "c.flow").write_text((Path(__file__).parent / "golden" / "modules" / "kitchen_sink.flow").read_text())
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        proc = run_rhythm(str(wf), "--out", str(out), env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        outs.append(modules(out))
    assert outs[0] == outs[1]
    assert len(outs[0]) == 3


def test_executable_exit_codes(project: Path, tmp_path: Path) -> None:
    assert run_rhythm(str(project / "workflows")).returncode == 0
    assert run_rhythm(str(tmp_path / "missing")).returncode == 2
    (project / "workflows" / "bad.flow").write_text(BAD)
    proc = run_rhythm(str(project / "workflows"))
    assert proc.returncode == 1
    assert "\x1b[" not in proc.stderr  # not a terminal: no colour


def _stderr_on_a_terminal(args: list[str], env: dict) -> str:
    """Run `rhythm compile` with stderr on a pseudo-terminal; return what it printed there."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([str(RHYTHM), "compile", *args], stdout=subprocess.DEVNULL, stderr=slave,
                              env=env, timeout=120)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            data = os.read(master, 65536)  # EIO once the terminal is drained
            if not data:
                break
            chunks.append(data)
    except OSError:
        pass
    finally:
        os.close(master)
    assert proc.returncode == 1
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_only(project: Path) -> None:
    (project / "workflows" / "bad.flow").write_text(BAD)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _stderr_on_a_terminal([str(project / "workflows")], env)
    assert "\x1b[31m" in coloured and "error:" in coloured
    plain = _stderr_on_a_terminal([str(project / "workflows")], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain and "error:" in plain


def test_committed_modules_are_what_the_compiler_writes_today() -> None:
    """`--check` trusts a current header, so the repository's own modules are compared in full here: a compiler
    change that alters the output without bumping the code shape fails this test rather than passing CI."""
    root = Path(__file__).resolve().parents[1]
    flows = [f for d in ("examples", "bench/workflows", "tests/chaos/workflows") for f in compile_cli.find_flows((str(root / d),))]
    assert len(flows) >= 9
    for flow in flows:
        module = compile_cli.module_path(flow, None)
        assert module.read_text(encoding="utf-8") == compile_source(flow.read_text(encoding="utf-8"), str(flow)).code, module
