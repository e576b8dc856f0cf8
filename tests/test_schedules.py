"""Schedules (cron): tick arithmetic with DST and catch-up, front matter, and exactly one run per tick on Postgres."""

from __future__ import annotations

import multiprocessing
import re
import random
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from helpers import query, wait_for, worker_thread, write_flows
from rhythm_compiler import CompileError, compile_source
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.execution.modules import module_hash
from rhythm_runtime.schedules import Schedule, ScheduleError, read_front_matter
from rhythm_runtime.storage import schedules as stored
from rhythm_runtime.storage.store import Store

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- ticks -------------------------------------------------------------------------------------------


def test_spring_forward_fires_a_skipped_time_once_at_the_first_minute_that_exists() -> None:
    # Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist that day.
    ticks = Schedule(("30 2 * * *",), "Europe/Berlin").ticks(utc(2026, 3, 27), utc(2026, 3, 31))
    assert ticks == [utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]


def test_fall_back_fires_a_repeated_time_once() -> None:
    # Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; it fires at the first.
    ticks = Schedule(("30 2 * * *",), "Europe/Berlin").ticks(utc(2026, 10, 23), utc(2026, 10, 27))
    assert ticks == [utc(2026, 10, 23, 0, 30), utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_an_hourly_schedule_fires_every_real_hour_across_both_changes() -> None:
    spring = Schedule(("@hourly",), "Europe/Berlin").ticks(utc(2026, 3, 28, 22), utc(2026, 3, 29, 4))
    fall = Schedule(("0 * * * *",), "Europe/Berlin").ticks(utc(2026, 10, 24, 22), utc(2026, 10, 25, 4))
    assert spring == [utc(2026, 3, 28, 23) + timedelta(hours=i) for i in range(6)]
    assert fall == [utc(2026, 10, 24, 23) + timedelta(hours=i) for i in range(6)]


def test_intervals_and_lists() -> None:
    assert Schedule(("every 15m",)).ticks(utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 1)) == [
        utc(2026, 1, 1, 0, 15), utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 45), utc(2026, 1, 1, 1)]
    both = Schedule(("0 9 * * 1-5", "0 12 * * 6,0"), "UTC").ticks(utc(2026, 12, 4), utc(2026, 12, 7))  # Fri..Sun
    assert both == [utc(2026, 12, 4, 9), utc(2026, 12, 5, 12), utc(2026, 12, 6, 12)]


def test_after_downtime_only_ticks_within_the_catchup_window_fire() -> None:
    now = utc(2026, 1, 1, 12, 7)
    two_hours_down = now - timedelta(hours=2)
    allow = Schedule(("every 15m",), overlap="allow_all", catchup=timedelta(minutes=40))
    assert allow.due(two_hours_down, now) == [utc(2026, 1, 1, 11, 30), utc(2026, 1, 1, 11, 45), utc(2026, 1, 1, 12)]
    assert Schedule(("every 15m",), catchup=timedelta(hours=1)).due(two_hours_down, now) == [utc(2026, 1, 1, 12)]
    assert Schedule(("every 15m",), overlap="allow_all").due(two_hours_down, now) == [utc(2026, 1, 1, 12)]
    assert allow.due(now, now + timedelta(minutes=5)) == []


