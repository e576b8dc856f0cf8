"""Hover text for the language's globals and methods, taken from docs/LANGUAGE.md's reference tables.

The doc is the one source: its tables (the waiting calls, Context, Globals,
and the array, string, number, boolean and error methods) are tested against
Node by tests/test_language_doc.py, and this module turns their rows into
`reference.json`, which ships with the package (the doc does not).

    python -m rhythm_runtime.editor.reference docs/LANGUAGE.md   # rewrite reference.json

tests/test_lsp.py fails when reference.json is stale.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

JSON_PATH = Path(__file__).with_name("reference.json")

# The reference sections of LANGUAGE.md -> how their names are keyed (None: the name is already `Ns.member`).
SECTIONS = {
    "Waiting: tasks, timers, signals and child workflows": None,
    "In parallel: Promise.all / any / race / allSettled": None,
    "Context": None,
    "Globals": None,
    "Array methods": "array",
    "Map and Set methods": "map",  # the Set table says "Set method" in its header
    "Dates": "date",
    "String methods": "string",
    "Number, boolean and error methods": "number",
}
_RECEIVERS = ("boolean", "error")  # "boolean `toString`": the first word names another receiver
_CODE = re.compile(r"`([^`]+)`")


def build(markdown: str) -> dict[str, list[str]]:
    """{`Math.floor` or `array.push`: [as written, Markdown text]} from the doc's reference tables (a name's
    first row wins, but a row that only points elsewhere in the doc gives way to the row it points to)."""
    out: dict[str, list[str]] = {}
    for heading, receiver, (header, *rows) in _tables(markdown):
        if receiver and header[0].endswith(" method"):  # "Map method", "Set method"
            receiver = header[0].split()[0].lower()
        for cells in rows:
            for key, shown, text in _entries(receiver, header, cells):
                if key not in out or "see [" in out[key][1]:
                    out[key] = [shown, text]
    return out


def _tables(markdown: str):
    """(heading, receiver, rows of cells) for each table under a reference heading."""
    heading, rows = None, []
    for line in markdown.splitlines() + [""]:
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|") and heading in SECTIONS:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= {"-", " ", ":"} for c in cells):
                rows.append(cells)
            continue
        if rows:
            yield heading, SECTIONS.get(heading), rows
            rows = []


def _entries(receiver: str | None, header: list[str], cells: list[str]):
    """Each name in a row's first cell with the row's text: the note, then `example` → `result` (or what the
    other columns say)."""
    first, rest = cells[0], cells[1:]
    names_part, _, note = first.partition(" (")
    words = names_part.split()
    if receiver and words and words[0] in _RECEIVERS:
        receiver = words[0]
    if len(rest) == 2 and rest[0].startswith("`"):  # example | result
        body = f"{rest[0]} → {rest[1]}"
    else:
        body = "\n\n".join(f"{label}: {value}" for label, value in zip(header[1:], rest))
    text = "\n\n".join(x for x in (note.rstrip(")"), body) if x)
    for shown in _names(names_part):
        bare = shown.split("(")[0]
        key = f"{receiver}.{bare}" if receiver else bare
        yield key, shown if "(" in shown else key, text


def _names(cell: str) -> list[str]:
    """`Math.min`, `Math.max` -> both; `Number.EPSILON`, `MAX_VALUE` -> Number.MAX_VALUE too;
    `Promise.all/any([…])` -> Promise.all([…]) and Promise.any([…])."""
    out, namespace = [], ""
    for code in _CODE.findall(cell):
        head, paren, args = code.partition("(")
        if not re.fullmatch(r"[\w$./]+", head):
            continue
        first, *others = head.split("/")
        namespace = first.rpartition(".")[0] or (namespace if out else "")
        for name in [first, *others]:
            full = name if "." in name or not namespace else f"{namespace}.{name}"
            out.append(full + paren + args)
    return out


@cache
def reference() -> dict[str, list[str]]:
    """{name: [as written, Markdown text]}, as `build` made it from the doc."""
    return json.loads(JSON_PATH.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m rhythm_runtime.editor.reference docs/LANGUAGE.md", file=sys.stderr)
        return 2
    table = build(Path(argv[0]).read_text(encoding="utf-8"))
    JSON_PATH.write_text(json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} entries to {JSON_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
