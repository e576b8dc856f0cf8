"""A throwaway database for one benchmark run (embedded Postgres unless RHYTHM_DATABASE_URL is set)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rhythm_runtime.storage.settings import Settings
from rhythm_runtime.storage.db import migrate

# The repository is the benches' project: its embedded server lives in <repo>/.rhythm (stop it with
# `rhythm db stop` there), so a bench runs from any directory of a fresh clone.
REPOSITORY = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def scratch_database():
    admin = Settings.load(project_dir=REPOSITORY).database_url()
    name = f"rhythm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(admin)
    params["dbname"] = name
    url = make_conninfo(**params)
    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
