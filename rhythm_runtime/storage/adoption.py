"""The upgrade to claims by `wake_at` (migration 0016): runs an older Rhythm made runnable are made claimable.

Claims read `wake_at`, a mirror of `available_at` that a warm step leaves alone (so its writes of the run
row can be HOT updates). A worker or client of an older version makes a run runnable by writing
`available_at` alone, which no claim would see, and its saves clear `available_at` alone (claims check
`available_at` again, so such a leftover `wake_at` is never taken for a runnable run). So for
`WINDOW` seconds after the migration, one worker at a time (the one holding the releases' lock) copies
`available_at` to `wake_at` wherever they disagree on being set, every `INTERVAL` seconds; `rhythm db
migrate` does it once whenever it runs, for an older process that outlived the window.
See docs/DESIGN-NOTES.md, "Runnable and claimable".
"""

from __future__ import annotations

import time

from psycopg.rows import dict_row

from rhythm_runtime.storage.db import connect, storage_errors
from rhythm_runtime.storage.queries import Q

MIGRATION = "0016_claim_by_wake_at"
# Long enough for a rolling deploy; each look reads every run, so not for ever.
WINDOW = 3600.0
INTERVAL = 10.0


def adopt(conn) -> list[str]:
    """Make wake_at follow available_at on every run where an older Rhythm set or cleared one alone; returns
    the ids of the runs made claimable."""
    return [r["id"] for r in conn.execute(Q["adopt_runnable_runs"]).fetchall() if r["claimable"]]


def adopt_once(conninfo: str) -> list[str]:
    """adopt() in a transaction of its own (`rhythm db migrate`)."""
    with connect(conninfo, autocommit=True, row_factory=dict_row) as conn, storage_errors(conninfo):
        return adopt(conn)


class Adoption:
    """A worker's looks for runs an older Rhythm made runnable, while the upgrade window lasts."""

    def __init__(self) -> None:
        self.until: float | None = None  # monotonic end of the window, once read from the database
        self.next = 0.0

    def __call__(self, conn) -> list[str]:
        """adopt() if a look is due and the window is open; else nothing, at no cost."""
        now = time.monotonic()
        if now < self.next or (self.until is not None and now >= self.until):
            return []
        self.next = now + INTERVAL
        if self.until is None:
            left = conn.execute(Q["adoption_seconds_left"], dict(window=WINDOW, name=MIGRATION)).fetchone()
            self.until = now + (left["seconds"] if left else 0.0)
            if now >= self.until:
                return []
        return adopt(conn)
