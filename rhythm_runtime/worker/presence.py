"""A worker's presence in Postgres: its rhythm.workers row, heartbeat on a session of its own.

The session a worker heartbeats on (the one it LISTENs on) is its life line.
When the process dies, Postgres ends that session at once, and any other
worker that finds it gone from `pg_stat_activity` reclaims the dead worker's
leases without waiting for them to expire (`WorkerCalls.reclaim_dead`).

Behind a transaction pooler (PgBouncer in transaction mode) a client
connection is not a session: successive transactions on one connection may
run on different server backends, and the backend a worker recorded may
close while it lives. A worker notices that (the backend pid of its own
connection changes between transactions), records no session from then on,
and logs it once; its tasks are then reclaimed only when their leases
expire. `RHYTHM_FAST_TAKEOVER=off` records no session from the start.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

from psycopg.types.json import Jsonb

from rhythm_runtime.storage.queries import Q

log = logging.getLogger("rhythm")


def fast_takeover_enabled() -> bool:
    """RHYTHM_FAST_TAKEOVER=off (or 0, false, no) turns the session watch off for this worker."""
    return os.environ.get("RHYTHM_FAST_TAKEOVER", "on").strip().lower() not in ("off", "0", "false", "no")


class Presence:
    """Heartbeats a worker's row on one connection, watching that the connection is one session."""

    def __init__(self, fields: Callable[[], dict]):
        self.fields = fields  # what the row says (id, host, pid, queues, task_names, workflows, ...), read per beat
        self.watchable = fast_takeover_enabled()
        self.backend_pid: int | None = None  # of the connection beaten on last; None after a reconnect

    def attach(self, conn) -> tuple[int, int]:
        """A new connection (autocommit): check it is a session of its own, then beat on it."""
        self.backend_pid = None
        conn.execute(Q["forget_old_workers"])  # workers age out whenever one (re)connects
        if self.watchable:
            self._same_backend(conn.execute("SELECT pg_backend_pid() AS pid").fetchone()[0])
        return self.beat(conn)

    def beat(self, conn) -> tuple[int, int]:
        """Say this worker is alive; returns its rank among the live workers and their number."""
        row = conn.execute(Q["heartbeat"], dict(self.fields(), watchable=self.watchable)).fetchone()
        if self.watchable and not self._same_backend(row[0]):
            return self.beat(conn)  # again, now recording no session
        return row[1], row[2]

    def _same_backend(self, pid: int) -> bool:
        """False (and the watch switched off) when this connection's backend changed under it."""
        if self.backend_pid is not None and pid != self.backend_pid:
            self.watchable = False
            log.warning("this worker's connection ran on backend %d, then %d: a transaction pooler is in between, "
                        "so Postgres cannot tell when this worker dies; its tasks will be taken over when their "
                        "leases expire (set RHYTHM_FAST_TAKEOVER=off to say so)", self.backend_pid, pid)
            return False
        self.backend_pid = pid
        return True


def worker_row(worker) -> dict:
    """The heartbeat's parameters for a Worker (workflows are read each time: `rhythm dev` reloads them)."""
    return dict(id=worker.id, host=worker.host, pid=os.getpid(), queues=worker.queues, task_names=worker.served,
                workflows=Jsonb({wf.name: wf.version for wf in worker.app.workflows.values()}),
                concurrency=worker.concurrency, started_at=worker.started_at)
