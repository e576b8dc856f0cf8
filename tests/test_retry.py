"""`rhythm retry` and the step history, end to end on a real Postgres.

A worker thread runs real workflows until they fail; the test then repairs
the world (a task's upstream comes back, a fixed `.flow` file is deployed)
and retries the run, checking that it resumes at the await that failed:
nothing before it runs again, and the outcome is what a fresh run of the
repaired workflow gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import query, wait_for, worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.cli.main import main
from rhythm_runtime.api.client import SyncRhythmClient, WorkflowFailed
from rhythm_runtime.errors import RhythmError
from rhythm_runtime.inspection.inspect import inspect_run, render_report
from rhythm_runtime.storage.store import RetryRefused, RunNotFound
from rhythm_runtime.api.tasks import task

CALLS: list[tuple[str, object]] = []  # every task execution, in order
UPSTREAM = {"up": False}  # what the "retry-upstream" task needs to succeed

FLOWS = {
    "charge": """\
const user = await Task.run("retry-count", { step: "load user" })
const receipt = await Task.run("retry-upstream", { amount: Inputs.amount })
return { user: user.step, receipt }
""",
    "both": """\
const [a, b] = await Promise.all([
  Task.run("retry-upstream", { amount: 1 }),
  Task.run("retry-slow", { amount: 2 }),
])
return [a, b]
""",
    "buggy": """\
const order = await Task.run("retry-count", { step: "load order" })
const sig = await Signal.next("approve")
Task.run("retry-count", { step: "fire and forget" })
const total = order.items.length + sig.extra
return total
""",
    "parent": """\
const fromChild = await Workflow.run("child", { amount: 7 })
return { fromChild }
""",
    "child": """\
await Task.run("retry-count", { step: "child before" })
return await Task.run("retry-upstream", { amount: Inputs.amount })
""",
    "first": """\
const x = Inputs.data.value
return await Task.run("retry-count", { step: x })
""",
    "looping": """\
let total = 0
for (let i = 0; i < 6; i++) {
  total += (await Task.run("retry-count", { step: i })).step
}
return total
""",
    "fanout": """\
