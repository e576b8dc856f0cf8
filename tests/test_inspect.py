"""`rhythm inspect` and `rhythm graph` against a real Postgres and a real (in-process) worker.

One worker thread serves the whole module; every run is left where the test
needs it (waiting on a signal, on a retrying task, on a child, failed) and
then inspected through the click commands, as a user would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from helpers import wait_for, worker_thread, write_flows
from rhythm_compiler import compile_source
from rhythm_runtime.execution import values as _js
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.cli.inspect import graph_cmd, inspect_cmd
from rhythm_runtime.cli.main import main as rhythm_main
from rhythm_runtime.inspection.graph import build_graph, to_dot, to_mermaid
from rhythm_runtime.inspection.inspect import _report, render_report, show_value, source_excerpt
from rhythm_runtime.execution.modules import module_hash
from rhythm_runtime.api.tasks import task

FLOWS = {
    "approve": """\
// An order waits for approval, or gives up after an hour.
let order = { id: Inputs.id, items: ["apple", "pear"], total: 12.5 }
let note
const blob = "x".repeat(500)
const deadline = Timer.delay(3600)
const decision = await Promise.race([Signal.next("approve"), deadline])
return decision
""",
    "flaky": """\
const user = await Task.run("inspect-flaky", { id: Inputs.id })
return user
""",
    "broken": """\
const first = await Task.run("inspect-echo", { n: 1 })
let total = 0
total = first.missing.value
return total
""",
    "parent_wf": """\
const child = await Workflow.run("child_wf", { n: 2 })
return child
""",
    "child_wf": """\
const go = await Signal.next("go")
return go
""",
    "try_scope": """\
let attempts = 1
try {
  const first = await Task.run("inspect-echo", { n: 1 })
  const doomed = first.missing.value
} catch (e) {
  attempts = 2
  throw new Error("gave up: " + e.message)
}
""",
    "branchy": """\
let n = 0
while (n < 3) {
  try {
    n = n + (await Task.run("inspect-echo", { n: n }))
  } catch (e) {
    n = 99
  }
}
if (n > 5) {
  await Timer.delay(1)
}
return n
""",
    "lanes": """\
