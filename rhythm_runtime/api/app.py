"""`RhythmApp`: the workflows and tasks one deployment runs.

At start-up the app loads every compiled workflow module (compiling stale
`.flow` files in development, with a warning naming them) and registers each
version in Postgres, so any worker — also one running a newer build — can
resume a run on the exact version it started with.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rhythm_compiler import compile_source, version_of

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.execution.modules import load_module, module_hash
from rhythm_runtime.schedules import front_matter_or_none
from rhythm_runtime.storage import retention, schedules
from rhythm_runtime.storage.settings import find_project
from rhythm_runtime.api import queues as _queues
from rhythm_runtime.api.queues import QueueSpec
from rhythm_runtime.api.tasks import REGISTRY, TaskSpec

log = logging.getLogger("rhythm")
COMPILED_DIR = "compiled"


@dataclass
class LoadedWorkflow:
    name: str
    version: str
    source: str
    code: str
    module: Any


class WorkflowsNotFound(RhythmError):
    """A workflows directory of a RhythmApp does not exist."""


class AppNotFound(RhythmError):
    """A `module:attribute` spec that names no RhythmApp."""


class RhythmApp:
    def __init__(self, workflows: str | Path | list = "workflows/", *, database_url: str | None = None,
                 step_budget: int | None = None):
        dirs = workflows if isinstance(workflows, (list, tuple)) else [workflows]
        # The project of the file that makes the app (else of the current directory): relative workflow
        # directories and the embedded Postgres are its, wherever the process was started from.
        self.project_dir = _project_of_caller(sys._getframe(1)) or find_project()
        base = self.project_dir or Path.cwd()
        self.workflow_dirs = [base / d for d in dirs]
        self.database_url = database_url
        self.warn_stale = True  # `rhythm dev` compiles on purpose, so it turns the warning off
        self.step_budget = step_budget
        self._workflows: dict[str, LoadedWorkflow] | None = None

    @property
    def tasks(self) -> dict[str, TaskSpec]:
        """Every @task registered in this process (import your task modules first)."""
        return dict(REGISTRY)

    def queue(self, name: str, *, concurrency: int | None = None, key_concurrency: int | None = None, rate=None,
              key_rate=None) -> QueueSpec:
        """Declare a queue's limits, enforced across all workers: at most `concurrency` running tasks, at most
        `key_concurrency` running with one key (Task.run's `key` option), at most `rate` ("100/1m") starts
        in any such window on the queue, and `key_rate` per key. Put tasks on it with @task(queue=name)."""
        return _queues.declare(name, concurrency=concurrency, key_concurrency=key_concurrency, rate=rate,
                               key_rate=key_rate)

    @property
    def queues(self) -> dict[str, QueueSpec]:
        """Every queue declared in this process."""
        return dict(_queues.QUEUES)

    @property
    def workflows(self) -> dict[str, LoadedWorkflow]:
        if self._workflows is None:
            self._workflows = self._load()
        return self._workflows

    def _flows(self) -> list[Path]:
        flows = []
        for d in self.workflow_dirs:
            if not d.is_dir():
                where = f"the project {self.project_dir}" if self.project_dir else "the current directory (no project found)"
                raise WorkflowsNotFound(f"workflows directory {d} does not exist (RhythmApp resolves relative "
                                        f"workflow directories against {where})")
            flows.extend(sorted(d.glob("*.flow")))
        return flows

    def _load(self) -> dict[str, LoadedWorkflow]:
        found: dict[str, LoadedWorkflow] = {}
        stale: list[str] = []
        for flow in self._flows():
            if flow.stem in found:
                raise ValueError(f"two workflows are named {flow.stem!r}: a workflow's name is its file's stem")
            source = flow.read_text(encoding="utf-8")
            compiled = flow.parent / COMPILED_DIR / f"{flow.stem}.py"
            code = compiled.read_text(encoding="utf-8") if compiled.exists() else None
            module = _load_current(code, flow.stem, version_of(source))
            if module is None:
                stale.append(str(flow))
                code = compile_source(source, str(flow)).code
                try:
                    _write_atomically(compiled, code)
                except OSError as e:  # a read-only deployment still runs, from memory
                    log.warning("cannot write %s (%s); using the module compiled in memory", compiled, e)
                module = load_module(code, flow.stem)
            found[flow.stem] = LoadedWorkflow(flow.stem, module.VERSION, source, code, module)
        if stale and self.warn_stale:
            log.warning("compiled stale or missing workflow modules: %s (run `rhythm compile` and commit them)",
                        ", ".join(stale))
        return found

    def reload(self) -> None:
        """Forget the loaded modules; the next use loads (and compiles) them again."""
        self._workflows = None

    def register(self, store) -> None:
        """Record every workflow version in Postgres (idempotent), with the queue, schedule and retention its
        front matter declares."""
        for wf in self.workflows.values():
            front = front_matter_or_none(getattr(wf.module, "FRONT_MATTER", None))
            store.register_version(wf.name, wf.version, wf.source, wf.code, module_hash(wf.code), front.queue)
            schedules.declare_front_matter(store, wf.name, front)
            retention.declare(store, wf.name, front.retention)


def load_app(spec: str, root: Path | None = None) -> RhythmApp:
    """`module:attribute` (like uvicorn and Celery), importable from `root` (default: the cwd) -> the RhythmApp."""
    module_name, _, attr = spec.partition(":")
    base = root or Path.cwd()
    project = find_project(base)  # the package may live at the project's root, above the current directory
    sys.path[:0] = [str(base)] + ([str(project)] if project and project != base.resolve() else [])
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise AppNotFound(f"cannot import {module_name!r}: {e}") from None
    attr = attr or "app"
    if not hasattr(module, attr):
        raise AppNotFound(f"module {module_name!r} has no attribute {attr!r} (expected module:attribute, "
                          f"e.g. app.main:app)")
    app = getattr(module, attr)
    if not isinstance(app, RhythmApp):
        raise AppNotFound(f"{spec!r} is a {type(app).__name__}, not a RhythmApp")
    return app


def _project_of_caller(frame) -> Path | None:
    """The project holding the module that called (None for code without a file, e.g. a REPL)."""
    filename = frame.f_globals.get("__file__")
    return find_project(Path(filename).parent) if filename else None


def _load_current(code: str | None, name: str, version: str):
    """The compiled module if it is this source's version of this workflow; None if stale or broken."""
    if code is None:
        return None
    try:
        module = load_module(code, name)
    except Exception:  # a truncated or hand-edited module: compile it again
        return None
    if getattr(module, "VERSION", None) != version or getattr(module, "WORKFLOW", None) != name:
        return None
    return module


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step, so a worker starting at the same moment never reads half a module."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
