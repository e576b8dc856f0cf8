"""docs/LANGUAGE.md keeps its promise: every example compiles and gives the result it shows.

Each ```js block is a complete workflow. The value after its last `// →` is
the expected result (itself a JavaScript expression, evaluated by Rhythm);
`// ✗ compile error: …` lines must each be a diagnostic of that block, and a
`// ✗ Name: message` (or just `// ✗ Name`) block must fail with that error. An HTML comment
`<!-- test: {...} -->` before a block gives its inputs, its signals, or names it
as a child workflow that later examples start; `table` marks a table whose
rows are `example | result` pairs. The tasks are the doc's own ```py block.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rhythm_compiler import CompileError, compile_source
from rhythm_compiler.diagnostics import render_all
from rhythm_runtime.api.tasks import REGISTRY
from rhythm_runtime.api.testing import run_workflow

DOC = Path(__file__).resolve().parents[1] / "docs" / "LANGUAGE.md"
MARKER = re.compile(r"^<!-- test: (\{.*\}) -->$")
FENCE = re.compile(r"^(`{3,})(\w*)$")


def _blocks(text: str) -> list[dict]:
    """The doc's fenced blocks and tables, each with its line, language and marker options."""
    lines, out, options, i = text.splitlines(), [], {}, 0
    while i < len(lines):
        line = lines[i]
        marker, fence = MARKER.match(line), FENCE.match(line)
        if marker:
            options = json.loads(marker.group(1))
        elif fence and fence.group(2):
            end = next(j for j in range(i + 1, len(lines)) if lines[j] == fence.group(1))
            out.append({"line": i + 1, "lang": fence.group(2), "body": "\n".join(lines[i + 1:end]), **options})
            options, i = {}, end
        elif options.get("table") and line.startswith("|"):
            end = next((j for j in range(i, len(lines)) if not lines[j].startswith("|")), len(lines))
            out.append({"line": i + 1, "lang": "table", "body": "\n".join(lines[i:end]), **options})
            options, i = {}, end
        i += 1
    return out


BLOCKS = _blocks(DOC.read_text(encoding="utf-8"))
EXAMPLES = [b for b in BLOCKS if b["lang"] == "js"]
TABLES = [b for b in BLOCKS if b["lang"] == "table"]
CHILDREN = {b["child"]: b["body"] for b in EXAMPLES if "child" in b}


def _tasks() -> dict:
    """The doc's tasks: exec its first ```py block (it registers them with @task)."""
    code = next(b["body"] for b in BLOCKS if b["lang"] == "py" and "@task" in b["body"])
    before = set(REGISTRY)
    exec(compile(code, f"{DOC}:tasks", "exec"), {})
    return {name: REGISTRY[name].fn for name in set(REGISTRY) - before or REGISTRY}


TASKS = _tasks()


def _value(expression: str, setup: str = ""):
    """A JavaScript expression's value as Rhythm computes it, as JSON."""
    result = run_workflow(f"{setup}\nreturn ({expression})\n", tasks=TASKS)
    assert result.status == "completed", (expression, result.error)
    return result.output


def _run(body: str, block: dict):
    return run_workflow(body, inputs=block.get("inputs"), tasks=TASKS, workflows=CHILDREN,
                        signals=block.get("signals"))


@pytest.mark.parametrize("block", EXAMPLES, ids=[f"line{b['line']}" for b in EXAMPLES])
def test_example(block):
    body = block["body"]
    if "child" in block:  # started by the examples after it, with their inputs
        compile_source(body, f"{block['child']}.flow")
        return
    wanted = re.findall(r"// ✗ compile error: (.*)$", body, re.M)
    if wanted:
        with pytest.raises(CompileError) as caught:
            _run(body, block)
        shown = render_all(caught.value.diagnostics, caught.value.source, False)
        for message in wanted:
            assert message.strip().rstrip(".") in shown, (message, shown)
        return
    result = _run(body, block)
    failure = re.findall(r"// ✗ (\w+)(?:: (.*))?$", body, re.M)
    arrows = re.findall(r"// → (.*)$", body, re.M)
    if failure:
        name, message = failure[-1]
        assert result.status == "failed", result
        assert result.error["type"] == name, result.error
        assert not message or result.error["message"] == message.strip(), result.error
    elif arrows:
        assert result.status == "completed", result.error
        assert result.output == _value(arrows[-1].strip()), (result.output, arrows[-1])
    else:
        assert result.status in ("completed", "suspended"), result.error


def _rows(table: dict) -> list[tuple[str, str]]:
    rows = []
    for line in table["body"].splitlines()[2:]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        example, result = cells[-2], cells[-1]
        rows.append((example.strip("`"), result.strip("`")))
    return rows


TABLE_ROWS = [(t, example, result) for t in TABLES for example, result in _rows(t)]


@pytest.mark.parametrize("table,example,result", TABLE_ROWS,
                         ids=[f"line{t['line']}:{e[:40]}" for t, e, _ in TABLE_ROWS])
def test_table_row(table, example, result):
    setup = table.get("setup", "")
    assert _value(example, setup) == _value(result, setup)
