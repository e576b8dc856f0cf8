"""A worker's Prometheus metrics, served over HTTP when asked (`rhythm worker --metrics-port`).

Each worker has a registry of its own, not prometheus_client's global one,
so several workers in one process do not collide. Counters count what this
worker did; `rhythm_runs` is counted in Postgres at scrape time, so every
worker reports the same figures (aggregate it with max, not sum).
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.storage.transactions import is_outage

log = logging.getLogger("rhythm")

RUNS_SQL = """
SELECT workflow_name, status, count(*) AS n
FROM rhythm.runs
GROUP BY workflow_name, status
"""
# Seconds; tasks range from sub-millisecond lookups to minutes of work.
TASK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, float("inf"))
# A scrape leaves rhythm_runs out rather than wait longer than this for the count (a huge runs table).
RUNS_TIMEOUT_MS = 2000


class Metrics:
    def __init__(self, store):
        self.registry = CollectorRegistry()
        self.tasks = Counter("rhythm_tasks", "Task attempts this worker ran, by outcome: completed, "
                             "failed_attempt (to be retried) or failed (no attempts left).",
                             ["task", "outcome"], registry=self.registry)
        self.task_seconds = Histogram("rhythm_task_duration_seconds", "How long task functions ran, per attempt.",
                                      ["task"], buckets=TASK_BUCKETS, registry=self.registry)
        self.activations = Counter("rhythm_activations", "Run activations (resumptions from a snapshot) "
                                   "this worker ran, including ones rolled back.", ["workflow"], registry=self.registry)
        self.registry.register(RunsCollector(store))
        self.server = None

    def task_done(self, task: str, outcome: str, seconds: float) -> None:
        self.tasks.labels(task, outcome).inc()
        self.task_seconds.labels(task).observe(seconds)

    def serve(self, host: str, port: int) -> str:
        """Serve /metrics from a thread; returns its URL (port 0 takes a free port)."""
        try:
            self.server, _ = start_http_server(port, host, self.registry)
        except OSError as e:  # a port in use, an unknown host: one line, not a traceback
            raise RhythmError(f"cannot serve metrics on {host}:{port}: {e.strerror or e}") from None
        return f"http://{host}:{self.server.server_port}/metrics"

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class RunsCollector:
    """rhythm_runs{workflow,status}, counted when scraped; left out while the database cannot answer."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        try:
            with self.store.tx() as conn:
                conn.execute(f"SET LOCAL statement_timeout = {RUNS_TIMEOUT_MS}")
                rows = conn.execute(RUNS_SQL).fetchall()
        except Exception as e:  # the scrape still answers, with the counters
            if not is_outage(e):  # an outage is logged once, by the store
                log.warning("rhythm_runs left out of the metrics: %s", e)
            return
        family = GaugeMetricFamily("rhythm_runs", "Runs in the database, by workflow and status.",
                                   labels=["workflow", "status"])
        for row in rows:
            family.add_metric([row["workflow_name"], row["status"]], row["n"])
        yield family
