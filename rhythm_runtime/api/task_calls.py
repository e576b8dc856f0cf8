"""The task names a workflow calls, checked against the registered ones at a worker's start.

A run that calls a task no worker serves waits for one (another service may
deploy it later), so a typo in a `Task.run` name would wait forever in
silence. Workers check their workflows' literal `Task.run("name")` calls at
start-up and warn about names nobody has registered, with a "did you mean".
The names are read from the generated module with Python's `ast` (every
`Task.run` becomes a `Frame.task(site, name, payload)` call, and `SITES`
gives the site's `.flow` line), which costs milliseconds; parsing the `.flow`
source again would build the compiler's parser, about a second per process.
"""

from __future__ import annotations

import ast
import difflib


def task_calls(code: str, sites: dict) -> list[tuple[str, int]]:
    """(name, .flow line) of every `Task.run("literal", …)` in a generated module, in line order."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "task"
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            site = sites.get(node.args[0].value)
            found.append((node.args[1].value, site[1] if site else 0))
    return sorted(found, key=lambda x: x[1])


def did_you_mean(name: str, known) -> str:
    """` (did you mean 'send-email'?)` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_task_calls(workflows: dict, known: set[str]) -> list[str]:
    """A warning per `Task.run` name in these workflows (LoadedWorkflow by name) that `known` lacks."""
    warnings = []
    for wf in workflows.values():
        for name, line in task_calls(wf.code, getattr(wf.module, "SITES", {})):
            if name not in known:
                warnings.append(f"workflow {wf.name!r} calls Task.run({name!r}) at {wf.name}.flow:{line}, a task no "
                                f"worker has registered{did_you_mean(name, known)}; its runs will wait there until "
                                f"a worker with that @task starts")
    return warnings
