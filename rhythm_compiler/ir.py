"""The state-machine IR between `lower` and `emit`.

A `StateMachine` is a list of numbered `State`s. Each state holds straight-line
Python (already printed by `pyexpr`) plus the structural ops that leave it:
jumps, branches and awaits. Keeping these ops structured (not text) is what
lets tests and `rhythm graph` read the machine without parsing code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Label:
    """A jump target created before its position is known (regenerator's loc())."""

    state: int | None = None
    name: str = ""

    def id(self) -> int:
        assert self.state is not None, f"label {self.name!r} was never marked"
        return self.state


@dataclass
class Code:
    """One line of Python at a relative indent."""

    text: str
    indent: int = 0


@dataclass
class Jump:
    target: Label
    indent: int = 0


@dataclass
class Leap:
    """A break/continue that must pass through enclosing `finally` blocks first."""

    target: Label
    indent: int = 0


@dataclass
class Branch:
    """Go to `then` when the Python expression `cond` is true, else to `other`."""

    cond: str
    then: Label
    other: Label
    indent: int = 0


@dataclass
class Yield:
    """Hand `value` (a promise or plain value) to the runtime; resume at `resume`."""

    value: str
    resume: Label
    site_line: int
    indent: int = 0


@dataclass
class Comment:
    """A `.flow` source line shown above the code it produced."""

    line: int
    text: str
    indent: int = 0


Op = Code | Jump | Leap | Branch | Yield | Comment


@dataclass
class State:
    id: int
    line: int | None  # the .flow line of its first statement (None until known)
    ops: list = field(default_factory=list)
    terminated: bool = False  # ends in a jump/return: nothing after it runs


@dataclass
class TryEntry:
    """regenerator's try entry: the states of the try, catch and finally parts."""

    try_start: Label
    catch_start: Label | None
    finally_start: Label | None
    after: Label

    def resolved(self) -> tuple:
        return (
            self.try_start.id(),
            self.catch_start.id() if self.catch_start else None,
            self.finally_start.id() if self.finally_start else None,
            self.after.id(),
        )


@dataclass
class Site:
    """A call that schedules durable work (Task.run, Timer.delay, …)."""

    id: int
    kind: str
    line: int
    detail: str = ""


@dataclass
class StateMachine:
    name: str
    states: list[State]
    try_entries: list[TryEntry]
    sites: list[Site]

    def edges(self) -> list[tuple[int, int, str]]:
        """(from, to, kind) for every jump, branch, await and fallthrough."""
        out = []
        for i, st in enumerate(self.states):
            for op in st.ops:
                if isinstance(op, (Jump, Leap)):
                    out.append((st.id, op.target.id(), "jump"))
                elif isinstance(op, Branch):
                    out.append((st.id, op.then.id(), "true"))
                    out.append((st.id, op.other.id(), "false"))
                elif isinstance(op, Yield):
                    out.append((st.id, op.resume.id(), "await"))
            if not st.terminated and i + 1 < len(self.states):
                out.append((st.id, self.states[i + 1].id, "next"))
        for entry in self.try_entries:
            t, c, f, _a = entry.resolved()
            if c is not None:
                out.append((t, c, "catch"))
            if f is not None:
                out.append((t, f, "finally"))
        return out
