"""Where the compiler keeps what it can compute again: parser tables and formatted statements.

Everything in it is derived (deleting the folder only costs time) and checked
before use: lark keys its tables by a hash of the grammar, and formatted
statements must compile to the module's own bytecode (formatting.py).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """RHYTHM_CACHE_DIR, else the user's cache folder (XDG_CACHE_HOME or ~/.cache) / rhythm."""
    if os.environ.get("RHYTHM_CACHE_DIR"):
        return Path(os.environ["RHYTHM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rhythm"


def writable_cache_dir() -> Path | None:
    """The cache folder, created if need be; None where it cannot be (a read-only home: no cache, no error)."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None
