"""How fast due schedule ticks fire: N schedules (one per customer, as a client creates them), each with one due
tick, fired by one call of schedules.fire_due, as a worker's housekeeping makes it (100 schedules locked per
transaction, pass after pass, each tick's run inserted in one round trip). Target (issue 12): 1,000 due ticks in under 2 s. Run: `.venv/bin/python bench/schedules.py
[--schedules 1000] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402

from rhythm_runtime.schedules import Schedule  # noqa: E402
from rhythm_runtime.storage import schedules  # noqa: E402
from rhythm_runtime.storage.transactions import Database  # noqa: E402

# One tick a minute; the last one (a second ago) is due, and nothing was handled since the one before (each
# schedule's last run, from the round before, is gone: checking it costs what it does in production).
DUE = """
UPDATE rhythm.schedules SET handled_until = now() - interval '61 seconds', next_fire_at = now() - interval '1 second';
DELETE FROM rhythm.runs;
"""


def one_round(db: Database, url: str) -> tuple[float, int]:
    """(seconds, ticks fired) for one fire_due call over every due schedule."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in DUE.strip().split(";\n"):
            conn.execute(statement)
        conn.execute("VACUUM ANALYZE")
    t0 = time.monotonic()
    fired = len(schedules.fire_due(db, budget=60.0))
    return time.monotonic() - t0, fired


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedules", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO rhythm.workflow_versions (name, version, source, module_code, module_hash) "
                         "VALUES ('report', 'v1', '', '', '')")
        db = Database(url, max_size=1)
        try:
            spec = Schedule(("* * * * *",))
            for n in range(args.schedules):
                schedules.save(db, f"customer-{n}", "report", spec, {"customer": n})
            rounds = [one_round(db, url) for _ in range(args.runs)]
        finally:
            db.close()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for wall, fired in rounds:
        print(f"fired {fired:,} due ticks (one run each) in {wall:.3f}s: {fired / wall:,.0f} ticks/s")
    print(f"median: {statistics.median(r[0] for r in rounds):.3f}s for {args.schedules:,} ticks (target: under 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
