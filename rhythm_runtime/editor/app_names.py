"""What an app declares, as the static checks and the editor need it: tasks with their Python side, workflows by file.

Built from a live `RhythmApp` (its module imported, so its `@task`s are
registered), never from the database: `rhythm check` runs in CI, where no
worker exists.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from pathlib import Path

from rhythm_runtime.api.tasks import TaskSpec
from rhythm_runtime.storage.settings import rhythm_table


@dataclass(frozen=True)
class TaskInfo:
    """One `@task`: its name and queue, and where and how its Python function is declared."""

    name: str
    queue: str
    signature: str  # "send_email(payload: dict) -> dict"
    doc: str
    file: str | None
    line: int | None
    payload_type: object = None  # the first parameter's annotation (resolved), or None

    @classmethod
    def of(cls, spec: TaskSpec) -> TaskInfo:
        fn = inspect.unwrap(spec.fn)
        try:
            file, line = inspect.getsourcefile(fn), inspect.getsourcelines(fn)[1]
        except (OSError, TypeError):
            file, line = None, None
        return cls(spec.name, spec.queue, f"{fn.__name__}{_signature(fn)}", inspect.getdoc(fn) or "", file, line,
                   _payload_type(fn))


@dataclass
class AppNames:
    """The names `Task.run` and `Workflow.run` may use; `tasks is None` when no app was loaded."""

    tasks: dict[str, TaskInfo] | None = None
    workflows: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def of_app(cls, app) -> AppNames:
        tasks = {name: TaskInfo.of(spec) for name, spec in sorted(app.tasks.items())}
        return cls(tasks, workflow_files(app.workflow_dirs))


def workflow_files(dirs) -> dict[str, Path]:
    """name -> .flow file, for every workflow in these folders (a missing folder has none)."""
    found = {}
    for d in map(Path, dirs):
        for path in sorted(d.glob("*.flow")) if d.is_dir() else ():
            found.setdefault(path.stem, path)
    return found


def configured_app(start: Path) -> tuple[str, Path] | None:
    """`[tool.rhythm] app = "module:attr"` from the nearest pyproject.toml at or above `start`, with its folder."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            spec = (rhythm_table(folder) or {}).get("app")
            return (spec, folder) if isinstance(spec, str) and spec else None
    return None


def _signature(fn) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(payload)"


def _payload_type(fn):
    """The annotation of the payload parameter, resolved (None when absent or unresolvable)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 -- user annotations may fail to resolve in any way; then there is no hint
        return None
    return hints.get(params[0].name) if params else None