const seen = []
async function lane(name, limit) {
  let count = 0
  while (count < limit) {
    const msg = await Signal.next(name)
    count += 1
    seen.push(msg)
  }
  return count
}
const totals = await Promise.all([lane("left", 2), lane("right", 3)])
return { totals, seen }
""",
}

EVOLVING_V1 = """\
// version one
const a = await Signal.next("next")
return a
"""
EVOLVING_V2 = """\
// version two: a different first line
const x = 1
const b = await Signal.next("next")
return [x, b]
"""


@task("inspect-flaky", retries=2, backoff=60)
def _flaky(payload):
    raise RuntimeError("upstream said no")


@task("inspect-echo")
def _echo(payload):
    return payload


@pytest.fixture(scope="module")
def env(db_url, tmp_path_factory):
    root = write_flows(tmp_path_factory.mktemp("inspect") / "workflows", FLOWS)
    with worker_thread(RhythmApp(root), db_url, concurrency=2) as (_worker, client):
        yield client, db_url, root


def started(client, name: str, inputs=None, until=("suspended",)) -> str:
    run_id = client.start_workflow(name, inputs or {}).id
    wait_for(lambda: client.get(run_id).status() in until, what=f"run of {name} to be {until}")
    return run_id


def cli(command: click.Command, *args: str) -> click.testing.Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def inspect(db_url: str, run_id: str, *flags: str) -> str:
    result = cli(inspect_cmd, run_id, "--database-url", db_url, *flags)
    assert result.exit_code == 0, result.output
    return result.stdout


# -- inspect ------------------------------------------------------------------------------------


def test_signal_wait_shows_line_locals_and_waits(env):
    client, db_url, _ = env
    run_id = started(client, "approve", {"id": 7})
    text = inspect(db_url, run_id)
    assert f"run {run_id}  approve  suspended" in text
    assert "suspended at approve.flow:6 (state 1)" in text
    assert '> 6 | const decision = await Promise.race([Signal.next("approve"), deadline])' in text
    assert "  3 | let note" in text and "  7 | return decision" in text and "  2 |" not in text
    assert 'order    = {"id": 7, "items": ["apple", "pear"], "total": 12.5}' in text
    assert "note     = undefined" in text
    assert "deadline = <promise timer 0.1>" in text
    assert '"xxxx' in text and "(502 characters; --full shows all)" in text
    assert "@t" not in text
    assert "waiting for race [signal 1.1, timer 0.1]" in text
    assert "signal 1.1  signal 'approve'  (line 6)" in text
    assert "timer  0.1  due " in text and "(in 59m" in text
    assert "blob     = " + json.dumps("x" * 500) in inspect(db_url, run_id, "--full")


def test_task_wait_shows_the_task_and_its_last_error(env):
    client, db_url, _ = env
    run_id = started(client, "flaky", {"id": 3})
    wait_for(lambda: "upstream said no" in inspect(db_url, run_id), what="the first attempt to fail")
    text = inspect(db_url, run_id)
    assert "suspended at flaky.flow:1 (state 1)" in text
    assert "waiting for task 0.1" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("task   0.1"))
    assert "'inspect-flaky'  pending  attempt 1/3, next attempt in " in line
    assert "last error: RuntimeError: upstream said no  (line 1)" in line


def test_failed_run_shows_the_error_line(env):
    client, db_url, _ = env
    run_id = started(client, "broken", until=("failed",))
    text = inspect(db_url, run_id)
    assert "failed at broken.flow:3 (state 1): TypeError: Cannot read properties of undefined" in text
    assert "> 3 | total = first.missing.value" in text
    assert "locals when it failed (thrown at line 3; after any finally blocks ran)" in text and "total = 0" in text.replace("  ", "")
    assert "locals, as saved at the last await" not in text  # the locals where it threw say more
    assert "waiting for" not in text


def test_a_failed_runs_locals_leave_out_the_try_blocks_variables_the_catch_cannot_see(env):
    client, db_url, _ = env
    run_id = started(client, "try_scope", until=("failed",))
    failure = json.loads(inspect(db_url, run_id, "--json"))["failure"]
    assert failure["line"] == 7
    assert [x["name"] for x in failure["locals"]] == ["Inputs", "attempts", "e"]  # not `first`, out of scope


def test_json_shape(env):
    client, db_url, _ = env
    run_id = started(client, "approve", {"id": 8})
    report = json.loads(inspect(db_url, run_id, "--json"))
    assert set(report) == {
        "id", "workflow", "version", "newest_version", "is_newest_version", "status", "created_at",
        "updated_at", "finished_at", "cancel_requested_at", "queue", "queued", "activations", "parent", "inputs", "output", "error",
        "file", "state", "line", "source", "locals", "locals_note", "frames", "awaiting", "waiting", "signal_waits",
        "unread_signals", "notes", "history", "failure"}
    assert (report["workflow"], report["status"], report["state"], report["line"]) == ("approve", "suspended", 1, 6)
    assert report["is_newest_version"] is True and report["inputs"] == {"id": 8}
    assert [x["line"] for x in report["source"]] == [3, 4, 5, 6, 7, 8][:5]
    assert [x["line"] for x in report["source"] if x["current"]] == [6]
    by_name = {x["name"]: x for x in report["locals"]}
    assert list(by_name) == ["Inputs", "order", "note", "blob", "deadline"]
    assert by_name["note"]["value"] == {"$": "undefined"} and by_name["note"]["text"] == "undefined"
    assert by_name["deadline"]["value"] == {"$": "promise", "kind": "timer", "key": "0.1", "state": "pending"}
    assert by_name["blob"]["value"] == "x" * 500  # whole in `value`, elided in `text`
    assert by_name["order"]["value"] == {"id": 8.0, "items": ["apple", "pear"], "total": 12.5}
    waits = {w["await_key"]: w for w in report["waiting"]}
    assert waits["1.1"]["kind"] == "signal" and waits["1.1"]["name"] == "approve" and waits["1.1"]["line"] == 6
    assert waits["0.1"]["kind"] == "timer" and 3500 < waits["0.1"]["due_in"] <= 3600
    assert report["signal_waits"] == [{"await_key": "1.1", "name": "approve", "awaited": True}]
    client.get(run_id).signal("approve", {"ok": True})
    wait_for(lambda: client.get(run_id).status() == "completed", what="the run to complete")
    done = json.loads(inspect(db_url, run_id, "--json"))
    assert done["output"] == {"ok": True} and done["waiting"] == [] and done["locals"] == []
    assert "output    {\"ok\": true}" in inspect(db_url, run_id)


def test_child_run_is_shown_with_its_status(env):
    client, db_url, _ = env
    run_id = started(client, "parent_wf")
    text = inspect(db_url, run_id)
    assert f"child  0.1  child run {run_id}/0.1 (child_wf)  suspended  (line 1)" in text
    assert f"scheduled child 'child_wf' (run {run_id}/0.1)" in text  # the history leads to the child
    child = inspect(db_url, f"{run_id}/0.1")
    assert f"parent    {run_id} (its await 0.1)" in child and "signal 0.1  signal 'go'" in child


def test_old_version_inspects_with_its_own_source(env):
    client, db_url, _ = env
    store = client.store
    v1 = compile_source(EVOLVING_V1, "evolving.flow")
    store.register_version("evolving", v1.version, EVOLVING_V1, v1.code, module_hash(v1.code))
    old = started(client, "evolving")
    time.sleep(0.01)  # the newest version is the one registered last
    v2 = compile_source(EVOLVING_V2, "evolving.flow")
    store.register_version("evolving", v2.version, EVOLVING_V2, v2.code, module_hash(v2.code))
    new = started(client, "evolving")
    old_text, new_text = inspect(db_url, old), inspect(db_url, new)
    assert f"version   {v1.version} (not the newest: new runs use {v2.version})" in old_text
    assert '> 2 | const a = await Signal.next("next")' in old_text and "// version one" in old_text
    assert f"version   {v2.version} (newest)" in new_text
    assert '> 3 | const b = await Signal.next("next")' in new_text and "x = 1" in new_text
    # graph --run uses the run's own version, not the newest
    graph = cli(graph_cmd, "evolving", "--run", old, "--database-url", db_url)
    assert graph.exit_code == 0 and "version one" not in graph.stdout
    assert 'line 2: const a = await Signal.next(#quot;next#quot;)' in graph.stdout


def test_cancelled_and_pending_runs(env):
    client, db_url, _ = env
    run_id = started(client, "approve", {"id": 10})
    client.get(run_id).cancel(force=True)
    text = inspect(db_url, run_id)
    assert "cancelled while suspended at approve.flow:6 (state 1)" in text and "> 6 |" in text
    assert "waiting for" not in text
    version = compile_source(FLOWS["approve"], "approve.flow")
    row = {"name": "approve", "version": version.version, "source": FLOWS["approve"],
           "module_code": version.code, "module_hash": "tampered"}
    run = {"id": "r", "workflow_name": "approve", "version": version.version, "status": "pending", "inputs": {},
           "output": None, "error": None, "snapshot": None, "parent_run_id": None, "parent_await_key": None,
           "activations": 0, "inbox": {}, "waiting": [], "signal_waits": [], "created_at": None,
           "updated_at": None, "finished_at": None, "cancel_requested_at": None, "queue": None, "queued": False}
    report = _report(run, row, row, [], [], [], [], False)
    assert report["state"] is None and report["locals"] == [] and report["source"] == []
    assert report["notes"] == ["the stored module code does not match its hash; line numbers come from "
                               "compiling the stored source again"]
    assert "not started yet" in render_report(report)
    queued = _report({**run, "queue": "onboarding", "queued": True}, row, row, [], [], [], [], False)
    assert "queued on onboarding: it starts when the queue's limits admit it" in render_report(queued)


def test_unknown_run_exits_1(env):
    _, db_url, _ = env
    result = cli(inspect_cmd, "no-such-run", "--database-url", db_url)
    assert result.exit_code == 1 and result.stdout == ""
    assert "error: no run with id 'no-such-run'" in result.stderr


# -- graph --------------------------------------------------------------------------------------


def test_graph_of_a_flow_file_has_every_state_and_edge(env):
    _, _, root = env
    machine = compile_source(FLOWS["branchy"], "branchy.flow").machine
    result = cli(graph_cmd, str(root / "branchy.flow"))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("flowchart TD\n")
    for st in machine.states:
        assert f'    s{st.id}["state {st.id} · line {st.line}: ' in text
    kinds = {k for _, _, k in machine.edges()}
    assert {"true", "false", "await", "catch", "jump"} <= kinds
    arrows = {"true": "-->|true|", "false": "-->|false|", "await": "==>|await|", "catch": "-.->|catch|",
              "jump": "-->", "next": "-->", "finally": "-.->|finally|"}
    for a, b, kind in machine.edges():
        assert f"    s{a} {arrows[kind]} s{b}\n" in text
    assert "class s" not in text  # no run, no highlight
    dot = cli(graph_cmd, str(root / "branchy.flow"), "--format", "dot").stdout
    assert dot.startswith('digraph "branchy" {')
    for a, b, kind in machine.edges():
        assert f"    s{a} -> s{b}" in dot


def test_graph_draws_no_edge_out_of_a_return_or_a_throw() -> None:
    source = """\
