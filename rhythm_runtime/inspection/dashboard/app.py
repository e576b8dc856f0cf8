"""The dashboard's Starlette app: a runs list, a run page (what `rhythm inspect` shows), and actions.

Pages are rendered on the server with Jinja2 (autoescaped: run ids, names,
locals and errors are user data). Reads go through `rhythm_runtime.inspection.inspect`
and a read-only query of this module's own; the signal, cancel and retry
buttons call the app's one `Store`, opened and closed by the lifespan.

Protection, all in this module: a POST needs the per-process CSRF secret in
a hidden field; with a token configured every request needs it (`?token=`
once, which sets an HttpOnly SameSite=Strict cookie, or `Authorization:
Bearer`); without one, only requests addressed to a loopback host name are
answered, so a page elsewhere cannot reach the dashboard by DNS rebinding.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rhythm_runtime.execution import values as _js
from rhythm_runtime.storage.db import parse_queries, storage_errors
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.inspection.graph import build_graph, to_mermaid, to_svg
from rhythm_runtime.inspection.inspect import (_read, _wait_line, headline, inspect_run, show_value, step_summary, visited_states,
                       wait_summary)
from rhythm_runtime.storage import schedules as stored_schedules
from rhythm_runtime.storage.store import RunNotFound, Store

HERE = Path(__file__).parent
STATUSES = ("pending", "running", "suspended", "completed", "failed", "cancelled")
ACTIVE = ("pending", "running", "suspended")
WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
LIMITS = (25, 50, 100, 200)
MAX_LIMIT = 500
TOKEN_COOKIE = "rhythm_dashboard"
FLASH_COOKIE = "rhythm_flash"
FLASH_AT = 1000  # longest flash message kept (a cookie holds about 4 kB)
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]

_QUERIES = parse_queries("""
-- name: runs
-- One page of runs, newest first, filtered by status, workflow and start time.
SELECT id, workflow_name, status, created_at, updated_at, activations,
       (status = 'pending' AND queue IS NOT NULL AND admitted_at IS NULL) AS queued,
       error->>'type' AS error_type, error->>'message' AS error_message, error->>'line' AS error_line
