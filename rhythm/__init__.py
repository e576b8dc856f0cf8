"""Rhythm's public import surface: re-exports only, no logic."""

from rhythm_runtime.tasks import task

__all__ = ["task"]
