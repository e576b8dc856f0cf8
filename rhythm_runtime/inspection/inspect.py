"""Read-only views of a run for people: where it stopped, its locals, what it waits for.

`rhythm inspect` and `rhythm graph` are built on this module. It reads
Postgres with its own named queries (below), inside one REPEATABLE READ READ
ONLY transaction, so every part of a report comes from the same moment and
nothing is ever written. It never executes stored module code: the tables it
needs (STATE_LINES, SITES, SOURCE_FILE) are plain literals, read with `ast`
from the stored module after checking its hash; when that is impossible the
stored `.flow` source is compiled again.

`inspect_run` returns a plain JSON-ready dict (the `--json` output, a stable
shape); `render_report` turns it into the human text.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.rows import dict_row

from rhythm_compiler import block_scopes
from rhythm_runtime.api.task_calls import did_you_mean
from rhythm_runtime.execution import values as _js
from rhythm_runtime.storage.db import connect, parse_queries, storage_errors
from rhythm_runtime.errors import RhythmError
from rhythm_runtime.execution.machine import DONE, leaf_keys
from rhythm_runtime.execution.modules import module_hash
from rhythm_runtime.storage.queries import child_run_id
from rhythm_runtime.storage.store import RunNotFound

# Long values are cut to about this many characters unless --full is given.
ELIDE_AT = 200
# Values whose one-line text is longer than this are pretty-printed over several lines.
ONE_LINE_AT = 60
# Lines of source shown before and after the marked line.
CONTEXT_LINES = 3
# History steps a report includes (the newest), and how many of them the text shows.
HISTORY_STEPS = 200
HISTORY_SHOWN = 20
FINAL = ("completed", "failed", "cancelled")

_QUERIES = parse_queries("""
-- name: run
-- Everything about one run that a report shows.
SELECT id, workflow_name, version, status, inputs, output, error, snapshot, failure,
       parent_run_id, parent_await_key, attempts, activations, inbox, waiting,
       signal_waits, created_at, updated_at, finished_at, available_at, cancel_requested_at, queue,
       (status = 'pending' AND queue IS NOT NULL AND admitted_at IS NULL) AS queued
FROM rhythm.runs WHERE id = %(id)s;

-- name: version
-- One registered workflow version, with its source and module code.
SELECT name, version, source, module_code, module_hash, created_at
FROM rhythm.workflow_versions WHERE name = %(name)s AND version = %(version)s;

