"""Rhythm's public import surface: re-exports only, no logic."""

from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.api.client import PayloadError, RhythmClient, SyncRhythmClient, TaskError, WorkflowFailed
from rhythm_runtime.storage.store import RunFinished, RunIdConflict, RunNotFound, UnknownWorkflow
from rhythm_runtime.api.tasks import TaskContext, current_task, task

__all__ = [
    "PayloadError", "RhythmApp", "RhythmClient", "RhythmError", "RunFinished", "RunIdConflict", "RunNotFound",
    "StorageError", "SyncRhythmClient", "TaskContext", "TaskError", "UnknownWorkflow", "WorkflowFailed",
    "current_task", "task",
]
