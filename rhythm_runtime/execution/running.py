"""The run whose generated code is executing on this thread (code shape 6).

Function values and promise methods are called from generated code and
library callbacks that do not carry the run, so they find it here.
Activations nest (a child runs inside its parent's), so `enter` returns the
previous run, which `leave` restores on the way out.
"""

from __future__ import annotations

import threading

from rhythm_runtime.execution import values as _js

_local = threading.local()


def current():
    """The run executing on this thread; calling a function outside a run is a TypeError."""
    run = getattr(_local, "run", None)
    if run is None:
        raise _js.type_error("functions can only be called while the workflow runs")
    return run


def current_or_none():
    return getattr(_local, "run", None)


def enter(run):
    """Make `run` the current one; returns the previous one, for `leave` (a try/finally: a step pays no
    context manager)."""
    previous = getattr(_local, "run", None)
    _local.run = run
    return previous


def leave(previous) -> None:
    _local.run = previous
