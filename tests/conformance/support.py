"""Shared helpers of the conformance suite: locating programs, reading their
header comments, and running the Node oracle (harness.js).

Used by tests/test_conformance.py and tests/conformance/regen.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
CHILDREN = HERE / "children"
HARNESS = HERE / "harness.js"
EXPECTED = HERE / "expected.json"

HARNESS_TIMEOUT = 600


def program_paths() -> list[Path]:
    return sorted(PROGRAMS.rglob("*.flow"))


def program_key(path: Path) -> str:
    """The key of a program in expected.json: its path under programs/."""
    return path.resolve().relative_to(PROGRAMS).as_posix()


def child_workflows() -> dict[str, Path]:
    return {p.stem: p for p in sorted(CHILDREN.glob("*.flow"))}


def parse_header(text: str) -> tuple[Any, list[tuple[str, Any]]]:
    """Return (inputs, signals) from a program's header comments.

    Mirrors parseSource in harness.js: skip blank lines and at most one
    leading front-matter block (fenced by lines starting with three
    backticks); among the leading `//` comment lines, `// inputs: <JSON>`
    gives the inputs (default {}) and `// signals: <JSON list of [name,
    payload]>` the signals queued before the run starts (default []).
    """
    inputs: Any = {}
    signals: list[tuple[str, Any]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    saw_front_matter = False
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if not saw_front_matter and line.startswith("```"):
            saw_front_matter = True
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            if j >= len(lines):
                raise ValueError("unterminated front matter")
            i = j + 1
            continue
        if line.startswith("//"):
            body = line[2:].strip()
            if body.startswith("inputs:"):
                inputs = json.loads(body[len("inputs:"):])
            elif body.startswith("signals:"):
                signals = [(name, payload) for name, payload in json.loads(body[len("signals:"):])]
            i += 1
            continue
        break
    return inputs, signals


def node_executable() -> str | None:
    return shutil.which("node")


def run_harness(paths: list[Path], node: str | None = None) -> dict[str, Any]:
    """Run all `paths` in ONE node process; return {program_key: result}."""
    node = node or node_executable()
    if node is None:
        raise RuntimeError("node is not installed")
    proc = subprocess.run(
        [node, str(HARNESS), *[str(p) for p in paths]],
        cwd=HERE,
        env={**os.environ, "TZ": "UTC"},  # a workflow's local time zone is UTC on every worker
        capture_output=True,
        text=True,
        timeout=HARNESS_TIMEOUT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"harness.js failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def load_expected() -> dict[str, Any]:
    if not EXPECTED.exists():
        return {}
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def dump_expected(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
