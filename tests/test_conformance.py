"""Conformance: every program under tests/conformance/programs must behave in
Rhythm exactly as it does in Node.

Expected results live in tests/conformance/expected.json and come from
running tests/conformance/harness.js (Node is the judge; regenerate with
`python tests/conformance/regen.py`, never edit by hand). Each program runs
through rhythm_runtime.api.testing.run_workflow with the standard tasks of
tests/conformance/tasks.py, the child workflows of tests/conformance/children
and the inputs/signals of its header comments.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance import support, tasks  # tests/conformance, next to this file

PROGRAMS = support.program_paths()
PROGRAM_IDS = [support.program_key(p) for p in PROGRAMS]
EXPECTED = support.load_expected()


def _js_value(value: Any) -> Any:
    """Normalize a JSON value for comparison: numbers compare as doubles."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [_js_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _js_value(v) for k, v in value.items()}
    return value  # not JSON: left as is so that the comparison fails visibly


def _show(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _error_dict(error: Any) -> dict | None:
    if error is None:
        return None
    if isinstance(error, dict):
        return {"message": error.get("message"), "type": error.get("type")}
    return {"message": getattr(error, "message", None), "type": getattr(error, "type", None)}


@pytest.mark.parametrize("program", PROGRAMS, ids=PROGRAM_IDS)
def test_program(program: Path) -> None:
    from rhythm_runtime.api.testing import run_workflow

    key = support.program_key(program)
    assert key in EXPECTED, f"{key} has no expectation: run python tests/conformance/regen.py"
    expected = EXPECTED[key]
    source = program.read_text(encoding="utf-8")
    inputs, signals = support.parse_header(source)

    # A CompileError propagates and fails the test with its diagnostics.
    result = run_workflow(
        source,
        inputs=inputs,
        tasks=tasks.make_tasks(),
        workflows=support.child_workflows(),
        signals=signals,
    )

    actual: dict[str, Any] = {"status": result.status}
    if result.status == "completed":
        actual["output"] = result.output
    elif result.status == "failed":
        actual["error"] = _error_dict(result.error)

    context = f"\n--- {key}\n{source}\n--- expected (Node)\n{_show(expected)}\n--- actual (Rhythm)\n{_show(actual)}"
    assert result.status == expected["status"], context
    if expected["status"] == "completed":
        assert _js_value(result.output) == _js_value(expected["output"]), context
    elif expected["status"] == "failed":
        assert actual["error"] == expected["error"], context


_WORKFLOW_RUN = re.compile(r"""Workflow\.run\(\s*["']([A-Za-z0-9_]+)["']""")


def test_expectations_are_current() -> None:
    """expected.json matches the programs (and, with node, what Node says now)."""
    keys = set(PROGRAM_IDS)
    assert len(keys) >= 260, f"only {len(keys)} conformance programs"
    missing = sorted(keys - set(EXPECTED))
    extra = sorted(set(EXPECTED) - keys)
    assert not missing, f"programs without an expectation (run regen.py): {missing}"
    assert not extra, f"expectations without a program (run regen.py): {extra}"

    for key, result in EXPECTED.items():
        status = result.get("status")
        assert status in ("completed", "failed", "suspended"), (key, result)
        if status == "completed":
            assert set(result) == {"status", "output"}, (key, result)
        elif status == "failed":
            assert set(result) == {"status", "error"}, (key, result)
            assert set(result["error"]) == {"message", "type"}, (key, result)
            assert isinstance(result["error"]["message"], str), (key, result)
            assert isinstance(result["error"]["type"], str), (key, result)
        else:
            assert set(result) == {"status"}, (key, result)

    # Every program's header parses and every child workflow it names exists.
    children = support.child_workflows()
    for path in PROGRAMS + list(children.values()):
        text = path.read_text(encoding="utf-8")
        inputs, signals = support.parse_header(text)
        assert all(isinstance(name, str) for name, _ in signals), path
        for name in _WORKFLOW_RUN.findall(text):
            assert name in children, f"{path}: no child workflow {name!r} in {support.CHILDREN}"

    # Both task implementations expose the same names.
    js_names = set(re.findall(r"^    (\w+): \(p\) =>", support.HARNESS.read_text(encoding="utf-8"), re.M))
    assert js_names == set(tasks.make_tasks()), (js_names, set(tasks.make_tasks()))

    node = support.node_executable()
    if node is None:
        return  # the structural checks above still ran
    actual = support.run_harness(PROGRAMS, node=node)
    stale = sorted(k for k in keys if actual.get(k) != EXPECTED.get(k))
    details = "\n".join(
        f"{k}:\n  committed: {json.dumps(EXPECTED.get(k))}\n  node now:  {json.dumps(actual.get(k))}" for k in stale[:20]
    )
    assert not stale, f"expected.json is stale for {len(stale)} program(s); run python tests/conformance/regen.py\n{details}"


def test_python_tasks_match_js_tasks() -> None:
    """The Python standard tasks give the same results as the JS ones."""
    node = support.node_executable()
    cases = [
        ("echo", {"a": [1, 2.5, None, "x"]}),
        ("add", {"a": 1, "b": 2}),
        ("add", {"a": 0.1, "b": 0.2}),
        ("add", {"a": "x", "b": 1.5}),
        ("double", 21),
        ("double", 0.75),
        ("upper", "straße"),
        ("concat", ["a", "b", None, "c"]),
        ("sum", [1, 2, 3.5]),
        ("sum", []),
        ("divide", {"a": 7, "b": 2}),
        ("divide", {"a": 6, "b": 2}),
        ("divide", {"a": 1, "b": 0}),
        ("fail", {"message": "boom"}),
        ("fail", None),
        ("fail_if", {"fail": True, "value": [1, 2.5, None]}),
        ("fail_if", {"fail": 0, "value": "kept"}),
        ("fail_if", {"fail": "", "value": 1e21}),
        ("fail_if", {"fail": {}, "value": 1e-7}),
        ("make_user", {"id": 4}),
        ("nothing", {}),
    ]
    py = []
    for name, payload in cases:
        try:
            py.append({"ok": tasks.make_tasks()[name](json.loads(json.dumps(payload)))})
        except Exception as exc:  # noqa: BLE001 - a task failure is data here
            py.append({"error": str(exc)})
    assert py[2] == {"ok": 0.30000000000000004}
    assert py[15] == {"error": "failed: 1,2.5,"}
    if node is None:
        return
    script = (
        "const {makeTasks} = require(process.argv[1]);"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = cases.map(([n, p]) => { try { const r = makeTasks(new Map())[n](p);"
        " return {ok: r === undefined ? null : r}; } catch (e) { return {error: e.message}; } });"
        "process.stdout.write(JSON.stringify(out));"
    )
    import subprocess

    proc = subprocess.run(
        [node, "-e", script, str(support.HARNESS)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    js = json.loads(proc.stdout)
    assert [_js_value(x) for x in py] == [_js_value(x) for x in js]

    # The key-value store is shared by one make_tasks() and fresh for the next.
    t = tasks.make_tasks()
    t["kv_append"]({"key": "log", "value": 1})
    assert t["kv_append"]({"key": "log", "value": 2}) == 2
    assert t["kv_get"]({"key": "log"}) == [1, 2]
    assert t["kv_set"]({"key": "k", "value": "v"}) is None
    assert t["kv_set"]({"key": "k", "value": "w"}) == "v"
    assert tasks.make_tasks()["kv_get"]({"key": "log"}) is None
