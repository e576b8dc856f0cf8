"""The .flow compiler: parse -> check -> lower -> emit."""

from .diagnostics import CompileError, Diagnostic
from .emit import CompilerBug
from .pipeline import (COMPILER_VERSION, Compiled, block_scopes, compile_file, compile_source, read_source,
                       version_of, workflow_name)

__all__ = [
    "COMPILER_VERSION", "CompileError", "Compiled", "CompilerBug", "Diagnostic",
    "compile_file", "compile_source", "read_source", "version_of", "workflow_name",
]
