"""A run's decoded state kept between its steps, so the next step skips json.loads and decoding.

A worker usually runs the next step of a run itself (the task a step
schedules is leased to the thread that saved it). It keeps what the step's
activation ended with: the snapshot it stored (the dict and its JSON text)
and the values that snapshot was encoded from, rearranged as
`decode_activation` would give them (values.reuse_activation). The next
step uses those values only if the row it read holds that very snapshot:

* `loads`, the json loader of the store's connections, hands back the kept
  snapshot dict itself when the bytes Postgres sent are exactly its text (a
  compare, no parse); any other json is parsed as usual;
* `take` gives the kept values only for that same dict object (or that of
  another run kept with the very same text: runs in the same state store
  the same text) and the same stamp (the store's: the run's activation
  count and version), and removes them: an activation changes them in
  place, so a failed, rolled-back or retried step can never hand them out
  again.

* `take_saved` gives a run's entry before its row is read at all, for a
  step the store runs ahead and saves only if the row is still the one the
  entry's step saved (storage/engine.py, `Engine.step_ahead`): the store
  marks an entry `saved` only once that step committed.

Correctness rests on one fact, whatever happened to the transaction: kept
values are the decoding of the kept text (values encode and decode as
they were). A run advanced elsewhere meanwhile has another text, so its row
is parsed and decoded fresh. Memory is bounded (least recently kept runs
go first).
"""

from __future__ import annotations

import json
import threading

from rhythm_runtime.execution import values as _js

MAX_RUNS = 4096  # runs whose state a process keeps
MAX_TEXT = 32_000_000  # bytes of snapshot text they may hold together (the values take a few times that)


class _Kept:
    __slots__ = ("stamp", "snapshot", "text", "data", "saved")

    def __init__(self, stamp, snapshot: dict, text: bytes, data: dict):
        self.stamp = stamp
        self.snapshot = snapshot
        self.text = text
        self.data = data
        self.saved = None  # what the store wrote beside the snapshot, once that committed (the store's record)


class WarmStates:
    """Decoded states of the runs this process advanced last, by run id (see the module docstring)."""

    def __init__(self, max_runs: int = MAX_RUNS, max_text: int = MAX_TEXT):
        self.max_runs = max_runs
        self.max_text = max_text
        self.lock = threading.Lock()
        self.runs: dict[str, _Kept] = {}  # (in the order kept: the first is the least recently kept)
        # Runs in the same state share a text: each text's first kept entry, whose snapshot `loads` gives for that
        # text (read unlocked: one dict lookup), and the entries kept with it since, in the order kept (rare).
        self.firsts: dict[bytes, _Kept] = {}
        self.later: dict[bytes, dict[_Kept, None]] = {}
        self.size = 0
        self.hits = 0  # steps that used kept values
        self.misses = 0  # steps that found none (or another snapshot) and decoded

    def keep(self, run_id: str, stamp, snapshot: dict, text: str, data: dict) -> _Kept | None:
        """Remember `data` (values.reuse_activation of the activation that made `snapshot`, whose JSON is
        `text`) for the run's next step, if `stamp` and `snapshot` then match; returns the entry (None: too
        big to keep)."""
        raw = text.encode()
        if len(raw) > self.max_text // 16:
            return None
        entry = _Kept(stamp, snapshot, raw, data)
        with self.lock:
            self._drop(run_id)
            self.runs[run_id] = entry
            if self.firsts.setdefault(raw, entry) is not entry:
                self.later.setdefault(raw, {})[entry] = None
            self.size += len(raw)
            while len(self.runs) > self.max_runs or self.size > self.max_text:
                self._drop(next(iter(self.runs)))
        return entry

    def saved(self, run_id: str, entry: _Kept, saved) -> None:
        """The step that kept `entry` committed, having saved `saved` beside its snapshot (if the entry is still
        the run's: a later step's replaces it)."""
        with self.lock:
            if self.runs.get(run_id) is entry:
                entry.saved = saved

    def take(self, run_id: str, stamp, snapshot) -> dict | None:
        """The kept values of `snapshot` (the very dict `loads` returned) at `stamp`, or None; they are
        the caller's now (the run's entry is dropped either way)."""
        with self.lock:
            entry = self.runs.get(run_id)
            found = entry is not None and entry.stamp == stamp and self._holds(entry, snapshot)
            self._drop(run_id)
            if found:
                self.hits += 1
                return entry.data
            self.misses += 1
        return None

    def take_saved(self, run_id: str, wakes) -> _Kept | None:
        """The run's kept entry, if its step committed (`saved`) and `wakes(saved)`, for a step run before the
        row is read (storage/engine.py, `Engine.step_ahead`): every committed write of a snapshot counts an
        activation, so the store checks the row is that step's by its stamp. Taken if given; a hit once
        `used`."""
        with self.lock:
            entry = self.runs.get(run_id)
            if entry is None or entry.saved is None or not wakes(entry.saved):
                return None
            return self._drop(run_id)

    def used(self, hit: bool) -> None:
        """A step run ahead was saved: one taken with `take_saved` resumed from the kept values (a hit), one
        whose state was read from its row decoded it (not)."""
        with self.lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def keeps(self, run_id: str) -> bool:
        """Whether anything of the run is kept (a state, saved or not, even of another snapshot than its row's)."""
        return run_id in self.runs

    def loads(self, text: bytes):
        """json.loads, except that a kept snapshot's exact text gives back that snapshot's dict."""
        first = self.firsts.get(text)
        return json.loads(text) if first is None else first.snapshot

    def clear(self) -> None:
        with self.lock:
            self.runs.clear()
            self.firsts.clear()
            self.later.clear()
            self.size = 0

    def _holds(self, entry: _Kept, snapshot) -> bool:
        """Whether `snapshot` is what `loads` returned for `entry`'s text: its dict, or (runs in the same state
        have the same text) the dict of the first entry kept with that very text, which `loads` gives for it."""
        return entry.snapshot is snapshot or self.firsts[entry.text].snapshot is snapshot

    def _drop(self, run_id: str) -> _Kept | None:
        entry = self.runs.pop(run_id, None)
        if entry is not None:
            raw = entry.text
            same = self.later.get(raw)
            if same is None:  # (the usual case: no other run kept with this text)
                del self.firsts[raw]
            else:
                gone = entry
                if self.firsts[raw] is entry:  # (the next kept with its text is first now)
                    self.firsts[raw] = gone = next(iter(same))
                del same[gone]
                if not same:
                    del self.later[raw]
            self.size -= len(raw)
        return entry


def reusable(outcome) -> dict:
    """The values a suspended outcome's snapshot decodes to, for its run's next activation (valid until
    something changes them: only that activation may)."""
    data = _js.reuse_activation(outcome.roots, outcome.snapshot["data"])
    if outcome.run is not None:  # (its frames.Run, which the next activation continues: Run.again)
        data["run"] = outcome.run
    return data


STATES = WarmStates()  # the process's: the store's json loader and every Engine share it