const a = await Task.run("x", {})
try {
  await Task.run("y", {})
  throw new Error("boom")
} catch (e) {
  await Task.run("z", {})
}
if (a.stop) {
  await Timer.delay(1)
  return "early"
}
await Signal.next("go")
return "late"
"""
    compiled = compile_source(source, "exits.flow")
    machine = compiled.machine
    ends = {st.id: st.line for st in machine.states if st.exits}
    assert sorted(ends.values()) == [3, 9, 12]  # the states whose code throws (line 4) or returns (10, 13)
    assert [(a, b, kind) for a, b, kind in machine.edges() if a in ends and kind == "next"] == []
    assert "return _js.UNDEFINED" not in compiled.code  # the body ends in its own return


def test_graph_run_highlights_the_current_state(env):
    client, db_url, _ = env
    run_id = started(client, "approve", {"id": 9})
    mermaid = cli(graph_cmd, "approve", "--run", run_id, "--database-url", db_url).stdout
    assert 's1["state 1 · line 6: const decision = await Promise.race([Signal.next(#quot;approve#quot;), deadline])"]' \
        in mermaid
    assert "    s0 ==>|await| s1\n" in mermaid
    assert mermaid.rstrip().endswith("class s1 current")
    dot = cli(graph_cmd, "approve", "--run", run_id, "--format", "dot", "--database-url", db_url).stdout
    assert 's1 [label="state 1 · line 6: const decision = await Promise.race([Signal.next(\\"approve\\"), ' \
           'deadline])", style="filled,bold"' in dot
    assert 's0 [label="state 0 · line 2: let order = { id: Inputs.id, items: [\\"apple\\", \\"pear\\"], total: 12.5 }", ' \
           'style=filled, fillcolor="#dbeafe"];' in dot  # the path taken so far
    unknown = cli(graph_cmd, "nope", "--database-url", db_url)
    assert unknown.exit_code == 1 and "unknown workflow 'nope'" in unknown.stderr
    wrong = cli(graph_cmd, "flaky", "--run", run_id, "--database-url", db_url)
    assert wrong.exit_code == 1 and "is a run of workflow 'approve', not 'flaky'" in wrong.stderr


def test_graph_of_a_broken_flow_file_reports_the_diagnostic(tmp_path: Path):
    bad = tmp_path / "bad.flow"
    bad.write_text("let x = await Task.rn(\"a\")\n", encoding="utf-8")
    result = cli(graph_cmd, str(bad))
    assert result.exit_code == 1 and "bad.flow:1:" in result.stderr and result.stdout == ""


# -- pure parts ---------------------------------------------------------------------------------


def test_the_rhythm_command_has_inspect_and_graph():
    assert rhythm_main.commands["inspect"] is inspect_cmd and rhythm_main.commands["graph"] is graph_cmd


def test_show_value():
    cyclic: dict = {"a": 1.0}
    cyclic["self"] = cyclic
    p = _js.Promise("all", None, [_js.Promise("task", "3.1"), _js.Promise("race", None, [_js.Promise("timer", "4.1"), 2.0])])
    assert show_value(_js.UNDEFINED) == "undefined"
    assert show_value([1.0, 2.5, -0.0, float("nan"), float("inf"), None, True]) == "[1, 2.5, -0, NaN, Infinity, null, true]"
    assert show_value(_js.Promise("task", "3.1")) == "<promise task 3.1>"
    assert show_value(p) == "<promise all [task 3.1, race [timer 4.1, 2]]>"
    assert show_value(cyclic) == '{"a": 1, "self": [Circular]}'
    assert show_value(_js.JSError("TypeError", "bad", {"code": 5.0})) == '<TypeError: bad {"code": 5}>'
    assert show_value({"2": "b", "1": "a", "z": [1.0]}) == '{"1": "a", "2": "b", "z": [1]}'
    long = {"key": "v" * 30, "other": ["x", "y"], "n": 3.0}
    assert show_value(long) == '{\n  "key": "' + "v" * 30 + '",\n  "other": [\n    "x",\n    "y"\n  ],\n  "n": 3\n}'
    big = list(range(200))
    assert show_value([float(i) for i in big]).endswith("… (890 characters; --full shows all)")
    assert "\n" in show_value([float(i) for i in big], full=True)


def test_source_excerpt_edges():
    src = "a\nb\nc\n"
    assert [x["line"] for x in source_excerpt(src, 1)] == [1, 2, 3]
    assert source_excerpt(src, 0) == [] and source_excerpt(src, 9) == [] and source_excerpt(src, None) == []


def test_graph_builder_dedupes_and_escapes():
    machine = compile_source('const a = await Task.run("x<y>", {})\nreturn a\n', "g.flow").machine
    graph = build_graph(machine, 'const a = await Task.run("x<y>", {})\nreturn a\n', current=0)
    assert len(graph.edges) == len(set(graph.edges))
    assert "#lt;y#gt;" in to_mermaid(graph) and "class s0 current" in to_mermaid(graph)
    assert '\\"x<y>\\"' in to_dot(graph)


def test_graph_shows_where_a_finally_goes_on_to():
    from rhythm_compiler.ir import EndFinally
    from rhythm_runtime.inspection.graph import to_svg

    source = """\
