"""The compiler formats a module statement by statement, from a cache: the result must be black's, always."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import black
import pytest

from rhythm_compiler import caches, emit, formatting
from rhythm_compiler.pipeline import compile_source

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "tests" / "conformance" / "programs").glob("*/*.flow"))[::14]
EXAMPLES = sorted((ROOT / "examples").rglob("*.flow"))


def unformatted(source: str, monkeypatch) -> str:
    """The module the emitter hands to the formatter."""
    seen = []
    with monkeypatch.context() as m:
        m.setattr(emit, "format_module", lambda text: seen.append(text) or text)
        compile_source(source, "w.flow")
    return seen[0]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RHYTHM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "format.sqlite3"


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """How many statements each call of black formatted."""
    sizes: list[int] = []
    real = formatting._format_batch

    def counting(statements):
        sizes.append(len(statements))
        return real(statements)

    monkeypatch.setattr(formatting, "_format_batch", counting)
    return sizes


@pytest.mark.parametrize("path", [*EXAMPLES, *PROGRAMS], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_statement_by_statement_equals_black_on_the_whole_module(path, cache, monkeypatch):
    text = unformatted(path.read_text(encoding="utf-8"), monkeypatch)
    want = black.format_str(text, mode=formatting.MODE)
    assert formatting.format_module(text) == want  # cold: every statement formatted in the batch calls
    assert formatting.format_module(text) == want  # warm: every statement from the cache


def test_an_edit_formats_only_the_statements_it_changed(cache, batches, monkeypatch):
    source = (ROOT / "examples" / "onboarding" / "workflows" / "onboard_user.flow").read_text(encoding="utf-8")
    formatting.format_module(unformatted(source, monkeypatch))
    first = sum(batches)
    # A line at the top moves every .flow line number (in comments and tables) and changes one statement.
    edited = source.replace("// Inputs: { userId }", "// Inputs: { userId }\nconst started = 1", 1)
    text = unformatted(edited, monkeypatch)
    batches.clear()
    assert formatting.format_module(text) == black.format_str(text, mode=formatting.MODE)
    # Again: the new statement, the line-number tables, and each state's header (its comment names its line).
    assert 0 < sum(batches) < first / 3, (first, batches)


def test_a_tampered_cache_cannot_change_the_module(cache, monkeypatch):
    text = unformatted((ROOT / "examples" / "fanout" / "workflows" / "thumbnails.flow").read_text(), monkeypatch)
    want = black.format_str(text, mode=formatting.MODE)
    formatting.format_module(text)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE statements SET formatted = 'import os; os.system(\"echo owned\")'")
    assert formatting.format_module(text) == want


def test_without_a_writable_cache_it_still_formats(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RHYTHM_CACHE_DIR", str(blocker / "cache"))
    text = unformatted((ROOT / "examples" / "orders" / "workflows" / "ship_item.flow").read_text(), monkeypatch)
    assert formatting.format_module(text) == black.format_str(text, mode=formatting.MODE)


def test_the_cache_lives_where_the_user_says(tmp_path, monkeypatch):
    monkeypatch.delenv("RHYTHM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert caches.cache_dir() == tmp_path / "xdg" / "rhythm"
    monkeypatch.setenv("RHYTHM_CACHE_DIR", str(tmp_path / "mine"))
    assert caches.cache_dir() == tmp_path / "mine"
