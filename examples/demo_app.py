"""One app serving every example, for `make demo` (`rhythm worker demo_app:app`, run in examples/)."""

import importlib.util
from pathlib import Path

from rhythm import RhythmApp

HERE = Path(__file__).parent
EXAMPLES = ["onboarding", "approvals", "orders", "fanout", "digest"]

for name in EXAMPLES:  # each example's app/tasks.py registers its @task functions
    spec = importlib.util.spec_from_file_location(f"{name}_tasks", HERE / name / "app" / "tasks.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))

app = RhythmApp([HERE / name / "workflows" for name in EXAMPLES])
app.queue("email", rate="10/1s", key_concurrency=1)  # the digest's e-mail queue, as in digest/app/main.py
