"""`make demo`: run every example workflow and print what it returned.

The examples' modules were just compiled by `rhythm compile examples`. Until
the Postgres runtime lands, this runs them with the in-process runner, which
drives the same generated state machines with a virtual clock.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from rhythm_runtime.tasks import REGISTRY
from rhythm_runtime.testing import run_workflow

HERE = Path(__file__).parent

RUNS = [
    ("onboarding", "onboard_user", {"userId": 42}, []),
    ("approvals", "expense_approval", {"employee": "sam", "amount": 120}, [("decision", {"approved": True, "by": "lee"})]),
    ("approvals", "expense_approval", {"employee": "kim", "amount": 80}, []),
    ("orders", "fulfill_order", {"id": "o-1", "total": 99, "items": [{"sku": "tea", "qty": 2}, {"sku": "mug", "qty": 1}]}, []),
    ("orders", "fulfill_order", {"id": "o-2", "total": 5000, "items": [{"sku": "piano", "qty": 1}]}, []),
    ("fanout", "thumbnails", {"images": ["a.jpg", "b.jpg", "c.jpg"]}, []),
]


def load_tasks(example: str) -> None:
    path = HERE / example / "app" / "tasks.py"
    spec = importlib.util.spec_from_file_location(f"demo_{example}_tasks", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def main() -> int:
    for example in sorted({r[0] for r in RUNS}):
        load_tasks(example)
    tasks = {name: spec.fn for name, spec in REGISTRY.items()}
    for example, name, inputs, signals in RUNS:
        flows = HERE / example / "workflows"
        children = {p.stem: p for p in flows.glob("*.flow")}
        result = run_workflow(flows / f"{name}.flow", inputs=inputs, tasks=tasks, workflows=children, signals=signals)
        shown = result.output if result.status == "completed" else result.error
        print(f"{name}({json.dumps(inputs)}) -> {result.status}: {json.dumps(shown)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
