"""The app of tests/test_reliability.py. Every task start and end is appended
to $REL_LOG as a JSON line (which process, which run, which attempt)."""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path

from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.tasks import task
from rhythm_runtime.api.tasks import current_task


def log(event: str, **fields) -> None:
    ctx = current_task()
    line = {"event": event, "pid": os.getpid(), "time": time.time(), "task_id": ctx.task_id if ctx else None,
            "run": ctx.run_id if ctx else None, "key": ctx.await_key if ctx else None,
            "attempt": ctx.attempt if ctx else None, **fields}
    with open(os.environ["REL_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def starts(task_name: str, tag: str) -> int:
    """How many times a task started with this tag, across all processes."""
    with open(os.environ["REL_LOG"], encoding="utf-8") as f:
        lines = [json.loads(x) for x in f if x.strip()]
    return sum(1 for x in lines if x["event"] == "start" and x["task"] == task_name and x.get("tag") == tag)


@task("rel-add")
def add(p: dict) -> float:
    log("start", task="rel-add")
    return p["a"] + p["b"]


@task("rel-note")
def note(p: dict) -> dict:
    """Records the workflow's counter as it was when the workflow scheduled this task."""
    log("start", task="rel-note", counter=p["counter"], slot=p["slot"])
    return {"slot": p["slot"]}


@task("rel-hang")
def hang(p: dict) -> dict:
    """A sync task that hangs on its first start (far beyond its worker's lease); later starts take p.again s."""
    log("start", task="rel-hang", tag=p["tag"])
    n = starts("rel-hang", p["tag"])
    time.sleep(p["seconds"] if n == 1 else p.get("again", 0))
    log("end", task="rel-hang", tag=p["tag"], n=n)
    return {"pid": os.getpid(), "start": n}


@task("rel-step")
def step(p: dict) -> float:
    log("start", task="rel-step", tag=p.get("tag"))
    time.sleep(p.get("seconds", 0))
    log("end", task="rel-step", tag=p.get("tag"))
    return p["n"] + 1


@task("rel-bad-result")
def bad_result(p: dict) -> object:
    """Returns what JSON cannot carry (or too much of it)."""
    kind = p["kind"]
    if kind == "nan":
        return {"x": float("nan")}
    if kind == "set":
        return {"x": {1, 2}}
    if kind == "datetime":
        return [datetime.datetime(2024, 1, 1)]
    if kind == "bytes":
        return b"raw"
    if kind == "huge":
        return "x" * p["size"]
    return None


@task("rel-echo")
def echo(p: object) -> object:
    log("start", task="rel-echo")
    return "ok"


app = RhythmApp(Path(__file__).parent / "workflows")
