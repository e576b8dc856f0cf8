"""The app the end-to-end tests run with real worker processes."""

from pathlib import Path

import e2e_tasks  # noqa: F401 - registers the tasks

from rhythm_runtime.api.app import RhythmApp

app = RhythmApp(Path(__file__).parent / "workflows")
