"""Rhythm's public import surface: re-exports only, no logic."""

from rhythm_runtime.app import RhythmApp
from rhythm_runtime.client import RhythmClient, SyncRhythmClient, WorkflowFailed
from rhythm_runtime.store import RunFinished, RunIdConflict, RunNotFound, UnknownWorkflow
from rhythm_runtime.tasks import task
from rhythm_runtime.worker import TaskContext, current_task

__all__ = [
    "RhythmApp", "RhythmClient", "RunFinished", "RunIdConflict", "RunNotFound", "SyncRhythmClient",
    "TaskContext", "UnknownWorkflow", "WorkflowFailed", "current_task", "task",
]
