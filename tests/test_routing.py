"""Tasks run where they are registered: two services, two task sets, one Postgres, real worker processes.

The main service has the workflows and the task "main-step"; the gpu service
has only "render-thumbnail" on queue "gpu". Whichever worker advances a run
schedules the task on the queue its registration names, and only a worker
that registered a task claims it. A task nobody serves waits, visibly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.inspection.inspect import inspect_run, render_report

from helpers import CliWorker, query, wait_for, write_flows

RHYTHM = Path(sys.executable).with_name("rhythm")

MAIN_APP = """
import os
from rhythm import RhythmApp, task

app = RhythmApp("workflows")

@task("main-step")
def main_step(payload):
    return {"pid": os.getpid(), "n": payload["n"]}
"""

GPU_APP = """
import os
from rhythm import RhythmApp, task

app = RhythmApp("gpu_workflows")

@task("render-thumbnail", queue="gpu")
def render(payload):
    return {"pid": os.getpid(), "n": payload["n"] * 10}
"""

FLOWS = {
    "thumbs": """\
const a = await Task.run("main-step", { n: Inputs.n })
const t = await Task.run("render-thumbnail", { n: Inputs.n })
return { main: a.pid, gpu: t.pid, n: t.n }
""",
    "typo": """\
await Task.run("main-stepp", {})
""",
}


@pytest.fixture
def services(tmp_path, make_database, template_db):
    root = tmp_path / "services"
    write_flows(root / "workflows", FLOWS)
    (root / "gpu_workflows").mkdir()
    (root / "main_app.py").write_text(textwrap.dedent(MAIN_APP))
    (root / "gpu_app.py").write_text(textwrap.dedent(GPU_APP))
    url = make_database(template=template_db)
    started: list[CliWorker] = []
    yield root, url, started
    for s in started:
        s.kill()


def rhythm_json(root: Path, url: str, *args: str):
    proc = subprocess.run([str(RHYTHM), *args, "--json"], cwd=root, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RHYTHM_DATABASE_URL": url})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_two_services_each_run_their_own_tasks(services):
    root, url, started = services
    started.append(main := CliWorker(root, url, "main_app:app"))
    assert re.search(r"calls Task.run\('main-stepp'\) at typo.flow:1, a task no worker has registered "
                     r"\(did you mean 'main-step'\?\)", main.text()), main.text()
    assert "calls Task.run('render-thumbnail') at thumbs.flow:2" in main.text()
    client = SyncRhythmClient(url)
    try:
        # Before the gpu service exists, its task waits in plain sight.
        early = [client.start_workflow("thumbs", {"n": n}) for n in range(3)]
        for h in early:
            wait_for(lambda h=h: any(w["name"] == "render-thumbnail" for w in inspect_run(url, h.id)["waiting"]),
                     30, "the run to wait on render-thumbnail")
        text = render_report(inspect_run(url, early[0].id))
        assert "no live worker serves task 'render-thumbnail' (queue default) since " in text, text
        assert "no worker has registered it" in text
        status = rhythm_json(root, url, "status", early[0].id)
        assert status["unserved"] and status["unserved"][0].startswith(
            "no live worker serves task 'render-thumbnail' (queue default) since "), status

        started.append(gpu := CliWorker(root, url, "gpu_app:app", "--queues", "gpu"))
        assert "routed 3 pending task(s)" in gpu.text(), gpu.text()
        late = [client.start_workflow("thumbs", {"n": n}) for n in range(3, 6)]
        outputs = [h.result(60) for h in early + late]
        assert outputs == [{"main": main.proc.pid, "gpu": gpu.proc.pid, "n": n * 10} for n in range(6)]
        queues = query(url, "SELECT name, queue, attempts, lost_leases FROM rhythm.tasks ORDER BY id")
        assert {(r["name"], r["queue"], r["attempts"], r["lost_leases"]) for r in queues} == {
            ("main-step", "default", 1, 0), ("render-thumbnail", "gpu", 1, 0)}

        workers = {w["pid"]: w for w in rhythm_json(root, url, "workers")}
        assert {p: (w["state"], w["queues"], w["task_names"]) for p, w in workers.items()} == {
            main.proc.pid: ("live", ["default"], ["main-step"]),
            gpu.proc.pid: ("live", ["gpu"], ["render-thumbnail"])}
        assert set(workers[main.proc.pid]["workflows"]) == {"thumbs", "typo"}

        # The gpu service goes away: its task waits again, and says since when nobody serves it.
        assert gpu.stop() == 0, gpu.text()
        orphan = client.start_workflow("thumbs", {"n": 7})
        wait_for(lambda: any(w["name"] == "render-thumbnail" for w in inspect_run(url, orphan.id)["waiting"]),
                 30, "the run to wait on render-thumbnail")
        [wait] = inspect_run(url, orphan.id)["waiting"]
        assert (wait["status"], wait["served"], wait["registered"]) == ("pending", False, True)
        assert "no live worker serves task 'render-thumbnail' (queue gpu) since " in render_report(
            inspect_run(url, orphan.id))
        states = {w["pid"]: w["state"] for w in rhythm_json(root, url, "workers")}
        assert states == {main.proc.pid: "live", gpu.proc.pid: "stopped"}
        assert main.stop() == 0, main.text()
    finally:
        client.close()
