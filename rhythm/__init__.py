"""Rhythm's public import surface: re-exports only, no logic."""

from rhythm_runtime.app import RhythmApp
from rhythm_runtime.client import RhythmClient, SyncRhythmClient, WorkflowFailed
from rhythm_runtime.tasks import task

__all__ = ["RhythmApp", "RhythmClient", "SyncRhythmClient", "WorkflowFailed", "task"]
