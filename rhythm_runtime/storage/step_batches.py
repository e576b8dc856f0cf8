"""Warm steps of a worker's task threads sent together (group commit): several threads that finish a task at
nearly the same moment send their finish_task_step calls as one statement, one round trip and one commit.

A thread with a step to send goes at once while fewer than `in_flight` statements are in flight (a batch of
one: today's single statement, so a worker without concurrent finishes pays nothing). Otherwise it queues,
and the queued steps go together when a statement returns (its thread hands its slot to the first of them,
who sends them all: a leader sends one batch only, its own chain waits for nothing else), or at once, as a
statement beyond the slots, when `most` steps are ready (a full batch waits for no slot). So a batch carries
at most `most` steps: the steps of a batch all wait for its last one, and a worker whose threads finish in a
burst sends several small batches side by side rather than one long one behind a slot.

A batch is one statement over a VALUES list, `rhythm.finish_task_step` called for each row in its order
(a lateral call: the nested loop calls it row after row, each call seeing the writes of those before), the
rows sorted by run id then task id, so two workers' batches lock rows in the same order. If the statement
fails as a whole (a value Postgres refuses, a deadlock), each thread sends its own step alone, which
handles a refusal as it always did; no savepoint is needed on the way. Nothing new in the schema: an older
worker's single statements and a newer worker's batches are the same function's calls.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from functools import lru_cache

import psycopg

from rhythm_runtime.storage.queries import Q

# finish_task_step's parameters in order, with their casts, as the single statement names them.
_PARAMS: list[tuple[str, str]] = re.findall(r"%\((\w+)\)s(::[\w\[\]]+)", Q["finish_task_step"])
_ALONE = object()  # a step's state until its batch answers: sent alone if the batch failed as a whole


class _Step:
    __slots__ = ("params", "order", "done", "lead", "row", "error")

    def __init__(self, params: dict, order: tuple):
        self.params, self.order = params, order
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch
        self.row: dict | None = None
        self.error: object = _ALONE


@lru_cache(maxsize=None)
def batch_statement(size: int) -> str:
    """The statement for `size` steps: finish_task_step's row for each, after the step's index `i`."""
    names = [f"c{n}" for n in range(len(_PARAMS))]
    values = ",\n".join(f"({i}, " + ", ".join("%s" + cast for _, cast in _PARAMS) + ")" for i in range(size))
    return (f"SELECT v.i, s.* FROM (VALUES {values}) AS v(i, {', '.join(names)})\n"
            f"CROSS JOIN LATERAL rhythm.finish_task_step({', '.join('v.' + n for n in names)}) AS s")


class StepBatches:
    """finish_task_step for a worker's task threads, those that come together sent as one statement."""

    in_flight = 2  # statements in flight before steps queue (DESIGN-NOTES: one keeps Python and Postgres in lockstep)
    most = 3  # steps a statement carries at most; a full batch goes at once (bench/README, session 13 `trigger`)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[_Step] = []
        self._leaders = 0  # batches in flight
        self.sizes: Counter[int] = Counter()  # batches sent, by size

    def finish(self, conn: psycopg.Connection, params: dict, order: tuple) -> dict | None:
        """finish_task_step's row for these parameters (text, as text_params makes them), None when it returns
        none; raises what the single statement raises. `order`: (run id, task id), the batch's order."""
        step = _Step(params, order)
        with self._lock:
            lead = self._leaders < self.in_flight or len(self._queued) + 1 >= self.most
            if lead:
                self._leaders += 1
            else:
                self._queued.append(step)
        if not lead:
            step.done.wait()
        if lead or step.lead:
            self._lead(conn, step)
        if step.error is _ALONE:
            return conn.execute(Q["finish_task_step"], params).fetchone()
        if step.error is not None:
            raise step.error
        return step.row

    def _lead(self, conn: psycopg.Connection, step: _Step) -> None:
        """Send this step and the steps queued (up to `most` in all) as one batch, then pass the lead on to the
        first step still queued, or free the slot (a full batch's slot beyond `in_flight` is always freed), and
        wake the others with their rows."""
        with self._lock:
            taken = self.most - 1
            batch, self._queued = [step, *self._queued[:taken]], self._queued[taken:]
            self.sizes[len(batch)] += 1
        try:
            if len(batch) == 1:
                _send_one(conn, step)
            else:
                _send_batch(conn, batch)
        finally:
            with self._lock:
                if self._queued and self._leaders <= self.in_flight:
                    following = self._queued.pop(0)
                    following.lead = True
                    following.done.set()
                else:
                    self._leaders -= 1
            for other in batch:
                other.done.set()


def _send_one(conn: psycopg.Connection, step: _Step) -> None:
    """A batch of one: today's single statement; its error is the step's."""
    try:
        step.row = conn.execute(Q["finish_task_step"], step.params).fetchone()
        step.error = None
    except psycopg.Error as e:
        step.error = e


def _send_batch(conn: psycopg.Connection, batch: list[_Step]) -> None:
    """The steps in one statement; if it fails as a whole, each step is left to be sent alone."""
    batch.sort(key=lambda s: s.order)
    values = [s.params[name] for s in batch for name, _ in _PARAMS]
    try:
        rows = conn.execute(batch_statement(len(batch)), values).fetchall()
    except psycopg.Error:
        return
    for step in batch:
        step.error = None
    for row in rows:
        batch[row.pop("i")].row = row
