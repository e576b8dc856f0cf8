"""Activate a generated module: the runner its code shape needs.

Shapes 1-5 (no functions) run on execution/machine.py; shape 6 on (functions
and JavaScript's promises) on execution/frames.py, which builds on machine.
Storage and the in-process runner call this, never a runner directly.
"""

from __future__ import annotations

from rhythm_runtime.execution import frames, machine
from rhythm_runtime.execution.machine import DEFAULT_STEP_BUDGET, MAX_SNAPSHOT_BYTES, Outcome


def activate(module, snapshot: dict, settled: dict, run_id: str, scheduler, budget: int = DEFAULT_STEP_BUDGET,
             max_snapshot: int = MAX_SNAPSHOT_BYTES, cancel=None, data: dict | None = None) -> Outcome:
    """Run `module` from `snapshot` until the workflow ends or awaits something unsettled
    (see machine.activate for the arguments)."""
    runner = frames if getattr(module, "SHAPE", 5) >= 6 else machine
    return runner.activate(module, snapshot, settled, run_id, scheduler, budget, max_snapshot, cancel, data)
