"""Language server re-check time: one `.flow` document analysed again after an edit, as `rhythm lsp` does per keystroke.

    python bench/lsp_recheck.py                 # a 300-line workflow, median of 50
    python bench/lsp_recheck.py --lines 1000 --runs 20

The workflow comes from bench/compile_speed.py's generator (a fixed seed, a
realistic mix of statements). Each run analyses the text with one character
changed (parse, check, the app's names, unused variables, unreachable code:
everything the server publishes), against an app with 50 tasks. The figure
is the median after one warm-up run, as wall time and as this process's CPU time. Goal (issue 13): under 50 ms for 300 lines.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compile_speed import generate  # noqa: E402

from rhythm_runtime.api.tasks import TaskSpec  # noqa: E402
from rhythm_runtime.editor.analysis import analyze  # noqa: E402
from rhythm_runtime.editor.app_names import AppNames, TaskInfo  # noqa: E402


def _task(payload: dict) -> dict:
    return payload


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    source = generate(args.lines)
    names = AppNames({f"task-{i}": TaskInfo.of(TaskSpec(f"task-{i}", _task)) for i in range(50)}, {})
    analyze(source, "bench.flow", names)  # warm-up: lark's tables are built once per process
    times, cpu = [], []
    for i in range(args.runs):
        edited = source + ("\n" if i % 2 else " \n")  # a keystroke: the text differs every run
        t0, c0 = time.perf_counter(), time.process_time()
        found = analyze(edited, "bench.flow", names)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    errors = sum(d.severity == "error" for d in found.diagnostics)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{source.count(chr(10))} lines, {len(found.diagnostics)} diagnostics ({errors} errors), {args.runs} runs")
    print(f"re-check: median {statistics.median(times) * 1000:.1f} ms, best {min(times) * 1000:.1f} ms, "
          f"worst {max(times) * 1000:.1f} ms; CPU time median {statistics.median(cpu) * 1000:.1f} ms "
          f"(wall time counts other processes on a busy machine, CPU time does not)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