FROM rhythm.runs
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(name)s::text IS NULL OR workflow_name = %(name)s)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(before)s::timestamptz IS NULL OR (created_at, id) < (%(before)s, %(before_id)s::text))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;
""")


class BadRequest(RhythmError):
    """A filter or form field the dashboard cannot use."""


# -- the app ------------------------------------------------------------------------------------


def create_app(database_url: str, token: str | None = None, store: Store | None = None) -> Starlette:
    """The dashboard for `database_url`; it owns `store` (opened here when None) and closes it on shutdown."""
    routes = [
        Route("/", runs_page),
        Route("/table", runs_table),
        Route("/workers", workers_page),
        Route("/schedules", schedules_page),
        Route("/schedules/{schedule_id}/{action}", schedule_action, methods=["POST"]),
        Route("/runs/{run_id:path}/{action}", run_action, methods=["POST"]),
        Route("/runs/{run_id:path}", run_page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan, middleware=[Middleware(Guard, token=token or None)],
                    exception_handlers={RhythmError: _error_page})
    app.state.url, app.state.store, app.state.csrf = database_url, store, secrets.token_urlsafe(32)
    return app


@asynccontextmanager
async def _lifespan(app: Starlette):
    if app.state.store is None:
        app.state.store = await run_in_threadpool(Store, app.state.url, 4)
    try:
        yield
    finally:
        await run_in_threadpool(app.state.store.close)
        app.state.store = None  # a restarted app opens a new one


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an IP literal, brackets allowed) is this machine's loopback."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI middleware: refuses requests that lack the token or use a foreign Host; adds safe headers."""

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_headers(send)
        refusal = self.refusal(Request(scope))
        await (refusal or self.app)(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        if self.token is None:
            if is_loopback(request.url.hostname or ""):
                return None
            return PlainTextResponse("this dashboard has no token, so it answers only requests to localhost", 400)
        if _same(_bearer(request), self.token) or _same(request.cookies.get(TOKEN_COOKIE), _cookie_value(self.token)):
            return None
        if request.method == "GET" and _same(request.query_params.get("token"), self.token):
            return _enter(request, self.token)
        return PlainTextResponse("a token is required: open the dashboard once with ?token=<token>, "
                                 "or send 'Authorization: Bearer <token>'", 401)


def _with_headers(send):
    async def with_headers(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
        await send(message)

    return with_headers


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, so the token itself is never stored in the browser."""
    return hmac.new(token.encode(), b"rhythm dashboard cookie", hashlib.sha256).hexdigest()


def _enter(request: Request, token: str) -> Response:
    """Accept `?token=`: set the cookie, then reload the same page without the token in its address."""
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    target = quote(request.scope["path"], safe="/") + (f"?{urlencode(rest)}" if rest else "")
    response = _page("enter.html", {"target": target})
    response.set_cookie(TOKEN_COOKIE, _cookie_value(token), httponly=True, samesite="strict")
    return response


def _error_page(request: Request, exc: RhythmError) -> Response:
    status = 404 if isinstance(exc, RunNotFound) else 503 if isinstance(exc, StorageError) else 400
    return _page("error.html", {"status": status, "message": str(exc)}, status)


# -- the runs list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The runs list's query parameters."""

    status: str | None = None
    workflow: str | None = None
    window: str | None = None  # a key of WINDOWS: started in the last hour, day or week
    since: datetime | None = None
    before: datetime | None = None  # the next page starts after (before, before_id)
    before_id: str | None = None
    limit: int = 50

    def query(self, **changes) -> str:
        """This filter (with `changes`) as a query string, empty fields left out."""
        values = {f.name: getattr(replace(self, **changes), f.name) for f in fields(self)}
        return urlencode({k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items() if v})

    def cutoff(self, now: datetime) -> datetime | None:
        """The earliest start shown: the later of `since` and the start of the window."""
        starts = [t for t in (self.since, now - WINDOWS[self.window] if self.window else None) if t]
        return max(starts, default=None)


def parse_filters(params) -> Filters:
    """Filters from query parameters; BadRequest names a value it cannot use."""
    status, window = params.get("status") or None, params.get("window") or None
    if status and status not in STATUSES:
        raise BadRequest(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    if window and window not in WINDOWS:
        raise BadRequest(f"unknown time window {window!r}; use one of {', '.join(WINDOWS)}")
    try:
        limit = min(max(int(params.get("limit") or 50), 1), MAX_LIMIT)
    except ValueError:
        raise BadRequest(f"limit must be a number, not {params.get('limit')!r}") from None
    return Filters(status, params.get("workflow") or None, window, _timestamp(params, "since"),
                   _timestamp(params, "before"), params.get("before_id") or None, limit)


def _timestamp(params, name: str) -> datetime | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not an ISO date or time, e.g. 2026-05-01T12:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def list_runs(url: str, f: Filters) -> list[dict]:
    """One page of runs, plus one more row when there is a next page."""
    params = dict(status=f.status, name=f.workflow, since=f.cutoff(datetime.now(timezone.utc)),
                  before=f.before, before_id=f.before_id or "", limit=f.limit + 1)
    with _read(url) as conn, storage_errors(url):
        return conn.execute(_QUERIES["runs"], params).fetchall()


def runs_page(request: Request) -> Response:
    return _page("runs.html", _runs_context(request))


def runs_table(request: Request) -> Response:
    return _page("_table.html", _runs_context(request))


def _runs_context(request: Request) -> dict:
    state = request.app.state
    f = parse_filters(request.query_params)
    rows = list_runs(state.url, f)
    page, more = rows[: f.limit], len(rows) > f.limit
    return {
        "f": f, "statuses": STATUSES, "windows": list(WINDOWS), "limits": LIMITS,
        "workflows": state.store.workflow_names(),
        "runs": [_run_row(r) for r in page],
        "older": f.query(before=page[-1]["created_at"], before_id=page[-1]["id"]) if more else None,
        "newest": f.query(before=None, before_id=None) if f.before else None,
        "table_src": f"/table?{f.query()}",
    }


def _run_row(r: dict) -> dict:
    return {"id": r["id"], "href": run_href(r["id"]), "workflow": r["workflow_name"],
            "status": "queued" if r["queued"] else r["status"],
            "created": _when(r["created_at"]), "updated": _when(r["updated_at"]), "activations": r["activations"],
            "error": _error_text(r)}


def _error_text(r: dict) -> str:
    """A failed run's error in one short line, e.g. "TaskError at line 3: card declined"."""
    if r["status"] != "failed" or not r["error_type"]:
        return ""
    at = f" at line {r['error_line']}" if r["error_line"] else ""
    message = (r["error_message"] or "").splitlines()[0] if r["error_message"] else ""
    return f"{r['error_type']}{at}: {message[:120]}" + ("…" if len(message) > 120 else "")


# -- the workers page ---------------------------------------------------------------------------


def workers_page(request: Request) -> Response:
    """What `rhythm workers` lists: each worker's state, queues, tasks, workflows and load."""
    rows = request.app.state.store.list_workers()
    return _page("workers.html", {"workers": [
        {**r, "running_text": f"{r['running']}/{r['concurrency']}", "started": _when(r["started_at"]),
         "seen": _when(r["stopped_at"] or r["heartbeat_at"]),
         "workflows_text": ", ".join(f"{n}@{v}" for n, v in sorted(r["workflows"].items()))} for r in rows]})


# -- the schedules page -------------------------------------------------------------------------


def schedules_page(request: Request) -> Response:
    """What `rhythm schedules list` shows: when each fires next, its last run, paused or not; with buttons."""
    rows = stored_schedules.listing(request.app.state.store)
    response = _page("schedules.html", {"csrf": request.app.state.csrf, "flash": _read_flash(request), "schedules": [
        {**r, "next": "" if r["paused"] else _when(r["next_fire_at"]), "href": quote(r["id"], safe=""),
         "last_href": run_href(r["last_run_id"]) if r["last_run_id"] else None} for r in rows]})
    if request.cookies.get(FLASH_COOKIE) is not None:
        response.delete_cookie(FLASH_COOKIE, samesite="strict")
    return response


async def schedule_action(request: Request) -> Response:
    """POST /schedules/{id}/{pause|resume|trigger}: check the CSRF field, act, back to the schedules page."""
    schedule_id = request.path_params["schedule_id"]
    action, _form = await _posted(request, SCHEDULE_ACTIONS)
    try:
        flash = ("ok", await run_in_threadpool(action, request.app.state.store, schedule_id))
    except RhythmError as e:
        flash = ("error", str(e))
    return _back("/schedules", flash)


def _pause(store: Store, schedule_id: str) -> str:
    stored_schedules.set_paused(store, schedule_id, True)
    return f"paused schedule {schedule_id}"


def _resume(store: Store, schedule_id: str) -> str:
    stored_schedules.set_paused(store, schedule_id, False)
    return f"resumed schedule {schedule_id}: ticks that passed while it was paused do not fire"


def _trigger(store: Store, schedule_id: str) -> str:
    return f"started run {stored_schedules.trigger(store, schedule_id)} of schedule {schedule_id}"


SCHEDULE_ACTIONS = {"pause": _pause, "resume": _resume, "trigger": _trigger}


# -- the run page -------------------------------------------------------------------------------


def run_page(request: Request) -> Response:
    response = _run_response(request, request.path_params["run_id"], _read_flash(request))
    if request.cookies.get(FLASH_COOKIE) is not None:
        response.delete_cookie(FLASH_COOKIE, samesite="strict")
    return response


def _run_response(request: Request, run_id: str, flash: dict | None, typed: dict | None = None,
                  status: int = 200) -> Response:
    """The run page; `typed` refills the signal form with what was sent (after an error)."""
    state = request.app.state
    full = request.query_params.get("full") == "1"
    report = inspect_run(state.url, run_id, full)
    version = state.store.load_version(report["workflow"], report["version"]) or {"source": ""}
    context = run_context(report, version["source"], full)
    if typed:
        context.update(signal_name=typed["name"], signal_payload=typed["payload"])
    if context["can_retry"] and not report["is_newest_version"]:
        context["latest_problem"] = state.store.retry_problem(run_id, "latest")
    return _page("run.html", {**context, "csrf": state.csrf, "flash": flash, "href": run_href(run_id)}, status)


def run_context(r: dict, source: str, full: bool = False) -> dict:
    """What run.html lays out, from an `inspect_run` report and the run version's source."""
    plain = [] if (r.get("failure") or {}).get("locals") else _locals(r["locals"])  # else those where it threw
    failure = _failure(r.get("failure") or {})
    inputs = _value_text(r["inputs"], full)
    output = _value_text(r["output"], full) if r["status"] == "completed" else None
    shown = [x["text"] for x in plain + (failure["locals"] if failure else [])] + [inputs, output or ""]
    line = current_line(r)
    return {
        "r": r,
        "headline": headline(r) or r["status"],
        "parent_href": run_href(r["parent"]["run_id"]) if r["parent"] else None,
        "times": [("created", _when_iso(r["created_at"])), ("updated", _when_iso(r["updated_at"])),
                  ("finished", _when_iso(r["finished_at"]))],
        "inputs": inputs,
        "output": output,
        "source": [{"n": n, "text": text, "current": n == line} for n, text in enumerate(source.splitlines(), 1)],
        "locals": plain,
        # where the one "show long values whole" link goes: under the first locals shown, else the inputs
        "elided": (None if not any(x.endswith(CUT_SHOWN) for x in shown) else "locals" if plain
                   else "failure" if failure and failure["locals"] else "facts"),
        "waits": waits(r),
        "history": _history(r.get("history") or []),
        "failure": failure,
        "graph": graph_view(r, source),
        "can_signal": r["status"] in ("pending", "suspended"),
        "can_cancel": r["status"] in ACTIVE,
        "can_retry": r["status"] == "failed",
        "latest_problem": None,  # why the newest version cannot resume it (set by _run_response)
        "signal_name": next((s["name"] for s in r["signal_waits"]), ""),
        "signal_payload": "{}",
    }


def current_line(r: dict) -> int | None:
    """The line to mark as where the run is: none for a finished run, whose line is only its last await."""
    if r["status"] in ("suspended", "running", "failed") or (r["status"] == "cancelled" and r["state"] is not None):
        return r["line"]
    return None


def waits(r: dict) -> dict:
    """What the run waits for: a title and one line per awaited thing, as `rhythm inspect` prints them;
    an awaited child run's line links to the child's page."""
    title, lines = wait_summary(r)
    items = [{"text": _wait_line(w), "href": run_href(w["run_id"]) if w.get("kind") == "child" and w.get("run_id")
              else None} for w in r["waiting"]]
    items += [{"text": text, "href": None} for text in lines[len(items):]]
    return {"title": title, "lines": items}


# What `show_value` appends to a value it cut short, and what the page says instead (its link shows all).
CUT = "; --full shows all)"
CUT_SHOWN = "; cut short)"


def _shown(text: str) -> str:
    return text[: -len(CUT)] + CUT_SHOWN if text.endswith(CUT) else text


def _locals(items: list[dict]) -> list[dict]:
    return [{"name": x["name"] if x.get("slot", x["name"]) == x["name"] else f"{x['name']} ({x['slot']})",
             "text": _shown(x["text"])} for x in items]


def _failure(failure: dict) -> dict | None:
    """The report's optional `failure` part: scalars as facts, `locals` as locals, other lists as tables."""
    if not failure:
        return None
    facts = [(k, cell(v)) for k, v in failure.items() if not isinstance(v, list) and v is not None]
    tables = [{"title": k, **_table([x if isinstance(x, dict) else {k: x} for x in v])}
              for k, v in failure.items() if isinstance(v, list) and v and k != "locals"]
    return {"facts": facts, "locals": _locals(failure.get("locals") or []), "tables": tables}


def _history(steps: list[dict]) -> dict:
    """The step history as `rhythm inspect` words it: one row per activation or retry, newest last."""
    columns = ["#", "at", "status", "lines", "woken by", "scheduled", "caught at", "ms"]
    rows = []
    for st in steps:
        summary = step_summary(st)
        if "retried" in summary:
            summary = {"lines": summary["retried"]}
        rows.append([str(st["seq"]), _when_iso(st["at"]), st["status"] or "", *(summary.get(c, "") for c in columns[3:7]),
                     cell(st.get("ms"))])
    return {"columns": columns, "rows": rows}


def _table(rows: list[dict]) -> dict:
    """Dicts as a table: a column per key that has a value somewhere, in order of appearance."""
    cells = [{k: _when_iso(v) if k == "at" and isinstance(v, str) else cell(v) for k, v in row.items()} for row in rows]
    columns = [c for c in dict.fromkeys(k for row in cells for k in row) if any(row.get(c) for row in cells)]
    return {"columns": columns, "rows": [[row.get(c, "") for c in columns] for row in cells]}


def cell(value) -> str:
    """Any JSON value as short text for a table cell: lists joined, objects as key=value pairs."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(cell(x) for x in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={cell(v)}" for k, v in value.items() if v is not None)
    return json.dumps(value, ensure_ascii=False)


@functools.lru_cache(maxsize=64)
def _machine(name: str, source: str):
    from rhythm_compiler import compile_source

    return compile_source(source, f"{name}.flow", name=name, fmt=False).module


def graph_view(r: dict, source: str) -> dict:
    """The state machine as SVG, the run's state and the path its history took highlighted, and as Mermaid
    text (what `rhythm graph --run` prints)."""
    from rhythm_compiler import CompileError, CompilerBug

    try:
        machine = _machine(r["workflow"], source)
    except (CompileError, CompilerBug) as e:
        return {"error": f"this compiler cannot build the graph of version {r['version']}: {e}",
                "svg": "", "mermaid": ""}
    ids = {st.id for st in machine.states}
    current = r["state"] if r["status"] != "completed" and r["state"] in ids else None
    graph = build_graph(machine, source, current)
    graph.visited = visited_states(r.get("history") or []) & ids
    graph.comments = [f"workflow {r['workflow']} version {r['version']}",
                      f"run {r['id']}: {r['status']}" + (f", state {current}" if current is not None else "")
                      ] + graph.comments
    return {"error": None, "svg": Markup(to_svg(graph)), "mermaid": to_mermaid(graph)}


# -- actions ------------------------------------------------------------------------------------


async def run_action(request: Request) -> Response:
    """POST /runs/{id}/{signal|cancel|terminate|retry}: check the CSRF field, act, and go back to the run with a flash."""
    run_id = request.path_params["run_id"]
    action, form = await _posted(request, ACTIONS)
    try:
        flash = ("ok", await run_in_threadpool(action, request.app.state.store, run_id, form))
    except RunNotFound:
        raise  # no run page to go back to: the error page says so
    except RhythmError as e:
        if action is _signal:  # the page again, the form holding what was typed, so it can be fixed
            typed = {"name": _field(form, "name"), "payload": _field(form, "payload")}
            return await run_in_threadpool(_run_response, request, run_id, {"kind": "error", "text": str(e)},
                                           typed, 400 if isinstance(e, BadRequest) else 409)
        flash = ("error", str(e))
    return _back(run_href(run_id), flash)


async def _posted(request: Request, actions: dict):
    """The action a POST names (404 if none) and its form, once its CSRF field is checked (403 if wrong)."""
    action = actions.get(request.path_params["action"])
    if action is None:
        raise HTTPException(404)
    form = await request.form()
    if not _same(_field(form, "csrf"), request.app.state.csrf):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")
    return action, form


def _back(href: str, flash: tuple[str, str]) -> Response:
    """Redirect to the page an action came from, with its outcome shown there once."""
    response = RedirectResponse(href, 303)
    response.set_cookie(FLASH_COOKIE, _encode_flash(flash), max_age=60, httponly=True, samesite="strict")
    return response


def _signal(store: Store, run_id: str, form) -> str:
    name = _field(form, "name").strip()
    if not name:
        raise BadRequest("a signal needs a name")
    store.send_signal(run_id, name, _json(_field(form, "payload")))
    return f"sent signal {name!r} to run {run_id}"


def _cancel(store: Store, run_id: str, form) -> str:
    if store.cancel_run(run_id):
        return f"cancelling run {run_id}: its catch and finally blocks run first"
    return f"run {run_id} had already finished or is being cancelled; nothing changed"


def _terminate(store: Store, run_id: str, form) -> str:
    if store.cancel_run(run_id, force=True):
        return f"terminated run {run_id}: it ended at once, without running its catch and finally blocks"
    return f"run {run_id} had already finished; nothing changed"


def _retry(store: Store, run_id: str, form) -> str:
    choice = _field(form, "version")
    if choice not in ("own", "latest"):
        raise BadRequest("choose the run's own version or the latest one")
    result = store.retry_run(run_id, version=None if choice == "own" else "latest")
    on = f" on version {result['version']}" if isinstance(result, dict) and result.get("version") else ""
    return f"retrying run {run_id}{on}"


ACTIONS = {"signal": _signal, "cancel": _cancel, "terminate": _terminate, "retry": _retry}


def _field(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _json(text: str):
    def reject(constant):
        raise BadRequest(f"the payload is not JSON: {constant} is not a JSON value")

    try:
        return json.loads(text or "null", parse_constant=reject)
    except json.JSONDecodeError as e:
        raise BadRequest(f"the payload is not JSON: {e}") from None


def _encode_flash(flash: tuple[str, str]) -> str:
    kind, text = flash
    text = text if len(text) <= FLASH_AT else text[:FLASH_AT] + "…"
    return base64.urlsafe_b64encode(json.dumps([kind, text]).encode()).decode()


def _read_flash(request: Request) -> dict | None:
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(request.cookies[FLASH_COOKIE]))
    except (KeyError, ValueError, TypeError):
        return None
    return {"kind": "error" if kind == "error" else "ok", "text": str(text)}


# -- rendering ----------------------------------------------------------------------------------


def run_href(run_id: str) -> str:
    return "/runs/" + quote(run_id, safe="/")


def _when(t: datetime | None) -> str:
    return "" if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _when_iso(iso: str | None) -> str:
    try:
        return "" if iso is None else _when(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def _value_text(value, full: bool = False) -> str:
    return _shown(show_value(_js.from_json(value), full))


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _page(name: str, context: dict, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(name).render(context), status_code=status)
