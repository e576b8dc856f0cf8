"""Everything that runs a compiled workflow, by layer (docs/DESIGN-NOTES.md has the map).

Generated modules of every code shape do ``from rhythm_runtime import flowops
as _op`` and ``from rhythm_runtime import values as _js``; those two names are
kept here so that modules already committed or stored in Postgres still load.
"""

from rhythm_runtime.execution import flowops, values

__all__ = ["flowops", "values"]