@pytest.mark.parametrize("spec, message", [
    (dict(crons=("61 * * * *",)), "'61 * * * *' is not a cron expression"),
    (dict(crons=("@daily",), timezone="Mars/Base"), "unknown time zone 'Mars/Base'"),
    (dict(crons=("@daily",), overlap="never"), "overlap must be one of skip, buffer_one, allow_all, cancel_running"),
    (dict(crons=("every 0s",)), "the interval must be at least one second"),
    (dict(crons=()), "a schedule needs at least one cron expression"),
])
def test_bad_schedules_say_what_is_wrong(spec: dict, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        Schedule(**spec)


# -- front matter --------------------------------------------------------------------------------------


def test_front_matter_declares_a_schedule_and_keeps_other_keys_as_metadata() -> None:
    front = read_front_matter('description: Nightly.\nowner: billing\nschedule: ["0 3 * * *", "@hourly"]\n'
                              'timezone: Europe/Berlin\ninputs: {region: eu}\noverlap: allow_all\ncatchup: 1h\n')
    assert front.schedule == Schedule(("0 3 * * *", "@hourly"), "Europe/Berlin", "allow_all", timedelta(hours=1))
    assert front.inputs == {"region": "eu"} and front.description == "Nightly."
    assert read_front_matter("description: no schedule\n").schedule is None


@pytest.mark.parametrize("front, line, message", [
    ('description: x\nschedule: "0 25 * * *"', 3, "'0 25 * * *' is not a cron expression"),
    ('schedule: "@daily"\ntimezone: Europe/Berlinn', 3, "unknown time zone 'Europe/Berlinn'"),
    ('timezone: UTC', 2, "'timezone' applies to a schedule, and there is no 'schedule'"),
    ('schedule: "@daily"\ncatchup: soon', 3, "'soon' is not a duration"),
])
def test_a_bad_schedule_in_front_matter_is_a_compile_error_at_its_key(front: str, line: int, message: str) -> None:
    with pytest.raises(CompileError) as caught:
        compile_source(f"```\n{front}\n```\nreturn 1\n", "nightly.flow")
    (diag,) = caught.value.diagnostics
    assert (diag.line, diag.col) == (line, 1) and message in diag.message


def test_front_matter_that_is_not_yaml_compiles_and_check_warns(tmp_path: Path) -> None:
    from rhythm_runtime.editor.app_names import AppNames
    from rhythm_runtime.editor.findings import findings

    source = "```\nschedule: [\n```\nreturn 1\n"
    assert compile_source(source, "notes.flow").code  # the user's own text: it always compiled
    (warning,) = findings(source, "notes.flow", AppNames())
    assert warning.severity == "warning" and "the front matter is not valid YAML" in warning.message


# -- on Postgres -------------------------------------------------------------------------------------------


def _register(store: Store, name: str, source: str = "return Inputs\n") -> None:
    compiled = compile_source(source, f"{name}.flow")
    store.register_version(name, compiled.version, source, compiled.code, module_hash(compiled.code))


def _runs(db_url: str, prefix: str) -> list[str]:
    return [r["id"] for r in query(db_url, "SELECT id FROM rhythm.runs WHERE id LIKE %s ORDER BY id", (prefix + "@%",))]


def _backdate(db_url: str, schedule_id: str, at: datetime, spec: Schedule) -> None:
    query(db_url, "UPDATE rhythm.schedules SET handled_until = %s, next_fire_at = %s WHERE id = %s RETURNING id",
          (at, spec.next_after(at), schedule_id))


def _fire_over_a_day(db_url: str, start: datetime, offset_minutes: int, seed: int) -> int:
    """One 'worker': fires at every 7 minutes of a day with its own clock drift; the runs it started."""
    store = Store(db_url, max_size=1)
    rng = random.Random(seed)
    started = 0
    try:
        for minute in range(0, 24 * 60 + 8, 7):  # the last pass is just past the day: its last tick fires too
            at = start + timedelta(minutes=minute + offset_minutes, seconds=rng.randrange(60))
            started += len(stored.fire_due(store, at=at))
    finally:
        store.close()
    return started


def test_four_workers_fire_each_tick_of_a_simulated_day_exactly_once(db_url: str) -> None:
    store = Store(db_url, max_size=2)
    try:
        _register(store, "half_hourly")
        # The four loops race through simulated time at their own speeds, and one that finds the row locked skips
        # ahead: a catch-up window of a day keeps those skips from dropping ticks (catch-up has its own test).
        spec = Schedule(("*/30 * * * *",), "Europe/Berlin", "allow_all", timedelta(days=1))
        stored.save(store, "day", "half_hourly", spec, {"n": 1})
        start = utc(2026, 10, 24, 22)  # across the autumn change: a 25-hour day in Berlin
        _backdate(db_url, "day", start, spec)
    finally:
        store.close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        started = pool.starmap(_fire_over_a_day, [(db_url, start, drift, drift) for drift in (0, 1, 2, 3)])
    runs = _runs(db_url, "day")
    expected = [stored.tick_run_id("day", t) for t in spec.ticks(start, start + timedelta(minutes=24 * 60))]
    assert runs == sorted(expected) and len(expected) == 48
    assert sum(started) == len(expected)  # nobody started a run twice, and every start was counted once


def test_a_worker_back_from_downtime_fires_no_burst(db_url: str) -> None:
    store = Store(db_url, max_size=2)
    try:
        _register(store, "minutely")
        for overlap in ("skip", "allow_all"):
            spec = Schedule(("every 1m",), "UTC", overlap, timedelta(minutes=5))
            stored.save(store, f"down-{overlap}", "minutely", spec)
            now = utc(2026, 6, 1, 12, 0, 30)
            _backdate(db_url, f"down-{overlap}", now - timedelta(hours=3), spec)
            stored.fire_due(store, at=now)
        assert len(_runs(db_url, "down-skip")) == 1
        assert len(_runs(db_url, "down-allow_all")) == 5  # 11:56 to 12:00: within five minutes of 12:00:30
    finally:
        store.close()


def test_overlap_policies(db_url: str) -> None:
    store = Store(db_url, max_size=2)
    t0 = utc(2026, 6, 2, 8)
    try:
        _register(store, "slow", 'await Signal.next("done")\nreturn 1\n')
        for policy in ("skip", "cancel_running", "buffer_one"):
            spec = Schedule(("every 1m",), "UTC", policy)
            stored.save(store, f"ov-{policy}", "slow", spec)
            _backdate(db_url, f"ov-{policy}", t0, spec)
            stored.fire_due(store, at=t0 + timedelta(seconds=61))  # the 08:01 run starts; it stays unfinished
            query(db_url, "UPDATE rhythm.runs SET status = 'suspended', activations = 1 WHERE id = %s RETURNING id",
                  (f"ov-{policy}@2026-06-02T08:01:00Z",))  # as a worker would leave it, waiting for its signal
            stored.fire_due(store, at=t0 + timedelta(seconds=121))  # 08:02 while it is still running
        assert _runs(db_url, "ov-skip") == ["ov-skip@2026-06-02T08:01:00Z"]
        # cancel_running asks the running one to cancel (its catch/finally run), and holds 08:02 until it has ended
        first = "ov-cancel_running@2026-06-02T08:01:00Z"
        assert _runs(db_url, "ov-cancel_running") == [first]
        row = query(db_url, "SELECT status, cancel_requested_at FROM rhythm.runs WHERE id = %s", (first,))[0]
        assert row["status"] == "suspended" and row["cancel_requested_at"] is not None
        query(db_url, "UPDATE rhythm.runs SET status = 'cancelled' WHERE id = %s RETURNING id", (first,))
        stored.fire_due(store, at=t0 + timedelta(seconds=140))
        assert _runs(db_url, "ov-cancel_running") == [first, "ov-cancel_running@2026-06-02T08:02:00Z"]
        assert _runs(db_url, "ov-buffer_one") == ["ov-buffer_one@2026-06-02T08:01:00Z"]
        query(db_url, "UPDATE rhythm.runs SET status = 'completed' WHERE id = 'ov-buffer_one@2026-06-02T08:01:00Z' "
                      "RETURNING id")
        stored.fire_due(store, at=t0 + timedelta(seconds=150))  # the held 08:02 tick starts once the first ended
        assert _runs(db_url, "ov-buffer_one")[-1] == "ov-buffer_one@2026-06-02T08:02:00Z"
    finally:
        store.close()


def test_client_api_pause_resume_trigger_backfill_delete(db_url: str) -> None:
    client = SyncRhythmClient(db_url)
    try:
        _register(client.store, "report")
        schedule = client.create_schedule("rep-42", "report", cron="0 6 * * *", inputs={"customer": 42},
                                          timezone="America/New_York")
        row = schedule.describe()
        assert (row["workflow_name"], row["crons"], row["timezone"], row["paused"]) == (
            "report", ["0 6 * * *"], "America/New_York", False)
        schedule.pause()
        assert client.get_schedule("rep-42").describe()["paused"] is True
        fired = stored.fire_due(client.store, at=datetime.now(UTC) + timedelta(days=2))
        assert not [r for r in fired if r.startswith("rep-42@")]
        schedule.resume()
        run_id = schedule.trigger()
        assert client.get(run_id).describe()["inputs"] == {"customer": 42}
        filled = schedule.backfill(utc(2026, 1, 1), utc(2026, 1, 4))
        assert filled == [f"rep-42@2026-01-0{d}T11:00:00Z" for d in (1, 2, 3)]
        assert schedule.backfill(utc(2026, 1, 1), utc(2026, 1, 4)) == []  # idempotent
        schedule.delete()
        with pytest.raises(stored.ScheduleNotFound):
            client.get_schedule("rep-42")
        with pytest.raises(ScheduleError, match="not a cron expression"):
            client.create_schedule("bad", "report", cron="0 25 * * *")
    finally:
        client.close()


def test_front_matter_schedules_follow_the_registered_version_and_a_worker_fires_them(db_url: str, tmp_path: Path) -> None:
    flows = write_flows(tmp_path / "workflows", {"tick": textwrap.dedent('''\
        ```
        schedule: "every 1s"
        inputs: { source: "cron" }
        ```
        return Inputs.source
        ''')})
    app = RhythmApp(flows)
    with worker_thread(app, db_url) as (_worker, client):
        wait_for(lambda: len(_runs(db_url, "tick")) >= 2, timeout=30, what="two ticks of the schedule")
        first = _runs(db_url, "tick")[0]
        assert client.get(first).result(20) == "cron"
        (row,) = [r for r in client.list_schedules() if r["id"] == "tick"]
        assert row["origin"] == "front matter" and row["crons"] == ["every 1s"]
    (flows / "tick.flow").write_text("return 1\n")
    with worker_thread(RhythmApp(flows), db_url) as (_worker, client):
        assert [r for r in client.list_schedules() if r["id"] == "tick"] == []
