"""Shared fixtures: one real Postgres per session, one fresh database per test module.

Everything here is lazy: Postgres starts only when a test asks for one of
these fixtures, so compiler tests never pay for it. With
``RHYTHM_DATABASE_URL`` set (a role allowed to CREATE DATABASE), that server
is used; otherwise a throwaway embedded server in a temporary directory,
stopped and deleted at the end of the session.

Speed comes from templates: migrations run once into a template database,
and each module gets ``CREATE DATABASE ... TEMPLATE``, which copies files
instead of replaying SQL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

# The compiler's cache of formatted statements: one per session, so no test depends on an earlier session's.
_FORMAT_CACHE = tempfile.TemporaryDirectory(prefix="rhythm-format-cache-")
os.environ.setdefault("RHYTHM_CACHE_DIR", _FORMAT_CACHE.name)

# A test server may lose data on a crash; it is deleted anyway.
_TEST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _admin(admin_url: str, sql: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def _create_database(
    admin_url: str, template: str | None = None, prefix: str = "rhythm_test"
) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f" TEMPLATE {template}" if template else ""
    _admin(admin_url, f"CREATE DATABASE {name}{clause}")
    return name


def _drop_database(admin_url: str, name: str) -> None:
    # FORCE: a test that leaked a connection or pool must not fail teardown.
    _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A conninfo of a role that may create databases."""
    env_url = os.environ.get("RHYTHM_DATABASE_URL")
    if env_url:
        yield env_url
        return
    from rhythm_runtime.storage import embedded

    project = tempfile.mkdtemp(prefix="rhythm-test-")
    try:
        admin_url = make_conninfo(embedded.ensure_server(project), dbname="postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name, value in _TEST_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")
        yield admin_url
    finally:
        embedded.stop(project)
        shutil.rmtree(project, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    """Name of a database with every migration applied, created once per session."""
    from rhythm_runtime.storage.db import migrate

    name = _create_database(pg_admin_url, prefix="rhythm_template")
    try:
        migrate(make_conninfo(pg_admin_url, dbname=name))
        yield name
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def db_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    """A migrated database of this test module's own, dropped afterwards."""
    name = _create_database(pg_admin_url, template=template_db)
    yield make_conninfo(pg_admin_url, dbname=name)
    _drop_database(pg_admin_url, name)


@pytest.fixture
def make_database(pg_admin_url: str) -> Iterator[Callable[..., str]]:
    """Factory for extra databases (empty, or copied from ``template=``), dropped after the test."""
    created: list[str] = []

    def make(template: str | None = None) -> str:
        created.append(_create_database(pg_admin_url, template=template))
        return make_conninfo(pg_admin_url, dbname=created[-1])

    yield make
    for name in created:
        _drop_database(pg_admin_url, name)
