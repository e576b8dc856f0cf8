"""The worker: advances runs and executes tasks, on as many machines as you like.

One loop thread fires due timers, advances runnable runs (a batch of row
locks per transaction, and free task threads lent to more batches when many
are runnable) and claims tasks (a lease renewed while they run); it wakes on
LISTEN/NOTIFY or when the next timer or retry is due, polling as a fallback.
Task functions run in a thread pool. When a task finishes, its result
commits, and if its run waits on it the same thread advances the run at once
(no second claim, no notification); when its run schedules no task for it,
the thread claims a pending one itself, and wakes the loop only when none is
left (a run's end costs one claim, not a loop tick and a hand-off).
When the database goes away, the loop, the listener and the task threads back
off and retry (the store logs the outage once, and its end once); nothing is
lost: an activation in flight rolls back, a finished task keeps trying to
record its result while its lease may still be held.
SIGTERM/SIGINT stop claiming, let running tasks finish (still renewing their
leases) and record their results for up to `shutdown_timeout` seconds, then
abandon the rest with their leases released, so other workers run them at
once; a second signal abandons them at once.
A worker heartbeats on its own database session (presence.py); when a worker
dies, any other one sees its session gone and takes over its tasks at once,
logging a line per task (whose, why, how long it was held).
Every task and activation goes through an `Observer` (observability.py): log
lines carry the run and task ids, spans are made when OpenTelemetry is
installed, and counters are kept when metrics are served.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

import psycopg

from rhythm_runtime.execution import values as _js
from rhythm_runtime.api import tasks as _tasks
from rhythm_runtime.api.app import RhythmApp
from rhythm_runtime.api.tasks import TaskContext, call_task
from rhythm_runtime.storage.settings import Settings
from rhythm_runtime.storage.db import connect, migrate
from rhythm_runtime.errors import StorageError
from rhythm_runtime.execution.machine import DEFAULT_STEP_BUDGET, MAX_PAYLOAD_BYTES, acyclic_json_text, clip, json_problem
from rhythm_runtime.execution.modules import load_module, module_hash
from rhythm_runtime.api.task_calls import unknown_task_calls
from rhythm_runtime.worker.observability import Observer
from rhythm_runtime.storage import limits, retention, schedules
from rhythm_runtime.worker.presence import Presence, worker_row
from rhythm_runtime.storage.engine import Engine, InlineClaim, VersionUnavailable, claim_number
from rhythm_runtime.storage.queries import Q, error_payload
from rhythm_runtime.storage.store import Store
from rhythm_runtime.storage.transactions import is_outage

log = logging.getLogger("rhythm")

# The shortest wait between polls, so a due timer another worker holds cannot make this one spin.
MIN_WAIT = 0.02
# While the database is away, the loop and the task threads retry after this much, doubling up to MAX_RETRY_DELAY.
FIRST_RETRY_DELAY = 0.25
MAX_RETRY_DELAY = 5.0
# Why another worker's task was taken over, as the log line says it.
TAKEOVER_REASONS = {"session ended": "its database session ended (the process died)",
                    "lease expired": "its lease expired (it stopped renewing it)"}
# Due timers fired per statement; a tick that fired this many looks again at once.
FIRE_BATCH = 1000
# A notice of runnable runs that another worker is to take (see _notice) wakes this one this much later (at most
# its poll interval), unless it ticked meanwhile or has no free slot: so a notice its worker missed (gone, or
# busy) waits no longer while a worker has room for the work.
FOREIGN_NOTICE_DELAY = 0.05
# While all its task slots are taken, a worker reads no notices (see Worker._pause_notices); it looks this often
# (seconds) whether a slot freed, and then reads those that came meanwhile.
PAUSE_CHECK = 0.05
# Workers prune finished runs past their retention this often (seconds), for at most PRUNE_BUDGET seconds each.
PRUNE_INTERVAL = 60.0
PRUNE_BUDGET = 0.5
# A failed task's traceback is stored (in its row, for people) cut to about this much.
MAX_TRACEBACK_CHARS = 4000
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


class Worker:
    engine_class = Engine  # the machine driver; a subclass may adjust scheduling (tests do)
    # A task thread runs the next task of the run it just advanced without a claim round trip, at
    # most this many times in a row, so one long workflow cannot starve the others (0: never).
    inline_chain = 8
    # Runs advanced per transaction (timer wake-ups, starts, signals): one commit for the batch.
    activation_batch = 50
    # A task thread lent to activations advances at most this many batches, then gives its slot back.
    activation_rounds = 5

    def __init__(self, app: RhythmApp, *, concurrency: int = 4, queues=("default",), poll_interval: float = 0.5,
                 lease_seconds: float = 30.0, database_url: str | None = None, metrics_port: int | None = None,
                 metrics_host: str = "127.0.0.1", shutdown_timeout: float = 30.0):
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.app = app
        self.concurrency = concurrency
        self.queues = list(queues)
        self.poll_interval = poll_interval
        self.lease = lease_seconds
        # Renew well before a lease can expire; reclaim others' expired leases as often.
        self.housekeeping_interval = min(1.0, lease_seconds / 3)
        self.host = socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}:{id(self) % 10000}"
        self.started_at = datetime.now(timezone.utc)
        self.url = Settings.load(database_url or app.database_url, app.project_dir).database_url()
        self.stopping = threading.Event()
        self.hurry = threading.Event()  # stop() called again: abandon running tasks now
        self.presence_lock = threading.Lock()  # a heartbeat never lands after the goodbye (which would undo it)
        self.shutdown_timeout = shutdown_timeout
        self.abandoned = 0  # running tasks given up at shutdown (their threads may still be running)
        # task id -> (claim number, until when (monotonic) this worker surely holds its lease)
        self.running: dict[int, tuple[int, float]] = {}
        self.activating = 0  # task threads advancing runs (see _lend_threads)
        self.refilling = 0  # task threads claiming a task for the slot they hold (see _refill)
        # Whether tasks of its open queues may be pending: a notice or a read said so since a claim found none.
        self.pending_hint = True
        self.lost: set[int] = set()  # running tasks whose lease another worker may have taken
        self.retry_delay = 0.0  # the loop's current backoff while the database is away
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.wake_lock = threading.Lock()
        self.narrow = False  # only notices of runs this worker is to take woke the loop: its tick just locks runs
        self._modules: dict[tuple[str, str], object] = {}
        self.metrics_address = None if metrics_port is None else (metrics_host, metrics_port)
        self.metrics = None  # a metrics.Metrics while served
        self.limited: dict[str, bool] = {}  # its queues with limits (claimed under their lock): concurrency alone?
        self.throttled_until: float | None = None  # (monotonic) when a throttled queue may have a task to start
        self.admit_due = threading.Event()  # runs may wait on queues for admission (NOTIFY 'admit', housekeeping)
        self.admit_due.set()
        self.admission_at: float | None = None  # (monotonic) when a waiting run may fit a queue's rate or delay
        # What the last tick's read said: (when, seconds until the next timer or run is due, until the next task), or None
        self.read_due: tuple | None = None
        # (rank, number) of this worker among the live ones, by id, as its last heartbeat read it (see _notice)
        self.peers = (0, 1)
        self.tick_started = 0.0  # (monotonic) when the last tick began: it saw every notice that came before
        self.deferred_since: float | None = None  # (monotonic) when the oldest notice left to a later look came
        self.next_prune = time.monotonic() + PRUNE_INTERVAL * random.random()  # workers spread their turns

    # -- set-up ---------------------------------------------------------------------
    def start(self) -> None:
        retention.default_retention()  # a bad RHYTHM_RETENTION stops the worker now, not each minute
        migrate(self.url)
        self.store = Store(self.url, max_size=self.concurrency + 4)
        self.store.keep_connection()  # the loop's (this thread's): its polls and housekeeping planned once
        self.app.register(self.store)
        for wf in self.app.workflows.values():
            self._modules[(wf.name, wf.version)] = wf.module
        self._register_tasks()
        self.engine = self.engine_class(self.module_for, self.app.tasks,
                                        self.app.step_budget or DEFAULT_STEP_BUDGET)
        if self.metrics_address is not None:
            self._serve_metrics(*self.metrics_address)
        self.observer = Observer(self.metrics)
        self.observer.instrument(self.engine)
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="rhythm-task")
        self.presence = Presence(lambda: worker_row(self))
        session = self._open_session()
        self.listener = threading.Thread(target=self._listen, args=(session,), name="rhythm-listen", daemon=True)
        self.listener.start()
        log.info("worker %s started: %d workflows, %d tasks (runs %d of them), queues %s, concurrency %d", self.id,
                 len(self.app.workflows), len(self.app.tasks), len(self.served), ",".join(self.queues),
                 self.concurrency, extra={"worker": self.id, "queues": self.queues, "concurrency": self.concurrency})

    def _register_tasks(self) -> None:
        """Record this app's @tasks (their queues route them from any worker), choose the ones this worker
        runs (those of its queues), and warn about Task.run names in its workflows that nobody registered."""
        self.served = sorted(name for name, spec in self.app.tasks.items() if spec.queue in self.queues)
        limits.register_queues(self.store, self.id, list(self.app.queues.values()))
        self._refresh_limits()
        moved = self.store.register_tasks(self.id, list(self.app.tasks.values()))
        if moved:
            log.info("routed %d pending task(s) scheduled before their @task was registered", moved)
        known = set(self.store.registered_task_names())
        for warning in unknown_task_calls(self.app.workflows, known):
            log.warning(warning)

    def _refresh_limits(self) -> None:
        """Learn which of this worker's queues have limits (any worker may have declared them)."""
        self.limited = limits.limited_queues(self.store, self.queues)
        self.open_queues = [q for q in self.queues if q not in self.limited]
        tasks = self.app.tasks
        self.open_names = [n for n in self.served if tasks[n].queue not in self.limited]
        # the names a task thread may insert already leased to itself: never one a limit must count first
        self.inline_names = frozenset(self.open_names)
        self.limited_names = {q: [n for n in self.served if tasks[n].queue == q] for q in self.limited}
        # A task that ends on a queue limited by concurrency alone hands its slot to the next task of its run,
        # inserted leased in the same transaction (the queue's running count does not change), so that one
        # skips the claim as well; keys and rates need the claim's counting.
        self.handoff_names = {q: self.inline_names | frozenset(self.limited_names[q])
                              for q, slots_only in self.limited.items() if slots_only}

    def _serve_metrics(self, host: str, port: int) -> None:
        from rhythm_runtime.worker.metrics import Metrics  # prometheus_client is imported only by workers that serve metrics

        self.metrics = Metrics(self.store)
        log.info("serving metrics on %s", self.metrics.serve(host, port))

    def reload(self) -> None:
        """Recompile changed workflows and register their new versions (for `rhythm dev`)."""
        self.app.reload()
        self.app.register(self.store)
        for wf in self.app.workflows.values():
            self._modules[(wf.name, wf.version)] = wf.module

    def module_for(self, conn, name: str, version: str):
        """This build's module, or the stored one for a run of an older version (checked against its hash)."""
        module = self._modules.get((name, version))
        if module is not None:
            return module
        row = conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()
        if row is None:
            raise VersionUnavailable(f"workflow {name!r} version {version} is not registered")
        actual = module_hash(row["module_code"])
        if actual != row["module_hash"]:
            raise VersionUnavailable(
                f"refusing to run workflow {name!r} version {version}: its stored module code has sha256 "
                f"{actual[:12]}… but was registered as {row['module_hash'][:12]}… "
                f"(it was modified in the database)")
        try:
            module = load_module(row["module_code"], name)
        except Exception as e:  # broken code in the database: the run cannot go on with it
            raise VersionUnavailable(f"the stored module of workflow {name!r} version {version} "
                                     f"does not load: {type(e).__name__}: {e}") from e
        log.info("loaded workflow %s version %s from Postgres (not in this build)", name, version)
        self._modules[(name, version)] = module
        return module

    # -- the loop -------------------------------------------------------------------------
    def run(self, install_signals: bool = True) -> None:
        if install_signals:
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.start()
        last_housekeeping = 0.0
        narrow = False
        try:
            while not self.stopping.is_set():
                again = self._tick(narrow)
                narrow = False
                if time.monotonic() - last_housekeeping >= self.housekeeping_interval:
                    again = self._housekeeping() or again
                    last_housekeeping = time.monotonic()
                if not again:
                    woke = self.wake.wait(self._idle_wait())
                    with self.wake_lock:
                        self.wake.clear()
                        narrow, self.narrow = woke and self.narrow, False
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Stop claiming and let running tasks finish (up to shutdown_timeout); a second call abandons them now."""
        if self.stopping.is_set():
            self.hurry.set()
        self.stopping.set()
        self._wake()

    def _tick(self, narrow: bool = False) -> bool:
        """Fire due timers, advance a batch of runnable runs (and lend free task threads to the rest), then
        fill free task slots; each only if a first read finds something to do (a NOTIFY wakes every worker,
        and one of them gets the work). True if a batch was full, so more may be waiting: the loop ticks
        again at once. Nothing else needs a second look: what appears meanwhile comes with a NOTIFY or a
        freed slot, which wakes the loop, and the timers this process writes are in the engine's hint."""
        again = False
        self.tick_started = time.monotonic()
        try:
            if narrow:  # `runs N` for this worker alone woke it: what the last read said of the rest still holds
                work = dict(runs=True, timers=False, tasks=False)
            else:
                self.read_due = None
                self.engine.timers_read(self.tick_started)
                free = self._free_slots() > 0
                work = self.store.pending_work(self.open_queues, self.open_names, free)
                self.pending_hint = self.pending_hint or work["tasks"]
                self.read_due = (time.monotonic(), work["seconds"], work["task_seconds"])
            fired = self.store.fire_timers(FIRE_BATCH) if work["timers"] else 0
            again = fired == FIRE_BATCH
            admitted = False
            if self.admit_due.is_set() or (self.admission_at is not None and time.monotonic() >= self.admission_at):
                admitted = self._admit()
            if (work["runs"] or fired or admitted) and not self.stopping.is_set():
                claim = self._inline_claim()
                with self.observer.store_call():
                    advanced = self.store.advance_runnable(self.engine, self.activation_batch, claim)
                self._run_all(claim.taken() if claim is not None else [])
                if advanced == self.activation_batch:
                    again = True
                    self._lend_threads()
            if self._free_slots() > 0 and self.served and not self.stopping.is_set() and not narrow:
                self._claim(open_queues=work["tasks"])
            self.retry_delay = 0.0
        except StorageError as e:
            self._back_off(e)
        except Exception:  # never let one bad row stop the worker
            log.exception("worker loop error; continuing")
            self.stopping.wait(1.0)
        return again

    def _claim(self, open_queues: bool) -> bool:
        """Fill free slots: from the queues without limits in one statement (`open_queues`: some may have a
        task), then from each limited queue under its lock; remember when a throttled queue may have a task
        to start. True if any was claimed."""
        claimed = []
        if self.open_names and open_queues:
            claimed += self.store.claim_tasks(self.id, self.open_queues, self.open_names, self._free_slots(),
                                              self.lease)
        self.throttled_until = None
        for queue, names in self.limited_names.items():
            free = self._free_slots() - len(claimed)
            if free <= 0 or not names:
                continue
            rows, wait = limits.claim(self.store, self.id, queue, names, free, self.lease)
            claimed += rows
            if wait is not None:
                until = time.monotonic() + wait
                self.throttled_until = min(self.throttled_until or until, until)
        self._run_all(claimed)
        return bool(claimed)

    def _inline_claim(self) -> InlineClaim | None:
        """The free task slots, offered to the tasks the loop's activations schedule (no claim, no NOTIFY)."""
        free = self._free_slots()
        return InlineClaim(self.id, self.lease, self.inline_names, free) if free > 0 and self.served else None

    def _run_all(self, tasks: list[dict]) -> None:
        """Run tasks leased to this worker on its task threads."""
        for task in tasks:
            self._hold(task)
            self.pool.submit(self._execute, task)

    def _admit(self) -> bool:
        """Admit the runs waiting on queues that fit their limits (any worker may; each queue's lock orders
        them); remember when a rate window or a delay may let more in. True if any was admitted."""
        self.admit_due.clear()
        admitted, wait = limits.admit_runs(self.store)
        self.admission_at = None if wait is None else time.monotonic() + wait
        return bool(admitted)

    def _free_slots(self) -> int:
        """Task threads neither running a task nor lent to activations."""
        return self.concurrency - len(self.running) - self.activating - self.refilling

    def _lend_threads(self) -> None:
        """More runs are runnable than one batch: half the free task threads advance batches of them too."""
        with self.lock:
            lent = min(self._free_slots(), max(1, self.concurrency // 2) - self.activating)
            self.activating += max(0, lent)
        for _ in range(lent):
            self.pool.submit(self._activate)

    def _activate(self) -> None:
        """On a task thread: advance batches of runnable runs until none are left (or a few rounds passed)."""
        try:
            for _ in range(self.activation_rounds):
                if self.stopping.is_set():
                    break
                with self.observer.store_call():
                    if self.store.advance_runnable(self.engine, self.activation_batch) < self.activation_batch:
                        break
        except StorageError as e:
            if not is_outage(e):  # the loop reports an outage; the runs stay runnable for it
                log.warning("database error while advancing runs, retrying: %s", e)
        except Exception:  # never let a bug kill the thread's slot
            log.exception("worker activation error; continuing")
        finally:
            with self.lock:
                self.activating -= 1
            self._wake()

    def _back_off(self, e: StorageError) -> None:
        """Wait before the loop tries again. An outage is logged once (by the store), not on every try."""
        if not is_outage(e):  # e.g. a deadlock: rare, and worth a line each time
            log.warning("database error, retrying: %s", e)
        self.retry_delay = min(max(self.retry_delay * 2, FIRST_RETRY_DELAY), MAX_RETRY_DELAY)
        self.stopping.wait(self.retry_delay)

    def _idle_wait(self) -> float:
        """Seconds to sleep when idle: until the next timer or retry is due, at most poll_interval. The tick
        that found nothing read it already; its pending tasks count while a slot is free (a slot that freed
        since that read wakes the loop, and the next tick reads them). Read now only if the tick could not."""
        try:
            free = self._free_slots() > 0
            if self.read_due is not None:
                read_at, seconds, task_seconds = self.read_due
                due = min((float(s) for s in (seconds, task_seconds if free else None) if s is not None),
                          default=None)
                due = None if due is None else max(0.0, due) - (time.monotonic() - read_at)
            else:
                due = self.store.seconds_until_due(self.open_queues, self.open_names, with_tasks=free)
        except Exception:  # StorageError while the database is away; the loop reports it
            return self.poll_interval
        if free and self.throttled_until is not None:  # a throttled queue's next token or delayed task
            throttled = self.throttled_until - time.monotonic()
            due = throttled if due is None else min(due, throttled)
        if self.admission_at is not None:  # a run waiting on a queue's rate window or its delay
            admission = self.admission_at - time.monotonic()
            due = admission if due is None else min(due, admission)
        hint = self.engine.timer_hint  # a timer this process wrote since (no NOTIFY announces timers)
        if hint is not None:
            due = hint - time.monotonic() if due is None else min(due, hint - time.monotonic())
        wait = self.poll_interval if not self.running else min(self.poll_interval, self.housekeeping_interval)
        return wait if due is None else min(wait, max(due, MIN_WAIT))

    def _housekeeping(self) -> bool:
        try:
            self._renew()
            self._refresh_limits()
            fired = schedules.fire_due(self.store)
            for run_id in fired:
                log.info("schedule started run %s", run_id)
            self._prune()
            released = self.store.release_queued_runs()  # keyed runs started with on_conflict="queue"
            self.admit_due.set()  # runs on queues: the next tick admits what fits (a lost NOTIFY, a schedule's run)
            return self._take_over() or bool(fired) or bool(released)
        except StorageError as e:
            if not is_outage(e):
                log.warning("database error in housekeeping, retrying: %s", e)
        except Exception:  # never let housekeeping stop the worker
            log.exception("worker housekeeping error; continuing")
        return False

    def _prune(self) -> None:
        """Delete finished runs past their retention, a short while at a time (whoever gets the lock)."""
        if time.monotonic() < self.next_prune:
            return
        self.next_prune = time.monotonic() + PRUNE_INTERVAL
        pruned = retention.prune(self.store, budget=PRUNE_BUDGET)
        if pruned and (pruned.runs or pruned.tasks):
            log.info("pruned %d finished run(s) and %d standalone task(s) past their retention", pruned.runs,
                     pruned.tasks)

    def _take_over(self, releasing: str | None = None) -> bool:
        """Requeue lost workers' tasks (and, `releasing`, this worker's own), with a line per task taken."""
        rows = self.store.reclaim_lost(releasing)
        for r in rows:
            if r["why"] != "released":
                log.warning("took over task %s (%s) from worker %s: %s, after it held the task %.1fs; %s",
                            r["id"], r["name"], r["holder"], TAKEOVER_REASONS[r["why"]], r["held_seconds"] or 0.0,
                            "it runs again" if r["status"] == "pending" else "it failed: too many lost workers",
                            extra={"run_id": r["run_id"], "task_id": r["id"], "task": r["name"]})
        return bool(rows)

    def _hold(self, task: dict) -> None:
        """Count a task this worker just claimed as running (its lease is renewed from now on)."""
        with self.lock:
            self._held(task)

    def _held(self, task: dict) -> None:
        """_hold, under the lock already."""
        self.running[task["id"]] = (claim_number(task), time.monotonic() + self.lease)
        self.lost.discard(task["id"])

    def _held_until(self, task: dict) -> float:
        with self.lock:
            claim, until = self.running.get(task["id"], (None, 0.0))
        return until if claim == claim_number(task) else 0.0

    def _renew(self) -> None:
        with self.lock:
            ids = [i for i in self.running if i not in self.lost]
        if ids:
            asked = time.monotonic()
            kept = set(self.store.renew_leases(self.id, ids, self.lease))
            with self.lock:  # a task that finished meanwhile was not lost
                lost = [i for i in ids if i not in kept and i in self.running]
                self.lost.update(lost)
                for i in kept & self.running.keys():
                    self.running[i] = (self.running[i][0], asked + self.lease)
            if lost:
                log.warning("lost the lease of tasks %s (another worker may run them again)", lost)

    # -- tasks ---------------------------------------------------------------------------------
    def _execute(self, task: dict) -> None:
        """Run a task; when its run schedules the next task at once, run that one here too, and when its run
        schedules none, a pending task this thread claims itself (with the step, or see _refill)."""
        chain = 0
        while task is not None:
            following = refilled = None
            chain += 1
            with self.observer.task(task) as done:
                try:
                    ok, value, text = self._call(self._spec_for(task), task)
                    done(ok, value)
                    taken, refilled = self._record(task, ok, value, text, inline=chain <= self.inline_chain)
                    following = taken[0] if taken else None
                    if refilled is not None:  # the step's statement claimed for the slot, or found none pending
                        self.pending_hint, chain = refilled, 0
                except Exception:  # a bug in Rhythm; the lease expires and another worker retries
                    log.exception("task %s (%s) could not be recorded", task["id"], task["name"])
                finally:
                    refill = following is None and refilled is None and self.pending_hint and self.open_names \
                        and not self.stopping.is_set()
                    with self.lock:
                        if self.running.get(task["id"], (None,))[0] == claim_number(task):  # not a newer claim's
                            del self.running[task["id"]]
                            self.lost.discard(task["id"])
                        if following is not None:
                            self._held(following)
                        elif refill:
                            self.refilling += 1  # the slot stays taken while this thread claims for it
                    if following is None and not refill:
                        self._wake()  # a slot is free (a chain going on keeps it: the loop has nothing to do)
            if following is None and refill:
                following, chain = self._refill(), 0
            task = following

    def _refill(self) -> dict | None:
        """A pending task for the slot this thread's run just left, claimed by the thread itself: while tasks
        wait, a run's end costs one claim, with no loop tick (a read and a claim) and no hand-off to another
        thread. None when none is pending; the loop is woken then (it fills slots from runnable runs and
        limited queues too, and reads what came meanwhile)."""
        rows = []
        try:
            rows = self.store.claim_tasks(self.id, self.open_queues, self.open_names, 1, self.lease)
        except StorageError:  # the loop reports an outage, and claims again once it is over
            pass
        except Exception:  # never let a bug kill the thread's slot
            log.exception("claiming a task for a freed slot failed; leaving the slot to the loop")
        finally:
            with self.lock:
                self.refilling -= 1
                for row in rows:
                    self._held(row)
        if rows:
            return rows[0]
        self.pending_hint = False
        self._wake()
        return None

    def _spec_for(self, task: dict):
        """The task's @task, with the timeout of its row (Task.run's `timeout` option may have set another)."""
        spec = self.app.tasks[task["name"]]
        return spec if task["timeout_seconds"] == spec.timeout else replace(spec, timeout=task["timeout_seconds"])

    def _record(self, task: dict, ok: bool, value, text: str | None, inline: bool) -> tuple[list[dict], bool | None]:
        """Store the outcome (`text`: a result's JSON); returns a next task leased to this thread, if its run
        scheduled one (or, when it scheduled none, a pending task the step's statement claimed for the slot), and
        whether that claim found one (None: no claim was made with the step).

        While the database is away this retries with backoff for as long as the
        lease may still be this worker's; after that another worker runs the
        task again (at-least-once), so the result is given up.
        """
        delay = FIRST_RETRY_DELAY
        while True:
            try:
                names = self.handoff_names.get(task["queue"], self.inline_names)
                refill = (self.open_queues, self.open_names) if self.pending_hint and self.open_names else None
                claim = InlineClaim(self.id, self.lease, names, refill=refill) \
                    if inline and not self.stopping.is_set() else None
                with self.observer.store_call():
                    taken = self.store.finish_task(self.engine, task, self.id, ok, value, claim, text)
                return taken, claim.refilled if claim is not None else None
            except StorageError as e:
                if time.monotonic() + delay > self._held_until(task):
                    log.warning("could not record task %s (%s) before its lease ran out; another worker will "
                                "run it again: %s", task["id"], task["name"], e)
                    return [], None
                if not is_outage(e):
                    log.warning("could not record task %s (%s); retrying: %s", task["id"], task["name"], e)
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            except psycopg.DataError as e:  # e.g. a string with \u0000, which jsonb cannot hold
                if not ok:
                    raise
                ok, value, text = False, error_payload(
                    "TaskError", f"task {task['name']!r} returned a value Postgres cannot store: {str(e).strip()}",
                    task=task["name"]), None

    def _call(self, spec, task: dict) -> tuple[bool, object, str | None]:
        """Run the task function: (ok, result or error payload, the result as JSON text: made once, here)."""
        name = task["name"]
        context = TaskContext(task["id"], name, claim_number(task), task["run_id"], task["await_key"],
                              task["lost_leases"], lambda: self.store.task_cancelled(task["id"]))
        try:
            result = call_task(spec, task["payload"], context)
        except Exception as e:  # the task failed: a retry or a catchable TaskError
            self.observer.exception(e)
            message = clip(str(e) or type(e).__name__)
            if isinstance(e, TimeoutError) and spec.timeout is not None:
                message = f"task {name!r} timed out after {spec.timeout:g}s"
            # The workflow sees type and message; the task row also keeps the Python side, for people.
            return False, error_payload("TaskError", message, task=name, attempt=task["attempts"],
                                        exception=_exception_name(e), traceback=_task_traceback(e)), None
        try:
            value = _js.json_copy(result)  # what is stored is what JSON can carry
            text = acyclic_json_text(value)
        except (TypeError, ValueError, RecursionError) as e:
            problem = json_problem(result, "its result") or f"{type(result).__name__}: {e}"
            return False, error_payload("TaskError", f"task {name!r} returned a value that is not JSON: {problem}",
                                        task=name), None
        if len(text) > MAX_PAYLOAD_BYTES:
            return False, error_payload("TaskError", f"task {name!r} returned {len(text):,} bytes of JSON, over the "
                                                     f"limit of {MAX_PAYLOAD_BYTES:,}", task=name), None
        return True, value, text

    # -- notifications -------------------------------------------------------------------------
    def _open_session(self) -> psycopg.Connection:
        """The worker's own session: it LISTENs and heartbeats on it (see presence.py); its statements are
        prepared at once (each runs once a second: planned six times, not eleven, before it is warm)."""
        conn = connect(self.url, autocommit=True, prepare_threshold=0)
        try:
            conn.execute("LISTEN rhythm_work")
            self.peers = self.presence.attach(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _listen(self, session: psycopg.Connection | None) -> None:
        """Wake the loop on NOTIFY and heartbeat; reconnect with backoff when the database goes away."""
        delay = FIRST_RETRY_DELAY
        while not self.stopping.is_set():
            try:
                if session is None:
                    session = self._open_session()
                    delay = FIRST_RETRY_DELAY
                    self._wake()  # work may have arrived while nobody listened
                self._serve_session(session)
            except (StorageError, psycopg.Error) as e:
                self.store.health.failed(e)  # logged once, with the loop's failures
                session = _closed(session)
                self.stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            except Exception:  # never let the listener die: without it the worker only polls
                log.exception("worker listener error; reconnecting")
                session = _closed(session)
                self.stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
        _closed(session)

    def _serve_session(self, conn: psycopg.Connection) -> None:
        """Wake the loop on the NOTIFYs that concern it (now, or a notice left to another worker a little
        later) and heartbeat every housekeeping interval, until the worker stops. While every task slot is
        taken, the session does not read notices (see _pause_notices); it looks every PAUSE_CHECK seconds
        whether a slot freed."""
        next_beat = time.monotonic() + self.housekeeping_interval
        delay = min(FOREIGN_NOTICE_DELAY, self.poll_interval)
        paused = False
        while not self.stopping.is_set():
            until = next_beat if self.deferred_since is None else min(next_beat, self.deferred_since + delay)
            if paused:
                until = min(until, time.monotonic() + PAUSE_CHECK)
            for notice in conn.notifies(timeout=max(0.0, until - time.monotonic()), stop_after=1):
                self._notice(notice.payload)
            now = time.monotonic()
            if self.deferred_since is not None and now >= self.deferred_since + delay:
                if self.tick_started < self.deferred_since and self._free_slots() > 0:  # see _notice
                    self._wake()
                self.deferred_since = None
            if now >= next_beat:
                paused = self._pause_notices(conn, paused, False)  # the beat commits at once
                with self.presence_lock:
                    if self.stopping.is_set():
                        return
                    self.peers = self.presence.beat(conn)
                next_beat = time.monotonic() + self.housekeeping_interval
            paused = self._pause_notices(conn, paused, self._free_slots() <= 0)

    @staticmethod
    def _pause_notices(conn: psycopg.Connection, paused: bool, pause: bool) -> bool:
        """Stop or resume reading notices on the listening session; returns whether they are stopped.

        Postgres (up to 18) signals every listening session of the database for every NOTIFY, and each reads
        it in a transaction of its own: a commit, about 0.1 ms of its CPU, and a wake-up of this thread. A
        worker with no free slot needs none of them: a slot that frees wakes its loop, whose tick reads what
        is runnable and pending. So its session waits inside a transaction block, where Postgres leaves the
        notices queued for it, and COMMIT delivers them all at once: none is lost, a notice that came meanwhile
        is handled when a slot frees (at most PAUSE_CHECK later) or at the next heartbeat.
        """
        if pause != paused:
            conn.execute("BEGIN" if pause else "COMMIT")
        return pause

    def _notice(self, payload: str) -> None:
        """Wake the loop for a NOTIFY, unless it announces work that another worker is to take.

        Every worker hears every notice, and a tick that loses the race for the work costs two reads:
        * `runs N` (runs were made runnable) wakes at once only the worker whose rank among the live
          workers is N modulo their number; the others look after FOREIGN_NOTICE_DELAY unless a tick of
          theirs has looked since, which covers a worker that is gone, busy, or ranked differently while
          workers come and go. A worker whose slots are all taken then does not look: the first tasks of
          the runs it would advance would wait pending for another worker (whose step is then cold), and
          the look costs a read; a worker with a free slot, or any worker's next full tick (a freed slot,
          the poll), covers the run instead;
        * `tasks Q` (tasks made pending on queue Q) wakes the workers serving Q that have a free slot; a
          full one claims them when a slot frees (that wakes its loop, whose tick reads what is pending);
        * anything else ('' from notify_work, 'admit') wakes the loop at once.
        """
        kind, _, detail = payload.partition(" ")
        if kind == "runs" and detail.isdigit():
            rank, workers = self.peers
            if int(detail) % max(workers, 1) != rank:
                if self.deferred_since is None:
                    self.deferred_since = time.monotonic()
                return
            self._wake(runs_only=True)
            return
        elif kind == "tasks":
            if detail not in self.queues:
                return
            self.pending_hint = True
            if self._free_slots() <= 0:
                return
        elif kind == "admit":
            self.admit_due.set()
        self._wake()

    def _wake(self, runs_only: bool = False) -> None:
        """Wake the loop; `runs_only`: for runs this worker is to take, so its next tick only locks runnable
        runs (unless something else woke it too)."""
        with self.wake_lock:
            self.narrow = runs_only and (self.narrow or not self.wake.is_set())
            self.wake.set()

    def _say_goodbye(self) -> None:
        """Mark this worker stopped (people see when a task's last server left); a dead one just ages out."""
        try:
            with self.presence_lock:
                self.store.worker_stopped(self.id)
        except StorageError as e:
            log.warning("could not mark worker %s stopped: %s", self.id, e)

    def _shutdown(self) -> None:
        """Let running tasks finish and record their results (renewing their leases meanwhile) for up to
        shutdown_timeout, or until stop() is called again; then abandon the rest, releasing their leases."""
        if self.running:
            log.info("worker %s stopping: waiting up to %gs for %d running task(s) (stop again to abandon them "
                     "now)", self.id, self.shutdown_timeout, len(self.running))
        deadline = time.monotonic() + self.shutdown_timeout
        last = time.monotonic()
        while not self.hurry.is_set() and time.monotonic() < deadline:
            with self.lock:
                if not self.running:
                    break
            if time.monotonic() - last >= self.housekeeping_interval:
                try:
                    self._renew()
                except StorageError as e:
                    log.warning("database unavailable, retrying: %s", e)
                last = time.monotonic()
            self.wake.wait(max(0.0, min(self.housekeeping_interval, deadline - time.monotonic())))
            self.wake.clear()
        self._abandon_running()
        self.pool.shutdown(wait=not self.abandoned, cancel_futures=True)
        if self.metrics is not None:
            self.metrics.close()
        self._say_goodbye()
        self.store.close()
        warm = self.engine.warm
        sizes = sorted(self.store.step_batches.sizes.items())
        log.info("worker %s stopped (steps resumed from the state this worker kept: %d of %d; warm-step statements by "
                 "the steps each carried: %s)", self.id, warm.hits if warm else 0,
                 warm.hits + warm.misses if warm else 0, ", ".join(f"{n}: {count}" for n, count in sizes) or "none")

    def _abandon_running(self) -> None:
        """Give up the tasks still running: release their leases at once, so other workers run them again
        now rather than when the leases would expire (their threads cannot be stopped; their results will
        be refused)."""
        with self.lock:
            running = len(self.running)
        if not running:
            return
        self.abandoned = running
        try:
            self._take_over(releasing=self.id)
        except StorageError as e:
            log.warning("could not release the leases of %d abandoned task(s); they are taken over when the leases "
                        "expire: %s", running, e)
            return
        log.warning("worker %s abandoned %d running task(s) at shutdown and released their leases: other workers "
                    "run them again", self.id, running)


def _closed(conn: psycopg.Connection | None) -> None:
    """Close a connection that may be broken already; always None (the caller forgets it)."""
    if conn is not None:
        try:
            conn.close()
        except Exception:  # it is being thrown away
            pass
    return None


def _exception_name(exc: BaseException) -> str:
    """`KeyError`, `requests.exceptions.ConnectionError`: the class, module-qualified unless a builtin."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _task_traceback(exc: BaseException, limit: int = MAX_TRACEBACK_CHARS) -> str:
    """A task's traceback without the worker's and asyncio's frames around the task function.

    Past `limit` characters the middle is left out: the start shows the task
    function's frame, the end the frame that raised and the exception.
    """
    te = traceback.TracebackException.from_exception(exc)
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if f.filename not in (__file__, _tasks.__file__) and not f.filename.startswith(_ASYNCIO_DIR)])
    text = "".join(te.format())
    if len(text) <= limit:
        return text
    head = text[:limit // 4]
    head = head[:head.rfind("\n") + 1] or head
    tail = text[len(text) - (limit - len(head)):]
    tail = tail[tail.find("\n") + 1:] or tail
    return f"{head}  … ({len(text) - len(head) - len(tail):,} characters left out)\n{tail}"

