#!/usr/bin/env python3
"""Regenerate tests/conformance/expected.json from Node (the oracle).

    python tests/conformance/regen.py          # rerun node, rewrite expected.json
    python tests/conformance/regen.py --check  # run node twice; fail if the two
                                               # runs differ (nondeterminism) or
                                               # expected.json is stale; write nothing

Expectations are never edited by hand: Node is the judge.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path


def _load_support():
    path = Path(__file__).resolve().parent / "support.py"
    spec = importlib.util.spec_from_file_location("conformance_support", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


support = _load_support()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify determinism and freshness, write nothing")
    args = parser.parse_args(argv)

    paths = support.program_paths()
    results = support.run_harness(paths)
    broken = {k: v for k, v in results.items() if v.get("status") not in ("completed", "failed", "suspended")}
    if broken:
        for key, value in sorted(broken.items()):
            print(f"harness error in {key}: {value.get('error')}", file=sys.stderr)
        return 2

    old = support.load_expected()
    changed = sorted(k for k in results if k in old and old[k] != results[k])
    added = sorted(k for k in results if k not in old)
    removed = sorted(k for k in old if k not in results)

    if args.check:
        again = support.run_harness(paths)
        unstable = sorted(k for k in results if again.get(k) != results[k])
        for key in unstable:
            print(f"nondeterministic: {key}", file=sys.stderr)
        for key in changed + added + removed:
            print(f"stale: {key}", file=sys.stderr)
        print(f"{len(results)} programs, {len(unstable)} nondeterministic, "
              f"{len(changed)} changed, {len(added)} added, {len(removed)} removed")
        return 1 if (unstable or changed or added or removed) else 0

    support.EXPECTED.write_text(support.dump_expected(results), encoding="utf-8")
    for key in changed:
        print(f"changed: {key}")
    for key in added:
        print(f"added: {key}")
    for key in removed:
        print(f"removed: {key}")
    print(f"{len(results)} programs; {len(changed) + len(added) + len(removed)} changed "
          f"({len(changed)} changed, {len(added)} added, {len(removed)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