const log = []
try {
  log.push(await Task.run("echo", "in-try"))
} finally {
  log.push(await Task.run("echo", "in-finally"))
}
return log
"""
    machine = compile_source(source, "fin.flow").machine
    end = next(st.id for st in machine.states if any(isinstance(op, EndFinally) for op in st.ops))
    after = machine.try_entries[0].after.id()
    assert (end, after, "after finally") in machine.edges()
    reached, todo = {0}, [0]
    while todo:
        here = todo.pop()
        for a, b, _kind in machine.edges():
            if a == here and b not in reached:
                reached.add(b)
                todo.append(b)
    assert reached == {st.id for st in machine.states}  # the return is reachable
    graph = build_graph(machine, source)
    assert f"    s{end} -.->|after finally| s{after}\n" in to_mermaid(graph)
    assert f's{end} -> s{after} [label="after finally", style=dotted' in to_dot(graph)
    assert ">after finally</text>" in to_svg(graph)
    # awaits are purple, not the blue the dashboard uses for the states a run went through
    awaits = ",".join(str(i) for i, (_a, _b, kind) in enumerate(graph.edges) if kind == "await")
    assert f"    linkStyle {awaits} stroke:#7c3aed" in to_mermaid(graph)
    assert 'label="await", style=bold, color="#7c3aed"' in to_dot(graph)
    svg = to_svg(graph)
    assert 'stroke="#7c3aed"' in svg and 'stroke="#1d4ed8"' not in svg

    # a break through two finally blocks: the inner one's end goes on to the outer finally, that one's to the target
    nested = """\
