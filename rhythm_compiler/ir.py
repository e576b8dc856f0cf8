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
class EndFinally:
    """The end of try entry `index`'s `finally`: the runtime resumes the completion that entered it.

    Normally that is the statement after the try (the entry's `after`); a pending break/continue goes on
    to its target, a pending return or throw to the enclosing finally or catch (or ends the run).
    """

    index: int
    indent: int = 0


@dataclass
class Comment:
    """A `.flow` source line shown above the code it produced."""

    line: int
    text: str
    indent: int = 0


Op = Code | Jump | Leap | Branch | Yield | EndFinally | Comment


@dataclass
class State:
    id: int
    line: int | None  # the .flow line of its first statement (None until known)
    ops: list = field(default_factory=list)
    terminated: bool = False  # ends in a jump/return: nothing after it runs

    @property
    def exits(self) -> bool:
        """Its last line, at its top level, is a `return` or `raise`: it never steps on to the next state."""
        last = self.ops[-1] if self.ops else None
        return (isinstance(last, Code) and last.indent == 0
                and (last.text == "return" or last.text.startswith(("return ", "raise "))))


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
    """The states of the workflow body or of one function that awaits.

    State ids are numbered across the whole module (the body first, then each function's machine), so a
    frame's state alone names its `.flow` line; `try_entries` are this machine's part of the module's try
    table, which starts at index `try_base`."""

    name: str
    states: list[State]
    try_entries: list[TryEntry]
    sites: list[Site]
    try_base: int = 0

    def edges(self) -> list[tuple[int, int, str]]:
        """(from, to, kind) for every jump, branch, await, fallthrough, try entry and finally's end.

        The end of a `finally` gets an "after finally" edge to the statement after its try, and, for each
        break/continue that passes through it, one to where that jump goes next: the target, or the next
        enclosing finally on the way (the runtime's `abrupt_jump` route; the break/continue itself is
        drawn as a jump straight to its target). A pending return or throw at a finally's end is routed
        like any other in the enclosing try, whose catch/finally edges already show it, or ends the run.
        """
        out = []
        ends: dict[int, int] = {}  # try entry -> the state that ends its finally
        leaps: list[tuple[int, int]] = []  # (state, target) of each break/continue through a finally
        for i, st in enumerate(self.states):
            for op in st.ops:
                if isinstance(op, (Jump, Leap)):
                    out.append((st.id, op.target.id(), "jump"))
                    if isinstance(op, Leap):
                        leaps.append((st.id, op.target.id()))
                elif isinstance(op, Branch):
                    out.append((st.id, op.then.id(), "true"))
                    out.append((st.id, op.other.id(), "false"))
                elif isinstance(op, Yield):
                    out.append((st.id, op.resume.id(), "await"))
                elif isinstance(op, EndFinally):
                    ends[op.index - self.try_base] = st.id
            if not st.terminated and not st.exits and i + 1 < len(self.states):
                out.append((st.id, self.states[i + 1].id, "next"))
        table = [e.resolved() for e in self.try_entries]
        for index, (t, c, f, a) in enumerate(table):
            if c is not None:
                out.append((t, c, "catch"))
            if f is not None:
                out.append((t, f, "finally"))
            if index in ends:
                out.append((ends[index], a, "after finally"))
        for state, target in leaps:
            index = _finally_around(table, state, target)
            while index is not None and index in ends:
                onward = _finally_around(table, ends[index], target)
                out.append((ends[index], target if onward is None else table[onward][2], "after finally"))
                index = onward
        return out


@dataclass
class FunctionIR:
    """One function of the workflow: a plain Python function (`lines`) when it never awaits and needs no
    states, else a state machine run as a frame (`machine`; kind "async", or "frame" for a function that
    is called synchronously but needs states, such as a labelled continue across loops)."""

    fid: int
    name: str
    line: int
    kind: str  # "plain" | "async" | "frame"
    params: int  # what `f.length` says
    lines: list | None = None
    machine: StateMachine | None = None

    @property
    def first_state(self) -> int | None:
        return self.machine.states[0].id if self.machine is not None else None


@dataclass
class ModuleIR:
    """Everything `emit` renders: the workflow body's machine, the functions, and the module-wide tables."""

    main: StateMachine
    functions: list[FunctionIR]
    sites: list[Site]

    @property
    def machines(self) -> list[StateMachine]:
        return [self.main] + [f.machine for f in self.functions if f.machine is not None]

    @property
    def try_entries(self) -> list[TryEntry]:
        return [e for m in self.machines for e in m.try_entries]

    @property
    def states(self) -> list[State]:
        return [st for m in self.machines for st in m.states]

    def edges(self) -> list[tuple[int, int, str]]:
        return [e for m in self.machines for e in m.edges()]


def _finally_around(table: list[tuple], state: int, target: int) -> int | None:
    """The try entry whose finally a jump from `state` to `target` runs first (as the runtime decides)."""
    for index in range(len(table) - 1, -1, -1):
        t, _c, f, a = table[index]
        if f is not None and t <= state < f and not t <= target < a:
            return index
    return None