async function charge(amount) {
  const before = await Task.run("retry-count", { step: `before ${amount}` })
  const receipt = await Task.run("retry-upstream", { amount })
  return { step: before.step, receipt }
}
const results = await Promise.all([10, 20].map(amount => charge(amount)))
return results
""",
}

FANOUT_MOVED = FLOWS["fanout"].replace("  const receipt =", "  await Timer.delay(0)\n  const receipt =")
BUGGY_FIXED = FLOWS["buggy"].replace("order.items.length + sig.extra", "order.step.length + sig.extra")
BUGGY_NEW_AWAIT = FLOWS["buggy"].replace("return total", "await Timer.delay(0)\nreturn total")
FIRST_FIXED = FLOWS["first"].replace("Inputs.data.value", "Inputs.value")


@task("retry-count")
def _count(payload):
    CALLS.append(("count", payload["step"]))
    return payload


@task("retry-upstream")
def _upstream(payload):
    CALLS.append(("upstream", payload["amount"]))
    if not UPSTREAM["up"]:
        raise ConnectionError("payment service unavailable")
    return {"charged": payload["amount"]}


@task("retry-slow")
def _slow(payload):
    wait_for(lambda: CALLS.count(("upstream", 1)) >= 1, what="the failing task to fail first")
    import time

    time.sleep(0.3)  # finishes after its run has failed: the result must not be lost
    CALLS.append(("slow", payload["amount"]))
    return {"slow": payload["amount"]}


@pytest.fixture(scope="module")
def env(db_url, tmp_path_factory):
    root = write_flows(tmp_path_factory.mktemp("retry") / "workflows", FLOWS)
    with worker_thread(RhythmApp(root), db_url, concurrency=3) as (worker, client):
        yield Env(client, db_url, root, worker)


class Env:
    def __init__(self, client: SyncRhythmClient, url: str, root: Path, worker):
        self.client, self.url, self.root, self.worker = client, url, root, worker

    def fail(self, name: str, inputs=None, run_id: str | None = None):
        """Start a run and wait until it has failed; returns its handle."""
        handle = self.client.start_workflow(name, inputs or {}, id=run_id)
        with pytest.raises(WorkflowFailed):
            handle.result(timeout=20)
        return handle

    def deploy(self, name: str, text: str) -> None:
        """Write a new version of a workflow and let the worker compile and register it."""
        (self.root / f"{name}.flow").write_text(text, encoding="utf-8")
        self.worker.reload()

    def cli(self, *args: str):
        return CliRunner().invoke(main, [*args, "--database-url", self.url], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    UPSTREAM["up"] = False
    yield


def test_a_failed_task_is_reissued_and_nothing_before_it_runs_again(env):
    handle = env.fail("charge", {"amount": 5}, run_id="retry-charge")
    assert CALLS == [("count", "load user"), ("upstream", 5)]
    assert handle.describe()["error"]["line"] == 2
    UPSTREAM["up"] = True

    result = env.cli("retry", handle.id)
    assert result.exit_code == 0, result.output
    assert "retrying retry-charge" in result.output and "'retry-upstream'" in result.output
    assert handle.result(timeout=20) == {"user": "load user", "receipt": {"charged": 5}}
    assert CALLS == [("count", "load user"), ("upstream", 5), ("upstream", 5)]
    task = query(env.url, "SELECT attempts, status FROM rhythm.tasks WHERE run_id = %s AND name = %s",
                 (handle.id, "retry-upstream"))
    assert task == [{"attempts": 1, "status": "completed"}]  # re-issued from its first attempt


def test_a_result_that_arrived_after_the_failure_is_delivered_not_rerun(env):
    handle = env.fail("both")
    wait_for(lambda: ("slow", 2) in CALLS, what="the slow task to finish after the run failed")
    wait_for(lambda: query(env.url, "SELECT 1 FROM rhythm.tasks WHERE run_id = %s AND name = 'retry-slow' "
                                    "AND status = 'completed'", (handle.id,)), what="its result to be stored")
    UPSTREAM["up"] = True
    handle.retry()
    assert handle.result(timeout=20) == [{"charged": 1}, {"slow": 2}]
    assert CALLS.count(("slow", 2)) == 1
    assert CALLS.count(("upstream", 1)) == 2


def test_a_fixed_version_resumes_the_failed_run_with_its_signal(env):
    handle = env.client.start_workflow("buggy", {})
    wait_for(lambda: handle.describe()["status"] == "suspended" and handle.describe()["waiting"],
             what="the run to wait for its signal")
    handle.signal("approve", {"extra": 100})
    with pytest.raises(WorkflowFailed, match="Cannot read properties of undefined"):
        handle.result(timeout=20)
    assert CALLS[0] == ("count", "load order")

    # Retrying on the same (buggy) version fails the same way, without re-running the first task.
    handle.retry()
    with pytest.raises(WorkflowFailed, match="Cannot read properties of undefined"):
        handle.result(timeout=20)

    old_version = handle.describe()["version"]
    env.deploy("buggy", BUGGY_FIXED)
    done = handle.retry("latest")
    assert done["version"] != old_version
    assert handle.result(timeout=20) == len("load order") + 100
    # The first task ran once; the fire-and-forget task, scheduled by each failed activation, is undone and
    # scheduled again by the next, so it has exactly one row however many times the run was retried.
    assert CALLS.count(("count", "load order")) == 1
    rows = query(env.url, "SELECT count(*) AS n FROM rhythm.tasks WHERE run_id = %s", (handle.id,))
    assert rows == [{"n": 2}]
    assert query(env.url, "SELECT version FROM rhythm.runs WHERE id = %s", (handle.id,))[0]["version"] == done["version"]


def test_a_version_with_other_awaits_is_refused_and_the_run_is_untouched(env):
    env.deploy("buggy", FLOWS["buggy"])
    handle = env.client.start_workflow("buggy", {})
    wait_for(lambda: handle.describe()["waiting"], what="the run to wait for its signal")
    handle.signal("approve", {"extra": 1})
    with pytest.raises(WorkflowFailed):
        handle.result(timeout=20)
    before = query(env.url, "SELECT status, version, error, snapshot::text, activations FROM rhythm.runs "
                            "WHERE id = %s", (handle.id,))
    env.deploy("buggy", BUGGY_NEW_AWAIT)
    with pytest.raises(RetryRefused, match="cannot resume run .*awaits, loops, try blocks or variables differ"):
        handle.retry("latest")
    result = env.cli("retry", handle.id, "--version", "latest")
    assert result.exit_code == 1 and "cannot resume run" in result.output and "Traceback" not in result.output
    after = query(env.url, "SELECT status, version, error, snapshot::text, activations FROM rhythm.runs "
                           "WHERE id = %s", (handle.id,))
    assert after == before
    env.deploy("buggy", FLOWS["buggy"])


def test_a_failed_child_is_retried_with_its_parent(env):
    parent = env.fail("parent")
    child_id = query(env.url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s", (parent.id,))[0]["id"]
    assert env.client.get(child_id).status() == "failed"
    UPSTREAM["up"] = True
    done = parent.retry()
    assert done["reissued"] == [{"await_key": done["reissued"][0]["await_key"], "kind": "child", "run_id": child_id}]
    assert parent.result(timeout=20) == {"fromChild": {"charged": 7}}
    assert env.client.get(child_id).status() == "completed"
    assert CALLS.count(("count", "child before")) == 1


def test_a_run_that_failed_before_its_first_await_starts_again_on_the_new_version(env):
    handle = env.fail("first", {"value": "v"})
    snapshot = query(env.url, "SELECT snapshot FROM rhythm.runs WHERE id = %s", (handle.id,))[0]["snapshot"]
    assert snapshot["state"] == 0 and snapshot["seq"] == {}  # it never reached an await
    env.deploy("first", FIRST_FIXED)
    handle.retry("latest")
    assert handle.result(timeout=20) == {"step": "v"}
    env.deploy("first", FLOWS["first"])


def test_retry_refuses_runs_that_have_not_failed_and_unknown_runs(env):
    UPSTREAM["up"] = True
    done = env.client.start_workflow("charge", {"amount": 1})
    done.result(timeout=20)
    with pytest.raises(RetryRefused, match="is completed: only failed runs can be retried"):
        done.retry()
    with pytest.raises(RunNotFound):
        env.client.store.retry_run("no-such-run")
    result = env.cli("retry", "no-such-run")
    assert result.exit_code == 1 and "no run with id 'no-such-run'" in result.output
    UPSTREAM["up"] = False
    handle = env.fail("charge", {"amount": 2})
    with pytest.raises(RetryRefused, match="has no version 'nope'"):
        handle.retry("nope")
    assert isinstance(RetryRefused("x"), RhythmError)


def test_the_history_records_each_step_and_the_failure(env):
    handle = env.fail("charge", {"amount": 3})
    report = inspect_run(env.url, handle.id)
    steps = report["history"]
    assert [s["status"] for s in steps] == ["suspended", "suspended", "failed"]
    assert [s["seq"] for s in steps] == [1, 2, 3]
    assert steps[0]["scheduled"] == [{"await_key": "0.1", "kind": "task", "what": "retry-count", "line": 1}]
    assert steps[1]["woke_by"] == [{"await_key": "0.1", "kind": "task", "line": 1}]
    assert steps[1]["lines"] == [1, 2] and steps[1]["scheduled"][0]["what"] == "retry-upstream"
    assert steps[2]["woke_by"][0]["kind"] == "task"
    failure = report["failure"]
    assert failure["line"] == 2
    assert [x["name"] for x in failure["locals"]] == ["Inputs", "user"]
    text = render_report(report)
    assert "history" in text.lower() and "payment service unavailable" in text

    UPSTREAM["up"] = True
    handle.retry()
    handle.result(timeout=20)
    steps = inspect_run(env.url, handle.id)["history"]
    assert [s["status"] for s in steps] == ["suspended", "suspended", "failed", "retried", "suspended", "completed"]


def test_the_history_is_trimmed_to_the_configured_limit(env, monkeypatch):
    monkeypatch.setattr(env.worker.engine, "history_limit", 3)
    UPSTREAM["up"] = True
    handle = env.client.start_workflow("looping", {})
    assert handle.result(timeout=20) == 15
    seqs = [r["seq"] for r in query(env.url, "SELECT seq FROM rhythm.history WHERE run_id = %s ORDER BY seq",
                                    (handle.id,))]
    assert seqs == [5, 6, 7]


def test_catch_routes_and_locals_at_the_failure_are_kept(env, tmp_path):
    text = """\
