"""Tasks of the end-to-end app. Every call is logged to $E2E_LOG (JSON lines)."""

from __future__ import annotations

import json
import os
import time

from rhythm_runtime.api.tasks import task
from rhythm_runtime.api.tasks import current_task


def log(event: str, **fields) -> None:
    ctx = current_task()
    line = {"event": event, "pid": os.getpid(), "time": time.time(),
            "run": ctx.run_id if ctx else None, "key": ctx.await_key if ctx else None,
            "attempt": ctx.attempt if ctx else None, **fields}
    with open(os.environ["E2E_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def attempts_so_far(task_name: str, tag: str) -> int:
    """How many times a task started with this tag (across all processes)."""
    with open(os.environ["E2E_LOG"], encoding="utf-8") as f:
        lines = [json.loads(x) for x in f]
    return sum(1 for x in lines if x["event"] == "start" and x["task"] == task_name and x.get("tag") == tag)


@task("add")
def add(p: dict) -> float:
    log("start", task="add")
    return p["a"] + p["b"]


@task("record")
def record(p: dict) -> object:
    log("start", task="record", tag=p["tag"], value=p.get("value"))
    return p.get("value")


@task("fail")
def fail(p: dict) -> None:
    log("start", task="fail")
    raise ValueError(p["message"])


@task("flaky", retries=2, backoff=0.05)
def flaky(p: dict) -> str:
    log("start", task="flaky", tag=p["tag"])
    n = attempts_so_far("flaky", p["tag"])
    if n <= p["failures"]:
        raise RuntimeError(f"flaky failure {n}")
    return f"ok after {n} attempts"


@task("bad_result")
def bad_result(p: dict) -> object:
    log("start", task="bad_result")
    return {"fine": [1, 2], "not json": {1, 2, 3}}


@task("slow")
def slow(p: dict) -> object:
    """Sleeps p.seconds (only on the first attempt of its tag when p.once), logging start and end."""
    log("start", task="slow", tag=p["tag"])
    if not p.get("once") or attempts_so_far("slow", p["tag"]) == 1:
        time.sleep(p["seconds"])
    log("end", task="slow", tag=p["tag"])
    return p.get("value")


@task("crashy")
def crashy(p: dict) -> object:
    """Sleeps p.seconds on its first attempt only: the attempt a test kills its worker in."""
    log("start", task="crashy", tag=p["tag"])
    if attempts_so_far("crashy", p["tag"]) == 1:
        time.sleep(p["seconds"])
    log("end", task="crashy", tag=p["tag"])
    return p.get("value")


@task("parked", queue="parked")
def parked(p: dict) -> None:
    """On a queue no test worker serves: it stays pending until cancelled."""
    log("start", task="parked")


@task("echo")
def echo(p: object) -> object:
    log("start", task="echo")
    return p


@task("async_add")
async def async_add(p: dict) -> float:
    import asyncio

    await asyncio.sleep(0.01)
    return p["a"] + p["b"]


@task("async_too_slow", timeout=0.2)
async def async_too_slow(p: dict) -> None:
    import asyncio

    await asyncio.sleep(10)


@task("release-stock")
def release_stock(p: dict) -> str:
    log("start", task="release-stock", tag=p["tag"], value=p.get("seen"))
    return "released"


@task("watch-cancel")
def watch_cancel(p: dict) -> str:
    """Runs until the await it serves is cancelled (at most 20 s), as a long task that stops early would."""
    log("start", task="watch-cancel", tag=p["tag"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if current_task().cancelled:
            log("saw cancel", task="watch-cancel", tag=p["tag"])
            return "stopped early"
        time.sleep(0.1)
    return "never cancelled"
