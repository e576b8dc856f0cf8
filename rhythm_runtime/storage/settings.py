"""Which Postgres a process uses: explicit URL > ``RHYTHM_DATABASE_URL`` > the project's embedded server.

The project is found as git and pytest find theirs: walking up from the
current directory to the first one that is marked as a Rhythm project (see
``find_project``). Outside any project no embedded server is started.

Building ``Settings`` has no side effects; only ``database_url()`` may start
the embedded server, so commands that never touch the database stay fast.
Commands that only read pass ``create=False``, so that run in the wrong
directory they fail at once instead of making an empty database there.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rhythm_runtime.errors import StorageError
from rhythm_runtime.storage.db import ENV_DATABASE_URL

PROJECT_MARKERS = "a pyproject.toml with a [tool.rhythm] table, a .rhythm/ or a workflows/ directory"


class NoProject(StorageError):
    """No database URL is configured and no Rhythm project was found to hold an embedded server."""


def find_project(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest directory at or above `start` (default: the current one) holding one of PROJECT_MARKERS."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ".rhythm").is_dir() or (directory / "workflows").is_dir() or rhythm_table(directory) is not None:
            return directory
    return None


def rhythm_table(directory: Path) -> dict | None:
    """The `[tool.rhythm]` table of `directory`'s pyproject.toml; None without one (or an unreadable file)."""
    try:
        with open(directory / "pyproject.toml", "rb") as f:
            table = tomllib.load(f).get("tool", {}).get("rhythm")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return table if isinstance(table, dict) else None


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process."""

    # The project whose embedded server is used; None outside any project.
    project_dir: Path | None = None
    # Explicit or from the environment; None means the embedded server.
    configured_url: str | None = None
    # Where the project was looked for (for the message when none was found).
    searched_from: Path | None = None

    @classmethod
    def load(
        cls,
        database_url: str | None = None,
        project_dir: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Apply the precedence; an empty string counts as not set. Without `project_dir`, find the project."""
        url = database_url or os.environ.get(ENV_DATABASE_URL) or None
        if project_dir is not None:
            return cls(Path(project_dir).resolve(), url)
        here = Path.cwd()
        return cls(find_project(here), url, here)

    @property
    def embedded(self) -> bool:
        return self.configured_url is None

    def database_url(self, create: bool = True) -> str:
        """The URL to connect to, starting or attaching to the embedded server if needed.

        ``create=False``: never initialise a new embedded server; where the
        project has none, raise ``embedded.NoEmbeddedServer`` (a ``StorageError``).
        """
        if self.configured_url is not None:
            return self.configured_url
        from rhythm_runtime.storage import embedded

        return embedded.ensure_server(self.project(), create=create)

    def project(self) -> Path:
        """The project directory; NoProject (naming where it looked) outside any project."""
        if self.project_dir is None:
            raise NoProject(f"no Rhythm project in {self.searched_from} or any directory above it (looked for "
                            f"{PROJECT_MARKERS}): run this in your project, or set {ENV_DATABASE_URL}")
        return self.project_dir


def resolve_database_url(
    database_url: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    create: bool = True,
) -> str:
    """Shortcut for ``Settings.load(...).database_url(create)``."""
    return Settings.load(database_url, project_dir).database_url(create)
