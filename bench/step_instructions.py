"""Instructions per warm state transition, counted by callgrind: step_cost.py's figure without the noise.

    python bench/step_instructions.py                      # sequential_10, loop_100, frames_10; 5 chains each
    python bench/step_instructions.py sequential_10 --chains 3

On a shared 2-core machine `step_cost.py`'s microseconds move by 20% with the load; instructions do not
(the same count twice, whatever else runs). Each workflow runs in a child process under
`valgrind --tool=callgrind` with `PYTHONHASHSEED=0`; the child replays step_cost.py's warm chain (or
frames_cost.py's with 10 async functions in flight, `frames_10`) twice uncounted, then R chains inside
`functools.reduce`, the only function counted (`--toggle-collect`), so start-up, compiling and recording
are left out. Reported: instructions per warm transition (session 10's end: 272.5 K, 375.1 K and
1,721 K). Needs valgrind (Debian's package); takes 15-60 s per workflow and chain count.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

WORKFLOWS = ("sequential_10", "loop_100", "frames_10")


def _warm_chain(name: str):
    """A function replaying the workflow's recorded warm chain once, and the chain's number of transitions."""
    import frames_cost
    import step_cost
    from rhythm_compiler import compile_source
    from rhythm_runtime import values as _js
    from rhythm_runtime.execution.modules import load_module
    from rhythm_runtime.execution.warm import WarmStates

    source = frames_cost.FANOUT if name == "frames_10" else step_cost.WORKFLOWS[name]
    module = load_module(compile_source(source, f"{name}.flow", fmt=False).code, name)
    steps = frames_cost.record(module, 10) if name == "frames_10" else step_cost.record(module)
    first = json.loads(steps[0][0])
    chained = [(steps[0][0], steps[0][1])] + [(None, s) for _text, s in steps[1:]]

    def chain(_acc=None, _i=None):
        states = WarmStates()
        states.keep("run-1", 0, first, steps[0][0], _js.decode_activation(first["data"]))
        step_cost._warm_steps(module, chained, states)

    return chain, len(steps)


def child(name: str, chains: int) -> None:
    """Under callgrind: two chains uncounted (caches, lazily built tables), then `chains` counted ones."""
    chain, transitions = _warm_chain(name)
    chain()
    chain()
    functools.reduce(chain, range(chains), None)
    print(f"transitions {transitions}", file=sys.stderr)


def count(name: str, chains: int) -> float:
    """Instructions per warm transition of `name`, from a callgrind run of this script's child mode."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", name, "--chains", str(chains)],
            env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
        transitions = int(re.search(r"^transitions (\d+)$", proc.stderr, re.M).group(1))
        total = int(re.search(r"^summary: (\d+)$", out.read_text(), re.M).group(1))
    return total / (transitions * chains)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workflows", nargs="*", metavar="workflow", help=f"any of {', '.join(WORKFLOWS)} (default: all)")
    parser.add_argument("--chains", type=int, default=5, help="counted chains per workflow (default 5)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.chains)
        return 0
    unknown = sorted(set(args.workflows) - set(WORKFLOWS))
    if unknown:
        parser.error(f"unknown workflow {', '.join(unknown)}: choose from {', '.join(WORKFLOWS)}")
    if shutil.which("valgrind") is None:
        print("step_instructions.py needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 1
    print(f"instructions per warm transition (callgrind, PYTHONHASHSEED=0, {args.chains} chains)")
    for name in args.workflows or WORKFLOWS:
        print(f"{name:<14} {count(name, args.chains) / 1000:9.1f} K", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