let n = 0
outer: while (n < 5) {
  try {
    try {
      n = n + (await Task.run("echo", n))
      if (n > 2) { break outer }
    } finally {
      await Timer.delay(1)
    }
  } finally {
    await Timer.delay(2)
  }
}
return n
"""
    machine = compile_source(nested, "nested.flow").machine
    ends = {op.index: st.id for st in machine.states for op in st.ops if isinstance(op, EndFinally)}
    outer, inner = machine.try_entries
    exit_ = machine.states[-1].id  # return n
    edges = set(machine.edges())
    assert (ends[1], outer.finally_start.id(), "after finally") in edges
    assert (ends[0], exit_, "after finally") in edges
    assert (ends[1], inner.after.id(), "after finally") in edges
    assert (ends[0], outer.after.id(), "after finally") in edges


def test_a_run_suspended_inside_async_functions_shows_each_frame(env):
    """Code shape 6: each async function in flight, where it waits, its own locals and what it captured."""
    client, db_url, _ = env
    run_id = started(client, "lanes")
    client.get(run_id).signal("left", "a")
    wait_for(lambda: '"a"' in inspect(db_url, run_id), what="the left lane to take its first signal")
    report = json.loads(inspect(db_url, run_id, "--json"))
    frames = sorted(report["frames"], key=lambda f: f["id"])
    assert [(f["function"], f["line"]) for f in frames] == [("lane", 5), ("lane", 5)]
    counts = [{x["name"]: x["text"] for x in f["locals"]}.get("count") for f in frames]
    assert sorted(counts) == ["0", "1"]
    assert all(f["awaiting"].startswith("signal") for f in frames)
    text = inspect(db_url, run_id)
    assert "async functions in flight" in text
    assert text.count(" lane at lanes.flow:5 ") == 2
    client.get(run_id).signal("left", "b")
    for msg in "xyz":
        client.get(run_id).signal("right", msg)
    assert client.get(run_id).result(timeout=20) == {"totals": [2, 3], "seen": ["a", "b", "x", "y", "z"]}
