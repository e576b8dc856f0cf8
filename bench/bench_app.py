"""The app the runtime benchmarks run (`rhythm worker bench_app:app` in bench/)."""

from pathlib import Path

from rhythm import RhythmApp, task


@task("bench-step")
def bench_step(payload: dict) -> dict:
    return {"acc": payload["acc"] + 1}


app = RhythmApp(Path(__file__).parent / "workflows")
