"""`rhythm init`: a new project that compiles, checks and runs on a real Postgres, and never overwrites a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from rhythm_runtime.cli.init import project_files
from rhythm_runtime.cli.main import main as rhythm_main

RHYTHM = [sys.executable, "-m", "rhythm_runtime.cli"]


def _init(directory: Path):
    return CliRunner().invoke(rhythm_main, ["init", str(directory)])


def _files(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def _wait_until_started(worker: subprocess.Popen) -> None:
    """Until the worker has registered the project's workflows (its "worker … started" line), as a user waits."""
    seen = []
    while not any(" started: " in line for line in seen):
        line = worker.stderr.readline()
        assert line, "the worker exited before it started:\n" + "".join(seen)
        seen.append(line)


def test_init_writes_a_project_and_says_what_to_run_next(tmp_path: Path) -> None:
    result = _init(tmp_path / "My Shop")
    assert result.exit_code == 0, result.output
    assert _files(tmp_path / "My Shop") == project_files("my-shop")
    assert 'name = "my-shop"' in (tmp_path / "My Shop" / "pyproject.toml").read_text()
    assert "rhythm dev app:app" in result.output and "python app.py" in result.output


def test_init_refuses_to_overwrite_and_then_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    result = _init(tmp_path)
    assert result.exit_code == 1
    assert "already has pyproject.toml" in result.output and "writes only new files" in result.output
    assert _files(tmp_path) == {"pyproject.toml": "[project]\nname = 'mine'\n"}  # no workflows/, no app.py


def test_the_new_project_compiles_checks_and_runs_on_postgres(tmp_path: Path, db_url: str) -> None:
    assert _init(tmp_path).exit_code == 0
    env = {**os.environ, "RHYTHM_DATABASE_URL": db_url, "PYTHONPATH": str(tmp_path)}
    for command in (["compile"], ["check"]):
        done = subprocess.run(RHYTHM + command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "no problems" in done.stderr  # `check` found the app through [tool.rhythm] and knows the task
    worker = subprocess.Popen(RHYTHM + ["worker", "app:app"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_started(worker)
        run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith("['Hello, Ada!', 'Hello, Ada, again!']"), run.stdout
    finally:
        worker.terminate()
        assert worker.wait(timeout=60) == 0, worker.stderr.read()
