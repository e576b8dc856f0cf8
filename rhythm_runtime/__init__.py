"""Everything that runs a compiled workflow, by layer (docs/DESIGN-NOTES.md has the map).

Generated modules of every code shape do ``from rhythm_runtime import flowops
as _op`` and ``from rhythm_runtime import values as _js``; those two names are
kept here so that modules already committed or stored in Postgres still load.
They load on first use (PEP 562), so commands that run no workflow (`rhythm
compile`) start without them.
"""

from __future__ import annotations

import importlib

__all__ = ["flowops", "values"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"rhythm_runtime.execution.{name}")
    globals()[name] = module
    return module
