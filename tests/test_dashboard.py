"""`rhythm dashboard` against a real Postgres and a real (in-process) worker.

Most tests drive the Starlette app with its TestClient; one drives a real
headless Chromium (Playwright, Debian's browser) against a real uvicorn.
`RHYTHM_DASHBOARD_SCREENSHOT=1` also rewrites docs/dashboard.png.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx2

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from dashboard_support import CHROMIUM_ARGS, chromium, serve
from helpers import query, wait_for, worker_thread, write_flows
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.cli.main import main
from rhythm_runtime.cli.dashboard import dashboard_cmd
from rhythm_runtime.inspection.dashboard import create_app, is_loopback
from rhythm_runtime.api.tasks import task

TOKEN = "dashboard-test-token"
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "dashboard.png"
UPSTREAM = {"up": False}  # what the "dash-upstream" task needs to succeed

FLOWS = {
    "dash_approve": """\
let order = { id: Inputs.id, note: Inputs.note }
const blob = "x".repeat(300)
const decision = await Signal.next("approve")
return decision
""",
    "dash_broken": """\
const first = await Task.run("dash-echo", { n: 1 })
let total = 0
total = first.missing.value
return total
""",
    "dash_broken_long": """\
const blob = "y".repeat(300)
const first = await Task.run("dash-echo", { n: 1 })
let total = first.missing.value
return total
""",
    "dash_parent": """\
const answer = await Workflow.run("dash_approve", { id: Inputs.id })
return answer
""",
    "dash_unserved": """\
const done = await Task.run("dash-nobody-runs-this", {})
return done
""",
    "dash_guarded": """\
try {
  await Signal.next("never")
} finally {
  await Task.run("dash-echo", { cleanup: Inputs.id })
}
""",
    "dash_fragile": """\
const reply = await Task.run("dash-upstream", { n: Inputs.n })
return reply
""",
    "onboard_user": """\