let attempts = 0
try {
  attempts = 1
  await Task.run("retry-upstream", { amount: 9 })
} catch (e) {
  attempts = 2
  throw new Error("gave up after " + attempts + ": " + e.message)
} finally {
  attempts = 3
}
"""
    env.deploy("catches", text)
    handle = env.fail("catches")
    report = inspect_run(env.url, handle.id)
    failure = report["failure"]
    assert failure["line"] == 7
    assert {x["name"]: x["text"] for x in failure["locals"]}["attempts"] == "3"
    routes = [(c["how"], c["line"]) for c in failure["catches"]]
    assert routes == [("catch", 5), ("finally", 8)]
    assert "payment service unavailable" in failure["catches"][0]["message"]


def test_the_graph_highlights_the_path_a_run_took(env, tmp_path):
    handle = env.fail("charge", {"amount": 4})
    visited = set()
    for h in query(env.url, "SELECT details FROM rhythm.history WHERE run_id = %s", (handle.id,)):
        visited |= {h["details"]["from"] or 0, *h["details"]["trail"], h["details"]["to"]}
    current = handle.describe()["error"]["state"]
    svg = env.cli("graph", "charge", "--run", handle.id, "--format", "svg")
    assert svg.exit_code == 0, svg.output
    assert svg.output.startswith("<svg") and svg.output.rstrip().endswith("</svg>")
    for state in visited - {current}:
        assert f'data-state="{state}"><rect' in svg.output
        assert svg.output.split(f'data-state="{state}">')[1].split("/>")[0].count("#dbeafe") == 1
    assert "#ffe08a" in svg.output.split(f'data-state="{current}">')[1].split("/>")[0]
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg.output)  # well-formed, so a browser shows it
    mermaid = env.cli("graph", "charge", "--run", handle.id)
    assert "classDef visited" in mermaid.output and f"class s{current} current" in mermaid.output


def test_a_timer_the_failed_run_still_holds_survives_until_the_retry(env):
    text = """\
