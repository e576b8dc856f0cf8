"""Which Postgres a process uses: explicit URL > ``RHYTHM_DATABASE_URL`` > the project's embedded server.

Building ``Settings`` has no side effects; only ``database_url()`` may start
the embedded server, so commands that never touch the database stay fast.
Commands that only read pass ``create=False``, so that run in the wrong
directory they fail at once instead of making an empty database there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rhythm_runtime.storage.db import ENV_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one process."""

    project_dir: Path = field(default_factory=Path.cwd)
    # Explicit or from the environment; None means the embedded server.
    configured_url: str | None = None

    @classmethod
    def load(
        cls,
        database_url: str | None = None,
        project_dir: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Apply the precedence; an empty string counts as not set."""
        url = database_url or os.environ.get(ENV_DATABASE_URL) or None
        return cls(Path(project_dir or os.getcwd()).resolve(), url)

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

        return embedded.ensure_server(self.project_dir, create=create)


def resolve_database_url(
    database_url: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    create: bool = True,
) -> str:
    """Shortcut for ``Settings.load(...).database_url(create)``."""
    return Settings.load(database_url, project_dir).database_url(create)