// Onboard a new user: load them, send the welcome email, follow up in three days.
const user = await Task.run("dash-get-user", { userId: Inputs.userId })
const plan = { tier: "pro", seats: 5, trialDays: 14 }
let reminders = 0
try {
  await Task.run("dash-send-email", { to: user.email, template: "welcome" })
} catch (err) {
  await Task.run("dash-notify-support", { userId: user.id, reason: err.message })
}
await Timer.delay(3 * 24 * 3600)
return { userId: user.id, plan: plan.tier }
""",
}


@task("dash-echo")
def _echo(payload):
    return payload


@task("dash-upstream")
def _upstream(payload):
    if not UPSTREAM["up"]:
        raise RuntimeError("upstream is down")
    return {"ok": payload["n"]}


@task("dash-get-user")
def _get_user(payload):
    return {"id": payload["userId"], "email": "ada@example.com", "name": "Ada Lovelace"}


@task("dash-send-email", retries=3, backoff=300)
def _send_email(payload):
    raise RuntimeError("SMTP 451: mailbox busy, try again later")


@pytest.fixture(scope="module")
def env(db_url, tmp_path_factory):
    root = write_flows(tmp_path_factory.mktemp("dashboard") / "workflows", FLOWS)
    with worker_thread(RhythmApp(root), db_url, concurrency=2) as (_worker, client):
        yield client, db_url


@pytest.fixture
def web(env):
    with TestClient(create_app(env[1]), base_url="http://127.0.0.1") as http:
        yield http


def started(client, name: str, inputs=None, until=("suspended",), run_id=None) -> str:
    run_id = client.start_workflow(name, inputs or {}, id=run_id).id
    wait_for(lambda: client.get(run_id).status() in until, what=f"run of {name} to be {until}")
    return run_id


def status(client, run_id: str) -> str:
    return client.get(run_id).status()


def href(run_id: str) -> str:
    return "/runs/" + quote(run_id, safe="/")


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


def text(page_html: str) -> str:
    """The page without tags and entities, for checks on what a person reads."""
    return html.unescape(re.sub(r"<[^>]+>", "", page_html))


# -- the runs list ------------------------------------------------------------------------------


def test_runs_list_filters_by_status_workflow_and_time(env, web):
    client, db_url = env
    waiting = started(client, "dash_approve", {"id": 1})
    failed = started(client, "dash_broken", until=("failed",))
    old = started(client, "dash_approve", {"id": 2})
    query(db_url, "UPDATE rhythm.runs SET created_at = now() - interval '2 days' WHERE id = %s", [old])

    page = web.get("/").text
    assert waiting in page and failed in page and old in page
    assert '<span class="status failed">failed</span>' in page and 'id="live" checked' in page
    only_failed = web.get("/?status=failed").text
    assert failed in only_failed and waiting not in only_failed
    assert "TypeError at line 3: Cannot read properties of undefined (reading &#39;value&#39;)" in only_failed
    approvals = web.get("/?workflow=dash_approve").text
    assert waiting in approvals and old in approvals and failed not in approvals
    last_day = web.get("/?window=day").text
    assert waiting in last_day and old not in last_day
    assert old in web.get("/?window=week").text
    assert "No runs match" in web.get("/?since=2999-01-01T00:00:00Z").text
    since = web.get("/?workflow=dash_approve&since=" + query(db_url, "SELECT now() - interval '1 day' AS t")[0]["t"]
                    .isoformat().replace("+", "%2B")).text
    assert waiting in since and old not in since


def test_runs_table_fragment_and_pages(env, web):
    client, _ = env
    ids = [started(client, "dash_approve", {"id": 10 + i}) for i in range(3)]
    fragment = web.get("/table?workflow=dash_approve&limit=2")
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<table" in fragment.text
    first = web.get("/?workflow=dash_approve&limit=2").text
    assert ids[2] in first and ids[1] in first and ids[0] not in first
    older = html.unescape(re.search(r'<a href="(/\?[^"]+)">older', first).group(1))
    second = web.get(older).text
    assert ids[0] in second and ids[2] not in second and "« newest" in second
    assert 'data-src="/table?workflow=dash_approve&amp;limit=2"' in first


def test_bad_filters_are_a_400_page_not_a_traceback(web):
    for bad in ("status=bogus", "window=year", "since=yesterday", "limit=many"):
        page = web.get(f"/?{bad}")
        assert page.status_code == 400 and "Traceback" not in page.text
    assert "not an ISO date or time" in text(web.get("/?since=yesterday").text)


# -- the run page -------------------------------------------------------------------------------


def test_run_page_marks_the_line_and_escapes_user_data(env, web):
    client, _ = env
    evil_id = f"<img src=x onerror=alert(1)>-{uuid.uuid4().hex[:6]}"
    run_id = started(client, "dash_approve", {"id": 7, "note": "<script>alert('pwned')</script>"}, run_id=evil_id)
    listing = web.get("/").text
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    assert f'href="{href(run_id)}"' in listing

    page = web.get(href(run_id))
    assert page.status_code == 200
    raw, seen = page.text, text(page.text)
    assert "<script>alert" not in raw and "<img src=x" not in raw
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in raw
    assert "suspended at dash_approve.flow:3 (state 1)" in seen
    current = re.findall(r'<div class="line current"><span class="n">(\d+)</span><code>(.*?)</code></div>', raw)
    assert current == [("3", "const decision = await Signal.next(&#34;approve&#34;)")]
    assert '<span class="n">1</span><code>let order' in raw  # the whole source, not only the excerpt
    assert "order" in seen and '"note": "<script>alert(\'pwned\')</script>"' in seen
    assert "(302 characters; cut short)" in seen and "show long values whole" in seen and "--full" not in seen
    assert json.dumps("x" * 300) in text(web.get(href(run_id) + "?full=1").text)
    assert "waiting for signal 0.1" in seen and "signal 0.1  signal 'approve'  (line 3)" in seen
    assert re.search(r'<g class="state" data-state="1"><rect [^>]*fill="#ffe08a"[^>]*/><text [^>]*>state 1 · line 3: '
                     r'const decision', raw)  # the SVG graph, the run's state in yellow
    assert re.search(r'<g class="state" data-state="0"><rect [^>]*fill="#dbeafe"', raw)  # the path it took
    assert "flowchart TD" in seen and "class s1 current" in seen
    assert "/signal" in raw and "/cancel" in raw and "/retry" not in raw
    assert 'value="approve"' in raw  # the signal it waits for, filled in


def test_task_wait_failed_and_completed_runs(env, web):
    client, _ = env
    onboarding = started(client, "onboard_user", {"userId": 42})
    seen = wait_for(lambda: (t := text(web.get(href(onboarding)).text)) and "SMTP 451" in t and t,
                    what="the e-mail task's first attempt to fail")
    assert "suspended at onboard_user.flow:6 (state 3)" in seen
    assert "'dash-send-email'  pending  attempt 1/4, next attempt in" in seen
    assert "last error: RuntimeError: SMTP 451: mailbox busy, try again later" in seen

    failed = started(client, "dash_broken", until=("failed",))
    page = web.get(href(failed)).text
    seen = text(page)
    assert "failed at dash_broken.flow:3 (state 1): TypeError: Cannot read properties of undefined" in seen
    assert re.search(r'<div class="line current"><span class="n">3</span><code>total = first.missing.value', page)
    assert "/retry" in page and "/signal" not in page and "/cancel" not in page

    done = started(client, "dash_approve", {"id": 3})
    client.get(done).signal("approve", {"ok": True})
    wait_for(lambda: status(client, done) == "completed", what="the run to complete")
    page = web.get(href(done)).text
    seen = text(page)
    assert '{"ok": true}' in seen and "Cancel run" not in seen
    assert 'class="line current"' not in page  # finished: its last await is not where it is
    assert "classDef current" not in page and 'fill="#ffe08a"' not in page  # nor a current state in the graph


def test_a_task_no_worker_serves_says_so_and_the_workers_page_lists_the_worker(env, web):
    client, _ = env
    waiting = started(client, "dash_unserved")
    seen = text(web.get(href(waiting)).text)
    assert "'dash-nobody-runs-this'  pending  attempt 0/1  no live worker serves task 'dash-nobody-runs-this' " \
           "(queue default) since " in seen
    assert "no worker has registered it" in seen
    page = web.get("/workers")
    assert page.status_code == 200
    seen = text(page.text)
    [worker_id] = re.findall(r"<code>([^<]+:\d+:\d+)</code>", page.text)
    assert re.search(re.escape(worker_id) + r"\s+live\s+default\s+[^\n]*dash-echo", seen), seen
    assert "onboard_user@" in seen and "/2" in seen  # its workflows and its concurrency
    client.get(waiting).cancel()


def test_the_schedules_page_lists_schedules_and_pauses_resumes_and_triggers_them(env, web, db_url):
    client, _ = env
    client.create_schedule("dash-nightly", "dash_approve", cron="0 3 * * *", inputs={"id": 30},
                           timezone="Europe/Berlin")
    try:
        page = web.get("/schedules")
        assert page.status_code == 200 and '<a href="/schedules">Schedules</a>' in page.text
        seen = text(page.text)
        assert re.search(r"dash-nightly\s+dash_approve\s+0 3 \* \* \* Europe/Berlin\s+skip\s+\d{4}-\d\d-\d\d "
                         r"\d\d:\d\d:\d\d\s+client", seen), seen
        token = csrf(page.text)
        assert web.post("/schedules/dash-nightly/pause", data={"csrf": "forged"}).status_code == 403
        paused = text(web.post("/schedules/dash-nightly/pause", data={"csrf": token}).text)
        assert "paused schedule dash-nightly" in paused and "Resume" in paused
        assert query(db_url, "SELECT paused FROM rhythm.schedules WHERE id = 'dash-nightly'") == [{"paused": True}]
        web.post("/schedules/dash-nightly/resume", data={"csrf": token})
        assert query(db_url, "SELECT paused FROM rhythm.schedules WHERE id = 'dash-nightly'") == [{"paused": False}]
        triggered = web.post("/schedules/dash-nightly/trigger", data={"csrf": token}).text
        [run_id] = re.findall(r"started run (dash-nightly@[^ ]+) of schedule", triggered)
        assert status(client, run_id) in ("pending", "running", "suspended")
        query(db_url, "UPDATE rhythm.schedules SET last_run_id = %s WHERE id = 'dash-nightly' RETURNING id",
              (run_id,))  # as a tick of the cron would (a manual trigger is not the schedule's last tick)
        assert f'href="{href(run_id)}"' in web.get("/schedules").text  # the last run, linked, with its status
        missing = text(web.post("/schedules/no-such/trigger", data={"csrf": token}).text)
        assert "no schedule with id 'no-such'" in missing
        client.get(run_id).cancel(force=True)
    finally:
        client.get_schedule("dash-nightly").delete()


def test_a_cancelled_run_marks_the_line_it_was_suspended_at(env, web):
    client, _ = env
    run_id = started(client, "dash_approve", {"id": 13})
    client.get(run_id).cancel()
    wait_for(lambda: status(client, run_id) == "cancelled", what="the run to be cancelled")
    page = web.get(href(run_id)).text
    assert "cancelled while suspended at dash_approve.flow:3 (state 1)" in text(page)
    assert re.findall(r'<div class="line current"><span class="n">(\d+)</span>', page) == ["3"]


def test_cut_values_of_a_failed_run_link_to_the_whole_values(env, web):
    client, _ = env
    run_id = started(client, "dash_broken_long", until=("failed",))
    page = web.get(href(run_id)).text
    seen = text(page)
    assert "locals when it failed" in seen and "(302 characters; cut short)" in seen
    assert f'<a href="{href(run_id)}?full=1">show long values whole</a>' in page and "--full" not in seen
    whole = text(web.get(href(run_id) + "?full=1").text)
    assert json.dumps("y" * 300) in whole and "cut short" not in whole and "show long values whole" not in whole


def test_an_awaited_child_run_links_to_its_page(env, web):
    from rhythm_runtime.inspection.inspect import _wait_line, inspect_run

    client, db_url = env
    parent = started(client, "dash_parent", {"id": 14})
    child = wait_for(lambda: query(db_url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s", [parent]),
                     what="the child run")[0]["id"]
    wait_for(lambda: status(client, child) == "suspended", what="the child to wait for its signal")
    report = inspect_run(db_url, parent)
    [waiting] = report["waiting"]
    page = web.get(href(parent)).text
    line = html.escape(_wait_line(waiting), quote=True)
    assert f'<li><code>{line}</code> <a href="{href(child)}">open the child run</a></li>' in page
    assert f"child run {child} (dash_approve)  suspended" in text(page)
    assert web.get(href(child)).status_code == 200


def test_unknown_run_is_a_404_page(web):
    page = web.get("/runs/no-such-run")
    assert page.status_code == 404 and "no run with id 'no-such-run'" in text(page.text)


# -- actions ------------------------------------------------------------------------------------


def test_posts_without_a_valid_csrf_token_are_refused(env, web):
    client, _ = env
    run_id = started(client, "dash_approve", {"id": 4})
    for form in ({}, {"csrf": "forged"}):
        assert web.post(href(run_id) + "/cancel", data=form).status_code == 403
        assert web.post(href(run_id) + "/signal", data={**form, "name": "approve"}).status_code == 403
    assert status(client, run_id) == "suspended"
    assert query(env[1], "SELECT count(*) AS n FROM rhythm.signals WHERE run_id = %s", [run_id])[0]["n"] == 0


def test_cancel_and_signal_change_the_run(env, web):
    client, _ = env
    to_cancel, to_signal = started(client, "dash_approve", {"id": 5}), started(client, "dash_approve", {"id": 6})
    token = csrf(web.get(href(to_cancel)).text)

    answer = web.post(href(to_cancel) + "/cancel", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == href(to_cancel)
    page = web.get(href(to_cancel)).text
    assert (f'<p class="flash ok" role="status">cancelling run {to_cancel}: its catch and finally blocks run '
            f'first</p>') in page
    wait_for(lambda: status(client, to_cancel) == "cancelled", what="the run to be cancelled")
    assert "flash" not in web.get(href(to_cancel)).text  # shown once

    web.post(href(to_signal) + "/signal", data={"csrf": token, "name": "approve", "payload": '{"ok": true}'})
    wait_for(lambda: status(client, to_signal) == "completed", what="the signalled run to complete")
    assert client.get(to_signal).result(timeout=5) == {"ok": True}


def test_terminate_ends_the_run_at_once_without_its_cleanup(env, web, db_url):
    client, _ = env
    run_id = started(client, "dash_guarded", {"id": 21})
    page = web.get(href(run_id)).text
    assert "/terminate" in page and "no cleanup" in page  # behind a confirmation that says what it skips
    answer = web.post(href(run_id) + "/terminate", data={"csrf": csrf(page)}, follow_redirects=False)
    assert answer.status_code == 303
    assert status(client, run_id) == "cancelled"  # at once: no worker step needed
    assert "without running its catch and finally blocks" in web.get(href(run_id)).text
    time.sleep(1)  # a worker would have scheduled the cleanup task by now
    assert query(db_url, "SELECT count(*) AS n FROM rhythm.tasks WHERE run_id = %s", (run_id,)) == [{"n": 0}]
    again = web.post(href(run_id) + "/terminate", data={"csrf": csrf(page)})
    assert f"run {run_id} had already finished; nothing changed" in text(again.text)


def test_action_errors_are_flash_messages(env, web):
    client, _ = env
    run_id = started(client, "dash_approve", {"id": 8})
    token = csrf(web.get(href(run_id)).text)
    bad_json = web.post(href(run_id) + "/signal", data={"csrf": token, "name": "approve", "payload": "{oops"})
    assert '<p class="flash error"' in bad_json.text and "the payload is not JSON" in bad_json.text
    assert bad_json.status_code == 400 and 'name="payload" value="{oops"' in bad_json.text  # kept, to be fixed
    assert status(client, run_id) == "suspended"
    refused = web.post(href(run_id) + "/retry", data={"csrf": token, "version": "own"})
    assert '<p class="flash error"' in refused.text and "Traceback" not in refused.text
    client.get(run_id).cancel(force=True)
    late = text(web.post(href(run_id) + "/signal", data={"csrf": token, "name": "approve"}).text)
    assert f"run {run_id} was already cancelled; signal 'approve' was not delivered" in late
    missing = web.post("/runs/no-such-run/cancel", data={"csrf": token})
    assert missing.status_code == 404 and "no run with id 'no-such-run'" in text(missing.text)


def test_retry_resumes_a_failed_run(env, web):
    client, _ = env
    UPSTREAM["up"] = False
    run_id = started(client, "dash_fragile", {"n": 9}, until=("failed",))
    page = web.get(href(run_id)).text
    assert 'name="version" value="own" checked' in page and 'value="latest"' not in page  # own is the newest
    UPSTREAM["up"] = True
    answer = web.post(href(run_id) + "/retry", data={"csrf": csrf(page), "version": "own"})
    assert f"retrying run {run_id} on version " in text(answer.text)
    wait_for(lambda: status(client, run_id) == "completed", what="the retried run to complete")
    assert client.get(run_id).result(timeout=5) == {"ok": 9}


def test_retry_passes_the_version_choice(env, web, monkeypatch):
    calls = []
    store = web.app.state.store
    monkeypatch.setattr(store, "retry_run", lambda run_id, version=None: calls.append(version) or {"version": "v"})
    token = web.app.state.csrf
    for choice in ("own", "latest", "other"):
        web.post("/runs/r1/retry", data={"csrf": token, "version": choice})
    assert calls == [None, "latest"]


# -- security -----------------------------------------------------------------------------------


def test_a_configured_token_is_required_everywhere(env):
    app = create_app(env[1], token=TOKEN)
    with TestClient(app, base_url="http://dash.example.com") as http:
        for path in ("/", "/table", "/static/dashboard.css", "/runs/x"):
            assert http.get(path).status_code == 401
        assert http.get("/?token=wrong").status_code == 401
        assert http.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert http.post("/runs/x/cancel", params={"token": TOKEN}).status_code == 401  # only GET accepts ?token=

        entered = http.get(f"/?status=failed&token={TOKEN}")
        assert entered.status_code == 200 and "content=\"0; url='/?status=failed'\"" in entered.text
        cookie = entered.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
        assert http.get("/").status_code == 200  # the cookie now
        http.cookies.clear()
        assert http.get("/").status_code == 401


def test_without_a_token_only_localhost_is_answered(env):
    app = create_app(env[1])
    with TestClient(app, base_url="http://attacker.example") as http:
        assert http.get("/").status_code == 400  # DNS rebinding: a foreign name pointed at 127.0.0.1
    for base in ("http://localhost:8484", "http://[::1]:8484"):
        with TestClient(app, base_url=base) as http:
            assert http.get("/").status_code == 200
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and not is_loopback("0.0.0.0")


def test_pages_carry_protective_headers(web):
    headers = web.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"


def test_cli_refuses_other_hosts_without_a_token(monkeypatch):
    monkeypatch.delenv("RHYTHM_DASHBOARD_TOKEN", raising=False)
    refused = CliRunner().invoke(dashboard_cmd, ["--host", "0.0.0.0"])
    assert refused.exit_code == 2
    assert refused.stderr == ("error: --host 0.0.0.0 exposes the dashboard beyond this machine; "
                              "set RHYTHM_DASHBOARD_TOKEN or pass --token\n")
    unreachable = CliRunner().invoke(dashboard_cmd, ["--database-url", "postgresql://127.0.0.1:1/none"])
    assert unreachable.exit_code == 1 and unreachable.stderr.startswith("error: ")


def test_cli_serves_the_dashboard(env):
    assert "dashboard" in main.commands
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rhythm = Path(sys.executable).with_name("rhythm")
    server = subprocess.Popen([str(rhythm), "dashboard", "--port", str(port), "--database-url", env[1]],
                              stderr=subprocess.PIPE, text=True)
    try:
        page = wait_for(lambda: _get(f"http://127.0.0.1:{port}/"), what="the dashboard to answer")
        assert page.status_code == 200 and "<h1>Runs</h1>" in page.text
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert stderr.startswith(f"rhythm dashboard on http://127.0.0.1:{port}/\n")


def _get(url: str) -> httpx2.Response | None:
    try:
        return httpx2.get(url, timeout=2)
    except httpx2.TransportError:
        return None


# -- a real browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium at /usr/bin/chromium, and apt-get could not install it")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_in_a_browser_list_open_a_run_and_cancel_it(env, browser):
    client, _ = env
    run_id = started(client, "dash_approve", {"id": 11}, run_id=f"browser-{uuid.uuid4().hex[:8]}")
    with serve(create_app(env[1], token=TOKEN)) as base:
        page = browser.new_page()
        problems = []
        page.on("console", lambda m: m.type == "error" and problems.append(f"{m.text} ({m.location['url']})"))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/?token={TOKEN}")
        page.wait_for_url(f"{base}/")  # the token became a cookie and left the address bar
        page.wait_for_selector(f"text={run_id}")

        newcomer = started(client, "dash_approve", {"id": 12}, run_id=f"browser-late-{uuid.uuid4().hex[:8]}")
        page.wait_for_selector(f"text={newcomer}", timeout=8000)  # live refresh, no reload
        assert page.url == f"{base}/"

        page.click(f"a[href='{href(run_id)}']")
        page.wait_for_url(f"{base}{href(run_id)}")
        assert page.inner_text(".source .current .n") == "3"
        assert page.inner_text(".source .current code") == 'const decision = await Signal.next("approve")'
        assert page.inner_text("h1 .status") == "suspended"

        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("button:has-text('Cancel run')")
        page.wait_for_timeout(300)
        assert status(client, run_id) == "suspended" and page.query_selector(".flash") is None

        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Cancel run')")
        page.wait_for_selector(".flash.ok")
        assert page.inner_text(".flash") == f"cancelling run {run_id}: its catch and finally blocks run first"
        wait_for(lambda: status(client, run_id) == "cancelled", what="the run to be cancelled")
        page.reload()
        assert page.inner_text("h1 .status") == "cancelled"
        assert problems == []  # no script errors, nothing blocked by the content security policy
        page.close()


def test_in_a_browser_retry_a_failed_run(env, browser, tmp_path):
    client, url = env
    UPSTREAM["up"] = False
    run_id = started(client, "dash_fragile", {"n": 5}, until=("failed",), run_id=f"fragile-{uuid.uuid4().hex[:8]}")
    with serve(create_app(url)) as base:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(base + href(run_id))
        assert page.inner_text("h1 .status") == "failed"
        assert "failed at dash_fragile.flow:1" in page.inner_text("h2.headline")
        assert "upstream is down" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)  # looked at by hand while writing
        UPSTREAM["up"] = True
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Retry')")
        page.wait_for_selector(".flash.ok")
        assert page.inner_text(".flash").startswith(f"retrying run {run_id} on version ")
        wait_for(lambda: status(client, run_id) == "completed", what="the retried run to complete")
        assert client.get(run_id).result(5) == {"ok": 5}
        page.reload()
        assert page.inner_text("h1 .status") == "completed"
        assert "retried on" in page.inner_text("table.history")
        page.close()
    UPSTREAM["up"] = False


def test_screenshot(env, browser, tmp_path):
    """The README's screenshot: written to docs/dashboard.png only with RHYTHM_DASHBOARD_SCREENSHOT=1."""
    client, _ = env
    run_id = started(client, "onboard_user", {"userId": 42}, run_id="onboard-7f3a9c")
    wait_for(lambda: query(env[1], "SELECT 1 FROM rhythm.tasks WHERE run_id = %s AND error IS NOT NULL", [run_id]),
             what="the e-mail task to fail once")
    target = SCREENSHOT if os.environ.get("RHYTHM_DASHBOARD_SCREENSHOT") else tmp_path / "dashboard.png"
    with serve(create_app(env[1])) as base:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(base + href(run_id))
        page.wait_for_selector(".graph svg")
        page.screenshot(path=str(target), full_page=True)
        page.close()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 20_000


