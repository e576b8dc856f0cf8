"""The front matter's keys that mean something to Rhythm (a schedule), checked when a workflow compiles.

A bad cron expression, time zone or option is a compile error at the line of
its key, like any other, instead of a schedule that never fires. Other keys
are the user's own metadata.
"""

from __future__ import annotations

import re

from rhythm_runtime.schedules import FrontMatterError, misspelled_keys, read_front_matter

from . import ast as A
from .diagnostics import Diagnostic


def front_matter_errors(program: A.Program, path: str) -> list[Diagnostic]:
    try:
        read_front_matter(program.front_matter)
    except FrontMatterError as e:
        return [Diagnostic(key_line(program.front_matter, e.key), 1, str(e), max(1, len(e.key or "")), path)]
    return []


def front_matter_warnings(program: A.Program, path: str) -> list[Diagnostic]:
    """Keys one letter or two away from Rhythm's (for `rhythm check` and the editor)."""
    return [Diagnostic(key_line(program.front_matter, key), 1, f"front matter key '{key}' means nothing to Rhythm; "
                       f"did you mean '{meant}'?", len(key), path, "warning")
            for key, meant in misspelled_keys(program.front_matter)]


def key_line(text: str | None, key: str | None) -> int:
    """The file line of `key:` in front matter that starts on line 2 (after the opening fence)."""
    for i, line in enumerate((text or "").split("\n")):
        if key is not None and re.match(rf"\s*{re.escape(key)}\s*:", line):
            return i + 2
    return 1
