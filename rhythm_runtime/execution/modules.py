"""Turn generated module code into a live module (from a file or from Postgres)."""

from __future__ import annotations

import ast
import hashlib
import types

from rhythm_runtime.execution.effects import growing_slots


def module_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def load_module(code: str, name: str, expected_hash: str | None = None) -> types.ModuleType:
    """Execute generated code in a fresh module; refuse code whose hash does not match."""
    if expected_hash is not None and module_hash(code) != expected_hash:
        raise ValueError(f"the stored module of workflow {name!r} does not match its hash; refusing to run it")
    module = types.ModuleType(f"rhythm_workflow_{name}")
    tree = ast.parse(code)
    exec(compile(tree, f"<rhythm workflow {name}>", "exec"), module.__dict__)
    module.LINE_TABLE = parse_line_map(module.LINE_MAP)
    module.GROWING = growing_slots(tree)  # the only containers it changes: arrays of these slots (effects.py)
    return module


def parse_line_map(text: str) -> tuple[list[int], list[int]]:
    py, flow = [], []
    for pair in filter(None, text.split(",")):
        a, b = pair.split(":")
        py.append(int(a))
        flow.append(int(b))
    return py, flow
