"""The transactions a worker runs around the engine, part of every `Store` (store.py inherits them, so a
worker's loop uses one pool for all its calls): claim and finish tasks, lock and advance runnable runs,
fire timers, renew and reclaim leases. Each opens one transaction (transactions.py); advancing a run
happens inside the transaction that holds its row lock (engine.py).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from rhythm_runtime.errors import StorageError
from rhythm_runtime.storage.engine import Batch, Engine, InlineClaim, RunAhead, claim_number, internal_error
from rhythm_runtime.storage.queries import TASK_NAME_LOCK_CLASS, Q, json_text, notify, settle, text_params
from rhythm_runtime.storage.step_batches import StepBatches
from rhythm_runtime.storage.transactions import Database, is_outage

log = logging.getLogger("rhythm")
MAX_LOST_LEASES = 10  # a task whose worker vanishes this often is failing the workers, not flaky
# A worker whose database session is gone is dead once its last heartbeat is this old (seconds): a live
# worker whose session broke has reconnected and heartbeaten on a new one by then.
DEAD_SESSION_GRACE = 1.0


def _refused(task: dict) -> None:
    log.warning("refused the result of task %s (%s): this worker no longer holds its lease (another worker runs it "
                "again, or a retry of its run undid it)", task["id"], task["name"])


class WorkerCalls(Database):
    """The transactions a worker runs: `Store` inherits them, so a worker's loop uses one pool for all its calls."""

    def __init__(self, conninfo: str, max_size: int = 10):
        super().__init__(conninfo, max_size)
        self.step_batches = StepBatches()  # the task threads' warm steps, sent together when they come together

    def advance_one(self, engine: Engine) -> bool:
        """Activate one runnable run, in one transaction. False when none is runnable."""
        return self.advance_runnable(engine, 1) > 0

    def advance_runnable(self, engine: Engine, limit: int, claim: InlineClaim | None = None) -> int:
        """Lock up to `limit` runnable runs and advance them all in one transaction (two round trips and
        one commit for the batch, their saves in one statement per kind); returns how many were advanced.
        Tasks they schedule go to `claim`'s free slots (leased to the caller, read with `claim.taken()`),
        the rest to any worker.

        If advancing one of them fails (a Rhythm bug, or a deadlock with another
        batch over a parent run), the batch rolls back and each run is advanced
        alone, so only a run that breaks Rhythm is failed (see _advance).
        """
        rows: list[dict] = []
        tx = self.tx(pipeline=True)
        try:
            with engine.keeping_saves(), tx as conn:
                cursor = conn.execute(Q["lock_runnable_runs"], dict(limit=limit))
                tx.sync()
                rows = cursor.fetchall()
                engine.inline.claim, engine.inline.batch = claim, Batch()
                try:
                    notify(conn, self._advance_batch(conn, engine, rows))
                finally:
                    engine.inline.claim = engine.inline.batch = None
            return len(rows)
        except Exception as e:
            if claim is not None:
                claim.rolled_back()  # the runs advanced alone below offer no slots
            if not rows or is_outage(e) or (len(rows) == 1 and isinstance(e, StorageError)):
                raise
            if len(rows) == 1:  # a bug, deterministic: failing the run is the only way forward
                self._failed_advancing(engine, rows[0], e)
                return 1
            log.warning("advancing %d runs in one transaction failed (%s); advancing each alone", len(rows),
                        str(e).strip() or type(e).__name__)
            return sum(self._advance_alone(engine, row["id"]) for row in rows)

    @staticmethod
    def _advance_batch(conn, engine: Engine, rows: list[dict]) -> set[str]:
        """Advance the locked runs one after the other, then write their saves; returns the notices other
        workers should get. A run whose row a child's outcome changed since it was locked is read again first."""
        batch = engine.batch()
        notices: set[str] = set()
        for row in rows:
            if row["id"] in batch.settled:
                row = conn.execute(Q["lock_runnable_run_by_id"], dict(id=row["id"])).fetchone()
            notices |= engine.advance(conn, row)
        engine.save_batch(conn)
        return notices

    def _advance_alone(self, engine: Engine, run_id: str) -> bool:
        """Lock one run if it is still runnable and activate it, in one transaction.

        If Rhythm itself fails while advancing (not the workflow: its errors
        are part of its outcome), the transaction is rolled back and the run
        is failed with an InternalError in a new one, instead of being
        retried forever. Lost connections are not the run's fault: those
        roll back, and the run is tried again.
        """
        row = None
        tx = self.tx(pipeline=True)  # BEGIN + lock, then the writes + COMMIT: two round trips
        try:
            with engine.keeping_saves(), tx as conn:
                cursor = conn.execute(Q["lock_runnable_run_by_id"], dict(id=run_id))
                tx.sync()
                row = cursor.fetchone()
                if row is None:
                    return False
                notify(conn, engine.advance(conn, row))
                return True
        except StorageError:
            raise
        except Exception as e:  # a bug, deterministic: failing the run is the only way forward
            if row is None or is_outage(e):  # (a lost connection is not the run's fault)
                raise
            self._failed_advancing(engine, row, e)
            return True

    def _failed_advancing(self, engine: Engine, row: dict, e: Exception) -> None:
        log.error("advancing run %s failed; failing the run", row["id"], exc_info=e)
        claim = getattr(engine.inline, "claim", None)
        if claim is not None:
            claim.rolled_back()
        self.fail_run(engine, row["id"], row["activations"], internal_error(e))

    def fail_run(self, engine: Engine, run_id: str, activations: int, error: dict) -> None:
        """Fail a run that cannot be advanced, unless it moved on meanwhile."""
        with self.tx() as conn:
            row = conn.execute(Q["lock_run_for_activation"], dict(id=run_id)).fetchone()
            if row is None or row["status"] not in ("pending", "suspended") or row["activations"] != activations:
                return
            kept = (row["inbox"], row["waiting"], row["signal_waits"])
            if engine.finish(conn, row, "failed", None, error, row["snapshot"], kept=kept):
                conn.execute(Q["notify_work"])

    def claim_tasks(self, worker: str, queues: list[str], names: list[str], limit: int, lease: float) -> list[dict]:
        """Lease pending tasks of these queues whose names this worker runs: others' tasks stay for them."""
        with self.tx(single=True) as conn:
            return conn.execute(Q["claim_tasks"], dict(worker=worker, queues=queues, names=names, limit=limit,
                                                       lease_seconds=lease)).fetchall()

    def register_tasks(self, worker: str, specs: list) -> int:
        """Record these @task settings as their names' newest registration, and move pending tasks of
        those names that were scheduled before (in 'default', by a worker without the task) to them.
        Returns how many tasks moved."""
        if not specs:
            return 0
        specs = sorted(specs, key=lambda t: t.name)
        names = [t.name for t in specs]
        with self.tx() as conn:
            conn.execute(Q["lock_task_names"], dict(lock_class=TASK_NAME_LOCK_CLASS, names=names))
            conn.execute(Q["register_tasks"], dict(
                names=names, queues=[t.queue for t in specs], max_attempts=[t.retries + 1 for t in specs],
                backoffs=[float(t.backoff) for t in specs],
                timeouts=[None if t.timeout is None else float(t.timeout) for t in specs], worker=worker))
            moved = conn.execute(Q["route_pending_tasks"], dict(names=names)).fetchall()
            if moved:
                conn.execute(Q["notify_work"])
            return len(moved)

    def worker_stopped(self, worker: str) -> None:
        with self.tx() as conn:
            conn.execute(Q["worker_stopped"], dict(id=worker))

    def registered_task_names(self) -> list[str]:
        with self.tx() as conn:
            return [r["name"] for r in conn.execute(Q["registered_task_names"]).fetchall()]

    def finish_task(self, engine: Engine, task: dict, worker: str, ok: bool, value: Any,
                    claim: InlineClaim | None = None, text: str | None = None) -> list[dict]:
        """Record a task's outcome, deliver it to its run and, if that wakes the
        run, advance it: one commit either way. `text` is `value` as JSON when
        the caller has it already (a result is serialized once).

        When this worker kept the run's state from its previous step, the
        activation runs first and one statement records the result and saves
        it (`_finish_ahead`): one round trip (two when it keeps nothing of the
        run: the row is read first). Otherwise, or when that statement
        cannot save it, a transaction of two round trips (BEGIN +
        record-and-settle, which returns the run locked; then the activation's
        writes + COMMIT, pipelined), which uses the activation run ahead if the
        run is the row it was run for.

        No savepoint: if the activation or its writes fail (a Rhythm bug, or a
        statement Postgres refuses at COMMIT), the whole transaction rolls back
        and the outcome is recorded again alone, so the result is kept and the
        run stays runnable for the loop (which retries it, or fails it with an
        InternalError). A worker killed during the activation loses the result
        with it and the task runs again: tasks are at-least-once (GUARANTEES.md).
        """
        text = json_text(value) if ok and text is None else text
        ahead = None
        if ok:
            taken, ahead = self._finish_ahead(engine, task, worker, text, claim)
            if taken is not None:
                return taken
        woke = False
        tx = self.tx(pipeline=True)
        try:
            with engine.keeping_saves(), tx as conn:
                run = self._record_outcome(conn, tx, task, worker, ok, value, text)
                if run is None:
                    return []
                woke = True
                self._advance_woken(conn, engine, run, claim, ahead if ahead is not None and ahead.fits(run) else None)
            return claim.taken() if claim is not None else []
        except StorageError:
            raise
        except Exception as e:
            if not woke or is_outage(e):  # recording the outcome itself failed: the caller decides
                raise
            log.exception("advancing run %s after its task finished failed; keeping the task's result and leaving "
                          "the run to the loop", run["id"])
            with self.tx() as conn:
                if self._record_outcome(conn, None, task, worker, ok, value, text) is not None:
                    conn.execute(Q["notify_work"])
            return []

    def _finish_ahead(self, engine: Engine, task: dict, worker: str, text: str,
                      claim: InlineClaim | None) -> tuple[list[dict] | None, RunAhead | None]:
        """A task's result and the step it wakes in one statement, one round trip and no BEGIN or COMMIT, when
        this worker kept the run's state from its committed previous step, or keeps nothing of the run (its
        row is read then): the activation runs first (Engine.step_ahead), then finish_task_step
        (migrations/0011) records the result and saves the step only if the run is still the row it was
        computed from. If it is not, the result is recorded and
        settled all the same, and the run is advanced the ordinary way in a transaction of its own. Steps of
        several task threads that finish together share the statement (step_batches.py).

        Returns (the tasks leased to the caller, None) when it recorded the result; (None, the activation run
        ahead or None) when it wrote nothing, for the ordinary path.
        """
        if engine.warm is None or task["run_id"] is None:
            return None, None
        with self.tx(single=True) as conn:
            try:
                ahead = engine.step_ahead(conn, task, text, claim)
            except Exception:  # (a bug; the ordinary path runs the step again from the stored snapshot)
                log.exception("running the step of run %s ahead failed; taking the ordinary path", task["run_id"])
                return None, None
            if ahead is None or ahead.params is None:
                return None, ahead
            params = dict(ahead.params, task=task["id"], worker=worker, claim=claim_number(task), result=text,
                          refill_queues=None, refill_names=None)
            refill = claim is not None and claim.refill is not None and params["name"] is None
            if refill:  # the run leaves this thread's slot: the statement claims a pending task for it
                params.update(refill_queues=claim.refill[0], refill_names=claim.refill[1], lease_seconds=claim.lease)
            try:
                row = self.step_batches.finish(conn, text_params(params), (task["run_id"], task["id"]))
            except psycopg.OperationalError:
                raise
            except psycopg.Error:  # refused as a whole (a value Postgres cannot store?): the ordinary path says why
                if claim is not None:
                    claim.rolled_back()
                return None, None
        if row is None:
            _refused(task)
            return [], None
        if row["saved"]:
            engine.saved_ahead(ahead)
            if refill:
                claim.refilled = row["id"] is not None
            return ([] if row["id"] is None else [{k: v for k, v in row.items() if k not in ("saved", "woke")}]), None
        if claim is not None:
            claim.rolled_back()
        return (self._advance_settled(engine, ahead.run_id, claim) if row["woke"] else []), None

    def _advance_settled(self, engine: Engine, run_id: str, claim: InlineClaim | None) -> list[dict]:
        """Advance a run whose task's result was recorded and woke it, in a transaction of its own; the next
        task goes to `claim`. A run someone else holds is theirs, or the loop's after a NOTIFY."""
        engine.inline.claim = claim
        try:
            advanced = self._advance_alone(engine, run_id)
        except StorageError as e:  # the result is kept and the run runnable: the loop advances it
            log.warning("advancing run %s after its task's result failed; leaving it to the loop: %s", run_id, e)
            return []
        finally:
            engine.inline.claim = None
        if not advanced:
            with self.tx(single=True) as conn:
                conn.execute(Q["notify_work"])
        return claim.taken() if claim is not None else []

    def _record_outcome(self, conn, tx, task: dict, worker: str, ok: bool, value: Any,
                        text: str | None) -> dict | None:
        """Store the outcome and settle it in the run's inbox; the run row (locked) when that woke it.

        In a pipelined `tx` the first statement is waited for with a Sync: until
        Postgres answers one, psycopg believes no transaction is open (and a
        `conn.transaction()` would then COMMIT instead of releasing a savepoint).
        """
        if ok:
            cursor = conn.execute(Q["complete_task_and_settle"], dict(
                id=task["id"], worker=worker, claim=claim_number(task), result=text, result_text=text))
        else:
            cursor = conn.execute(Q["fail_task_attempt"], dict(id=task["id"], worker=worker, claim=claim_number(task),
                                                                error=Jsonb(value)))
        if tx is not None:
            tx.sync()
        row = cursor.fetchone()
        if not ok and row is not None and row["status"] == "pending":
            if row["run_id"] is None or conn.execute(Q["cancel_task_of_cancelled_run"],
                                                     dict(id=task["id"])).fetchone() is None:
                conn.execute(Q["notify_work"])
            return None  # a retry is scheduled; the run keeps waiting
        run = None
        if ok:
            run = row if row is not None and row["id"] is not None else None
        elif row is not None and row["run_id"] is not None:
            # the workflow sees name and message; the exception and traceback stay on the task row
            seen = {k: value[k] for k in ("type", "message") if k in value}
            run = conn.execute(Q["settle_returning_run"], dict(
                id=row["run_id"], key=row["await_key"], kind="err", value=json_text(seen))).fetchone()
        if row is None:  # the lease expired (a hung or partitioned worker) and another worker has the task
            _refused(task)
            return None
        if run is None or not run["woke"]:
            return None  # a standalone task, a finished run, or one that waits on more
        if run["status"] != "suspended":
            conn.execute(Q["notify_work"])
            return None
        return run

    def _advance_woken(self, conn, engine: Engine, run: dict, claim: InlineClaim | None,
                       ahead: RunAhead | None = None) -> None:
        """Activate a run its task's outcome just woke (locked by the settle); the next task goes to `claim`.
        `ahead`: that activation, run already for this row."""
        engine.inline.claim = claim
        try:
            notify(conn, engine.advance(conn, run, ahead=ahead))
        finally:
            engine.inline.claim = None

    def renew_leases(self, worker: str, ids: list[int], lease: float) -> list[int]:
        """Extend this worker's leases; returns the ids it still holds."""
        with self.tx(single=True) as conn:
            rows = conn.execute(Q["renew_task_leases"], dict(worker=worker, ids=ids, lease_seconds=lease)).fetchall()
            return [r["id"] for r in rows]

    def reclaim_lost(self, releasing: str | None = None, limit: int = 100) -> list[dict]:
        """Requeue the tasks of workers that are gone, and (`releasing`) those a stopping worker gives up.

        A worker is gone when its lease expired, or at once when its database
        session ended (see the worker_states view; DEAD_SESSION_GRACE after
        its last heartbeat, so a worker whose session merely reconnects keeps
        its tasks). Rows say whose task it was, why it was taken, how long it
        was held.
        """
        with self.tx() as conn:
            rows = conn.execute(Q["reclaim_lost_tasks"], dict(
                limit=limit, max_lost=MAX_LOST_LEASES, grace=DEAD_SESSION_GRACE, releasing=releasing)).fetchall()
            for r in rows:
                if r["status"] == "failed" and r["run_id"] is not None:
                    settle(conn, r["run_id"], r["await_key"], "err", r["error"])
            if rows:
                conn.execute(Q["notify_work"])
            return rows

    def pending_work(self, queues: list[str], names: list[str], with_tasks: bool) -> dict:
        """Whether a loop tick has anything to do (due timers, runnable runs, pending tasks of these queues and
        names) and the seconds until the next is due (as `seconds_until_due`), in one read without a transaction:
        most ticks of most workers find nothing, and then sleep without reading again."""
        with self.tx(single=True) as conn:
            return conn.execute(Q["pending_work"], dict(queues=queues, names=names, with_tasks=with_tasks)).fetchone()

    def fire_timers(self, limit: int = 1000) -> int:
        """Fire up to `limit` due timers and wake their runs, in one statement; returns how many fired."""
        with self.tx() as conn:
            fired = conn.execute(Q["fire_due_timers"], dict(limit=limit)).fetchone()["fired"]
            if fired:
                conn.execute(Q["notify_work"])
            return fired

    def seconds_until_due(self, queues: list[str], names: list[str], with_tasks: bool) -> float | None:
        """Until the next timer (or pending task this worker runs) is due; None when nothing is scheduled."""
        with self.tx(single=True) as conn:
            row = conn.execute(Q["next_due"], dict(queues=queues, names=names, with_tasks=with_tasks)).fetchone()
            return None if row["seconds"] is None else max(0.0, float(row["seconds"]))

