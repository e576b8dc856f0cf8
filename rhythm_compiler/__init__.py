"""The .flow compiler: parse -> check -> lower -> emit.

The names below load on first use (PEP 562), so `rhythm compile` can tell from
a module's header that it is current without importing the compiler (lark,
Jinja2, black).
"""

from __future__ import annotations

import importlib

_HOME = {
    "COMPILER_VERSION": ".header", "CompileError": ".diagnostics", "Compiled": ".pipeline", "CompilerBug": ".emit",
    "Diagnostic": ".diagnostics", "block_scopes": ".pipeline", "compile_file": ".pipeline",
    "compile_source": ".pipeline", "read_source": ".pipeline", "version_of": ".pipeline", "workflow_name": ".pipeline",
}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name], __name__), name)
    globals()[name] = value
    return value
