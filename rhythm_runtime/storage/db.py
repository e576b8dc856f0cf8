"""Connections, pools, named queries and migrations: the edge where Rhythm meets Postgres.

Everything that opens a connection goes through here, so psycopg's
connection errors become one ``StorageError`` with a readable sentence, and
all SQL text comes from the ``.sql`` files beside this module. Every table is
written schema-qualified (``rhythm.runs``); connections never depend on
``search_path``, so a pooler or a shared database works unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from rhythm_runtime.errors import StorageError

# The environment variable that names the server (settings.py applies the precedence).
ENV_DATABASE_URL = "RHYTHM_DATABASE_URL"

logger = logging.getLogger("rhythm")

SCHEMA = "rhythm"
SQL_DIR = Path(__file__).parent / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
# Key of the advisory lock that serializes migrators ("Rhythm" in ASCII).
MIGRATION_LOCK_KEY = 0x52687974686D
# Applied only where the URL does not say otherwise.
_DEFAULT_PARAMS = {"application_name": "rhythm", "connect_timeout": "10"}

_QUERY_NAME = re.compile(r"^-- name: *(\w+) *$", re.MULTILINE)
_MIGRATION_NAME = re.compile(r"^(\d{4})_\w+$")


# --- conninfo and errors -------------------------------------------------


def prepare_conninfo(conninfo: str) -> str:
    """Validate a URL or key=value string and add Rhythm's defaults (name, connect timeout)."""
    try:
        given = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise StorageError(f"invalid database URL: {_reason(exc)}") from exc
    extra = {k: v for k, v in _DEFAULT_PARAMS.items() if k not in given}
    return make_conninfo(conninfo, **extra)


def describe(conninfo: str) -> str:
    """Where a conninfo points, for messages (never includes the password)."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "an invalid URL"
    host = params.get("host") or "the default local socket"
    port = f":{params['port']}" if params.get("port") else ""
    return f"{host}{port}, database {params.get('dbname') or '(default)'}"


def _reason(exc: BaseException) -> str:
    """The informative tail of a libpq message ('connection ... failed: Connection refused')."""
    line = next(
        (ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__
    )
    return line.rsplit("failed: ", 1)[-1].rstrip(".")


def _where(conninfo: str | None) -> str:
    """' (host:port, database x)' for messages; parsed only when an error is reported."""
    return f" ({describe(conninfo)})" if conninfo else ""


@contextlib.contextmanager
def storage_errors(conninfo: str | None = None) -> Iterator[None]:
    """Turn connection-level psycopg errors into StorageError; let data errors through."""
    try:
        yield
    except PoolTimeout as exc:
        where = _where(conninfo)
        raise StorageError(
            f"no database connection became available in time{where}: {_reason(exc)}"
        ) from exc
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as exc:
        if SCHEMA not in str(exc):
            raise
        where = _where(conninfo)
        raise StorageError(
            f"the database{where} has no Rhythm schema; run `rhythm db migrate`"
        ) from exc
    except psycopg.OperationalError as exc:
        where = _where(conninfo)
        raise StorageError(
            f"the database operation failed{where}: {_reason(exc)}"
        ) from exc


def connect(conninfo: str, **kwargs: Any) -> psycopg.Connection:
    """Open one connection, raising StorageError with the reason when Postgres is unreachable."""
    conninfo = prepare_conninfo(conninfo)
    try:
        return psycopg.connect(conninfo, **kwargs)
    except psycopg.OperationalError as exc:
        raise StorageError(
            f"cannot connect to Postgres at {describe(conninfo)}: {_reason(exc)}"
        ) from exc


async def connect_async(conninfo: str, **kwargs: Any) -> psycopg.AsyncConnection:
    """Async twin of connect()."""
    conninfo = prepare_conninfo(conninfo)
    try:
        return await psycopg.AsyncConnection.connect(conninfo, **kwargs)
    except psycopg.OperationalError as exc:
        raise StorageError(
            f"cannot connect to Postgres at {describe(conninfo)}: {_reason(exc)}"
        ) from exc


# --- pools ---------------------------------------------------------------


def open_pool(
    conninfo: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    timeout: float = 30.0,
    **pool_kwargs: Any,
) -> ConnectionPool:
    """An opened pool; fails fast with the real reason (not a pool timeout) if Postgres is unreachable."""
    conninfo = prepare_conninfo(conninfo)
    connect(conninfo).close()
    pool = ConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        open=False,
        name="rhythm",
        **pool_kwargs,
    )
    with storage_errors(conninfo):
        pool.open(wait=True, timeout=timeout)
    return pool


async def open_async_pool(
    conninfo: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    timeout: float = 30.0,
    **pool_kwargs: Any,
) -> AsyncConnectionPool:
    """Async twin of open_pool()."""
    conninfo = prepare_conninfo(conninfo)
    await (await connect_async(conninfo)).close()
    pool = AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        open=False,
        name="rhythm",
        **pool_kwargs,
    )
    with storage_errors(conninfo):
        await pool.open(wait=True, timeout=timeout)
    return pool


# --- named queries -------------------------------------------------------


def parse_queries(text: str) -> dict[str, str]:
    """Split ``-- name: x`` blocks; each must start with a one-line description comment."""
    parts = _QUERY_NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        lines = body.strip().splitlines()
        if not lines or not lines[0].startswith("--"):
            raise ValueError(f"query {name!r} has no description comment")
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = "\n".join(lines[1:]).strip()
    return queries


@functools.cache
def _queries() -> dict[str, str]:
    return parse_queries((SQL_DIR / "queries.sql").read_text(encoding="utf-8"))


def load_queries() -> dict[str, str]:
    """The named queries of ``sql/queries.sql`` (parsed once per process)."""
    return dict(_queries())


# --- migrations ----------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """One ``sql/migrations/NNNN_name.sql`` file."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def list_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in order; numbers must be unique so the order is unambiguous."""
    found: list[Migration] = []
    numbers: set[str] = set()
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.stem)
        if not match or match.group(1) in numbers:
            raise ValueError(f"bad or duplicate migration file name: {path.name}")
        numbers.add(match.group(1))
        found.append(Migration(path.stem, path.read_text(encoding="utf-8")))
    return found