-- name: newest_version
-- The version new runs of a workflow start on (same order as the store's newest_version).
SELECT name, version, source, module_code, module_hash, created_at
FROM rhythm.workflow_versions WHERE name = %(name)s
ORDER BY created_at DESC, version LIMIT 1;

-- name: workflow_names
-- Every registered workflow name, for "unknown workflow" messages.
SELECT DISTINCT name FROM rhythm.workflow_versions ORDER BY name;

-- name: awaited_tasks
-- The task rows behind a run's await keys, with their holder and whether a live worker runs them.
SELECT t.id, t.await_key, t.name, t.queue, t.status, t.attempts, t.max_attempts, t.lost_leases, t.error,
       t.available_at, extract(epoch FROM t.available_at - now()) AS available_in, t.created_at,
       t.lease_owner, t.lease_expires_at, extract(epoch FROM t.lease_expires_at - now()) AS lease_expires_in,
       EXISTS (SELECT 1 FROM rhythm.worker_states AS w
               WHERE w.state = 'live' AND t.name = ANY(w.task_names) AND t.queue = ANY(w.queues)) AS served,
       (SELECT max(coalesce(w.stopped_at, w.heartbeat_at)) FROM rhythm.workers AS w
        WHERE t.name = ANY(w.task_names) AND t.queue = ANY(w.queues)) AS last_served,
       EXISTS (SELECT 1 FROM rhythm.task_registrations AS r WHERE r.name = t.name) AS registered
FROM rhythm.tasks AS t WHERE t.run_id = %(id)s AND t.await_key = ANY(%(keys)s) ORDER BY t.id;

-- name: registered_task_names
-- Every task name some worker registered ("did you mean" for a task nobody has).
SELECT name FROM rhythm.task_registrations ORDER BY name;

-- name: awaited_timers
-- The timer rows behind a run's await keys.
SELECT await_key, due_at, fired_at, extract(epoch FROM due_at - now()) AS due_in
FROM rhythm.timers WHERE run_id = %(id)s AND await_key = ANY(%(keys)s);

-- name: awaited_children
-- The child runs behind a run's await keys.
SELECT id, parent_await_key AS await_key, workflow_name, status, error
FROM rhythm.runs WHERE parent_run_id = %(id)s AND parent_await_key = ANY(%(keys)s);

-- name: history
-- The newest steps of a run's history, oldest first.
SELECT seq, at, details FROM (
    SELECT seq, at, details FROM rhythm.history WHERE run_id = %(id)s ORDER BY seq DESC LIMIT %(limit)s
) AS newest ORDER BY seq;

-- name: unread_signals
-- Signals sent to a run that no Signal.next has taken yet, per name, oldest name first.
SELECT name, count(*) AS n FROM rhythm.signals
WHERE run_id = %(id)s AND consumed_by IS NULL
GROUP BY name ORDER BY min(seq);
""")


class UnknownWorkflowVersion(RhythmError):
    """A workflow (or one version of it) that was never registered."""


# -- reading Postgres -----------------------------------------------------------------------


def _read(conninfo: str):
    """A connection whose one transaction sees a single consistent snapshot and cannot write."""
    conn = connect(conninfo, row_factory=dict_row)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _fetch_version(conn, name: str, version: str | None) -> dict:
    if version is None:
        row = conn.execute(_QUERIES["newest_version"], dict(name=name)).fetchone()
    else:
        row = conn.execute(_QUERIES["version"], dict(name=name, version=version)).fetchone()
    if row is None:
        if version is not None:
            raise UnknownWorkflowVersion(f"workflow {name!r} version {version} is not registered")
        known = [r["name"] for r in conn.execute(_QUERIES["workflow_names"]).fetchall()]
        raise UnknownWorkflowVersion(f"unknown workflow {name!r}; registered workflows: "
                                     f"{', '.join(known) or 'none'}")
    return row


def workflow_version(conninfo: str, name: str, version: str | None = None) -> dict:
    """A registered version's row (name, version, source, module_code, …); the newest when version is None."""
    with _read(conninfo) as conn, storage_errors(conninfo):
        return _fetch_version(conn, name, version)


def run_position(conninfo: str, run_id: str) -> dict:
    """Where a run is: {workflow, version, status, state, visited}; state is None when it has none to show,
    visited holds the states its (kept) step history went through on its current version."""
    with _read(conninfo) as conn, storage_errors(conninfo):
        row = conn.execute(_QUERIES["run"], dict(id=run_id)).fetchone()
        history = conn.execute(_QUERIES["history"], dict(id=run_id, limit=HISTORY_STEPS)).fetchall()
    if row is None:
        raise RunNotFound(f"no run with id {run_id!r}")
    return {"workflow": row["workflow_name"], "version": row["version"], "status": row["status"],
            "state": _current_state(row),
            "visited": visited_states([{**h["details"], "states": _step_states(h["details"])} for h in history])}


def _current_state(row: dict) -> int | None:
    """The state a run resumes at (suspended) or failed in; None when finished or never run."""
    if row["status"] == "failed":
        state = (row["error"] or {}).get("state")
        return state if isinstance(state, int) else None
    if row["status"] == "completed" or row["snapshot"] is None:
        return None
    return row["snapshot"]["state"]


# -- the module's tables, without running its code ---------------------------------------------


@dataclass
class Tables:
    """What a report needs from a compiled module: state -> line, await site -> (kind, line)."""

    source_file: str
    state_lines: dict[int, int]
    sites: dict[int, tuple[str, int]]
    note: str | None = None  # why these came from a recompile instead of the stored module
    # function id -> (name, .flow line, kind, first state, parameter count) (code shape 6 on)
    functions: dict[int, tuple] = field(default_factory=dict)


_TABLE_NAMES = {"SOURCE_FILE", "STATE_LINES", "SITES", "FUNCTION_INFO"}


def module_tables(version_row: dict) -> Tables:
    """The tables of a registered version, read as literals from its (hash-checked) module code."""
    name, code = version_row["name"], version_row["module_code"]
    if module_hash(code) != version_row["module_hash"]:
        return _recompiled(version_row, "the stored module code does not match its hash")
    try:
        found = _literals(code)
        return Tables(found["SOURCE_FILE"], dict(found["STATE_LINES"]),
                      {k: (v[0], v[1]) for k, v in found["SITES"].items()}, None,
                      dict(found.get("FUNCTION_INFO", {})))
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError):
        return _recompiled(version_row, f"the stored module of {name!r} has no readable state tables")


def _literals(code: str) -> dict:
    found = {}
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in _TABLE_NAMES:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def _recompiled(version_row: dict, why: str) -> Tables:
    from rhythm_compiler import compile_source

    name = version_row["name"]
    module = compile_source(version_row["source"], f"{name}.flow", name=name, fmt=False).module
    return Tables(f"{name}.flow", {st.id: st.line for st in module.states},
                  {s.id: (s.kind, s.line) for s in module.sites},
                  f"{why}; line numbers come from compiling the stored source again",
                  {f.fid: (f.name, f.line, f.kind, f.first_state, f.params) for f in module.functions})


# -- values as text ---------------------------------------------------------------------------


def show_value(value, full: bool = False) -> str:
    """A workflow value as pretty JSON-like text: `undefined`, `<promise task 3.1>`, errors, cycles.

    Long values are cut to about ELIDE_AT characters (one line) unless `full`.
    """
    compact = _text(value, None, 0, set())
    text = compact if len(compact) <= ONE_LINE_AT else _text(value, 0, 0, set())
    if full or len(text) <= ELIDE_AT:
        return text
    return f"{compact[:ELIDE_AT]}… ({len(compact):,} characters; --full shows all)"


def _quote(s: str) -> str:
    try:
        text = json.dumps(s, ensure_ascii=False)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate: escape it rather than fail to print
        return json.dumps(s)


