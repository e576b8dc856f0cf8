"""Render the state-machine IR as a Python module (Jinja2 layout, black format: see formatting.py).

The template only lays the module out; every line of code is printed here or
in `pyexpr`. The output is byte-for-byte deterministic. After formatting, the
module is compiled once: if that fails it is a compiler bug, reported as one
with the text saved for the bug report.
"""

from __future__ import annotations

import re
import tempfile
from functools import lru_cache

import jinja2

from .formatting import format_module
from .header import SHAPE, comment_text, header, seal
from .ir import Branch, Code, Comment, EndFinally, Jump, Leap, ModuleIR, StateMachine, Yield
from .pyexpr import py_str
_LINE_COMMENT = re.compile(r"^\s*# line (\d+):")
_USES_LOCALS = re.compile(r"\bL\b")


class CompilerBug(Exception):
    """The compiler produced invalid Python; never the user's fault."""


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rhythm_templates", ""),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template("module.py.j2")


def state_lines(machine: StateMachine, index: int) -> list[str]:
    state = machine.states[index]
    out = op_lines(state.ops, state.id)
    if not state.terminated and not state.exits and index + 1 < len(machine.states):
        out.append(f"s = S.state = {machine.states[index + 1].id}")
    return out or ["pass"]


def op_lines(ops, state_id: int = -1) -> list[str]:
    out: list[str] = []
    for op in ops:
        pad = "    " * op.indent
        if isinstance(op, Code):
            out.append(pad + op.text)
        elif isinstance(op, Comment):
            out.append(f"{pad}# line {op.line}: {comment_text(op.text)}")
        elif isinstance(op, Jump):
            out.extend(pad + x for x in _goto(state_id, op.target.id()))
        elif isinstance(op, Leap):
            out += [f"{pad}S.abrupt_jump({op.target.id()})", f"{pad}continue"]
        elif isinstance(op, EndFinally):
            out += [f"{pad}S.end_finally({op.index})", f"{pad}continue"]
        elif isinstance(op, Branch):
            out.append(f"{pad}if {op.cond}:")
            out.extend(pad + "    " + x for x in _goto(state_id, op.then.id()))
            out.append(f"{pad}else:")
            out.extend(pad + "    " + x for x in _goto(state_id, op.other.id()))
        elif isinstance(op, Yield):
            out += [f"{pad}awaited = {op.value}", f"{pad}s = S.state = {op.resume.id()}", f"{pad}yield awaited"]
    return out


def _goto(current: int, target: int) -> list[str]:
    """A jump: forward jumps fall through the following `if s ==` tests."""
    lines = [f"s = S.state = {target}"]
    if target <= current:
        lines.append("continue")
    return lines


def machine_states(machine: StateMachine) -> list[dict]:
    return [{"id": st.id, "line": st.line, "lines": state_lines(machine, i)} for i, st in enumerate(machine.states)]


def render(module: ModuleIR, *, name: str, version: str, source_file: str, source_hash: str,
           front_matter: str | None, resume_shape: str, fmt: bool = True) -> str:
    functions = []
    for f in module.functions:
        comment = comment_text(f"{'async ' if f.kind == 'async' else ''}function {f.name}, line {f.line}")
        entry = {"fid": f.fid, "comment": comment, "plain": f.kind == "plain"}
        if f.kind == "plain":
            entry["lines"] = op_lines(f.lines)
            entry["locals"] = any(_USES_LOCALS.search(line) for line in entry["lines"] if not line.lstrip().startswith("#"))
        else:
            entry["states"] = machine_states(f.machine)
        functions.append(entry)
    text = _template().render(
        header=header(source_file, source_hash), name_comment=comment_text(name), shape=SHAPE,
        name_literal=py_str(name), version_literal=py_str(version),
        source_file_literal=py_str(source_file), source_hash_literal=py_str(source_hash),
        front_matter_literal=py_str(front_matter) if front_matter is not None else "None",
        state_lines=repr({st.id: st.line for st in module.states}),
        try_table=repr(tuple(e.resolved() for e in module.try_entries)),
        sites=repr({s.id: (s.kind, s.line) for s in module.sites}),
        function_info=repr({f.fid: (f.name, f.line, f.kind, f.first_state, f.params) for f in module.functions}),
        functions_table="{" + ", ".join(f"{f.fid}: f{f.fid}" for f in module.functions) + "}",
        resume_shape=py_str(resume_shape),
        states=machine_states(module.main),
        functions=functions,
    )
    if fmt:
        text = format_code(text)
    text += f"\n# generated line -> .flow line\nLINE_MAP = {py_str(line_map(text))}\n"
    verify(text, source_file)
    return seal(text)


def format_code(text: str) -> str:
    try:
        return format_module(text)
    except Exception as e:  # black rejects only invalid Python: a compiler bug
        raise CompilerBug(_bug_report(text, f"black could not format the generated module: {e}")) from None


def line_map(text: str) -> str:
    """'pyline:flowline,…' for every `# line N:` comment of the formatted module."""
    pairs = []
    for i, line in enumerate(text.splitlines(), start=1):
        m = _LINE_COMMENT.match(line)
        if m:
            pairs.append(f"{i}:{m.group(1)}")
    return ",".join(pairs)


def verify(text: str, source_file: str) -> None:
    try:
        compile(text, f"<rhythm:{source_file}>", "exec")
    except (SyntaxError, ValueError) as e:
        raise CompilerBug(_bug_report(text, f"the generated module does not compile: {e}")) from None


def _bug_report(text: str, what: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="rhythm-bug-", delete=False) as f:
        f.write(text)
    return f"internal compiler error: {what}; the module was saved to {f.name}; please report this bug"