const deadline = Timer.delay(0.5)
await Task.run("retry-upstream", { amount: 11 })
await deadline
return "in time"
"""
    env.deploy("deadline", text)
    handle = env.fail("deadline")
    timers = query(env.url, "SELECT await_key FROM rhythm.timers WHERE run_id = %s", (handle.id,))
    assert len(timers) == 1  # kept: the snapshot holds `deadline`
    wait_for(lambda: query(env.url, "SELECT fired_at FROM rhythm.timers WHERE run_id = %s", (handle.id,))[0]["fired_at"],
             what="the timer to fire while the run is failed")
    UPSTREAM["up"] = True
    handle.retry()
    assert handle.result(timeout=20) == "in time"  # the timer that fired meanwhile was delivered


def test_repair_with_real_processes_and_the_cli(make_database, template_db, tmp_path):
    """The whole story with `rhythm worker` processes and `rhythm retry`: a task that keeps failing is
    re-issued, then a bug is fixed by deploying a new version (workers restarted) and the run resumes on it."""
    import subprocess

    from test_runtime_e2e import RHYTHM, Project, WorkerProcess

    db_url = make_database(template=template_db)  # not the module's: its in-process worker knows other tasks
    project = Project(tmp_path / "app")
    worker = WorkerProcess(project, db_url, cli=True, concurrency=2)
    client = SyncRhythmClient(db_url)
    env = {**__import__("os").environ, "RHYTHM_DATABASE_URL": db_url}

    def rhythm(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(RHYTHM), *args], cwd=project.root, env=env, capture_output=True, text=True,
                              timeout=120)

    try:
        handle = client.start_workflow("repair", {"tag": "r1", "failures": 4})
        with pytest.raises(WorkflowFailed, match="flaky failure 3"):
            handle.result(timeout=30)
        assert len(project.events(task="flaky")) == 3 and len(project.events(task="record")) == 1

        done = rhythm("retry", handle.id)
        assert done.returncode == 0 and "re-issued: task 'flaky'" in done.stdout, done.stderr
        with pytest.raises(WorkflowFailed, match="Cannot read properties of undefined"):
            handle.result(timeout=30)
        assert len(project.events(task="flaky")) == 5  # attempts 4 (fails) and 5 (succeeds)
        inspect = rhythm("inspect", handle.id)
        assert "failed at repair.flow:4" in inspect.stdout and "retried on" in inspect.stdout

        flow = project.root / "workflows" / "repair.flow"
        flow.write_text(flow.read_text().replace("first.count.n", "first.n"))
        assert rhythm("compile", "-q", "workflows").returncode == 0
        assert worker.terminate() == 0
        worker = WorkerProcess(project, db_url, cli=True, concurrency=2)  # the deploy registers the fix
        again = rhythm("retry", handle.id)
        assert again.returncode == 0  # on its own version it fails the same way again
        with pytest.raises(WorkflowFailed, match="Cannot read properties of undefined"):
            handle.result(timeout=30)
        fixed = rhythm("retry", handle.id, "--version", "latest", "--json")
        assert fixed.returncode == 0, fixed.stderr
        assert handle.result(timeout=30) == {"n": 1, "second": "ok after 5 attempts"}
        assert len(project.events(task="record")) == 1 and len(project.events(task="flaky")) == 5
    finally:
        worker.close()
        client.close()


def test_inspect_shows_as_much_history_as_asked(env):
    UPSTREAM["up"] = True
    handle = env.client.start_workflow("looping", {})
    assert handle.result(timeout=20) == 15
    default = env.cli("inspect", handle.id).output
    assert "\nhistory\n" in default and default.count("\n  #") == 7
    two = env.cli("inspect", handle.id, "--history", "2").output
    assert "history (the last 2 of 7 steps)" in two and two.count("\n  #") == 2 and "  #7 " in two
    assert "history" not in env.cli("inspect", handle.id, "--history", "0").output


FINALLY_AWAITS = """\
const log = []
try {
  log.push(await Task.run("retry-count", { step: "in try" }))
  log.push(await Task.run("retry-upstream", { amount: 12 }))
} finally {
  log.push(await Task.run("retry-count", { step: "in finally" }))
}
return log.length
"""


def test_an_error_held_by_a_finally_that_awaits_is_retried_from_where_it_was_thrown(env):
    env.deploy("finally_awaits", FINALLY_AWAITS)
    handle = env.fail("finally_awaits")
    error = handle.describe()["error"]
    assert (error["type"], error["line"]) == ("TaskError", 4)  # where it was thrown, not the finally's end
    report = inspect_run(env.url, handle.id)
    assert report["history"][-1]["lines"][-1] == 4
    # The route was taken an activation before the one that failed (the finally awaited in between).
    assert [(c["how"], c["from_line"], c["line"]) for c in report["failure"]["catches"]] == [("finally", 4, 5)]
    assert CALLS == [("count", "in try"), ("upstream", 12), ("count", "in finally")]

    UPSTREAM["up"] = True
    done = handle.retry()
    assert [r["name"] for r in done["reissued"]] == ["retry-upstream"]  # not "nothing": the await that failed
    assert handle.result(timeout=20) == 3
    assert CALLS[3:] == [("upstream", 12), ("count", "in finally")]  # the finally runs again, "in try" does not


def test_a_child_retried_on_its_own_lets_its_parent_be_retried(env):
    parent = env.fail("parent")
    [child] = query(env.url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s", (parent.id,))
    UPSTREAM["up"] = True
    env.client.get(child["id"]).retry()
    assert env.client.get(child["id"]).result(timeout=20) == {"charged": 7}
    assert parent.describe()["status"] == "failed"  # the parent had already failed: it waits for its own retry
    done = parent.retry()
    assert done["reissued"] == []  # the child's new result is delivered, not re-run
    assert parent.result(timeout=20) == {"fromChild": {"charged": 7}}
    assert CALLS.count(("count", "child before")) == 1


def test_the_dashboard_offers_only_a_version_that_can_resume_the_run(env):
    from starlette.testclient import TestClient

    from rhythm_runtime.inspection.dashboard import create_app

    env.deploy("buggy", FLOWS["buggy"])
    handle = env.client.start_workflow("buggy", {})
    wait_for(lambda: handle.describe()["waiting"], what="the run to wait for its signal")
    handle.signal("approve", {"extra": 1})
    with pytest.raises(WorkflowFailed):
        handle.result(timeout=20)
    page = f"/runs/{handle.id}"
    with TestClient(create_app(env.url), base_url="http://127.0.0.1") as web:
        assert 'value="latest"' not in web.get(page).text  # its own version is the newest
        env.deploy("buggy", BUGGY_NEW_AWAIT)
        html = web.get(page).text
        assert 'value="latest" disabled' in html and "cannot resume run" in html
        env.deploy("buggy", BUGGY_FIXED)
        html = web.get(page).text
        assert 'value="latest">' in html and "cannot resume run" not in html
    env.deploy("buggy", FLOWS["buggy"])


def test_a_run_that_failed_inside_an_async_function_resumes_there(env):
    """Shape 6: the failure is in a frame (an async function in flight), not in the body."""
    handle = env.fail("fanout")
    # The run fails at the first rejection; the other charge's attempt may still be running. Its failure, if
    # recorded after the retry, would rightly fail the resumed run again: retry once no attempt is in flight.
    wait_for(lambda: not query(env.url, "SELECT 1 FROM rhythm.tasks WHERE run_id = %s AND status IN "
                                        "('pending', 'running')", (handle.id,)), what="the run's tasks to settle")
    assert ("count", "before 10") in CALLS and ("count", "before 20") in CALLS
    assert handle.describe()["error"]["line"] == 6  # where the body received the rejection
    counts_before = [c for c in CALLS if c[0] == "count"]
    UPSTREAM["up"] = True
    handle.retry()
    assert handle.result(timeout=20) == [{"step": "before 10", "receipt": {"charged": 10}},
                                         {"step": "before 20", "receipt": {"charged": 20}}]
    assert [c for c in CALLS if c[0] == "count"] == counts_before  # nothing before the failed await ran again


def test_a_version_that_moved_an_async_functions_await_is_refused(env):
    handle = env.fail("fanout")
    before = query(env.url, "SELECT status, version, snapshot::text FROM rhythm.runs WHERE id = %s", (handle.id,))
    env.deploy("fanout", FANOUT_MOVED)
    try:
        with pytest.raises(RetryRefused, match="cannot resume run"):
            handle.retry("latest")
        assert query(env.url, "SELECT status, version, snapshot::text FROM rhythm.runs WHERE id = %s",
                     (handle.id,)) == before
    finally:
        env.deploy("fanout", FLOWS["fanout"])