def _text(v, indent: int | None, depth: int, open_: set) -> str:
    t = type(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is float:
        return "-0" if v == 0 and math.copysign(1.0, v) < 0 else _js.number_to_string(v)
    if t is int:
        return str(v)
    if t is str:
        return _quote(v)
    if v is _js.UNDEFINED:
        return "undefined"
    if t is _js.Promise:
        return f"<promise {_promise_text(v, open_)}>"
    if t is _js.JSFunction:
        return f"<function {v.name}>"
    if t is _js.JSClosure:
        return f"<function f{v.fid}>"
    if t is _js.JSError:
        extra = f" {_text(v.props, None, depth, open_)}" if v.props else ""
        return f"<{v.name}: {v.message}{extra}>" if v.message else f"<{v.name}{extra}>"
    if t is _js.JSRegExp:
        return _js.to_string(v)
    if t is _js.JSDate:
        return f"Date({_js.to_json_value(v) or 'Invalid Date'})"
    if t is _js.MatchArray:
        t, v = list, list(v)
    if t is _js.JSMap or t is _js.JSSet:
        return _collection_text(v, indent, depth, open_)
    if t is not list and t is not dict and t is not _js.Env:
        return f"<{t.__name__}>"
    if id(v) in open_:
        return "[Circular]"
    open_.add(id(v))
    try:
        if t is list:
            items = [_text(x, indent, depth + 1, open_) for x in v]
            opening, closing = "[", "]"
        else:
            keys = _js.own_keys(v) if t is dict else list(v)
            items = [f"{_quote(k)}: {_text(v[k], indent, depth + 1, open_)}" for k in keys]
            opening, closing = "{", "}"
    finally:
        open_.discard(id(v))
    if not items:
        return opening + closing
    if indent is None:
        return opening + ", ".join(items) + closing
    pad = "  " * (depth + 1)
    return opening + "\n" + ",\n".join(pad + x for x in items) + "\n" + "  " * depth + closing


def _collection_text(c, indent: int | None, depth: int, open_: set) -> str:
    """`Map(2) {"a" => 1, "b" => 2}` and `Set(2) {1, 2}`, as Node shows them."""
    if id(c) in open_:
        return "[Circular]"
    open_.add(id(c))
    try:
        if type(c) is _js.JSMap:
            items = [f"{_text(k, indent, depth + 1, open_)} => {_text(x, indent, depth + 1, open_)}"
                     for k, x in c.data.values()]
        else:
            items = [_text(cell[0], indent, depth + 1, open_) for cell in c.data.values()]
    finally:
        open_.discard(id(c))
    head = f"{'Map' if type(c) is _js.JSMap else 'Set'}({len(items)}) "
    if not items:
        return head + "{}"
    if indent is None:
        return head + "{" + ", ".join(items) + "}"
    pad = "  " * (depth + 1)
    return head + "{\n" + ",\n".join(pad + x for x in items) + "\n" + "  " * depth + "}"


def _promise_text(p, open_: set) -> str:
    if p.state in ("fulfilled", "rejected"):
        return f"{p.kind} {p.key + ' ' if p.key else ''}{p.state}"
    if p.key is not None:
        return f"{p.kind} {p.key}"
    if p.items is None:
        return p.kind
    parts = [_promise_text(x, open_) if isinstance(x, _js.Promise) else _text(x, None, 0, open_)
             for x in p.items or ()]
    return f"{p.kind} [{', '.join(parts)}]"


def awaiting_text(p) -> str | None:
    """What a run's awaited value is, e.g. `race [signal 1.1, timer 0.1]`."""
    return _promise_text(p, set()) if isinstance(p, _js.Promise) else None


def _leaf_kinds(p, out: dict) -> dict:
    if isinstance(p, _js.Promise):
        if p.key is not None:
            out[p.key] = p.kind
        for item in p.items or ():
            _leaf_kinds(item, out)
    return out


# -- source excerpts --------------------------------------------------------------------------


def source_excerpt(source: str, line: int | None, context: int = CONTEXT_LINES) -> list[dict]:
    """The lines around `line` (1-based): [{"line", "text", "current"}]; [] when line is unknown."""
    lines = source.splitlines()
    if not line or not 1 <= line <= len(lines):
        return []
    first, last = max(1, line - context), min(len(lines), line + context)
    return [{"line": n, "text": lines[n - 1], "current": n == line} for n in range(first, last + 1)]


def format_excerpt(excerpt: list[dict]) -> list[str]:
    width = len(str(excerpt[-1]["line"])) if excerpt else 1
    return [f"{'>' if x['current'] else ' '} {x['line']:>{width}} | {x['text']}".rstrip() for x in excerpt]


# -- the report ---------------------------------------------------------------------------------


def inspect_run(conninfo: str, run_id: str, full: bool = False) -> dict:
    """Everything about one run, as a JSON-ready dict (the shape of `rhythm inspect --json`).

    Keys: id, workflow, version, newest_version, is_newest_version, status,
    created_at, updated_at, finished_at, cancel_requested_at, queue, queued (waiting on its queue), activations, parent, inputs, output,
    error, file, state, line, source, locals, locals_note, awaiting, waiting,
    signal_waits, unread_signals, notes, history (the newest HISTORY_STEPS steps, see
    `_step`), failure (for failed runs: line, state, the locals where it threw,
    the catch and finally blocks the error went through). `locals[i].value` is the value in the
    snapshot encoding (values.encode_snapshot: `{"$": "undefined"}`, promises,
    errors), always whole; `locals[i].text` is the display text, elided unless
    `full`.
    """
    with _read(conninfo) as conn, storage_errors(conninfo):
        run = conn.execute(_QUERIES["run"], dict(id=run_id)).fetchone()
        if run is None:
            raise RunNotFound(f"no run with id {run_id!r}")
        version = _fetch_version(conn, run["workflow_name"], run["version"])
        newest = _fetch_version(conn, run["workflow_name"], None)
        keys = list(run["waiting"] or [])
        tasks = conn.execute(_QUERIES["awaited_tasks"], dict(id=run_id, keys=keys)).fetchall() if keys else []
        if not all(t["registered"] for t in tasks):
            names = [r["name"] for r in conn.execute(_QUERIES["registered_task_names"]).fetchall()]
            tasks = [t if t["registered"] else {**t, "did_you_mean": did_you_mean(t["name"], names)} for t in tasks]
        timers = conn.execute(_QUERIES["awaited_timers"], dict(id=run_id, keys=keys)).fetchall() if keys else []
        children = conn.execute(_QUERIES["awaited_children"], dict(id=run_id, keys=keys)).fetchall() if keys else []
        unread = conn.execute(_QUERIES["unread_signals"], dict(id=run_id)).fetchall()
        history = conn.execute(_QUERIES["history"], dict(id=run_id, limit=HISTORY_STEPS)).fetchall()
    return _report(run, version, newest, tasks, timers, children, unread, full, history)


def _report(run, version, newest, tasks, timers, children, unread, full, history=()) -> dict:
    tables = module_tables(version)
    status = run["status"]
    notes = [tables.note] if tables.note else []
    report: dict[str, Any] = {
        "id": run["id"],
        "workflow": run["workflow_name"],
        "version": run["version"],
        "newest_version": newest["version"],
        "is_newest_version": newest["version"] == run["version"],
        "status": status,
        "created_at": _iso(run["created_at"]),
        "updated_at": _iso(run["updated_at"]),
        "finished_at": _iso(run["finished_at"]),
        "cancel_requested_at": _iso(run["cancel_requested_at"]),
        "queue": run["queue"],
        "queued": run["queued"],
        "activations": run["activations"],
        "parent": ({"run_id": run["parent_run_id"], "await_key": run["parent_await_key"]}
                   if run["parent_run_id"] else None),
        "inputs": run["inputs"],
        "output": run["output"] if status == "completed" else None,
        "error": run["error"],
        "file": tables.source_file,
        "state": None,
        "line": None,
        "source": [],
        "locals": [],
        "locals_note": None,
        "frames": [],
        "awaiting": None,
        "waiting": [],
        "signal_waits": [],
        "unread_signals": {r["name"]: r["n"] for r in unread},
        "notes": notes,
        "history": [_step(h, tables, run["id"]) for h in history],
        "failure": _failure(run, tables, full, version["source"]) if status == "failed" else None,
    }
    snapshot = run["snapshot"]
    data = _js.decode_snapshot(snapshot["data"]) if snapshot is not None else None
    if snapshot is not None:
        state = snapshot["state"]
        report["state"] = state
        report["line"] = tables.state_lines.get(state) if state != DONE else _waited_line(data["W"], tables)
        if status != "completed":
            report["locals"] = _locals(data["L"], full)
            report["frames"] = _frames(data, tables, full)
        if status in FINAL:
            report["locals_note"] = (f"as saved at the last await (state {state}, line {report['line'] or '?'}); "
                                     f"later changes were never saved")
    if status == "failed":
        err = run["error"] or {}
        report["line"] = err.get("line") or None
        report["state"] = err.get("state") if isinstance(err.get("state"), int) else None
    if status in ("suspended", "running", "failed") or (status == "cancelled" and snapshot is not None):
        report["source"] = source_excerpt(version["source"], report["line"])
    if status in FINAL or data is None:
        return report
    report["awaiting"] = awaiting_text(data["W"])
    kinds = _leaf_kinds(data["W"], {})
    for p in data.get("H") or ():
        _leaf_kinds(p, kinds)
    for rec in (data.get("F") or {}).values():
        _leaf_kinds(rec.get("W"), kinds)
    report["waiting"] = _waits(list(run["waiting"] or []), kinds, run, tables, tasks, timers, children)
    awaited = set(run["waiting"] or [])
    report["signal_waits"] = [{"await_key": k, "name": n, "awaited": k in awaited} for k, n in run["signal_waits"]]
    return report


def _step(row: dict, tables: Tables, run_id: str) -> dict:
    """One history step: what an activation (or a retry) did, with states shown as `.flow` lines."""
    d = row["details"]
    step = {"seq": row["seq"], "at": _iso(row["at"]), "kind": d.get("kind", "activation"), "status": d.get("status")}
    if step["kind"] == "retry":
        step.update({k: d.get(k) for k in ("from_version", "to_version", "reissued", "undone")})
        return step
    states = _step_states(d)
    lines = [tables.state_lines.get(st) for st in states if st != DONE] + [d.get("line")]  # where it threw
    step.update({
        "from_state": d.get("from"), "to_state": d.get("to"), "states": states,
        "lines": [x for i, x in enumerate(lines) if x is not None and (i == 0 or x != lines[i - 1])],
        "woke_by": [_await_ref(k, tables) for k in d.get("woke_by", [])],
        "scheduled": [_scheduled(k, kind, what, tables, run_id) for k, kind, what in d.get("scheduled", [])],
        "catches": [_route(c, tables) for c in d.get("catches", [])],
        "ms": d.get("ms"),
    })
    return step


def _scheduled(key: str, kind: str, what, tables: Tables, run_id: str) -> dict:
    """Something an activation scheduled; a child names its run id, so the history leads to it."""
    ref = dict(_await_ref(key, tables, kind), what=what)
    if kind == "child":
        ref["run_id"] = child_run_id(run_id, key)
    return ref


def _step_states(d: dict) -> list[int]:
    """The states an activation went through: where it resumed, the awaits it passed, where it stopped."""
    states = [0 if d.get("from") is None else d["from"], *d.get("trail", [])]
    if d.get("to") is not None and d["to"] != states[-1]:
        states.append(d["to"])
    return states


def _await_ref(key: str, tables: Tables, kind: str | None = None) -> dict:
    site = tables.sites.get(_site(key))
    return {"await_key": key, "kind": kind or (site[0] if site else None), "line": site[1] if site else None}


def _route(c: list, tables: Tables) -> dict:
    """A catch/finally route [from, to, how, message, line thrown at] with both ends as `.flow` lines."""
    frm, to, how, message, thrown_at = c
    return {"how": how, "from_line": thrown_at or tables.state_lines.get(frm), "line": tables.state_lines.get(to),
            "message": message}


def _failure(run: dict, tables: Tables, full: bool, source: str) -> dict:
    """Where a failed run failed: the error's line, the locals in scope there, the catches it went through."""
    err = run["error"] or {}
    f = run["failure"] or {}
    data = f.get("data")
    L = _in_scope(_js.decode_snapshot(data)["L"], source, err.get("line")) if data is not None else {}
    return {"line": err.get("line"), "state": f.get("state", err.get("state")), "type": err.get("type"),
            "message": err.get("message"), "locals": _locals(L, full),
            "catches": [_route(c, tables) for c in f.get("catches", [])]}


def _in_scope(L: dict, source: str, line: int | None) -> dict:
    """The locals visible at `line`: an error routed from a `try` into its `catch` leaves the try
    block's variables in L (only a block's normal end drops them), but the catch cannot see them."""
    if not line:
        return L
    seen: dict[str, bool] = {}
    for first, last, slots in block_scopes(source):
        for slot in slots:
            seen[slot] = seen.get(slot, False) or first <= line <= last
    return {slot: v for slot, v in L.items() if seen.get(slot, True)}


def _waited_line(waited, tables: Tables) -> int | None:
    """For a run that returned a promise (state -1): the line of the first site it waits on."""
    for key in leaf_keys(waited):
        site = tables.sites.get(_site(key))
        if site:
            return site[1]
    return None


def _site(key: str) -> int:
    head = key.split(".", 1)[0]
    return int(head) if head.isdigit() else -1


def _locals(L: dict, full: bool) -> list[dict]:
    """A frame's variables: its locals, and the captured ones in its environment records (`@e1`)."""
    out = []
    for slot, value in L.items():
        if type(value) is _js.Env and slot.startswith("@e"):
            for name, captured in value.items():
                if name != "@up":
                    out.append({"name": name, "slot": f"{slot}.{name}",
                                "value": _js.encode_snapshot(_shown(captured, {})), "text": show_value(captured, full)})
            continue
        if slot.startswith("@"):
            continue  # the compiler's temporaries
        name = slot.split("@", 1)[0]
        out.append({"name": name, "slot": slot, "value": _js.encode_snapshot(_shown(value, {})),
                    "text": show_value(value, full)})
    return out


def _shown(v, memo: dict):
    """A value as a person reads it: a promise (code shape 6 on) with its kind, key, state and result but
    not the reactions the runtime keeps on it; a function as its code id (not its captured variables)."""
    t = type(v)
    if t is float or t is str or t is bool or v is None or v is _js.UNDEFINED:
        return v
    if id(v) in memo:
        return memo[id(v)]
    if t is _js.Promise:
        out = memo[id(v)] = _js.Promise(v.kind, v.key, None, v.born, v.state)
        if v.items is not None:
            out.items = [_shown(x, memo) for x in v.items]
        if v.state in ("fulfilled", "rejected"):
            out.value = _shown(v.value, memo)
        return out
    if t is _js.JSClosure:
        memo[id(v)] = out = _js.JSClosure(v.fid, None)
        return out
    if t is list:
        out = memo[id(v)] = []
        out.extend(_shown(x, memo) for x in v)
        return out
    if t is dict or t is _js.Env:
        out = memo[id(v)] = t()
        for k, x in v.items():
            out[k] = _shown(x, memo)
        return out
    if t is _js.JSError:
        out = memo[id(v)] = _js.JSError(v.name, v.message)
        out.props = _shown(v.props, memo)
        if v.hidden:
            out.hidden = _shown(v.hidden, memo)
        return out
    if t is _js.JSFunction:
        return _js.JSFunction(v.name, _shown(v.this, memo), v.impl)
    if t is _js.JSMap:
        out = memo[id(v)] = _js.JSMap()
        out.data = {token: [_shown(k, memo), _shown(x, memo)] for token, (k, x) in v.data.items()}
        return out
    if t is _js.JSSet:
        out = memo[id(v)] = _js.JSSet()
        out.data = {token: [_shown(cell[0], memo)] for token, cell in v.data.items()}
        return out
    return v


def _frames(data: dict, tables: Tables, full: bool) -> list[dict]:
    """The async function calls in flight (code shape 6 on): which function, where, its variables, what it
    awaits."""
    out = []
    for frame_id, rec in (data.get("F") or {}).items():
        fid, state = int(rec["fn"]), int(rec["state"])
        name = tables.functions.get(fid, (f"f{fid}",))[0]
        waits = rec.get("W")
        out.append({"id": int(frame_id), "function": name, "fid": fid, "state": state,
                    "line": tables.state_lines.get(state), "awaiting": awaiting_text(waits),
                    "locals": _locals(rec["L"], full)})
    return out


def _waits(keys, kinds, run, tables: Tables, tasks, timers, children) -> list[dict]:
    by_key = {}
    for t in tasks:
        by_key[t["await_key"]] = {
            "kind": "task", "task_id": t["id"], "name": t["name"], "queue": t["queue"], "status": t["status"],
            "attempts": t["attempts"], "max_attempts": t["max_attempts"], "lost_leases": t["lost_leases"],
            "error": t["error"], "available_at": _iso(t["available_at"]), "available_in": _seconds(t["available_in"]),
            "holder": t["lease_owner"], "lease_expires_at": _iso(t["lease_expires_at"]),
            "lease_expires_in": _seconds(t["lease_expires_in"]), **_serving(t)}
    for t in timers:
        by_key[t["await_key"]] = {"kind": "timer", "due_at": _iso(t["due_at"]), "due_in": _seconds(t["due_in"]),
                                  "fired_at": _iso(t["fired_at"])}
    for c in children:
        by_key[c["await_key"]] = {"kind": "child", "run_id": c["id"], "workflow": c["workflow_name"],
                                  "status": c["status"], "error": c["error"]}
    signals = {k: n for k, n in run["signal_waits"]}
    inbox = run["inbox"] or {}
    out = []
    for key in keys:
        site = tables.sites.get(_site(key))
        entry = {"await_key": key, "kind": kinds.get(key) or (site[0] if site else None),
                 "line": site[1] if site else None, "settled": key in inbox}
        entry.update(by_key.get(key, {}))
        if entry["kind"] == "signal":
            entry["name"] = signals.get(key)
        out.append(entry)
    return out


def _serving(t: dict) -> dict:
    """Whether a live worker runs this task; if not, since when (its last server left, or it was scheduled)."""
    if t["served"]:
        return {"served": True}
    return {"served": False, "registered": t["registered"], "did_you_mean": t.get("did_you_mean", ""),
            "unserved_since": _iso(t["last_served"] or t["created_at"])}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat(timespec="seconds")


def _seconds(x) -> float | None:
    return None if x is None else round(float(x), 3)


# -- human text ---------------------------------------------------------------------------------


def render_report(r: dict, history: int = HISTORY_SHOWN) -> str:
    """The human-readable `rhythm inspect` text of a report from `inspect_run`."""
    out = [f"run {r['id']}  {r['workflow']}  {r['status']}"]
    newest = "newest" if r["is_newest_version"] else f"not the newest: new runs use {r['newest_version']}"
    out.append(f"  version   {r['version']} ({newest})")
    times = f"  created   {_when(r['created_at'])}   updated {_when(r['updated_at'])}"
    if r["finished_at"]:
        times += f"   finished {_when(r['finished_at'])}"
    out.append(times)
    out.append(f"  steps     {r['activations']} activation{'' if r['activations'] == 1 else 's'}")
    if r["parent"]:
        out.append(f"  parent    {r['parent']['run_id']} (its await {r['parent']['await_key']})")
    out.append(f"  inputs    {_indent(show_value(_js.from_json(r['inputs'])), 12)}")
    if r["status"] == "completed":
        out.append(f"  output    {_indent(show_value(_js.from_json(r['output'])), 12)}")
    out.extend(f"  note: {n}" for n in r["notes"])

    where = headline(r)
    if where:
        out += ["", where]
    message = (r["error"] or {}).get("message") or "" if r["status"] == "failed" else ""
    if "\n" in message:  # the headline has its first line
        out += ["  message:"] + [f"    {x}" for x in message.splitlines()]
    if r["source"]:
        out += ["    " + x for x in format_excerpt(r["source"])]

    if r["locals"] and not (r.get("failure") or {}).get("locals"):  # for a failure, those where it threw
        out += ["", "locals" + (f", {r['locals_note']}" if r["locals_note"] else "")]
        width = min(max(len(_local_label(x)) for x in r["locals"]), 24)
        for x in r["locals"]:
            label = _local_label(x).ljust(width)
            out.append(f"  {label} = {_indent(x['text'], width + 5)}")

    if r.get("frames"):
        out += ["", "async functions in flight"]
        for f in r["frames"]:
            at = f"{r['file']}:{f['line']}" if f["line"] else r["file"]
            waiting = f", awaiting {f['awaiting']}" if f["awaiting"] else ""
            out.append(f"  #{f['id']} {f['function']} at {at} (state {f['state']}){waiting}")
            if f["locals"]:
                width = min(max(len(_local_label(x)) for x in f["locals"]), 24)
                for x in f["locals"]:
                    out.append(f"      {_local_label(x).ljust(width)} = {_indent(x['text'], width + 9)}")

    title, lines = wait_summary(r)
    if title:
        out += ["", title]
    out += [f"  {x}" for x in lines]
    out += _failure_text(r.get("failure"))
    out += _history_text((r.get("history") or [])[-history:] if history > 0 else [], r["activations"])
    return "\n".join(out)


def headline(r: dict) -> str | None:
    """Where the run is, in one line: "suspended at file.flow:6 (state 3)", "failed at …: TypeError: …"."""
    where = f"{r['file']}:{r['line']}" if r["line"] else r["file"]
    state = f" (state {r['state']})" if r["state"] is not None else ""
    if r["status"] == "failed":
        err = r["error"] or {}
        message, *more = (err.get("message") or "").splitlines() or [""]
        return f"failed at {where}{state}: {err.get('type', 'Error')}: {message}" + (" …" if more else "")
    if r["status"] == "pending" and r.get("queued"):
        return f"queued on {r['queue']}: it starts when the queue's limits admit it"
    if r["status"] == "pending":
        return "not started yet: no worker has run it"
    if r["status"] == "cancelled" and r["state"] is not None:
        return f"cancelled while suspended at {where}{state}"
    if r["status"] in ("suspended", "running"):
        doing = "suspended at" if r["status"] == "suspended" else "being advanced by a worker; last suspended at"
        cancelling = " (being cancelled: its catch and finally blocks run first)" if r["cancel_requested_at"] else ""
        return f"{doing} {where}{state}{cancelling}"
    return None


def wait_summary(r: dict) -> tuple[str | None, list[str]]:
    """What the run waits for: a title ("waiting for race [...]") and a line per awaited thing or signal."""
    title = None
    if r["waiting"]:
        title = f"waiting for {r['awaiting'] or ', '.join(w['await_key'] for w in r['waiting'])}"
    elif r["status"] == "suspended":
        title = "waiting for nothing: its results have arrived and a worker will resume it"
    lines = [_wait_line(w) for w in r["waiting"]]
    others = [s for s in r["signal_waits"] if not s["awaited"]]
    if others:
        lines.append("also listening (Signal.next not awaited yet): "
                     + ", ".join(f"{s['name']!r} ({s['await_key']})" for s in others))
    if r["unread_signals"]:
        lines.append("unread signals: " + ", ".join(f"{n!r} x{c}" for n, c in r["unread_signals"].items()))
    return title, lines


def wait_brief(r: dict) -> str | None:
    """What the run waits for in one line, by name rather than await key (for `rhythm status`)."""
    if not r["waiting"]:
        return wait_summary(r)[0]
    awaiting = r["awaiting"] or ""
    combinator = f"{awaiting.split(' ', 1)[0]} of " if "[" in awaiting else ""
    where = f" at {r['file']}:{r['line']}" if r["line"] else ""
    return f"waiting{where} for {combinator}" + ", ".join(_wait_brief(w) for w in r["waiting"])


def _wait_brief(w: dict) -> str:
    kind = w["kind"] or "?"
    if w["settled"]:
        return f"{kind} (settled: the run resumes soon)"
    if kind == "task" and "task_id" in w:
        return f"task {w['name']!r} ({w['status']}, attempt {w['attempts']}/{w['max_attempts']})"
    if kind == "timer" and "due_at" in w:
        return f"a timer due in {_duration(w['due_in'])}" if (w["due_in"] or 0) > 0 else "a timer due now"
    if kind == "signal":
        return f"signal {w.get('name')!r}"
    if kind == "child" and "run_id" in w:
        return f"child run {w['run_id']} ({w['workflow']}, {w['status']})"
    return kind


def _failure_text(f: dict | None) -> list[str]:
    if not f:
        return []
    out = []
    if f["catches"]:
        out += ["", "the error went through"]
        out += [f"  {c['how']:<7} at line {c['line'] or '?'} (thrown at line {c['from_line'] or '?'}): {c['message']}"
                for c in f["catches"]]
    if f["locals"]:
        out += ["", f"locals when it failed (thrown at line {f['line'] or '?'}; after any finally blocks ran)"]
        width = min(max(len(_local_label(x)) for x in f["locals"]), 24)
        out += [f"  {_local_label(x).ljust(width)} = {_indent(x['text'], width + 5)}" for x in f["locals"]]
    return out


def _history_text(steps: list[dict], total: int) -> list[str]:
    """The steps shown (the newest), headed by how many there were in all."""
    if not steps:
        return []
    head = f"history (the last {len(steps)} of {total} steps)" if total > len(steps) else "history"
    return ["", head] + [f"  {_step_line(st)}" for st in steps]


def _step_line(st: dict) -> str:
    head = f"#{st['seq']:<4} {_when(st['at'])}  {st['status'] or '?':<9}"
    return f"{head} " + "; ".join(f"{k} {v}" if k != "retried" else v for k, v in step_summary(st).items())


def step_summary(st: dict) -> dict[str, str]:
    """A history step as short phrases (lines, woken by, scheduled, caught at), or a retry's one phrase."""
    if st["kind"] == "retry":
        again = ", ".join(x.get("name") or x.get("run_id") or x["await_key"] for x in st["reissued"] or [])
        return {"retried": f"retried on {st['to_version']}" + (f"; re-issued {again}" if again else "")}
    parts = {"lines": " > ".join(map(str, st["lines"]))} if st["lines"] else {}
    if st["woke_by"]:
        parts["woken by"] = ", ".join(f"{w['kind']} {w['await_key']}" for w in st["woke_by"])
    if st["scheduled"]:
        parts["scheduled"] = ", ".join(_scheduled_text(x) for x in st["scheduled"])
    if st["catches"]:
        parts["caught at"] = ", ".join(f"{c['how']} line {c['line']}" for c in st["catches"])
    return parts


def visited_states(steps: list[dict]) -> set[int]:
    """The states the history went through on the run's current version (another numbers them otherwise)."""
    states: set[int] = set()
    for st in steps:
        if st["kind"] == "retry":
            if st.get("from_version") != st.get("to_version"):
                states = set()
        else:
            states.update(x for x in st["states"] if isinstance(x, int) and x >= 0)
    return states


def _scheduled_text(x: dict) -> str:
    if x["kind"] == "timer":
        return f"timer {_js.to_string(float(x['what']))}s"
    if x.get("run_id"):
        return f"child {x['what']!r} (run {x['run_id']})"
    return f"{x['kind']} {x['what']!r}" if x["what"] is not None else x["kind"]


def _local_label(x: dict) -> str:
    return x["name"] if x["slot"] == x["name"] else f"{x['name']} ({x['slot']})"


def _indent(text: str, by: int) -> str:
    return text.replace("\n", "\n" + " " * by)


def _wait_line(w: dict) -> str:
    line = f"  (line {w['line']})" if w["line"] else ""
    head = f"{(w['kind'] or '?'):<6} {w['await_key']}"
    if w["settled"]:
        return f"{head}  settled: the run resumes soon{line}"
    kind = w["kind"]
    if kind == "task" and "task_id" in w:
        text = f"{head}  task #{w['task_id']} {w['name']!r}  {w['status']}  attempt {w['attempts']}/{w['max_attempts']}"
        if w["status"] == "pending" and w["available_in"] and w["available_in"] > 0:
            text += f", next attempt in {_duration(w['available_in'])}"
        if w.get("lost_leases"):
            text += f" (its worker was lost {w['lost_leases']}x)"
        if w["status"] == "running" and w.get("holder"):
            text += f"  held by {w['holder']}, lease expires {_when(w['lease_expires_at'])}"
        if w["status"] == "pending" and w.get("served") is False:
            text += f"  {unserved_text(w)}"
        if w["error"]:  # the Python exception's class where the worker recorded it
            err = w["error"]
            text += f"  last error: {err.get('exception') or err.get('type', 'Error')}: {err.get('message', '')}"
        return text + line
    if kind == "timer" and "due_at" in w:
        due = _duration(w["due_in"]) if w["due_in"] is not None else "?"
        return f"{head}  due {_when(w['due_at'])} (in {due}){line}" if (w["due_in"] or 0) > 0 \
            else f"{head}  due {_when(w['due_at'])} (due now){line}"
    if kind == "signal":
        return f"{head}  signal {w.get('name')!r}{line}"
    if kind == "child" and "run_id" in w:
        return f"{head}  child run {w['run_id']} ({w['workflow']})  {w['status']}{line}"
    return f"{head}  (no row found){line}"


def unserved_text(w: dict) -> str:
    """"no live worker serves task 'x' (queue q) since …", for a pending task that nothing will claim."""
    text = f"no live worker serves task {w['name']!r} (queue {w['queue']}) since {_when(w['unserved_since'])}"
    if not w["registered"]:
        text += f"; no worker has registered it{w['did_you_mean']}"
    return text


def _when(iso: str | None) -> str:
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 1:
        return "<1s"
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"
