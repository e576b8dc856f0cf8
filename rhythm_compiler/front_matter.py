"""The front matter's keys that mean something to Rhythm (a schedule), checked when a workflow compiles.

A bad cron expression, time zone or option is a compile error at the line of
its key, like any other, instead of a schedule that never fires. Other keys
are the user's own metadata, and front matter that is not YAML at all is the
user's own text (it always compiled): `rhythm check` and the editor warn.
"""

from __future__ import annotations

import re

from rhythm_runtime.schedules import FrontMatterError, misspelled_keys, read_front_matter

from . import ast as A
from .diagnostics import Diagnostic


def front_matter_errors(program: A.Program, path: str) -> list[Diagnostic]:
    problem = _problem(program)
    if problem is None or problem.key is None:
        return []
    return [Diagnostic(key_line(program.front_matter, problem.key), 1, str(problem), len(problem.key), path)]


def front_matter_warnings(program: A.Program, path: str) -> list[Diagnostic]:
    """Front matter that is not YAML, and keys one letter or two away from Rhythm's (for `rhythm check` and editors)."""
    problem = _problem(program)
    out = [Diagnostic(1, 1, f"{problem}; Rhythm reads no schedule from it", 1, path, "warning")] \
        if problem is not None and problem.key is None else []
    return out + [Diagnostic(key_line(program.front_matter, key), 1, f"front matter key '{key}' means nothing to "
                             f"Rhythm; did you mean '{meant}'?", len(key), path, "warning")
                  for key, meant in misspelled_keys(program.front_matter)]


def _problem(program: A.Program) -> FrontMatterError | None:
    try:
        read_front_matter(program.front_matter)
    except FrontMatterError as e:
        return e
    return None


def key_line(text: str | None, key: str | None) -> int:
    """The file line of `key:` in front matter that starts on line 2 (after the opening fence)."""
    for i, line in enumerate((text or "").split("\n")):
        if key is not None and re.match(rf"\s*{re.escape(key)}\s*:", line):
            return i + 2
    return 1
