"""Lower a checked AST to the state-machine IR (regenerator's technique).

Only what must be resumable becomes states: a statement that contains no
`await` (and no jump out of itself) is printed as plain Python inside the
current state, so the number of states follows the number of awaits. A
statement with an `await` is "exploded": sub-expressions evaluated before the
await are saved in temporaries that live in the locals dict (`@t1`, …), the
await ends the state, and `&&`, `||`, `??`, `?:` and `?.` become branches so
their skipped side never runs. Loops and try statements around awaits become
labelled states; a try table routes errors, and `finally` sees every exit
(normal, throw, return, break, continue) through a completion record.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from . import ast as A
from .check import WORKFLOW_NAMESPACES, FuncInfo, Resolution
from .native import ARGUMENT, CATCH, FOR_OF
from .ir import (Branch, Code, Comment, EndFinally, FunctionIR, Jump, Label, Leap, ModuleIR, State, StateMachine,
                 TryEntry, Yield)
from .pyexpr import BINARY, COMPOUND, ExprPrinter, Sites, error_kind, object_literal, object_parts, py_str, slot_ref

SIMPLE = (A.Num, A.Str, A.Bool, A.Null)


@dataclass
class LoopTarget:
    label: str | None
    brk: Label
    cont: Label | None  # None for a labelled non-loop statement and a switch
    try_depth: int  # how many lowered try entries enclose the loop
    is_switch: bool = False  # an unlabelled `break` leaves a switch too


class Facts:
    """Memoized questions about subtrees: does it await, return, or jump out?"""

    def __init__(self):
        self._await: dict[int, tuple] = {}  # id(node) -> (node, answer): holding the node keeps its id its own

    def has_await(self, n) -> bool:
        """Does `n` await (an inner function's awaits are its own)?"""
        if n is None or isinstance(n, (str, float, bool, A.Function)):
            return False
        key = id(n)
        if key not in self._await:
            self._await[key] = (n, isinstance(n, A.Await) or any(self.has_await(c) for c in A.children(n)))
        return self._await[key][1]

    def contains(self, n, types) -> bool:
        if isinstance(n, types):
            return True
        return any(self.contains(c, types) for c in A.children(n) if not isinstance(c, A.Expr.__args__))

    def escaping_jumps(self, n, inner_labels=(), loop_depth=0, switch_depth=0) -> bool:
        """True if a break/continue inside `n` leaves `n`."""
        if isinstance(n, A.Break):
            if n.label is None:
                return loop_depth == 0 and switch_depth == 0
            return n.label not in inner_labels
        if isinstance(n, A.Continue):
            if n.label is None:
                return loop_depth == 0
            return n.label not in inner_labels
        if isinstance(n, (A.LOOPS, A.Switch, A.Labeled)):
            labels = inner_labels + ((n.label,) if n.label else ())
            loops = loop_depth + isinstance(n, A.LOOPS)
            switches = switch_depth + isinstance(n, A.Switch)
            return any(self.escaping_jumps(c, labels, loops, switches) for c in self.statements(n))
        return any(self.escaping_jumps(c, inner_labels, loop_depth, switch_depth) for c in self.statements(n))

    @staticmethod
    def statements(n) -> list:
        """The child statements (and switch cases) of `n`, without its expressions."""
        return [c for c in A.children(n) if not isinstance(c, A.Expr.__args__)]

    def jumps_python_cannot_do(self, n, innermost: tuple | None = None) -> bool:
        """True if a break/continue inside `n` is not the same jump in Python, where it leaves the innermost
        Python loop: a labelled one that targets more than its innermost loop or switch, or a `continue` whose
        innermost breakable statement is a switch (a native switch is a one-pass Python loop).
        `innermost` is the (label, is_loop) of the innermost loop or switch around `n`, within it."""
        if isinstance(n, (A.Break, A.Continue)):
            if innermost is None:
                return n.label is not None
            label, is_loop = innermost
            if isinstance(n, A.Continue) and not is_loop:
                return True
            return n.label is not None and n.label != label
        if isinstance(n, A.BREAKABLE):
            innermost = (n.label, isinstance(n, A.LOOPS))
        return any(self.jumps_python_cannot_do(c, innermost) for c in self.statements(n))


class ModuleContext:
    """What the lowerings of the body and of every function share: state ids, the try table, await sites."""

    def __init__(self, res: Resolution, source_lines: list[str]):
        self.res = res
        self.src = source_lines
        self.sites = Sites()
        self.px = ExprPrinter(res, source_lines, self.sites)
        self.facts = Facts()
        self.state_count = 0
        self.tries: list[TryEntry] = []

    def next_state(self) -> int:
        self.state_count += 1
        return self.state_count - 1


class Lowerer:
    def __init__(self, name: str, ctx: ModuleContext, plain: bool = False):
        self.name = name
        self.ctx = ctx
        self.res = ctx.res
        self.src = ctx.src
        self.sites = ctx.sites
        self.px = ctx.px
        self.facts = ctx.facts
        self.states: list[State] = []
        self.tries: list[TryEntry] = []  # this machine's entries (indexes are the module's: see l_Try)
        self.try_base = len(ctx.tries)
        self.plain = plain
        self.try_stack: list[tuple[TryEntry, int]] = []  # lowered trys around the current code
        self.loops: list[LoopTarget] = []
        self.native_loops: list[str | None] = []
        self.temps = 0
        self.max_temps = 0
        self.loop_temps = 0
        self.indent = 0
        self.cur = self.new_state(None)

    # -- building states (regenerator's loc/mark/emit) ----------------------------
    def new_state(self, line: int) -> State:
        st = State(-1 if self.plain else self.ctx.next_state(), line)
        self.states.append(st)
        return st

    def mark(self, label: Label, line: int | None = None) -> None:
        if self.cur.ops or self.cur.terminated:
            self.cur = self.new_state(line)
        label.state = self.cur.id
        if line:
            self.cur.line = line

    def add(self, op) -> None:
        if self.cur.terminated:
            self.cur = self.new_state(None)  # unreachable code still compiles
        op.indent = self.indent
        self.cur.ops.append(op)

    def code(self, text: str) -> None:
        self.add(Code(text))

    def jump(self, label: Label) -> None:
        if self.cur.terminated or self.cur.exits:
            return  # the code before ended in a return, throw or jump: nothing reaches this one
        self.add(Jump(label))
        self.cur.terminated = True

    def branch(self, cond: str, then: Label, other: Label) -> None:
        self.add(Branch(cond, then, other))
        self.cur.terminated = True

    def comment(self, span: A.Span) -> None:
        if span.line:
            last = self.cur.ops[-1] if self.cur.ops and not self.cur.terminated else None
            if isinstance(last, Comment) and last.line == span.line and last.indent == self.indent:
                return  # the line is shown just above already
            self.add(Comment(span.line, self.src[span.line - 1].strip()))
            if self.cur.line is None:
                self.cur.line = span.line  # a state's line is its first statement's

    # -- temporaries ---------------------------------------------------------------
    def temp(self) -> str:
        self.temps += 1
        self.max_temps = max(self.max_temps, self.temps)
        return f"@t{self.temps}"

    def loop_temp(self, what: str) -> str:
        self.loop_temps += 1
        return f"@{what}{self.loop_temps}"

    @contextmanager
    def statement_temps(self):
        """Temporaries of one expression evaluation are dropped when it is done."""
        before = self.temps
        yield
        if self.temps > before:
            self.code(f"_op.drop(L, {drop_tuple([f'@t{i}' for i in range(before + 1, self.temps + 1)])})")
        self.temps = before

    # -- program ---------------------------------------------------------------------
    def program(self, prog: A.Program) -> StateMachine:
        self.enter_scope(prog)
        self.stmts_lowered(prog.body)
        return self.finish_machine(1)

    def finish_machine(self, first_line: int) -> StateMachine:
        if not (self.cur.terminated or self.cur.exits):  # the body may end in a return or throw of its own
            self.code("return _js.UNDEFINED")
            self.cur.terminated = True
        previous = first_line
        for st in self.states:  # a state without statements of its own shows the line before it
            st.line = previous = st.line or previous
        return StateMachine(self.name, self.states, self.tries, self.sites.items, self.try_base)

    # -- functions -------------------------------------------------------------------
    def function(self, info: FuncInfo) -> FunctionIR:
        """A function's code: a plain Python function if it never awaits and needs no states, else a machine
        whose first state binds the parameters (the runtime runs it as a frame)."""
        fn = info.node
        params = len(fn.params)
        for i, p in enumerate(fn.params):
            if p.default is not None:
                params = i  # `f.length` counts the parameters before the first default
                break
        kind = function_kind(fn, self.facts)
        assert (kind == "plain") == self.plain
        out = FunctionIR(info.fid, info.label, fn.span.line, kind, params)
        self.cur.line = fn.span.line
        self.comment(fn.span)
        self.enter_scope(fn)
        for i, p in enumerate(fn.params):
            self.native_element(p.target, p.default, f"_op.at(A, {i})", ARGUMENT)
        if fn.rest is not None:
            self.native_bind(fn.rest, f"A[{len(fn.params)}:]")
        self.enter_hoisted(fn)
        if kind == "plain":
            self.native_body(fn.body.body)
            if not isinstance(fn.body.body[-1:] and fn.body.body[-1], A.Return):
                self.code("return _js.UNDEFINED")
            out.lines = list(self.cur.ops)
            return out
        self.stmts_lowered(fn.body.body)
        out.machine = self.finish_machine(fn.span.line)
        return out

    def native_body(self, stmts) -> None:
        from .native import NativePrinter

        printer = NativePrinter(self)
        for st in stmts:
            printer.stmt(st)

    def native_element(self, target, default, value_py: str, value=None) -> None:
        from .native import NativePrinter

        NativePrinter(self).element(target, default, value_py, True, value)

    def native_bind(self, target, value_py: str) -> None:
        from .native import NativePrinter

        NativePrinter(self).bind(target, value_py, True)

    # -- scopes ---------------------------------------------------------------------
    def enter_scope(self, node) -> None:
        """A scope starts: its environment record (if an inner function captures one of its variables), then
        its function declarations (hoisted, so callable from its first statement on)."""
        env = self.res.scope_env.get(node)
        if env is not None:
            self.code(f"L[{py_str(env[0])}] = _op.env({env[1]})")
        if not isinstance(node, A.Function):  # a function's come after its parameters
            self.enter_hoisted(node)

    def enter_hoisted(self, node) -> None:
        """What a scope has from its start: its `var` variables (undefined) and its function declarations."""
        for name in self.res.hoisted_vars.get(node, ()):
            self.code(f"{self.res.place(name).ref} = _js.UNDEFINED")
        for d in self.res.hoisted.get(node, ()):
            line = self.cur.line
            self.comment(d.span)
            self.cur.line = line  # a state's line is that of its first statement, not of a hoisted declaration
            place = self.res.place(self.res.fn_names[d.fn])
            self.code(f"{place.ref} = {self.px.closure(d.fn)}")

    def next_iteration(self, node) -> None:
        """`for (let …)`: each iteration gets a fresh copy of the loop's environment record (closures made in
        one iteration keep that iteration's values)."""
        env = self.res.scope_env.get(node)
        if env is not None:
            self.code(f"L[{py_str(env[0])}] = _op.env_copy(L[{py_str(env[0])}])")

    def stmts_lowered(self, body) -> None:
        for s in body:
            self.stmt(s)

    # -- which statements need states --------------------------------------------------
    def needs_lowering(self, s) -> bool:
        if self.facts.has_await(s):
            return True
        if self.facts.escaping_jumps(s) or self.facts.jumps_python_cannot_do(s):
            return True
        if self.try_stack and any(e.finally_start for e, _ in self.try_stack):
            return self.facts.contains(s, (A.Return, A.Break, A.Continue))
        return False

    def stmt(self, s) -> None:
        if self.needs_lowering(s):
            if not isinstance(s, A.Block):
                self.comment(s.span)
            getattr(self, "l_" + type(s).__name__)(s)
        else:
            self.native(s)

    def native(self, s) -> None:
        from .native import NativePrinter

        NativePrinter(self).stmt(s)

    # -- lowered statements ----------------------------------------------------------------
    def l_Block(self, s: A.Block) -> None:
        self.enter_scope(s)
        self.stmts_lowered(s.body)
        self.drop_scope(s)

    def drop_scope(self, node) -> None:
        """Forget the variables of a block or loop that has ended: inspect then shows only what is in scope,
        and snapshots keep only that (an abrupt exit skips this; the next declaration overwrites them)."""
        slots = self.res.scope_slots.get(node)
        if slots:
            self.code(f"_op.drop(L, {drop_tuple(list(slots))})")

    def l_ExprStmt(self, s: A.ExprStmt) -> None:
        with self.statement_temps():
            self.effect(s.expr)

    def effect(self, e) -> None:
        """Evaluate an expression for its effects (statement position)."""
        if isinstance(e, A.Assign) and e.op == "=":
            self.assign_stmt(e.target, e.value)
            return
        if isinstance(e, A.Await):  # `await x;`: its value is not kept
            self.suspend(e)
            self.code("S.resume()")
            return
        self.code(f"{self.explode(e)}")

    def assign_stmt(self, target, value, declaration: bool = False) -> None:
        if isinstance(target, A.Name):
            if isinstance(value, A.Await):  # `const user = await …`: straight into the variable, no temporary
                self.suspend(value)
                self.code(f"{self.res.place(target).ref} = S.resume()")
                return
            v = self.explode(value)
            self.code(f"{self.res.place(target).ref} = {v}")
            return
        if isinstance(target, (A.Member, A.Index)):
            obj = self.explode_saved(target.obj, later=[target.index if isinstance(target, A.Index) else None, value])
            key = py_str(target.prop) if isinstance(target, A.Member) else self.explode_saved(target.index, later=[value])
            v = self.explode(value)
            self.code(f"_js.set_({obj}, {key}, {v})")
            return
        self.bind(target, self.explode(value), value, declaration)

    def l_VarDecl(self, s: A.VarDecl) -> None:
        for d in s.decls:
            with self.statement_temps():
                if d.init is None and s.kind == "var":
                    continue  # the variable is the function's, there since it started (check.hoist_vars)
                if d.init is None:
                    self.code(f"{self.res.place(d.target).ref} = _js.UNDEFINED")
                else:
                    self.assign_stmt(d.target, d.init, declaration=True)

    def l_If(self, s: A.If) -> None:
        then, other, end = Label(name="then"), Label(name="else"), Label(name="endif")
        self.cond_branch(s.test, then, other if s.other is not None else end)
        self.mark(then, s.then.span.line)
        self.stmt(s.then)
        if s.other is not None:
            self.jump(end)
            self.mark(other, s.other.span.line)
            self.stmt(s.other)
        self.mark(end)

    def cond_branch(self, test, then: Label, other: Label) -> None:
        before = self.temps
        with self.statement_temps():
            cond = self.explode(test)
            if self.temps > before:
                tmp = self.px.fresh("_v")
                self.code(f"{tmp} = _js.truthy({cond})")
                cond = tmp
            else:
                cond = f"_js.truthy({cond})"
        self.branch(cond, then, other)

    @contextmanager
    def loop(self, label: str | None, brk: Label, cont: Label | None, is_switch: bool = False):
        self.loops.append(LoopTarget(label, brk, cont, len(self.try_stack), is_switch))
        yield
        self.loops.pop()

    def back_edge(self, label: Label) -> None:
        self.code("S.tick()")
        self.jump(label)

    def l_While(self, s: A.While) -> None:
        top, body, end = Label(name="while"), Label(name="body"), Label(name="endwhile")
        self.mark(top, s.span.line)
        self.cond_branch(s.test, body, end)
        self.mark(body)
        with self.loop(s.label, end, top):
            self.stmt(s.body)
        self.back_edge(top)
        self.mark(end)

    def l_DoWhile(self, s: A.DoWhile) -> None:
        top, test, end = Label(name="do"), Label(name="dotest"), Label(name="enddo")
        self.mark(top, s.span.line)
        with self.loop(s.label, end, test):
            self.stmt(s.body)
        self.mark(test)
        self.code("S.tick()")
        self.cond_branch(s.test, top, end)
        self.mark(end)

    def l_For(self, s: A.For) -> None:
        top, body, cont, end = Label(name="for"), Label(name="forbody"), Label(name="forupdate"), Label(name="endfor")
        self.enter_scope(s)
        if isinstance(s.init, A.VarDecl):
            self.stmt(s.init)
        else:
            self.effects(s.init or ())
        self.next_iteration(s)
        self.mark(top, s.span.line)
        if s.test is not None:
            self.cond_branch(s.test, body, end)
            self.mark(body)
        with self.loop(s.label, end, cont):
            self.stmt(s.body)
        self.mark(cont)
        self.next_iteration(s)
        self.effects(s.update or ())
        self.back_edge(top)
        self.mark(end)
        self.drop_scope(s)

    def effects(self, exprs: tuple) -> None:
        """A for loop's initialiser or update: each expression for its effects, in order."""
        for e in exprs:
            with self.statement_temps():
                self.effect(e)

    def l_ForOf(self, s: A.ForOf) -> None:
        """An index loop over the items (for…in: the keys, and the object, whose keys deleted meanwhile are
        skipped)."""
        items, idx = self.loop_temp("items"), self.loop_temp("i")
        obj = self.loop_temp("object") if s.is_in else None
        top, body, end = Label(name="forof"), Label(name="forofbody"), Label(name="endforof")
        with self.statement_temps():
            src = self.explode(s.iterable)
            text = py_str(self.px.iterable_text(s.iterable))
            if obj is None:
                self.code(f"{slot_ref(items)} = _op.iterable({src}, {text})")
            else:
                self.code(f"{slot_ref(obj)} = {src}")
                self.code(f"{slot_ref(items)} = _op.for_in_keys({slot_ref(obj)}, {text})")
        self.code(f"{slot_ref(idx)} = 0.0")
        self.mark(top, s.span.line)
        if obj is not None:
            self.code(f"{slot_ref(idx)} = _op.next_key({slot_ref(obj)}, {slot_ref(items)}, {slot_ref(idx)})")
        self.branch(f"{slot_ref(idx)} < len({slot_ref(items)})", body, end)
        self.mark(body)
        self.code(f"{slot_ref(idx)} += 1.0")
        self.enter_scope(s)
        with self.statement_temps():
            declared = s.kind is not None and not s.is_in
            self.bind(s.target, f"{slot_ref(items)}[int({slot_ref(idx)}) - 1]", FOR_OF if declared else None, declared)
        with self.loop(s.label, end, top):
            self.stmt(s.body)
        self.back_edge(top)
        self.mark(end)
        self.code(f"_op.drop(L, {drop_tuple([items, idx] if obj is None else [obj, items, idx])})")
        self.drop_scope(s)

    def l_Switch(self, s: A.Switch) -> None:
        """Test the cases in order (`===`), jump to the first that matches (else to `default`, else past the
        end); the bodies follow one another, so a case without `break` falls through to the next."""
        value = self.loop_temp("switch")
        with self.statement_temps():
            self.code(f"{slot_ref(value)} = {self.explode(s.discriminant)}")
        self.enter_scope(s)
        bodies = [Label(name="case") for _ in s.cases]
        end = Label(name="endswitch")
        untested = None
        for case, body in zip(s.cases, bodies):
            if case.test is not None:
                if untested is not None:
                    self.mark(untested, case.span.line)
                untested = Label(name="casetest")
                self.cond_branch(A.Binary("===", _Raw(slot_ref(value)), case.test, case.test.span), body, untested)
        if untested is not None:
            self.mark(untested)
        self.jump(next((body for case, body in zip(s.cases, bodies) if case.test is None), end))
        with self.loop(s.label, end, None, is_switch=True):
            for case, body in zip(s.cases, bodies):
                self.mark(body, case.span.line)
                self.stmts_lowered(case.body)
        self.mark(end)
        self.code(f"_op.drop(L, {drop_tuple([value])})")
        self.drop_scope(s)

    def l_Labeled(self, s: A.Labeled) -> None:
        end = Label(name="endlabel")
        with self.loop(s.label, end, None):
            self.stmt(s.body)
        self.mark(end)

    def l_Break(self, s: A.Break) -> None:
        target = self.jump_target(s.label, want_continue=False)
        self.leap(target.brk, target)

    def l_Continue(self, s: A.Continue) -> None:
        target = self.jump_target(s.label, want_continue=True)
        self.leap(target.cont, target)

    def jump_target(self, label: str | None, want_continue: bool) -> LoopTarget:
        for t in reversed(self.loops):
            if label is None and (t.cont is not None or (t.is_switch and not want_continue)):
                return t
            if label is not None and t.label == label:
                return t
        raise AssertionError("the checker lets no unknown jump through")

    def leap(self, dest: Label, target: LoopTarget) -> None:
        crossing = [e for e, _ in self.try_stack[target.try_depth:] if e.finally_start is not None]
        if crossing:
            self.add(Leap(dest))
            self.cur.terminated = True
        else:
            self.jump(dest)

    def l_Return(self, s: A.Return) -> None:
        with self.statement_temps():
            value = self.explode(s.value) if s.value is not None else "_js.UNDEFINED"
            tmp = self.px.fresh("_r")
            self.code(f"{tmp} = {value}")
        if any(e.finally_start for e, _ in self.try_stack):
            self.code(f"S.abrupt_return({tmp})")
            self.code("continue")
        else:
            self.code(f"return {tmp}")
        self.cur.terminated = True

    def l_Throw(self, s: A.Throw) -> None:
        with self.statement_temps():
            value = self.explode(s.value)
            tmp = self.px.fresh("_r")
            self.code(f"{tmp} = {value}")
        self.code(f"raise _js.JSThrow({tmp})")
        self.cur.terminated = True

    def l_Try(self, s: A.Try) -> None:
        entry = TryEntry(Label(name="try"), Label(name="catch") if s.handler else None,
                         Label(name="finally") if s.finalizer else None, Label(name="endtry"))
        self.tries.append(entry)
        self.ctx.tries.append(entry)
        index = len(self.ctx.tries) - 1  # the module's try table index
        exit_label = entry.finally_start or entry.after
        self.mark(entry.try_start, s.block.span.line)
        self.try_stack.append((entry, index))
        self.stmt(s.block)
        self.jump(exit_label)
        if s.handler is not None:
            self.mark(entry.catch_start, s.handler.span.line)
            self.enter_scope(s)
            if s.param is not None:
                with self.statement_temps():
                    self.bind(s.param, "S.take_thrown()", CATCH)
            else:
                self.code("S.take_thrown()")
            self.stmt(s.handler)
            self.jump(exit_label)
        self.try_stack.pop()
        if s.finalizer is not None:
            self.mark(entry.finally_start, s.finalizer.span.line)
            self.stmt(s.finalizer)
            self.add(EndFinally(index))
            self.cur.terminated = True
        self.mark(entry.after)

    def l_Empty(self, s) -> None:
        pass

    # -- binding patterns whose defaults or keys await ---------------------------------------
    def bind(self, target, value_py: str, value=None, declaration: bool = False) -> None:
        """Assign a value to a name or pattern; patterns that await get states (see NativePrinter.bind)."""
        from .native import NativePrinter, array_source, object_check

        if not self.facts.has_await(target):
            NativePrinter(self).bind(target, value_py, True, value, declaration)
            return
        src = self.temp()
        self.code(f"{slot_ref(src)} = {value_py}")
        if isinstance(target, A.ArrayPattern):
            items = self.temp()
            self.code(f"{slot_ref(items)} = _op.iterable({slot_ref(src)}, {array_source(self.px, value, declaration)})")
            for i, el in enumerate(target.elements):
                if el is not None:
                    self.bind_element(el.target, el.default, f"_op.at({slot_ref(items)}, {i})")
            if target.rest is not None:
                self.bind(target.rest, f"{slot_ref(items)}[{len(target.elements)}:]")
            return
        if isinstance(target, A.ObjectPattern):
            self.code(object_check(target, slot_ref(src), self.px, value))
            keys = []
            for p in target.props:
                if isinstance(p.key, str):
                    key = py_str(p.key)
                else:  # evaluated once, as a property key: the rest pattern needs it too
                    key = f"_js.to_property_key({self.explode_saved(p.key, [p.default], force=True)})"
                keys.append(key)
                self.bind_element(p.target, p.default, f"_js.get({slot_ref(src)}, {key})")
            if target.rest is not None:
                self.bind(target.rest, f"_op.object_rest({slot_ref(src)}, [{', '.join(keys)}])")
            return
        obj, key = self.explode_place(target, [])
        self.code(f"_js.set_({obj}, {key}, {slot_ref(src)})")

    def bind_element(self, target, default, value_py: str) -> None:
        if default is None or not self.facts.has_await(default):
            if default is not None:
                v = self.px.fresh("_v")
                self.code(f"{v} = {value_py}")
                value_py = f"({self.px.expr(default)} if {v} is _js.UNDEFINED else {v})"
            self.bind(target, value_py)
            return
        t = self.temp()
        self.code(f"{slot_ref(t)} = {value_py}")
        use_default, done = Label(name="default"), Label(name="bound")
        self.branch(f"{slot_ref(t)} is _js.UNDEFINED", use_default, done)
        self.mark(use_default)
        self.code(f"{slot_ref(t)} = {self.explode(default)}")
        self.mark(done)
        self.bind(target, slot_ref(t))

    # -- exploding expressions that contain awaits ---------------------------------------------
    def explode(self, e) -> str:
        """Emit what must run before `e`'s value is known; return its Python expression."""
        if not self.facts.has_await(e):
            return self.px.expr(e)
        return getattr(self, "x_" + type(e).__name__)(e)

    def explode_saved(self, e, later, force: bool = False) -> str:
        """Explode `e`; keep its value in a temporary if a later sibling awaits."""
        py = self.explode(e)
        awaits_later = any(self.facts.has_await(x) for x in later if x is not None)
        if e is None or isinstance(e, SIMPLE) or not (awaits_later or (force and self.facts.has_await(e))):
            return py
        t = self.temp()
        self.code(f"{slot_ref(t)} = {py}")
        return slot_ref(t)

    def explode_list(self, items, spread: str = "spread_args") -> list[str]:
        """Arguments (or, with spread="spread", an array literal's elements), each exploded in order."""
        out = []
        for i, x in enumerate(items):
            inner = x.expr if isinstance(x, A.Spread) else x
            py = self.explode_saved(inner, items[i + 1:])
            if isinstance(x, A.Spread):
                text = self.px.iterable_text(inner, call_spread=spread == "spread_args")
                py = f"*_op.{spread}({py}, {py_str(text)})"
            out.append(py)
        return out

    def x_Await(self, e: A.Await) -> str:
        self.suspend(e)
        t = self.temp()
        self.code(f"{slot_ref(t)} = S.resume()")
        return slot_ref(t)

    def suspend(self, e: A.Await) -> None:
        """Yield what `e` awaits; the code after this runs when it has settled (`S.resume()` is its value)."""
        value = self.explode(e.expr)
        resume = Label(name="resume")
        self.add(Yield(value, resume, e.span.line))
        self.cur.terminated = True
        self.mark(resume, e.span.line)

    def x_Template(self, e: A.Template) -> str:
        vals = self.explode_list(list(e.exprs))
        parts = []
        for i, q in enumerate(e.quasis):
            if q:
                parts.append(py_str(q))
            if i < len(vals):
                parts.append(vals[i])
        return f"_js.template({', '.join(parts)})"

    def x_ArrayLit(self, e: A.ArrayLit) -> str:
        return "[" + ", ".join(self.explode_list(list(e.elements), spread="spread")) + "]"

    def x_ObjectLit(self, e: A.ObjectLit) -> str:
        exprs = object_parts(e.props)
        return object_literal(e.props, [self.explode_saved(x, exprs[i + 1:]) for i, x in enumerate(exprs)])

    def x_Unary(self, e: A.Unary) -> str:
        if e.op == "delete":
            return self.x_delete(e)
        inner = self.explode(e.operand)
        return self.px.p_Unary(A.Unary(e.op, _Raw(inner)))

    def x_delete(self, e: A.Unary) -> str:
        """`delete` with awaits in its object or key: both evaluated in order, then the property removed."""
        target = e.operand
        if isinstance(target, A.Member):
            return self.px.p_Unary(A.Unary("delete", A.Member(_Raw(self.explode(target.obj)), target.prop)))
        obj = self.explode_saved(target.obj, [target.index])
        return self.px.p_Unary(A.Unary("delete", A.Index(_Raw(obj), _Raw(self.explode(target.index)))))

    def x_Binary(self, e: A.Binary) -> str:
        if e.op == "instanceof":
            return self.px.p_Binary(A.Binary("instanceof", _Raw(self.explode(e.left)), e.right))
        left = self.explode_saved(e.left, [e.right])
        right = self.explode(e.right)
        return self.px.p_Binary(A.Binary(e.op, _Raw(left), _Raw(right)))

    def x_Logical(self, e: A.Logical) -> str:
        left = self.explode(e.left)
        if not self.facts.has_await(e.right):
            return self.px.logical(e.op, left, self.px.expr(e.right))
        t = self.temp()
        self.code(f"{slot_ref(t)} = {left}")
        rhs, end = Label(name="rhs"), Label(name="endlogical")
        cond = {"&&": f"_js.truthy({slot_ref(t)})", "||": f"not _js.truthy({slot_ref(t)})",
                "??": f"_op.nullish({slot_ref(t)})"}[e.op]
        self.branch(cond, rhs, end)
        self.mark(rhs)
        self.code(f"{slot_ref(t)} = {self.explode(e.right)}")
        self.mark(end)
        return slot_ref(t)

    def x_Conditional(self, e: A.Conditional) -> str:
        test = self.explode(e.test)
        t = self.temp()
        then, other, end = Label(name="then"), Label(name="else"), Label(name="endcond")
        self.branch(f"_js.truthy({test})", then, other)
        self.mark(then)
        self.code(f"{slot_ref(t)} = {self.explode(e.then)}")
        self.jump(end)
        self.mark(other)
        self.code(f"{slot_ref(t)} = {self.explode(e.other)}")
        self.mark(end)
        return slot_ref(t)

    def x_Assign(self, e: A.Assign) -> str:
        if isinstance(e.target, (A.ArrayPattern, A.ObjectPattern)):
            t = self.temp()
            self.code(f"{slot_ref(t)} = {self.explode(e.value)}")
            self.bind(e.target, slot_ref(t))
            return slot_ref(t)
        if e.op in ("&&=", "||=", "??="):
            return self.x_Logical(A.Logical(e.op[:2], e.target, A.Assign("=", e.target, e.value, e.span), e.span))
        if e.op == "=":
            if isinstance(e.target, A.Name):
                return self.px.assign(e.target, "=", self.explode(e.value))
            obj, key = self.explode_place(e.target, [e.value])
            return f"_js.set_({obj}, {key}, {self.explode(e.value)})"
        # compound: JavaScript reads the old value before evaluating the right side
        op = BINARY[COMPOUND[e.op]]
        if isinstance(e.target, A.Name):
            place = self.res.place(e.target)
            old = self.temp()
            self.code(f"{slot_ref(old)} = {place.ref}")
            return f"_op.store({place.container}, {py_str(place.key)}, _js.{op}({slot_ref(old)}, {self.explode(e.value)}))"
        obj, key = self.explode_place(e.target, [e.value], keep=True)
        old = self.temp()
        self.code(f"{slot_ref(old)} = _js.get({obj}, {key})")
        return f"_js.set_({obj}, {key}, _js.{op}({slot_ref(old)}, {self.explode(e.value)}))"

    def explode_place(self, target, later, keep: bool = False) -> tuple[str, str]:
        """Object and key of a member/index target, saved if later code awaits."""
        index = target.index if isinstance(target, A.Index) else None
        obj = self.explode_saved(target.obj, [index] + later, force=keep)
        if index is None:
            return obj, py_str(target.prop)
        return obj, self.explode_saved(index, later, force=keep)

    def x_Update(self, e: A.Update) -> str:
        obj, key = self.explode_place(e.target, [])
        delta = "1.0" if e.op == "++" else "-1.0"
        return f"_op.update_prop({obj}, {key}, {delta}, {e.prefix})"

    def x_Spread(self, e):  # pragma: no cover - handled by explode_list
        raise AssertionError

    def x_OptChain(self, e: A.OptChain) -> str:
        return self.explode(e.expr)

    def x_NewError(self, e: A.NewError) -> str:
        return f"_js.new_error({', '.join(self.explode_list(list(e.args)) + error_kind(e))})"

    def x_NewCollection(self, e: A.NewCollection) -> str:
        return f"_js.new_{e.kind.lower()}({', '.join(self.explode_list(list(e.args)))})"

    def x_NewRegExp(self, e: A.NewRegExp) -> str:
        return f"_js.new_regexp_object({', '.join(self.explode_list(list(e.args)))})"
    def x_NewPromise(self, e: A.NewPromise) -> str:
        return f"S.new_promise({', '.join(self.explode_list(list(e.args)))})"

    def x_Member(self, e) -> str:
        return self.explode_chain(e)

    x_Index = x_Call = x_Member

    def explode_chain(self, e) -> str:
        """A chain with awaits: evaluate base, then each link, short-circuiting on `?.`."""
        links, node = [], e
        while isinstance(node, (A.Member, A.Index, A.Call)) and not self.is_special(node):
            links.append(node)
            node = node.callee if isinstance(node, A.Call) else node.obj
        links.reverse()
        if not links:
            return self.explode_special(node)
        acc = self.explode(node)
        end = None
        result = None
        receiver = None
        for i, link in enumerate(links):
            rest = links[i + 1:]
            later = [getattr(link, "index", None)] + list(getattr(link, "args", ())) + rest
            if link.optional:
                if result is None:
                    result, end = self.temp(), Label(name="endchain")
                self.code(f"{slot_ref(result)} = _js.UNDEFINED")
                t = self.temp()
                self.code(f"{slot_ref(t)} = {acc}")
                go = Label(name="chain")
                self.branch(f"_op.nullish({slot_ref(t)})", end, go)
                self.mark(go)
                acc = slot_ref(t)
            nxt = links[i + 1] if i + 1 < len(links) else None
            if isinstance(link, A.Member) and isinstance(nxt, A.Call) and not nxt.optional:
                continue  # the call link below handles `obj.method(…)` with its receiver
            prev = links[i - 1] if i else None
            if isinstance(link, (A.Member, A.Index)) and isinstance(nxt, A.Call) and nxt.optional:
                # `obj.method?.(…)`: keep obj, the receiver of the call link below
                if not acc.startswith("L["):
                    t = self.temp()
                    self.code(f"{slot_ref(t)} = {acc}")
                    acc = slot_ref(t)
                receiver = acc
                acc = self.explode_link(acc, link, later)
                continue
            if isinstance(link, A.Call) and link.optional and isinstance(prev, (A.Member, A.Index)):
                args = "[" + ", ".join(self.explode_list(list(link.args))) + "]"
                acc = f"_js.call_on({receiver}, {acc}, {args}, {py_str(self.px.v8_text(prev))})"
                continue
            if isinstance(link, A.Call) and isinstance(prev, A.Member) and not link.optional:
                acc = self.explode_method_call(acc, prev, link, rest)
                continue
            acc = self.explode_link(acc, link, later)
        if result is None:
            return acc
        self.code(f"{slot_ref(result)} = {acc}")
        self.mark(end)
        return slot_ref(result)

    def is_special(self, node) -> bool:
        """A call of a known global function, or a namespace member (`Math.PI`)."""
        if isinstance(node, A.Call):
            c = node.callee
            if isinstance(c, A.Name) and c in self.res.globals:
                return c.name in self.px.funcs
            if isinstance(c, A.Member) and self.px.is_namespace_ref(c.obj):
                full = f"{c.obj.name}.{c.prop}"
                return full in self.px.funcs or c.prop in WORKFLOW_NAMESPACES.get(c.obj.name, {})
            return False
        return isinstance(node, (A.Member, A.Index)) and self.px.is_namespace_ref(node.obj)

    def explode_special(self, node) -> str:
        """A workflow command or library call whose arguments await."""
        if not isinstance(node, A.Call):
            return self.px.expr(node)
        args = [_Raw(v) for v in self.explode_list(list(node.args))]
        return self.px.expr(A.Call(node.callee, tuple(args), False, node.span))

    def explode_method_call(self, receiver: str, member: A.Member, call: A.Call, rest) -> str:
        later = list(call.args) + list(rest)
        if any(self.facts.has_await(x) for x in later) and not receiver.startswith("L["):
            t = self.temp()
            self.code(f"{slot_ref(t)} = {receiver}")
            receiver = slot_ref(t)
        args = "[" + ", ".join(self.explode_list(list(call.args))) + "]"
        return f"_js.call_method({receiver}, {py_str(member.prop)}, {args}, {py_str(self.px.v8_text(member))})"

    def explode_link(self, acc: str, link, later) -> str:
        if any(self.facts.has_await(x) for x in later if x is not None) and not acc.startswith("L["):
            t = self.temp()
            self.code(f"{slot_ref(t)} = {acc}")
            acc = slot_ref(t)
        if isinstance(link, A.Member):
            return f"_js.get({acc}, {py_str(link.prop)})"
        if isinstance(link, A.Index):
            return f"_js.get({acc}, {self.explode(link.index)})"
        args = "[" + ", ".join(self.explode_list(list(link.args))) + "]"
        return f"_js.call({acc}, {args}, {py_str(self.px.v8_text(link.callee))})"


@dataclass(frozen=True, eq=False)
class _Raw:
    """Already-printed Python standing in for a sub-expression."""

    py: str
    span: A.Span = A.NOSPAN


def _print_raw(self, e: _Raw) -> str:
    return e.py


ExprPrinter.p__Raw = _print_raw


def drop_tuple(names: list[str]) -> str:
    inner = ", ".join(py_str(n) for n in names)
    return f"({inner},)" if len(names) == 1 else f"({inner})"


def function_kind(fn: A.Function, facts: Facts) -> str:
    """"async"; "frame" for a function that never awaits but needs states (a labelled break or continue across
    loops: Python has no labelled jumps); else "plain"."""
    if fn.is_async:
        return "async"
    if any(facts.escaping_jumps(st) or facts.jumps_python_cannot_do(st) for st in fn.body.body):
        return "frame"
    return "plain"


def lower(program: A.Program, res: Resolution, name: str, source: str) -> ModuleIR:
    """The workflow body's machine, then each function's code (in source order)."""
    ctx = ModuleContext(res, source.splitlines())
    main = Lowerer(name, ctx).program(program)
    functions = []
    for info in res.functions[1:]:
        plain = function_kind(info.node, ctx.facts) == "plain"
        functions.append(Lowerer(info.label, ctx, plain).function(info))
    return ModuleIR(main, functions, ctx.sites.items)
