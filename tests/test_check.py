"""`rhythm check`: a workflow's task and workflow names held against the app's, statically."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional, TypedDict

import pytest

from rhythm_compiler.parse import parse
from rhythm_compiler.references import references
from rhythm_runtime.api.tasks import TaskSpec
from rhythm_runtime.editor.app_names import AppNames, TaskInfo, configured_app
from rhythm_runtime.editor.findings import findings

ROOT = Path(__file__).resolve().parent.parent


class Email(TypedDict):
    to: str
    template: str


def send_email(payload: Email) -> dict:
    """Send one e-mail."""
    return {}


def count(n: int) -> int:
    return n


def maybe_text(value: Optional[str]) -> None:
    return None


def untyped(payload):
    return payload


NAMES = AppNames({spec.name: TaskInfo.of(spec) for spec in (
    TaskSpec("send-email", send_email), TaskSpec("count", count), TaskSpec("maybe", maybe_text),
    TaskSpec("any", untyped))}, {"child": Path("child.flow")})


def headlines(source: str, names: AppNames = NAMES) -> list[str]:
    return [d.headline() for d in findings(textwrap.dedent(source), "w.flow", names)]


def test_references_find_every_call_site_with_its_span() -> None:
    program = parse('const a = await Task.run("x", 1)\nawait Signal.next(`go`)\nawait Workflow.run(name, {})\n', "w.flow")
    found = [(r.kind, r.name, r.span.line, r.span.col) for r in references(program)]
    assert found == [("task", "x", 1, 26), ("signal", "go", 2, 19), ("workflow", None, 3, 20)]


def test_unknown_task_is_an_error_with_a_suggestion() -> None:
    assert headlines('await Task.run("send-emial", {to: "a", template: "t"})') == [
        "w.flow:1:16: error: unknown task 'send-emial': no @task of the app has this name (did you mean 'send-email'?)"]


def test_unknown_task_without_a_close_match_lists_the_tasks() -> None:
    (line,) = headlines('await Task.run("zzz")')
    assert line.endswith("(the app's tasks: any, count, maybe, send-email)")


def test_unknown_workflow_is_an_error() -> None:
    assert headlines('await Workflow.run("chld")') == [
        "w.flow:1:20: error: unknown workflow 'chld': no .flow file of the app has this name (did you mean 'child'?)"]


def test_names_built_at_run_time_are_notes() -> None:
    assert headlines('const k = "a"\nawait Task.run(k + "-v2")\nawait Workflow.run(`${k}`)') == [
        "w.flow:2:16: note: the task name is computed at run time, so it cannot be checked",
        "w.flow:3:20: note: the workflow name is computed at run time, so it cannot be checked"]


@pytest.mark.parametrize("call, problem", [
    ('Task.run("send-email", {to: "a"})', "expects the key 'template' (Email)"),
    ('Task.run("send-email", {to: "a", template: "t", cc: 1})', "has no key 'cc' in Email"),
    ('Task.run("send-email", [1])', "expects an object but is given an array"),
    ('Task.run("count", "3")', "expects a number but is given a string"),
    ('Task.run("count")', "expects a number but is given no payload (undefined)"),
    ('Task.run("maybe", 1)', "expects a string or null but is given a number"),
])
def test_a_literal_payload_the_type_hints_contradict_is_a_warning(call: str, problem: str) -> None:
    (line,) = headlines(f"await {call}")
    assert ": warning: the payload of task " in line and line.endswith(problem)


@pytest.mark.parametrize("call", [
    'Task.run("send-email", {to: "a", template: "t"})', 'Task.run("send-email", {...Inputs})',
    'Task.run("count", 2)', 'Task.run("count", Inputs.n)', 'Task.run("maybe", null)', 'Task.run("maybe")',
    'Task.run("any", [1, 2])',
])
def test_payloads_that_may_match_are_fine(call: str) -> None:
    assert headlines(f"await {call}") == []


def test_without_an_app_only_workflow_names_and_compile_errors_are_checked() -> None:
    assert headlines('await Task.run("anything")\nlet = 2', AppNames()) == [
        "w.flow:2:5: error: expected a variable name after 'let', found '='"]


def test_the_app_comes_from_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.rhythm]\napp = "svc.app:app"\n')
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert configured_app(tmp_path / "a" / "b") == ("svc.app:app", tmp_path)
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert configured_app(tmp_path / "a" / "b") is None


def _project(tmp_path: Path) -> Path:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("")
    (tmp_path / "svc" / "app.py").write_text(textwrap.dedent('''
        from rhythm import RhythmApp, task

        @task("send-email")
        def send_email(payload: dict) -> dict:
            return {}

        app = RhythmApp("workflows")
    '''))
    (tmp_path / "pyproject.toml").write_text('[tool.rhythm]\napp = "svc.app:app"\n')
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "child.flow").write_text("return 1\n")
    return tmp_path


def rhythm(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rhythm_runtime.cli", "check", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_reports_errors_with_a_caret_and_exits_1_from_a_subfolder(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "workflows" / "main.flow").write_text('await Task.run("send-emial", {})\nawait Workflow.run("child")\n')
    (project / "docs").mkdir()
    done = rhythm(project / "docs")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines()[:3] == [
        "../workflows/main.flow:1:16: error: unknown task 'send-emial': no @task of the app has this name "
        "(did you mean 'send-email'?)",
        ' 1 | await Task.run("send-emial", {})',
        "   |                ^^^^^^^^^^^^"]
    assert done.stderr.splitlines()[-1] == "checked 2 workflows against the app: 1 error"


def test_cli_passes_a_clean_project_and_reports_compile_errors(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "workflows" / "main.flow").write_text('await Task.run("send-email", {})\n')
    assert rhythm(project).returncode == 0
    (project / "workflows" / "broken.flow").write_text("let = 1\n")
    done = rhythm(project, "workflows/broken.flow")
    assert done.returncode == 1
    assert "workflows/broken.flow:1:5: error: expected a variable name after 'let'" in done.stderr


def test_cli_without_an_app_warns_and_still_checks(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "w.flow").write_text('await Task.run("x")\n')
    done = rhythm(tmp_path)
    assert done.returncode == 0
    assert "warning: no app given" in done.stderr
    assert done.stderr.splitlines()[-1] == "checked 1 workflow without an app: no problems"


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert rhythm(tmp_path, "--app", "nope.module:app").returncode == 2
    assert rhythm(tmp_path, "missing.flow", "--app", "x:y").returncode == 2


def test_the_examples_pass_against_the_demo_app() -> None:
    done = rhythm(ROOT / "examples", "--app", "demo_app:app")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "checked 6 workflows against the app: no problems"
