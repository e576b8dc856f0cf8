"""What cancelling a run means to the workflow, for both runners (the Postgres engine and `run_workflow`).

A cancel is delivered as a catchable error at the await the run is stopped
at (`machine.activate(cancel=…)`), so its `catch` and `finally` blocks run
and may await tasks, timers and children to clean up. Once cancelled, a run
ends `cancelled` when that cleanup is over, whether it returns or lets the
CancelledError out; only a different error makes it `failed`. A forced
cancel (terminate) runs no code at all and is the store's business.
"""

from __future__ import annotations

from rhythm_runtime.execution import values as _js

CANCELLED_ERROR = "CancelledError"
CANCELLED_MESSAGE = "the run was cancelled"


def cancelled_error() -> _js.JSError:
    """The value a workflow catches: `err.name === "CancelledError"`."""
    return _js.JSError(CANCELLED_ERROR, CANCELLED_MESSAGE)


def cancelled_payload() -> dict:
    """The same error as stored (a run's error, an inbox entry of an await cancelled with it)."""
    return {"type": CANCELLED_ERROR, "message": CANCELLED_MESSAGE}


def status_after_cancel(status: str, error: dict | None) -> str:
    """The status a run that was cancelled ends with, given how its code ended."""
    if status == "completed" or (status == "failed" and (error or {}).get("type") == CANCELLED_ERROR):
        return "cancelled"
    return status