def migrate(conninfo: str) -> list[str]:
    """Apply pending migrations, each in its own transaction under an advisory lock.

    Safe to call from every process at start-up: when nothing is pending it
    takes no lock and writes nothing. Returns the names this call applied.
    """
    queries = load_queries()
    lock = {"lock_key": MIGRATION_LOCK_KEY}
    applied_now: list[str] = []
    # Autocommit, so each `transaction()` below is a real transaction.
    with connect(conninfo, autocommit=True) as conn, storage_errors(conninfo):
        applied = _applied(conn, queries)
        if applied is None:
            with conn.transaction():
                conn.execute(queries["lock_migrations"], lock)
                conn.execute(queries["bootstrap_migrations"])
            applied = {}
        migrations = list_migrations()
        warn_if_newer(applied, migrations)
        for migration in migrations:
            if migration.name in applied:
                if applied[migration.name] != migration.checksum:
                    logger.warning(
                        "migration %s was edited after it was applied", migration.name
                    )
                continue
            with conn.transaction():
                conn.execute(queries["lock_migrations"], lock)
                if migration.name in (_applied(conn, queries) or {}):
                    continue  # another process applied it while we waited for the lock
                conn.execute(migration.sql)
                conn.execute(
                    queries["record_migration"],
                    {"name": migration.name, "checksum": migration.checksum},
                )
            logger.info("applied migration %s", migration.name)
            applied_now.append(migration.name)
    return applied_now


def newer_migrations(applied: dict[str, str], migrations: list[Migration] | None = None) -> list[str]:
    """Applied migrations this code does not have (of `migrations`, default: its files): a newer Rhythm
    migrated the database."""
    known = {m.name for m in (list_migrations() if migrations is None else migrations)}
    return sorted(name for name in applied if name not in known)


def warn_if_newer(applied: dict[str, str], migrations: list[Migration]) -> None:
    """A process older than its database keeps working (migrations keep older workers running through a
    rolling deploy) but should be upgraded: say so once at start-up, naming what it does not know."""
    newer = newer_migrations(applied, migrations)
    if newer:
        logger.warning(
            "the database has %d migration(s) this Rhythm does not know (%s): a newer Rhythm migrated it; "
            "upgrade this process's rhythm package",
            len(newer),
            ", ".join(newer),
        )


def _applied(
    conn: psycopg.Connection, queries: dict[str, str]
) -> dict[str, str] | None:
    """Applied migrations by name, or None before the bookkeeping table exists."""
    exists = conn.execute(
        "SELECT to_regclass('rhythm.migrations') IS NOT NULL"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    return dict(conn.execute(queries["applied_migrations"]).fetchall())
