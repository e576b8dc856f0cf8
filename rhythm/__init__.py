"""Rhythm's public import surface: re-exports only, no logic."""

from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import RhythmClient, SyncRhythmClient, WorkflowFailed
from rhythm_runtime.storage.store import RunFinished, RunIdConflict, RunNotFound, UnknownWorkflow
from rhythm_runtime.api.tasks import TaskContext, current_task, task

__all__ = [
    "RhythmApp", "RhythmClient", "RunFinished", "RunIdConflict", "RunNotFound", "SyncRhythmClient",
    "TaskContext", "UnknownWorkflow", "WorkflowFailed", "current_task", "task",
]
