"""How fast finished runs are pruned: N runs finished 40 days ago, each with a task and a history step, deleted
by retention.prune in batches of 1,000 (one short transaction each). Run: `.venv/bin/python bench/prune.py
[--runs 100000]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402

from rhythm_runtime.storage import retention  # noqa: E402
from rhythm_runtime.storage.transactions import Database  # noqa: E402

FILL = """
INSERT INTO rhythm.workflow_versions (name, version, source, module_code, module_hash) VALUES ('wf', 'v1', '', '', '');
INSERT INTO rhythm.runs (id, workflow_name, version, status, available_at, output, finished_at)
SELECT 'run-' || i, 'wf', 'v1', 'completed', NULL, '{"ok": true}', now() - interval '40 days' - i * interval '1 second'
FROM generate_series(1, %(n)s) AS i;
INSERT INTO rhythm.tasks (run_id, await_key, name, status, result, finished_at)
SELECT 'run-' || i, '0.1', 'step', 'completed', '{"acc": 1}', now() - interval '40 days'
FROM generate_series(1, %(n)s) AS i;
INSERT INTO rhythm.history (run_id, seq, details)
SELECT 'run-' || i, 1, '{"kind": "activation", "status": "completed"}' FROM generate_series(1, %(n)s) AS i;
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    args = ap.parse_args()
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in FILL.strip().split(";\n"):
                conn.execute(statement, {"n": args.runs})
            conn.execute("VACUUM ANALYZE")
        db = Database(url, max_size=1)
        try:
            t0 = time.monotonic()
            pruned = retention.prune(db)
            wall = time.monotonic() - t0
        finally:
            db.close()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"pruned {pruned.runs:,} runs (each with a task and a history step) in {wall:.2f}s: "
          f"{pruned.runs / wall:,.0f} runs/s, batches of {retention.BATCH:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
