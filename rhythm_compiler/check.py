"""Check a parsed workflow: scopes, names, jumps and built-in calls.

Collects every independent problem (never stops at the first) and resolves
each variable reference to where it lives (a `Place`). Slots are the `.flow`
names, suffixed `@2`, `@3`… only where a shadowing declaration would collide,
so a stored snapshot reads like the source.

Closure conversion (the analysis half, like CPython's symtable): a binding
that an inner function uses is *captured*; it lives in an environment record
of its scope (`L["@e1"]["count"]`), made each time the scope is entered (each
loop iteration for a `for` scope), and reached from inner functions through
their closure's environment chain (`E["@up"]["count"]`). Everything else stays
in the frame's locals dict. Function bodies are checked after the scopes
around them are complete, so a function may use a variable declared after it
(as in JavaScript, where it is then a run-time error to call it too early).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import Diagnostic
from .front_matter import front_matter_errors
from .instead import NOT_IN_SANDBOX, SANDBOX_INSTEAD, UNDECLARED_INSTEAD, UNSUPPORTED_MEMBERS, UNSUPPORTED_METHODS

# Workflow globals: member -> (min args, max args); None marks a property.
WORKFLOW_NAMESPACES: dict[str, dict[str, tuple[int, int] | None]] = {
    "Task": {"run": (1, 3), "all": (1, 1), "any": (1, 1), "race": (1, 1), "allSettled": (1, 1)},
    "Promise": {"all": (1, 1), "any": (1, 1), "race": (1, 1), "allSettled": (1, 1), "resolve": (0, 1),
                "reject": (0, 1)},
    "Timer": {"delay": (1, 1)},
    "Signal": {"next": (1, 1)},
    "Workflow": {"run": (1, 3)},
    "Context": {"executionId": None, "workflowName": None},
}
INPUTS_SLOT = "Inputs"
# What the right side of `instanceof` may name (workflows have no classes).
INSTANCEOF_CONSTRUCTORS = {"Object", "Array", "Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError",
                           "EvalError", "URIError", "AggregateError", "Map", "Set", "Date", "RegExp", "Function"}
# The options a Task.run call takes as its third argument (the runtime checks non-literal ones when it runs).
TASK_RUN_OPTIONS = ("key", "priority", "delay", "timeout")
WORKFLOW_RUN_OPTIONS = ("key", "priority", "delay", "queue")
# A literal Timer.delay of this many seconds or more draws a warning: setTimeout counts milliseconds.
LONG_DELAY_SECONDS = 1000
# Limits that keep the generated Python within CPython's own nesting limits.
MAX_EXPRESSION_DEPTH = 48
MAX_BLOCK_DEPTH = 24
MAX_LOOP_DEPTH = 16  # a loop counts 1, a try 2
_STATEMENTS = (A.VarDecl, A.ExprStmt, A.Block, A.If, A.While, A.DoWhile, A.For, A.ForOf, A.Break, A.Continue,
               A.Return, A.Throw, A.Try, A.Switch, A.Case, A.Labeled, A.Empty, A.Declarator, A.FunctionDecl)
_COMPOUND = (A.If, A.While, A.DoWhile, A.For, A.ForOf, A.Try, A.Switch)
_STRUCTURAL = (A.Prop, A.Spread, A.PatternElem, A.PatternProp)


def library():
    """The closure-free library's tables, owned by the runtime's value module."""
    from rhythm_runtime.execution.values import GLOBAL_CONSTANTS, GLOBAL_FUNCTIONS

    return GLOBAL_FUNCTIONS, GLOBAL_CONSTANTS


def constructor_member(ns: str, prop: str) -> str | float | None:
    """`String.name`, `Date.length`: a member of the function behind a namespace, as the runtime has it (None
    for undefined)."""
    from rhythm_runtime.execution.values import UNDEFINED, constructor_member as member

    value = member(ns, prop)
    return None if value is UNDEFINED else value


def namespace_members(ns: str) -> dict[str, tuple[int, int] | None]:
    funcs, consts = library()
    members = dict(WORKFLOW_NAMESPACES.get(ns, {}))
    for full, (_fn, lo, hi) in funcs.items():
        if full.startswith(ns + "."):
            members[full[len(ns) + 1:]] = (lo, hi)
    for full in consts:
        if full.startswith(ns + "."):
            members[full[len(ns) + 1:]] = None
    return members


def global_names() -> set[str]:
    funcs, consts = library()
    names = set(WORKFLOW_NAMESPACES) | {"Inputs"}
    names |= {k.split(".")[0] for k in funcs} | {k.split(".")[0] for k in consts}
    return names


def is_namespace(name: str) -> bool:
    return bool(namespace_members(name))


@dataclass
class Binding:
    name: str
    slot: str
    kind: str  # "let" | "const" | "var" | "catch" | "param" | "function" | "global"
    decl: A.Span
    case: tuple | None = None  # (switch, case index) when declared directly in a switch's case
    scope: "Scope | None" = None
    captured: bool = False  # an inner function uses it: it lives in its scope's environment record


@dataclass(eq=False)
class FuncInfo:
    """One function of the workflow (fid 0 is the workflow body itself)."""

    fid: int
    node: "A.Function | None"
    parent: "FuncInfo | None"
    is_async: bool
    live_slots: set = field(default_factory=set)
    envs: int = 0  # environment records are numbered per function: @e1, @e2, …
    scope: "Scope | None" = None  # its top scope (parameters and the body's top level)
    defining: "Scope | None" = None  # the scope its closure's environment chain starts at
    cases: list = field(default_factory=list)  # the switch cases it is made in (it may use their variables)

    @property
    def label(self) -> str:
        return "main" if self.node is None else (self.node.label or "anonymous")


@dataclass(eq=False)
class Scope:
    parent: "Scope | None"
    func: "FuncInfo | None" = None  # None only for the scope that binds a named function expression's name
    node: object = None  # the AST node whose entry creates the scope's environment record
    bindings: dict[str, Binding] = field(default_factory=dict)
    # Names a later `let`/`const` of this block declares -> its line (JavaScript's "temporal dead zone").
    pending: dict[str, int] = field(default_factory=dict)
    switch: A.Switch | None = None  # the switch whose cases share this scope
    env: str | None = None  # its environment record's slot ("@e1"), when an inner function captures a binding

    def lookup(self, name: str) -> Binding | None:
        s: Scope | None = self
        while s is not None:
            if name in s.bindings:
                return s.bindings[name]
            s = s.parent
        return None

    def declared_later(self, name: str) -> int | None:
        """The line of the declaration of `name` when a use here comes before it."""
        s: Scope | None = self
        while s is not None:
            if name in s.bindings:
                return None
            if name in s.pending:
                return s.pending[name]
            s = s.parent
        return None


@dataclass(frozen=True)
class Place:
    """Where a variable lives, as Python: `container[key]`.

    `container` is `L` (the frame's locals), an environment record in them (`L["@e1"]`), or the closure's
    environment chain (`E`, `E["@up"]`, …); Inputs read inside a function is `S.inputs` (no key)."""

    container: str
    key: str | None

    @property
    def ref(self) -> str:
        return self.container if self.key is None else f"{self.container}[{self.key!r}]"


@dataclass
class Resolution:
    """What the checker learned: where every variable lives, and the functions and scopes that need code."""

    places: dict = field(default_factory=dict)  # Name node -> Place
    globals: dict = field(default_factory=dict)  # Name node -> global name
    scope_slots: dict = field(default_factory=dict)  # Block/For/ForOf node -> slots its scope forgets at its end
    bindings: dict = field(default_factory=dict)  # Name node (declaration or use) -> its Binding, for the editor
    # scope node -> (environment slot, Python of the enclosing environment): created when the scope is entered
    scope_env: dict = field(default_factory=dict)
    hoisted: dict = field(default_factory=dict)  # Program/Block/Function node -> its function declarations
    hoisted_vars: dict = field(default_factory=dict)  # Program/Function node -> the Names its `var`s declare first
    functions: list = field(default_factory=list)  # FuncInfo, by fid (0: the workflow body)
    fn_info: dict = field(default_factory=dict)  # Function node -> FuncInfo
    fn_names: dict = field(default_factory=dict)  # Function node -> the Name node its name is bound by
    closure_scope: dict = field(default_factory=dict)  # Function node -> the scope it is created in
    # Function node -> (Python of the environment its closure captures, name-binding slot or None)
    closures: dict = field(default_factory=dict)

    def place(self, name: A.Name) -> Place:
        return self.places[name]

    def variable_keys(self) -> list[str]:
        """Every variable's storage (for RESUME_SHAPE)."""
        return sorted({p.ref for p in self.places.values()})


class Checker:
    def __init__(self, path: str):
        self.path = path
        self.diags: list[Diagnostic] = []
        self.res = Resolution()
        self.main = FuncInfo(0, None, None, True, {INPUTS_SLOT})
        self.func = self.main
        self.scope = Scope(None, self.main)
        self.main.scope = self.scope
        self.res.functions.append(self.main)
        self.scopes: list[Scope] = [self.scope]  # every scope, in the order they were made
        self.dropped: dict = {}  # Block/For/ForOf node -> its scope (slots computed once captures are known)
        self.refs: dict = {}  # Name node -> (Binding, the FuncInfo the name is used in)
        self.deferred: list = []  # (FuncInfo, scope at its definition): bodies are checked once that scope is complete
        self.jumps: list[tuple[str | None, str]] = []  # (label, "loop" | "switch" | "block")
        self.cases: list[tuple] = []  # the (switch, case index) of each case the code is in
        self.in_params = False  # checking a function's parameters (where JavaScript forbids `await`)
        self.globals = global_names()

    @property
    def live_slots(self) -> set[str]:
        return self.func.live_slots

    # -- reporting -----------------------------------------------------------
    def error(self, span: A.Span, message: str) -> None:
        self.diags.append(Diagnostic(max(span.line, 1), max(span.col, 1), message, span.width, self.path))

    def warn(self, span: A.Span, message: str) -> None:
        """A likely mistake that still compiles (the module is written; the message is shown)."""
        self.diags.append(Diagnostic(max(span.line, 1), max(span.col, 1), message, span.width, self.path, "warning"))

    # -- scopes ----------------------------------------------------------------
    def push(self, node=None) -> None:
        self.scope = Scope(self.scope, self.func, node)
        self.scopes.append(self.scope)

    def pop(self, node=None) -> None:
        """End a scope; `node` (a block or loop) forgets its variables when it ends (see Lowerer.drop_scope)."""
        for b in self.scope.bindings.values():
            self.live_slots.discard(b.slot)
        if node is not None and self.scope.bindings:
            self.dropped[node] = self.scope
        self.scope = self.scope.parent

    def use(self, name_node: A.Name, b: Binding) -> None:
        """`name_node` refers to `b`; a use from an inner function makes `b` captured."""
        self.refs[name_node] = (b, self.func)
        self.res.bindings[name_node] = b
        if b.scope is not None and b.scope.func is not self.func and b.kind != "global":
            b.captured = True

    def declare(self, name_node: A.Name, kind: str) -> None:
        name = name_node.name
        if name in A.ERROR_CONSTRUCTORS:  # `TypeError(…)` always makes an error (parse.call)
            self.error(name_node.span, f"'{name}' is the name of a built-in error constructor; choose another name")
        if name in self.scope.bindings:
            first = self.scope.bindings[name].decl.line
            if kind == "param" and self.scope.bindings[name].kind == "param":
                self.error(name_node.span, f"'{name}' names two parameters of this function; give each its own name")
            elif self.scope.bindings[name].kind == "var":
                self.error(name_node.span, f"'{name}' is also declared with 'var' (on line {first}), which declares "
                                           f"it for the whole function; choose another name for one of them")
            else:
                self.error(name_node.span, f"'{name}' is already declared in this scope (on line {first}); "
                                           f"assign to it without 'let', or choose another name")
            self.use(name_node, self.scope.bindings[name])
            return
        slot = name
        n = 1
        while slot in self.live_slots:
            n += 1
            slot = f"{name}@{n}"
        self.live_slots.add(slot)
        self.scope.pending.pop(name, None)
        case = self.cases[-1] if self.scope.switch is not None else None
        b = self.scope.bindings[name] = Binding(name, slot, kind, name_node.span, case, self.scope)
        self.use(name_node, b)

    def declare_target(self, target, kind: str) -> None:
        def bind(name: A.Name) -> None:
            self.check_bindable(name)
            self.declare(name, kind)

        self.binding_pattern(target, bind)

    def binding_pattern(self, target, bind) -> None:
        """A declaration's target: its keys and defaults checked in order, `bind` called for each name."""
        if isinstance(target, A.Name):
            bind(target)
        elif isinstance(target, A.ArrayPattern):
            for el in target.elements:
                if el is not None:
                    if el.default is not None:
                        self.expr(el.default)
                    self.binding_pattern(el.target, bind)
            if target.rest is not None:
                self.binding_pattern(target.rest, bind)
        elif isinstance(target, A.ObjectPattern):
            for p in target.props:
                if not isinstance(p.key, str):
                    self.expr(p.key)
                if p.default is not None:
                    self.expr(p.default)
                self.binding_pattern(p.target, bind)
            if target.rest is not None:
                self.binding_pattern(target.rest, bind)
        else:
            self.error(target.span, "a declaration can only bind names, not properties or indexes")

    def check_bindable(self, name: A.Name) -> None:
        if name.name in ("undefined", "NaN", "Infinity"):
            self.error(name.span, f"'{name.name}' is a built-in constant, so it cannot be declared; choose another name")

    # -- program ----------------------------------------------------------------
    def program(self, prog: A.Program) -> None:
        if self.too_deep(prog):
            return
        self.number_functions(prog)
        self.push(prog)
        self.main.scope = self.scope
        self.block_body(prog.body, prog)
        self.pop()
        while self.deferred:  # each function's body, once the scopes around it are complete
            self.function_body(self.deferred.pop(0))
        self.finish()

    def number_functions(self, prog: A.Program) -> None:
        """Functions get ids in source order (1, 2, …): the generated module lists them that way."""
        stack = list(reversed(prog.body))
        while stack:
            n = stack.pop()
            if isinstance(n, A.Function):
                info = FuncInfo(len(self.res.functions), n, None, n.is_async)
                self.res.functions.append(info)
                self.res.fn_info[n] = info
            stack.extend(reversed(A.children(n)))

    def too_deep(self, prog: A.Program) -> bool:
        """Report code nested beyond what the generated Python can hold (CPython limits
        indentation, statically nested loops and try blocks, and nested parentheses).
        A function's body is a Python function of its own: the count starts again inside it."""
        stack = [(s, 0, 0, 0) for s in prog.body]
        while stack:
            n, blocks, python_blocks, exprs = stack.pop()
            if isinstance(n, A.Function):
                blocks = python_blocks = exprs = 0
            is_stmt = isinstance(n, _STATEMENTS)
            if isinstance(n, _COMPOUND):
                blocks += 1
            python_blocks += 2 if isinstance(n, A.Try) else 1 if isinstance(n, A.BREAKABLE) else 0
            if not is_stmt and not isinstance(n, _STRUCTURAL):
                exprs += 1
            problem = None
            if blocks > MAX_BLOCK_DEPTH:
                problem = f"statements are nested more than {MAX_BLOCK_DEPTH} levels deep here"
            elif python_blocks > MAX_LOOP_DEPTH:
                problem = "loops and try statements are nested too deeply here"
            elif exprs > MAX_EXPRESSION_DEPTH:
                problem = f"expressions are nested more than {MAX_EXPRESSION_DEPTH} levels deep here"
            if problem:
                self.error(n.span, f"{problem}; move the inner part into separate statements and variables, "
                                   f"or into a task or a child workflow")
                return True
            for c in A.children(n):
                # `else if` chains are emitted flat (elif), so they do not nest
                chained = isinstance(n, A.If) and c is n.other and isinstance(c, A.If)
                stack.append((c, blocks - chained, python_blocks, 0 if is_stmt else exprs))
        return False

    def block_body(self, body, owner=None) -> None:
        """The statements of a block, program or function; its function declarations are hoisted:
        bound (and created) when the block is entered, before its first statement runs."""
        self.hoist(owner, body)
        if isinstance(owner, (A.Program, A.Function)):
            self.hoist_vars(owner, body)
        self.declare_pending(body)
        for s in body:
            if isinstance(s, A.FunctionDecl):
                continue
            self.stmt(s)

    def hoist(self, owner, body) -> None:
        """Bind and check the function declarations among `body`'s statements, created when `owner` starts."""
        hoisted = [s for s in body if isinstance(s, A.FunctionDecl)]
        if hoisted and owner is not None:
            self.res.hoisted[owner] = hoisted
        for d in hoisted:
            self.declare(self.decl_name(d.fn), "function")
            self.function(d.fn)

    def hoist_vars(self, owner, body) -> None:
        """`var`: each name a function's (or the workflow's) statements declare with it is one variable of the
        whole function, there (undefined) from its start; a parameter or function of that name is that variable."""
        hoisted = []
        for name in var_names(body):
            if name.name not in self.scope.bindings:
                self.check_bindable(name)
                start = A.Name(name.name, name.span)  # (the statement's own name may assign a catch parameter)
                self.declare(start, "var")
                hoisted.append(start)
        if hoisted:
            self.res.hoisted_vars[owner] = hoisted

    def declare_pending(self, body) -> None:
        """Names a block declares, known from its start (a use before the declaration is an error)."""
        for s in body:
            if isinstance(s, A.VarDecl) and s.kind != "var":
                for d in s.decls:
                    for name in bound_names(d.target):
                        self.scope.pending.setdefault(name.name, name.span.line)

    def decl_name(self, fn: A.Function) -> A.Name:
        """The Name node a function declaration binds (the lowering stores the closure there)."""
        if fn not in self.res.fn_names:
            self.res.fn_names[fn] = A.Name(fn.name, fn.name_span)
        return self.res.fn_names[fn]

    # -- functions ----------------------------------------------------------------
    def function(self, fn: A.Function) -> None:
        """A function declaration or expression: its body is checked later (see program)."""
        info = self.res.fn_info[fn]
        info.parent = self.func
        info.defining = self.scope
        info.cases = list(self.cases)
        self.res.closure_scope[fn] = self.scope
        if fn.name is not None and fn not in self.res.fn_names:  # a named function expression binds its name inside
            name_scope = Scope(self.scope, None, fn)
            self.scopes.append(name_scope)
            self.res.fn_names[fn] = A.Name(fn.name, fn.name_span)
            name_scope.bindings[fn.name] = Binding(fn.name, fn.name, "const", fn.name_span, scope=name_scope)
            info.defining = name_scope
        self.deferred.append(info)

    def function_body(self, info: FuncInfo) -> None:
        fn = info.node
        outer = (self.func, self.scope, self.jumps, self.cases)
        self.func, self.scope, self.jumps, self.cases = info, info.defining, [], info.cases
        self.push(fn)
        info.scope = self.scope
        params = list(fn.params)
        for name in [n for p in params for n in bound_names(p.target)] + bound_names(fn.rest):
            self.scope.pending.setdefault(name.name, name.span.line)
        self.in_params = True
        for p in params:
            if p.default is not None:
                self.expr(p.default)
            self.declare_target(p.target, "param")
        if fn.rest is not None:
            self.declare_target(fn.rest, "param")
        self.in_params = False
        self.block_body(fn.body.body, fn)
        self.pop()
        self.func, self.scope, self.jumps, self.cases = outer

    def finish(self) -> None:
        """Closure conversion: captured bindings move into their scope's environment record."""
        for sc in self.scopes:
            if any(b.captured for b in sc.bindings.values()):
                if sc.func is None:
                    sc.env = "@name"  # a named function expression's own name: made with the closure
                else:
                    sc.func.envs += 1
                    sc.env = f"@e{sc.func.envs}"
        for name_node, (b, user) in self.refs.items():
            self.res.places[name_node] = self.place_of(b, user)
        for node, sc in self.dropped.items():
            slots = [b.slot for b in sc.bindings.values() if not b.captured] + ([sc.env] if sc.env else [])
            if slots:
                self.res.scope_slots[node] = tuple(slots)
        for sc in self.scopes:
            if sc.env and sc.func is not None:
                self.res.scope_env[sc.node] = (sc.env, self.env_expr(sc.parent, sc.func))
        for info in self.res.functions[1:]:
            fn = info.node
            if fn not in self.res.closure_scope:  # in a place no function may be (already reported)
                continue
            named = info.defining is not self.res.closure_scope[fn] and info.defining.env is not None
            self.res.closures[fn] = (self.env_expr(self.res.closure_scope[fn], info.parent), fn.name if named else None)

    def env_expr(self, scope: "Scope | None", func: FuncInfo) -> str:
        """Python for the innermost environment record around `scope`, seen from code of `func`."""
        s = scope
        while s is not None:
            if s.env:
                return f"L[{s.env!r}]" if s.func is func else "E"
            s = s.parent
        return "None"

    def place_of(self, b: Binding, user: FuncInfo) -> Place:
        if not b.captured:
            return Place("L", b.slot)
        if b.scope.func is user:
            return Place(f"L[{b.scope.env!r}]", b.name)
        hops, s = 0, user.defining
        while s is not b.scope:
            if s.env:
                hops += 1
            s = s.parent
        return Place("E" + "['@up']" * hops, b.name)

    # -- statements ------------------------------------------------------------
    def stmt(self, s) -> None:
        method = getattr(self, "stmt_" + type(s).__name__)
        method(s)

    def stmt_VarDecl(self, s: A.VarDecl) -> None:
        if s.kind == "var":
            self.var_decl(s)
            return
        for d in s.decls:
            if d.init is not None:
                self.expr(d.init)
            elif s.kind == "const":
                self.error(d.span, "a 'const' declaration needs an initial value; write 'const name = value'")
            if not isinstance(d.target, A.Name) and d.init is None:
                self.error(d.span, "a destructuring declaration needs a value to destructure; add '= value'")
            self.declare_target(d.target, s.kind)

    def var_decl(self, s: A.VarDecl) -> None:
        """`var x = v` assigns the function's variable (see hoist_vars); `var x` alone does nothing."""
        for d in s.decls:
            if d.init is not None:
                self.expr(d.init)
            elif not isinstance(d.target, A.Name):
                self.error(d.span, "a destructuring declaration needs a value to destructure; add '= value'")
            self.var_target(d.target)

    def var_target(self, target) -> None:
        """The names of a `var` declaration, each the function's variable (a `let`, `const` or catch parameter
        of the same name in a block around it would be redeclared: JavaScript refuses that)."""
        def bind(name: A.Name) -> None:
            b = self.scope.lookup(name.name)
            if b.scope is not self.func.scope and not is_catch_parameter(b):
                self.error(name.span, f"'{name.name}' is already declared in a block around this 'var' (on line "
                                      f"{b.decl.line}), and 'var' would declare it again for the whole function; "
                                      f"choose another name")
            self.use(name, b)

        self.binding_pattern(target, bind)

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        self.expr(s.expr)

    def stmt_Block(self, s: A.Block) -> None:
        self.push(s)
        self.block_body(s.body, s)
        self.pop(s)

    def stmt_FunctionDecl(self, s: A.FunctionDecl) -> None:
        """Only reached where a declaration is not allowed (block bodies hoist theirs, see block_body)."""
        self.error(s.span, "a function declaration cannot be the whole body of an if, a loop or a label "
                           "(JavaScript forbids it); wrap it in { }")

    def stmt_If(self, s: A.If) -> None:
        self.expr(s.test)
        self.nested(s.then)
        if s.other is not None:
            self.nested(s.other)

    def nested(self, s) -> None:
        """A braceless body still gets its own scope."""
        self.push()
        if isinstance(s, A.VarDecl) and s.kind != "var":
            self.error(s.span, "a declaration cannot be the whole body of an if or a loop; wrap it in { }")
        self.stmt(s)
        self.pop()

    def loop_body(self, label, body, span: A.Span = A.NOSPAN) -> None:
        self.check_label(label, span)
        self.jumps.append((label, "loop"))
        self.nested(body)
        self.jumps.pop()

    def stmt_While(self, s: A.While) -> None:
        self.expr(s.test)
        self.loop_body(s.label, s.body, s.span)

    def stmt_DoWhile(self, s: A.DoWhile) -> None:
        self.loop_body(s.label, s.body, s.span)
        self.expr(s.test)

    def stmt_For(self, s: A.For) -> None:
        self.push(s)
        if isinstance(s.init, A.VarDecl):
            self.stmt(s.init)
        else:
            for e in s.init or ():
                self.expr(e)
        if s.test is not None:
            self.expr(s.test)
        for e in s.update or ():
            self.expr(e)
        self.loop_body(s.label, s.body, s.span)
        self.pop(s)

    def stmt_ForOf(self, s: A.ForOf) -> None:
        self.expr(s.iterable)
        self.push(s)
        if s.kind == "var":
            self.var_target(s.target)
        elif s.kind is not None:
            self.declare_target(s.target, s.kind)
        else:
            self.assign_target(s.target)
        self.loop_body(s.label, s.body, s.span)
        self.pop(s)

    def stmt_Break(self, s: A.Break) -> None:
        self.check_jump(s, "break")

    def stmt_Continue(self, s: A.Continue) -> None:
        self.check_jump(s, "continue")

    def stmt_Switch(self, s: A.Switch) -> None:
        """All cases share one scope, as in JavaScript; a variable declared directly in one case may be used
        only in that case (another case may run without its declaration: a ReferenceError in JavaScript)."""
        self.expr(s.discriminant)
        self.check_label(s.label, s.span)
        self.push(s)
        self.hoist(s, [st for case in s.cases for st in case.body])  # before scope.switch: any case may call them
        self.scope.switch = s
        for case in s.cases:
            self.declare_pending(case.body)
        self.jumps.append((s.label, "switch"))
        for i, case in enumerate(s.cases):
            if case.test is not None:
                self.expr(case.test)
            self.cases.append((s, i))
            for st in case.body:
                if not isinstance(st, A.FunctionDecl):
                    self.stmt(st)
            self.cases.pop()
        self.jumps.pop()
        self.pop(s)

    def check_jump(self, s, word: str) -> None:
        if s.label is None:
            allowed = ("loop",) if word == "continue" else ("loop", "switch")
            if not any(kind in allowed for _, kind in self.jumps):
                where = "a loop" if word == "continue" else "a loop or a switch"
                self.error(s.span, f"'{word}' can only be used inside {where}")
            return
        for label, kind in reversed(self.jumps):
            if label == s.label:
                if word == "continue" and kind != "loop":
                    self.error(s.span, f"'continue {s.label}' needs '{s.label}' to label a loop, "
                                       f"but it labels another statement")
                return
        known = [lbl for lbl, _kind in self.jumps if lbl]
        self.error(s.span, f"there is no label '{s.label}' around this '{word}'" + suggest(s.label, known))

    def stmt_Return(self, s: A.Return) -> None:
        if s.value is not None:
            self.expr(s.value)

    def stmt_Throw(self, s: A.Throw) -> None:
        self.expr(s.value)

    def stmt_Try(self, s: A.Try) -> None:
        self.stmt_Block(s.block)
        if s.handler is not None:
            self.push(s)  # the catch scope: its environment record (if any) is made when the catch starts
            if s.param is not None:
                self.declare_target(s.param, "let")
            self.block_body(s.handler.body, s)
            self.pop()
        if s.finalizer is not None:
            self.stmt_Block(s.finalizer)

    def stmt_Labeled(self, s: A.Labeled) -> None:
        self.check_label(s.label, s.span)
        self.jumps.append((s.label, "block"))
        self.stmt(s.body)
        self.jumps.pop()

    def check_label(self, label: str | None, span: A.Span) -> None:
        if label is not None and any(lbl == label for lbl, _ in self.jumps):
            self.error(span, f"the label '{label}' is already used by an enclosing statement; choose another name")

    def stmt_Empty(self, s) -> None:
        pass

    # -- expressions -----------------------------------------------------------
    def expr(self, e) -> None:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is not None:
            method(e)
        else:
            for c in A.children(e):
                self.expr(c)

    def expr_Binary(self, e: A.Binary) -> None:
        self.expr(e.left)
        if e.op != "instanceof":
            self.expr(e.right)
        elif not (isinstance(e.right, A.Name) and e.right.name in INSTANCEOF_CONSTRUCTORS
                  and self.scope.lookup(e.right.name) is None):
            self.error(e.right.span, f"instanceof works with the built-in constructors "
                                     f"({_words(sorted(INSTANCEOF_CONSTRUCTORS))}) in workflows")

    def expr_Name(self, e: A.Name) -> None:
        self.reference(e)

    def reference(self, e: A.Name) -> Binding | None:
        if self.used_too_early(e):
            return None
        b = self.scope.lookup(e.name)
        if b is not None:
            # (a function may use a variable declared after it: it runs later; a hoisted function is there from
            # the start of its block)
            if ((b.decl.line, b.decl.col) > (e.span.line, e.span.col) and b.kind not in ("global", "function", "var")
                    and b.scope.func is self.func):
                self.error(e.span, f"'{e.name}' is used before its declaration")
            self.check_same_case(e, b)
            self.use(e, b)
            return b
        if e.name in self.globals:
            if e.name == "Inputs":
                self.res.places[e] = Place("L", INPUTS_SLOT) if self.func is self.main else Place("S.inputs", None)
                return None
            self.res.globals[e] = e.name
            if is_namespace(e.name) and e.name not in self.callable_globals():
                self.error(e.span, f"'{e.name}' can only be used as {e.name}.<member>, e.g. {self.example(e.name)}")
            return None
        if e.name in A.ERROR_CONSTRUCTORS:  # (a call of one is an A.NewError, not a reference)
            self.error(e.span, f"'{e.name}' can only be called in workflows, as new {e.name}(message) or "
                               f"{e.name}(message)")
            return None
        if e.name in NOT_IN_SANDBOX:
            instead = SANDBOX_INSTEAD.get(e.name, "pass what the workflow needs through Inputs or a task")
            self.error(e.span, f"'{e.name}' is not available in workflows, because the sandbox has only "
                               f"the documented globals; {instead}")
            return None
        visible = self.visible_names() | self.globals
        hint = f"; {UNDECLARED_INSTEAD[e.name]}" if e.name in UNDECLARED_INSTEAD else suggest(e.name, visible)
        self.error(e.span, f"'{e.name}' is not declared" + hint)
        return None

    def check_same_case(self, e: A.Name, b: Binding) -> None:
        if b.case is not None and b.case not in self.cases:
            self.error(e.span, f"'{e.name}' is declared in another case of this switch (line {b.decl.line}), "
                               f"where it is set only if that case runs; declare it before the switch, "
                               f"or put each case's statements in {{ }}")

    def callable_globals(self) -> set[str]:
        funcs, consts = library()
        return {k for k in funcs if "." not in k} | {k for k in consts if "." not in k}

    def example(self, ns: str) -> str:
        members = namespace_members(ns)
        functions = sorted(m for m, arity in members.items() if arity is not None)
        if "run" in functions:
            return f"{ns}.run(…)"
        if functions:
            return f"{ns}.{functions[0]}(…)"
        return f"{ns}.{sorted(members)[0]}"

    def visible_names(self) -> set[str]:
        names, s = set(), self.scope
        while s is not None:
            names |= set(s.bindings)
            s = s.parent
        return names

    def expr_Member(self, e: A.Member) -> None:
        if isinstance(e.obj, A.Name) and self.is_global_namespace(e.obj):
            self.namespace_member(e.obj, e.prop, e.span, call_args=None)
            return
        if e.prop in UNSUPPORTED_METHODS:  # called or not: every value has it in JavaScript
            end = e.span
            self.error(A.Span(end.end_line, end.end_col - len(e.prop), end.end_line, end.end_col),
                       UNSUPPORTED_METHODS[e.prop])
        self.expr(e.obj)

    def expr_Index(self, e: A.Index) -> None:
        if isinstance(e.obj, A.Name) and self.is_global_namespace(e.obj):
            self.res.globals[e.obj] = e.obj.name  # Math["floor"]: looked up at run time
        else:
            self.expr(e.obj)
        self.expr(e.index)

    def is_global_namespace(self, name: A.Name) -> bool:
        return self.scope.lookup(name.name) is None and name.name in self.globals and is_namespace(name.name)

    def namespace_member(self, ns: A.Name, prop: str, span: A.Span, call_args, optional: bool = False) -> None:
        self.res.globals[ns] = ns.name
        members = namespace_members(ns.name)
        if prop not in members and f"{ns.name}.{prop}" in UNSUPPORTED_MEMBERS:
            self.error(span, f"'{ns.name}.{prop}' is not supported in workflows: "
                             f"{UNSUPPORTED_MEMBERS[f'{ns.name}.{prop}']}")
            return
        if prop not in members and call_args is None and constructor_member(ns.name, prop) is not None:
            return
        if prop not in members:
            hint = suggest(prop, members, prefix=ns.name + ".")
            if call_args is not None and not optional:  # `Math.nope?.()` is undefined, as in JS
                if not hint and len(members) <= 8:
                    hint = f" ({ns.name} has {_words(sorted(members))})"
                self.error(span, f"'{ns.name}.{prop}' is not a function" + hint)
            elif hint:  # a plain read of an unrelated name is just undefined, as in JS
                self.error(span, f"'{ns.name}.{prop}' does not exist" + hint)
            return
        arity = members[prop]
        if call_args is None:
            return
        if arity is None:
            self.error(span, f"'{ns.name}.{prop}' is a value, not a function; remove the parentheses")
            return
        self.check_arity(f"{ns.name}.{prop}", arity, call_args, span)

    def check_arity(self, name: str, arity: tuple[int, int], args, span: A.Span) -> None:
        lo, hi = arity
        if any(isinstance(a, A.Spread) for a in args):
            return
        n = len(args)
        if n < lo or n > hi:
            if hi >= 1000:
                want, plural = f"at least {lo}", "" if lo == 1 else "s"
            else:
                want = f"{lo}" if lo == hi else f"{lo} to {hi}"
                plural = "" if hi == 1 else "s"
            self.error(span, f"'{name}' takes {want} argument{plural}, but {n} {'was' if n == 1 else 'were'} given")

    def expr_Call(self, e: A.Call) -> None:
        callee = e.callee
        is_global_member = (isinstance(callee, A.Member) and isinstance(callee.obj, A.Name)
                            and self.is_global_namespace(callee.obj))
        for a in e.args:
            self.expr(a)
        if is_global_member:
            self.namespace_member(callee.obj, callee.prop, callee.span, e.args, optional=e.optional)
            if (callee.obj.name, callee.prop) == ("Timer", "delay") and e.args and isinstance(e.args[0], A.Num):
                self.warn_long_delay(e.args[0])
            if callee.prop == "run" and callee.obj.name in ("Task", "Workflow") and len(e.args) == 3:
                self.check_run_options(f"{callee.obj.name}.run", e.args[2])
            return
        if isinstance(callee, A.Name) and self.scope.lookup(callee.name) is None:
            funcs, _ = library()
            if callee.name in funcs:
                self.res.globals[callee] = callee.name
                self.check_arity(callee.name, funcs[callee.name][1:], e.args, e.span)
                return
        self.expr(callee)

    def check_run_options(self, call: str, options) -> None:
        """Task.run's and Workflow.run's options object: a misspelt name would be silently ignored at run time,
        so it is an error."""
        if isinstance(options, (A.Num, A.Str, A.Bool, A.Template, A.ArrayLit)):
            self.error(options.span, f"the options of {call} must be an object such as {{ key: order.customerId, "
                                     f"priority: 10 }}")
        if not isinstance(options, A.ObjectLit):
            return
        names = TASK_RUN_OPTIONS if call == "Task.run" else WORKFLOW_RUN_OPTIONS
        for prop in options.props:
            if isinstance(prop, A.Prop) and isinstance(prop.key, str) and prop.key not in names:
                hint = suggest(prop.key, names) or f" (the options are {_words(list(names))})"
                key = A.Span(prop.span.line, prop.span.col, prop.span.line, prop.span.col + len(prop.key))
                self.error(key, f"'{prop.key}' is not an option of {call}" + hint)

    def warn_long_delay(self, arg: A.Num) -> None:
        """Timer.delay(5000) waits 5000 seconds; a JavaScript developer used to setTimeout meant milliseconds."""
        n = arg.value
        if n >= LONG_DELAY_SECONDS:
            meant = f"{n / 1000:g}s"
            self.warn(arg.span, f"Timer.delay takes seconds: this waits {n:g} seconds; did you mean \"{meant}\"?")

    def expr_NewError(self, e: A.NewError) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity(f"new {e.kind}", (0, 2), e.args, e.span)

    def expr_NewCollection(self, e: A.NewCollection) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity(f"new {e.kind}", (0, 7) if e.kind == "Date" else (0, 1), e.args, e.span)

    def expr_NewRegExp(self, e: A.NewRegExp) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity("new RegExp", (0, 2), e.args, e.span)
    def expr_NewPromise(self, e: A.NewPromise) -> None:
        for a in e.args:
            self.expr(a)
        self.check_arity("new Promise", (1, 1), e.args, e.span)

    def expr_Function(self, e: A.Function) -> None:
        self.function(e)

    def expr_Await(self, e: A.Await) -> None:
        if self.in_params:
            self.error(e.span, "'await' cannot be used in a parameter's default value (JavaScript forbids it); "
                               "await in the function's body instead")
        elif not self.func.is_async:
            what = "arrow function" if self.func.node.is_arrow else "function"
            example = "async (…) => …" if self.func.node.is_arrow else "async function …"
            self.error(e.span, f"'await' can only be used inside an async function, and this {what} is not one; "
                               f"make it async ({example})")
        self.expr(e.expr)

    def expr_Assign(self, e: A.Assign) -> None:
        self.expr(e.value)
        self.assign_target(e.target)

    def expr_Update(self, e: A.Update) -> None:
        self.assign_target(e.target)

    def used_too_early(self, e: A.Name) -> bool:
        line = self.scope.declared_later(e.name)
        if line is None:
            return False
        if line == e.span.line:
            self.error(e.span, f"'{e.name}' is used before its declaration is complete; give it a value first")
        else:
            self.error(e.span, f"'{e.name}' is used before its declaration on line {line}; "
                               f"move the declaration above this use")
        return True

    def assign_target(self, t) -> None:
        if isinstance(t, A.Name):
            if self.used_too_early(t):
                return
            b = self.scope.lookup(t.name)
            if b is None:
                if t.name in self.globals:
                    self.error(t.span, f"cannot assign to the built-in '{t.name}'; declare a variable of your own with 'let'")
                elif t.name in NOT_IN_SANDBOX:
                    self.reference(t)
                else:
                    visible = self.visible_names() | self.globals
                    hint = suggest(t.name, visible)
                    self.error(t.span, f"cannot assign to '{t.name}' because it is not declared"
                                       + (hint if hint else f"; declare it with 'let {t.name} = …'"))
                return
            self.check_same_case(t, b)
            if b.kind == "const":
                self.error(t.span, f"cannot assign to '{t.name}' because it is a constant (declared with 'const' "
                                   f"on line {b.decl.line}); declare it with 'let' if it must change")
            self.use(t, b)
        elif isinstance(t, (A.Member, A.Index)):
            if isinstance(t.obj, A.Name) and self.is_global_namespace(t.obj):
                self.error(t.span, f"cannot assign to a member of the built-in '{t.obj.name}'")
                return
            self.expr(t)
        elif isinstance(t, A.ArrayPattern):
            for el in t.elements:
                if el is not None:
                    if el.default is not None:
                        self.expr(el.default)
                    self.assign_target(el.target)
            if t.rest is not None:
                self.assign_target(t.rest)
        elif isinstance(t, A.ObjectPattern):
            for p in t.props:
                if not isinstance(p.key, str):
                    self.expr(p.key)
                if p.default is not None:
                    self.expr(p.default)
                self.assign_target(p.target)
            if t.rest is not None:
                self.assign_target(t.rest)

    def expr_Unary(self, e: A.Unary) -> None:
        if e.op == "delete":
            self.check_delete(e)
        if e.op == "typeof" and isinstance(e.operand, A.Name) and self.scope.lookup(e.operand.name) is None \
                and e.operand.name not in self.globals and self.scope.declared_later(e.operand.name) is None \
                and e.operand.name not in INSTANCEOF_CONSTRUCTORS:
            return  # typeof of an undeclared name is "undefined", not an error (as in JS); Map is no such name
        self.expr(e.operand)

    def check_delete(self, e: A.Unary) -> None:
        """`delete` removes a property: of an object, an array element (left undefined), an error's."""
        target = e.operand
        if isinstance(target, A.Name):
            self.error(e.span, f"a variable cannot be deleted; to remove a property write delete "
                               f"{target.name}.key or delete {target.name}[key]")
        elif not isinstance(target, (A.Member, A.Index)):
            self.error(e.span, "'delete' needs a property to remove, as in delete order.note or delete order[key]")
        elif target.optional:
            self.error(e.span, "'delete' of an optional chain is not supported in workflows; "
                               "check the object first (if (o) delete o.key)")
        elif isinstance(target.obj, A.Name) and self.is_global_namespace(target.obj):
            self.error(e.span, f"the members of {target.obj.name} cannot be deleted")


def is_catch_parameter(b: Binding) -> bool:
    """`catch (e) { var e = 1 }` is allowed (web-compatibility rules): the `var` assigns the catch parameter."""
    node = b.scope.node if b.scope is not None else None
    return isinstance(node, A.Try) and isinstance(node.param, A.Name) and node.param.span == b.decl


def var_names(body) -> list[A.Name]:
    """The names `var` declares among these statements and the statements inside them, not inside functions."""
    out: list[A.Name] = []
    stack = list(reversed(body))
    while stack:
        n = stack.pop()
        if isinstance(n, A.Function):
            continue
        if isinstance(n, A.VarDecl) and n.kind == "var":
            out += [name for d in n.decls for name in bound_names(d.target)]
        elif isinstance(n, A.ForOf) and n.kind == "var":
            out += bound_names(n.target)
        stack.extend(reversed(A.children(n)))
    return out


def bound_names(target) -> list[A.Name]:
    """The names a declaration target binds (through array and object patterns)."""
    if isinstance(target, A.Name):
        return [target]
    out: list[A.Name] = []
    if isinstance(target, A.ArrayPattern):
        for el in target.elements:
            if el is not None:
                out += bound_names(el.target)
    elif isinstance(target, A.ObjectPattern):
        for p in target.props:
            out += bound_names(p.target)
    if isinstance(target, (A.ArrayPattern, A.ObjectPattern)) and target.rest is not None:
        out += bound_names(target.rest)
    return out


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def suggest(name: str, candidates, prefix: str = "") -> str:
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{match[0]}'?)" if match else ""


def check(program: A.Program, path: str = "<flow>") -> tuple[Resolution, list[Diagnostic]]:
    c = Checker(path)
    c.program(program)
    c.diags += front_matter_errors(program, path)
    c.diags.sort(key=lambda d: (d.line, d.col))
    return c.res, c.diags
