"""The installed shape of the project: old generated modules still run, the wheel is complete, no import cycles.

Generated modules are committed by users and stored in Postgres, so every
code shape the compiler ever produced must keep loading through the names
it imports (`rhythm_runtime.values`, `rhythm_runtime.flowops`). The wheel
must carry everything a non-editable install needs to compile and to talk
to Postgres (templates, SQL, the dashboard's files).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from rhythm_runtime.api.testing import InProcessWorld
from rhythm_runtime.execution.modules import load_module

ROOT = Path(__file__).resolve().parent.parent
SHAPES = sorted((ROOT / "tests/golden/shapes").glob("onboard_user_shape*.py"))
ONBOARDING_TASKS = {
    "get-user": lambda p: {"id": p["userId"], "email": "a@example.com", "name": "Ada"},
    "send-email": lambda p: (_ for _ in ()).throw(RuntimeError("smtp down")) if p["template"] == "welcome" else True,
    "notify-support": lambda p: {"ticket": 7},
    "get-activity": lambda p: {"logins": 0},
}


def test_every_code_shape_is_kept() -> None:
    shapes = [int(p.stem.removeprefix("onboard_user_shape")) for p in SHAPES]
    from rhythm_compiler.emit import SHAPE

    assert shapes == list(range(1, SHAPE + 1))


@pytest.mark.parametrize("path", SHAPES, ids=lambda p: p.stem)
def test_old_code_shapes_load_and_run(path: Path) -> None:
    """Each shape suspends (a snapshot goes through JSON), resumes, catches a task failure and finishes."""
    module = load_module(path.read_text(encoding="utf-8"), "onboard_user")
    world = InProcessWorld(ONBOARDING_TASKS, {}, [])
    run = world.start(module, {"userId": 42, "followUpSeconds": 5})
    world.drain()
    assert run.outcome is not None and run.outcome.status == "completed", run.outcome
    assert run.outcome.output == {"userId": 42, "emailSent": False, "logins": 0}
    assert world.activations >= 5 and world.snapshots


def _runtime_modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "rhythm_runtime").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, name: str, is_package: bool) -> set[str]:
    """rhythm_runtime modules imported at module level (function-level imports are lazy on purpose)."""
    out = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("rhythm_runtime")}


def test_no_import_cycles_and_lower_layers_never_import_higher_ones() -> None:
    modules = _runtime_modules()
    graph = {name: {m for m in _imports(path, name, path.name == "__init__.py") if m in modules and m != name}
             for name, path in modules.items()}
    layers = ["errors", "execution", "storage", "api", "editor", "worker", "inspection", "cli"]

    def layer(name: str) -> int:
        parts = name.split(".")
        return layers.index(parts[1]) if len(parts) > 1 and parts[1] in layers else -1

    for name, deps in graph.items():
        for dep in deps:
            if dep != "rhythm_runtime" and layer(name) >= 0:
                assert layer(dep) <= layer(name), f"{name} (layer {layers[layer(name)]}) imports {dep}"
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in graph[node]:
            if dep == "rhythm_runtime":
                continue  # the package face only re-exports execution's two modules
            assert state.get(dep) != 1, "import cycle: " + " -> ".join([*path, node, dep])
            if dep not in state:
                visit(dep, [*path, node])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_pyproject_lists_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for pattern in ("rhythm/__init__.py", "rhythm_*/**/__init__.py")
               for p in ROOT.glob(pattern)}
    on_disk |= {"rhythm_runtime"}
    mapped = {name for name, folder in config["package-dir"].items()}
    assert listed == on_disk | mapped


def test_a_wheel_install_compiles_and_has_its_data(tmp_path: Path) -> None:
    """Build the wheel, unpack it, and compile a workflow with nothing of the source tree on the path."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
                   check=True, cwd=tmp_path, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("rhythm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("rhythm_templates/module.py.j2", "rhythm_compiler/flow.lark", "rhythm_runtime/storage/sql/schema.sql",
                   "rhythm_runtime/storage/sql/queries.sql", "rhythm_runtime/storage/sql/migrations/0001_initial.sql",
                   "rhythm_runtime/inspection/dashboard/templates/base.html",
                   "rhythm_runtime/inspection/dashboard/static/dashboard.js", "rhythm_runtime/editor/reference.json"):
        assert needed in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    project = tmp_path / "project"
    (project / "workflows").mkdir(parents=True)
    flow = (ROOT / "examples/onboarding/workflows/onboard_user.flow").read_text(encoding="utf-8")
    (project / "workflows/onboard_user.flow").write_text(flow, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import rhythm_templates, rhythm_runtime; "
                            "print(rhythm_templates.__file__); print(rhythm_runtime.__file__)"],
                           cwd=project, env=env, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(site)) for line in probe.stdout.split()), probe.stdout
    done = subprocess.run([sys.executable, "-m", "rhythm_runtime.cli", "compile", "workflows"],
                          cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    generated = (project / "workflows/compiled/onboard_user.py").read_text(encoding="utf-8")
    committed = (ROOT / "examples/onboarding/workflows/compiled/onboard_user.py").read_text(encoding="utf-8")
    assert generated == committed
