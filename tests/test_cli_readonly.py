"""Commands that only read never create a database, and `rhythm status` prints JSON.

Run outside a project (no ``RHYTHM_DATABASE_URL``, no ``.rhythm/``),
`inspect`, `graph`, `status`, `list` and `dashboard` fail at once with one
line instead of initialising and starting an empty embedded Postgres. No
test here starts a server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rhythm_runtime.cli import runs as runs_cli
from rhythm_runtime.cli.main import main as rhythm_main
from rhythm_runtime.storage import embedded
from rhythm_runtime.storage.settings import ENV_DATABASE_URL, Settings

RHYTHM = Path(sys.executable).with_name("rhythm")


def rhythm(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (ENV_DATABASE_URL, "RHYTHM_DASHBOARD_TOKEN")}
    return subprocess.run([str(RHYTHM), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [
    ["inspect", "abc123"],
    ["graph", "bools"],
    ["graph", "bools", "--run", "abc123"],
    ["status", "abc123"],
    ["list"],
    ["dashboard", "--port", "0"],
], ids=" ".join)
def test_a_read_only_command_outside_a_project_fails_at_once_and_creates_nothing(tmp_path, args):
    proc = rhythm(tmp_path, *args)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (f"error: no Rhythm project in {tmp_path.resolve()} or any directory above it (looked "
                           f"for a pyproject.toml with a [tool.rhythm] table, a .rhythm/ or a workflows/ "
                           f"directory): run this in your project, or set {ENV_DATABASE_URL}\n")
    assert not (tmp_path / ".rhythm").exists()


@pytest.mark.parametrize("args", [["inspect", "abc123"], ["list"], ["status", "abc123"]], ids=" ".join)
def test_a_read_only_command_in_a_project_without_a_server_says_so_and_creates_nothing(tmp_path, args):
    (tmp_path / "workflows" / "deep").mkdir(parents=True)
    proc = rhythm(tmp_path / "workflows" / "deep", *args)  # from a subdirectory: the project is found above
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: no Rhythm database here: {tmp_path.resolve()} has no embedded Postgres")
    assert not (tmp_path / ".rhythm").exists() and not (tmp_path / "workflows" / "deep" / ".rhythm").exists()


@pytest.mark.parametrize("args", [["db", "url"], ["start", "x"], ["register"], ["db", "migrate"]], ids=" ".join)
def test_no_command_starts_a_server_outside_a_project(tmp_path, args):
    proc = rhythm(tmp_path, *args)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: no Rhythm project in {tmp_path.resolve()} or any directory above it")
    assert not (tmp_path / ".rhythm").exists()


def test_the_project_is_the_nearest_marked_directory_above(tmp_path):
    from rhythm_runtime.storage.settings import find_project

    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_project(deep) is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_project(deep) is None  # a pyproject.toml without [tool.rhythm] is not a Rhythm project
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.rhythm]\n")
    assert find_project(deep) == tmp_path.resolve()
    (tmp_path / "a" / "workflows").mkdir()
    assert find_project(deep) == tmp_path.resolve() / "a"
    (tmp_path / "a" / "b" / ".rhythm").mkdir()
    assert find_project(deep) == tmp_path.resolve() / "a" / "b"
    assert Settings.load().project_dir == find_project()  # Settings finds it from the current directory


def test_rhythm_app_resolves_its_workflows_against_its_project_not_the_current_directory(tmp_path, monkeypatch):
    import importlib.util

    (tmp_path / "svc" / "workflows").mkdir(parents=True)
    (tmp_path / "svc" / "app").mkdir()
    main = tmp_path / "svc" / "app" / "main.py"
    main.write_text("from rhythm import RhythmApp\napp = RhythmApp()\nother = RhythmApp('nope')\n")
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("svc_main_for_test", main)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.app.project_dir == tmp_path.resolve() / "svc"
    assert module.app.workflow_dirs == [tmp_path.resolve() / "svc" / "workflows"]
    assert module.app.workflows == {}
    from rhythm_runtime.api.app import WorkflowsNotFound

    with pytest.raises(WorkflowsNotFound, match=f"workflows directory {tmp_path.resolve()}/svc/nope does not exist "
                                                 f"\\(RhythmApp resolves relative workflow directories against "
                                                 f"the project {tmp_path.resolve()}/svc\\)"):
        module.other.workflows


def test_graph_of_a_flow_file_needs_no_database(tmp_path):
    (tmp_path / "hello.flow").write_text('return await Task.run("hello", {})\n', encoding="utf-8")
    proc = rhythm(tmp_path, "graph", "hello.flow")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flowchart TD\n")
    assert not (tmp_path / ".rhythm").exists()


def test_an_existing_stopped_server_is_started_even_when_not_creating(tmp_path, monkeypatch):
    (tmp_path / ".rhythm" / "pgdata").mkdir(parents=True)
    (tmp_path / ".rhythm" / "pgdata" / "PG_VERSION").write_text("16\n")
    started = []
    monkeypatch.setattr(embedded, "_urls", {})
    monkeypatch.setattr(embedded, "_start_or_attach", lambda pgdata: started.append(pgdata) or "postgresql:///x")
    monkeypatch.setattr(embedded, "_create_database", lambda url: None)
    assert Settings.load(None, tmp_path).database_url(create=False) == "postgresql:///x"
    assert started == [tmp_path.resolve() / ".rhythm" / "pgdata"]


def test_a_configured_url_is_used_as_is_when_not_creating(tmp_path):
    assert Settings.load("postgresql:///elsewhere", tmp_path).database_url(create=False) == "postgresql:///elsewhere"
    with pytest.raises(embedded.NoEmbeddedServer):
        Settings.load(None, tmp_path).database_url(create=False)
    assert not (tmp_path / ".rhythm").exists()


def test_status_prints_a_completed_runs_output_as_json(monkeypatch):
    row = {"id": "r1", "workflow_name": "w", "version": "v1", "status": "completed", "error": None,
           "waiting": [], "output": {"ok": True, "none": None, "name": "Zoë", "n": [1.5, "x"]}}

    class Client:
        def get(self, run_id):
            assert run_id == "r1"
            return self

        def describe(self):
            return row

    made = []
    monkeypatch.setattr(runs_cli, "client_for", lambda url, create=True: made.append(create) or Client())
    result = CliRunner().invoke(rhythm_main, ["status", "r1"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output == 'r1  w@v1  completed\noutput: {"ok": true, "none": null, "name": "Zoë", "n": [1.5, "x"]}\n'
    assert made == [False]
