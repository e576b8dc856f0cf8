"""The chaos test's app. Every task execution is recorded in Postgres (autocommit,
its own connection), so the test can count duplicates across killed workers."""

import os
from pathlib import Path

import psycopg

from rhythm import RhythmApp, task

URL = os.environ.get("CHAOS_RECORD_URL", "")


def record(label: str) -> int:
    """Insert one execution row (table made by the test); returns this label's executions so far."""
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("INSERT INTO chaos_exec (label) VALUES (%s)", (label,))
        return conn.execute("SELECT count(*) FROM chaos_exec WHERE label = %s", (label,)).fetchone()[0]


@task("chaos-add")
def add(payload: dict) -> dict:
    if URL:
        record(payload["label"])
    return {"sum": payload["a"] + payload["b"]}


@task("chaos-flaky", retries=3, backoff=0.01)
def flaky(payload: dict) -> str:
    if URL and record(payload["label"]) == 1:
        raise RuntimeError("first attempt fails")
    return "ok"


@task("chaos-fail")
def fail(payload: dict) -> None:
    if URL:
        record(payload["label"])
    raise RuntimeError(f"expected failure {payload['label']}")


app = RhythmApp(Path(__file__).parent / "workflows")