def test_in_a_browser_follow_a_child_run_and_see_it_finish(env, browser):
    client, db_url = env
    parent = started(client, "dash_parent", {"id": 15}, run_id=f"parent-{uuid.uuid4().hex[:8]}")
    child = wait_for(lambda: query(db_url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s", [parent]),
                     what="the child run")[0]["id"]
    wait_for(lambda: status(client, child) == "suspended", what="the child to wait for its signal")
    with serve(create_app(db_url)) as base:
        page = browser.new_page()
        page.goto(base + href(parent))
        assert page.inner_text(".source .current code") == \
            'const answer = await Workflow.run("dash_approve", { id: Inputs.id })'
        page.click("ul.waits a:has-text('open the child run')")
        page.wait_for_url(f"{base}{href(child)}")
        assert page.inner_text(".source .current .n") == "3"

        page.fill("input[name=payload]", "{not json")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Signal')")
        page.wait_for_selector(".flash.error")
        assert page.input_value("input[name=payload]") == "{not json"  # what was typed, to be fixed
        page.fill("input[name=payload]", '{"ok": 15}')
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Signal')")
        page.wait_for_selector(".flash.ok")
        wait_for(lambda: status(client, parent) == "completed", what="the parent to complete")
        for run_id in (child, parent):
            page.goto(base + href(run_id))
            assert page.inner_text("h1 .status") == "completed"
            assert page.query_selector(".source .current") is None  # a finished run is at no line
        page.close()
