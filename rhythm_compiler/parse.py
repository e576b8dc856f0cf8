"""Parse `.flow` source into the AST (lark's LALR table + our lexer).

The AST is built as rules reduce. A source that does not parse is handed to
`syntax_errors`, which says in words what was expected; constructs the
grammar accepts but workflows do not are collected here as rejects.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_analysis import Shift

from . import ast as A
from .diagnostics import CompileError, Diagnostic
from .grammar import lark_parser
from .lex import Lexer, LexError, split_front_matter
from .syntax_errors import syntax_errors

# Deeper parse trees are rejected before they reach the recursive stages.
MAX_TREE_DEPTH = 240


def parse(source: str, path: str = "<flow>") -> A.Program:
    """Source text -> Program, or CompileError with the syntax diagnostics.

    Syntax errors report the first error and, where the parser can safely restart
    at a later statement, the next ones. Constructs the grammar accepts but
    workflows do not (`new Foo()`, `let x = 1 let y = 2`) are all collected, together
    with the checker's diagnostics, so one run shows every independent problem.
    """
    front, start = split_front_matter(source)
    builder = _ToAst(source)
    try:
        program = _build(Lexer(source, path, start).tokens(), builder)
    except LexError as e:
        raise CompileError(syntax_errors(e, source, path, start), source) from None
    except _NotBuilt:  # a syntax error, or nesting too deep: lark's own parse tree says where
        raise CompileError(_tree_errors(source, path, start), source) from None
    program = A.Program(program.body, front.text if front else None, program.span, program.wrapped_in_main)
    builder.reject_cover_inits()
    if builder.rejects:
        from .check import check

        diags = [r.diagnostic(path) for r in builder.rejects]
        seen = {(d.line, d.col) for d in diags}
        diags += [d for d in check(program, path)[1] if (d.line, d.col) not in seen]
        diags.sort(key=lambda d: (d.line, d.col))
        raise CompileError(diags, source)
    return program


def _tree_errors(source: str, path: str, start: int) -> list[Diagnostic]:
    """The diagnostics of a source the fast path could not build: its syntax errors, or where it nests too deeply."""
    try:
        tree = lark_parser().parse(Lexer(source, path, start))
    except (LexError, UnexpectedInput) as e:
        return syntax_errors(e, source, path, start)
    too_deep = _too_deep(tree)
    assert too_deep is not None, "the fast parser refused a source that lark parses"
    return [Diagnostic(too_deep.line, too_deep.col, "this code is nested too deeply to compile; "
                       "split it into smaller statements with intermediate variables", too_deep.width, path)]


# -- the fast path: lark's LALR table, the AST built at each reduction ---------------------


class _NotBuilt(Exception):
    """The tokens do not parse, or nest deeper than MAX_TREE_DEPTH."""


class _Inline(list):
    """The children of a `_rule`, spliced into the rule that contains it (as lark inlines them)."""


@dataclasses.dataclass(frozen=True)
class _Reduction:
    """What reducing one grammar rule does (lark's ChildFilter, ExpandSingleChild and the transformer's method)."""

    size: int
    origin: str
    include: tuple[tuple[int, bool, int], ...] | None  # (child index, splice it, placeholders before it); None: as is
    trailing_nones: int
    expand1: bool
    inline: bool
    method: str

    @property
    def passes_through(self) -> bool:
        """`?rule: other`: the one child is the value, with its box and height; only the state changes."""
        return self.size == 1 and self.expand1 and not self.inline and self.include is None


@lru_cache(maxsize=1)
def _tables():
    """(states, start state, end state, reductions) of the LALR parser lark builds from flow.lark; in `states`,
    a reduce action's argument is the step `_build` takes."""
    lark = lark_parser()
    table = lark.parser.parser.parser.parse_table
    reductions = {}
    for rule in lark.rules:
        empty = rule.options.empty_indices
        nones = [len(ones) for ones in "".join(str(int(b)) for b in empty).split("0")] if empty else \
            [0] * (len(rule.expansion) + 1)
        include = tuple((i, not sym.is_term and sym.name.startswith("_"), nones[i])
                        for i, sym in enumerate(rule.expansion))
        if not any(splice or before for _i, splice, before in include):
            include = None
        name = rule.alias or rule.options.template_source or rule.origin.name
        reductions[rule] = _Reduction(len(rule.expansion), str(rule.origin.name), include, nones[-1],
                                      bool(rule.options.expand1 and not rule.alias), rule.origin.name.startswith("_"),
                                      str(name))
    # each reduce action carries its step (passes through?, origin, reduction): no Rule hashing per reduction
    steps = {rule: (r.passes_through, r.origin, r) for rule, r in reductions.items()}
    states = {state: {t: (what, arg if what is Shift else steps[arg]) for t, (what, arg) in actions.items()}
              for state, actions in table.states.items()}
    return states, table.start_states["start"], table.end_states["start"], reductions


def _build(tokens, builder: "_ToAst") -> A.Program:
    """Run lark's LALR table over the tokens, building AST nodes as rules reduce (no parse tree, no second
    pass). Every value on the stack has a box, the extent of the text it covers as lark's
    `propagate_positions` computes it, and a height, the depth of the parse tree lark would have built."""
    states, state, end_state, reductions = _tables()
    methods = {r.method: getattr(builder, r.method, None) for r in reductions.values()}
    state_stack, values, boxes, heights = [state], [], [], []
    end = Token("$END", "")
    for tok in _with_end(tokens, end):
        ttype = tok.type
        while True:
            action = states[state_stack[-1]].get(ttype)
            if action is None:
                raise _NotBuilt
            what, arg = action
            if what is Shift:
                state_stack.append(arg)
                values.append(tok)
                boxes.append((tok.line, tok.column, tok.end_line, tok.end_column))
                heights.append(0)
                break
            passes, origin, r = arg
            if passes:
                state_stack[-1] = states[state_stack[-2]][origin][1]
                continue
            size = r.size
            if size:
                kids, kid_boxes, kid_heights = values[-size:], boxes[-size:], heights[-size:]
                del state_stack[-size:], values[-size:], boxes[-size:], heights[-size:]
            else:
                kids, kid_boxes, kid_heights = [], [], []
            value, box, height = _reduce(r, kids, kid_boxes, kid_heights, methods)
            state_stack.append(states[state_stack[-1]][origin][1])
            values.append(value)
            boxes.append(box)
            heights.append(height)
            if tok is end and state_stack[-1] == end_state:
                return values[-1]
    raise _NotBuilt  # pragma: no cover - $END either reduces to the start rule or has no action


def _reduce(r: _Reduction, kids: list, kid_boxes: list, kid_heights: list, methods: dict):
    """(value, box, height) of one reduction."""
    box = None
    for first in kid_boxes:
        if first is not None:
            for last in reversed(kid_boxes):
                if last is not None:
                    break
            box = (first[0], first[1], last[2], last[3])
            break
    children = kids if r.include is None else _filtered(r, kids)
    if r.trailing_nones:
        children += [None] * r.trailing_nones
    height = max(kid_heights, default=0)
    if r.inline:
        return _Inline(children), box, height
    if r.expand1 and len(children) == 1:
        return children[0], box, height
    height += 1
    if height > MAX_TREE_DEPTH:
        raise _NotBuilt
    method = methods[r.method]
    return (method(box, children) if method is not None else Tree(r.method, children)), box, height


def _with_end(tokens, end: Token):
    yield from tokens
    yield end


def _filtered(r: _Reduction, kids: list) -> list:
    """The children a rule's method receives: placeholders for missing optional items, `_rule`s spliced."""
    children: list = []
    for i, splice, nones in r.include:
        if nones:
            children += [None] * nones
        if splice:
            children += kids[i]
        else:
            children.append(kids[i])
    return children


def _too_deep(tree) -> A.Span | None:
    """The span of the first node nested deeper than MAX_TREE_DEPTH (iteratively)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            meta = node.meta
            return A.Span(meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else A.Span(1, 1, 1, 2)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return None


class _Reject:
    """A construct the grammar accepts but workflows do not (collected by the transformer)."""

    def __init__(self, message: str, span: A.Span):
        self.message, self.span = message, span

    def diagnostic(self, path: str) -> Diagnostic:
        return Diagnostic(self.span.line, self.span.col, self.message, self.span.width, path)


# `Array.prototype.slice` is the method every array has, `[].slice` (and so for strings and numbers).
_PROTOTYPE_VALUES = {"Array": lambda span: A.ArrayLit((), span), "String": lambda span: A.Str("", span),
                     "Number": lambda span: A.Num(0.0, span)}


def _prototype_as_value(obj):
    """`Array.prototype` before a member: an empty array (workflows have no prototypes, values have methods)."""
    if isinstance(obj, A.Member) and obj.prop == "prototype" and not obj.optional and isinstance(obj.obj, A.Name) \
            and obj.obj.name in _PROTOTYPE_VALUES:
        return _PROTOTYPE_VALUES[obj.obj.name](obj.span)
    return obj


def _is_prototype_has_own(callee) -> bool:
    """`Object.prototype.hasOwnProperty.call`, which is Object.hasOwn (workflows have no prototypes)."""
    names = []
    while isinstance(callee, A.Member) and not callee.optional:
        names.append(callee.prop)
        callee = callee.obj
    return isinstance(callee, A.Name) and [callee.name, *reversed(names)] == [
        "Object", "prototype", "hasOwnProperty", "call"]


def _span(box) -> A.Span:
    """The span of a box (line, column, end line, end column); NOSPAN for one that covers no text."""
    if box is None:
        return A.NOSPAN
    return A.Span(*box)


def _tok_span(tok: Token) -> A.Span:
    return A.Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _is(x, *types) -> bool:
    return isinstance(x, Token) and x.type in types


# A constructor call that workflows do not support -> what to use instead.
NEW_INSTEAD = {
    "WeakMap": "use a Map instead (its entries stay until deleted)", "WeakSet": "use a Set instead",
    "Object": "use an object literal {} instead",
    "Promise": "await Task.run, Timer.delay, Signal.next or Workflow.run instead",
    "Function": "put the code in a task instead",
    "AggregateError": "throw new Error(message) instead, with the errors in a property of it",
    "Intl": "Intl's formats depend on the machine's locale data: format numbers with toFixed and dates with "
            "toISOString, or format them in a task",
}


def _flags_message(flags: str) -> str:
    if "v" in flags:
        return "the regular expression flag 'v' is not supported in workflows; use 'u' instead"
    return (f"invalid regular expression flags '{flags}': each of d, g, i, m, s, u and y may appear once "
            f"(JavaScript rejects the others)")


def _pattern_message(e) -> str:
    if e.unsupported:
        return f"this regular expression uses {e.message}, which Rhythm cannot match exactly as JavaScript does; {e.advice}"
    return f"invalid regular expression: {e.message[0].lower()}{e.message[1:]} (JavaScript rejects it too)"


_HOLE = object()  # an array literal's missing element, until `array` sees the whole literal


class _ToAst:
    """Grammar rule -> AST node: `_build` calls the method named after a rule (or its alias) with the
    rule's box and children. Never raises user errors: it records them in `rejects` and
    returns a harmless placeholder, so every such error of a file is reported."""

    def __init__(self, source: str = ""):
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.rejects: list[_Reject] = []
        self.for_await_count = 0  # numbers the internal element names of `for await` loops
        self.parenthesized: set[int] = set()  # ids of nodes written inside ( )
        self.holes: set[int] = set()  # ids of the undefined elements that stand for holes of array literals
        # `{ a = 1 }` in object literals that no assignment has made a pattern yet (by id), where they stand
        self.cover_inits: dict[int, A.Span] = {}
        # Statements that ended without ';' (JavaScript needs a line break after them).
        self.open_ended: dict[int, object] = {}

    def reject(self, message: str, span: A.Span) -> None:
        self.rejects.append(_Reject(message, span))

    def _ends_open(self, node, children) -> object:
        if not any(_is(c, "SEMI", "SEMI_AUTO") for c in children):
            self.open_ended[id(node)] = node
        return node

    def _inherit_open(self, node, last) -> object:
        if last is not None and id(last) in self.open_ended:
            self.open_ended[id(node)] = node
        return node

    def _separated(self, stmts) -> None:
        """Two statements on one line need a ';' between them, as in JavaScript."""
        for a, b in zip(stmts, stmts[1:]):
            if id(a) in self.open_ended and b.span.line and self._same_line(a.span, b.span.line, b.span.col):
                self.reject("expected ';' or a line break before this statement", self._first_word(b.span))

    def _offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col - 1 if 0 < line <= len(self.line_starts) else len(self.source)

    def _same_line(self, before: A.Span, line: int, col: int) -> bool:
        """No line terminator (LF, CR, LS, PS) between the end of `before` and line:col."""
        between = self.source[self._offset(before.end_line, before.end_col) : self._offset(line, col)]
        return not any(c in between for c in "\n\r\u2028\u2029")

    def _first_word(self, span: A.Span) -> A.Span:
        lines = self.source.split("\n")
        text = lines[span.line - 1][span.col - 1 :] if span.line <= len(lines) else ""
        m = re.match(r"[\w$]+|\S", text)
        return A.Span(span.line, span.col, span.line, span.col + (len(m.group()) if m else 1))

    # -- program and statements ---------------------------------------------
    def start(self, meta, children):
        kids = [c for c in children if c is not None]
        self._separated(kids)
        mains = [k for k in kids if isinstance(k, A.FunctionDecl) and k.fn.name == "main" and k.fn.is_async]
        if len(kids) == 1 and mains and not mains[0].fn.params and mains[0].fn.rest is None:
            # `async function main() { … }` wrapping the whole file: its body is the workflow
            return A.Program(mains[0].fn.body.body, None, _span(meta), True)
        if mains:  # as Node runs such a file: the top level, then `return await main()`
            at = mains[-1].span
            call = A.Call(A.Name("main", mains[-1].fn.name_span), (), False, at)
            kids.append(A.Return(A.Await(call, at), at))
        return A.Program(tuple(kids), None, _span(meta))

    def block(self, meta, children):
        body = tuple(c for c in children if not isinstance(c, Token) and c is not None)
        self._separated(body)
        return A.Block(body, _span(meta))

    def decl_stmt(self, meta, children):
        return self._ends_open(children[0], children)

    def expr_stmt(self, meta, children):
        return self._ends_open(A.ExprStmt(children[0], _span(meta)), children)

    def if_stmt(self, meta, children):
        _, _, test, _, then, else_tok, other = children
        if other is not None and id(then) in self.open_ended and self._same_line(then.span, else_tok.line, else_tok.column):
            self.reject("expected ';' or a line break before 'else'", _tok_span(else_tok))
        return self._inherit_open(A.If(test, then, other, _span(meta)), other if other is not None else then)

    def while_stmt(self, meta, children):
        return self._inherit_open(A.While(children[2], children[4], None, _span(meta)), children[4])

    def do_stmt(self, meta, children):
        body, while_tok = children[1], children[2]
        if id(body) in self.open_ended and self._same_line(body.span, while_tok.line, while_tok.column):
            self.reject("expected ';' or a line break before 'while'", _tok_span(while_tok))
        return A.DoWhile(body, children[4], None, _span(meta))

    def for_stmt(self, meta, children):
        _, _, init, _, test, _, update, _, body = children
        return self._inherit_open(A.For(init, test, update, body, None, _span(meta)), body)

    def for_of_decl(self, meta, children):
        node = A.ForOf(str(children[2]), children[3], children[5], children[7], False, None, _span(meta))
        return self._inherit_open(node, children[7])

    def for_in_decl(self, meta, children):
        node = A.ForOf(str(children[2]), children[3], children[5], children[7], True, None, _span(meta))
        return self._inherit_open(node, children[7])

    def for_of_expr(self, meta, children):
        node = A.ForOf(None, self._target(children[2]), children[4], children[6], False, None, _span(meta))
        return self._inherit_open(node, children[6])

    def for_in_expr(self, meta, children):
        node = A.ForOf(None, self._target(children[2]), children[4], children[6], True, None, _span(meta))
        return self._inherit_open(node, children[6])

    def for_await_decl(self, meta, children):
        return self._for_await(children[1], str(children[3]), children[4], children[6], children[8], meta)

    def for_await_expr(self, meta, children):
        return self._for_await(children[1], None, self._target(children[3]), children[5], children[7], meta)

    def _for_await(self, await_tok, kind, target, iterable, body, meta):
        """`for await (x of items) body` is `for (const item of items) { x = await item; body }` (an array's
        elements are awaited one at a time, as JavaScript does for an iterable that is not async); the element's
        slot is internal ("@item1"), as environment records' are."""
        span, at = _span(meta), _tok_span(await_tok)
        self.for_await_count += 1
        item = A.Name(f"@item{self.for_await_count}", at)
        value = A.Await(A.Name(item.name, at), at)
        if kind is None:
            first = A.ExprStmt(A.Assign("=", target, value, span), span)
        else:
            first = A.VarDecl(kind, (A.Declarator(target, value, span),), span)
        node = A.ForOf("const", item, iterable, A.Block((first, body), body.span), False, None, span)
        return self._inherit_open(node, body)

    def for_init(self, meta, children):
        return children[0]

    def expr_list(self, meta, children):
        return tuple(c for c in children if not isinstance(c, Token))

    def break_stmt(self, meta, children):
        return self._ends_open(A.Break(str(children[1]) if children[1] is not None else None, _span(meta)), children)

    def continue_stmt(self, meta, children):
        return self._ends_open(A.Continue(str(children[1]) if children[1] is not None else None, _span(meta)), children)

    def return_stmt(self, meta, children):
        return self._ends_open(A.Return(children[1], _span(meta)), children)

    def throw_stmt(self, meta, children):
        return self._ends_open(A.Throw(children[1], _span(meta)), children)

    def try_catch(self, meta, children):
        param, handler = children[2]
        return A.Try(children[1], param, handler, None, _span(meta))

    def try_finally(self, meta, children):
        return A.Try(children[1], None, None, children[2], _span(meta))

    def try_catch_finally(self, meta, children):
        param, handler = children[2]
        return A.Try(children[1], param, handler, children[3], _span(meta))

    def catch_clause(self, meta, children):
        # CATCH [LPAR binding RPAR] block -> placeholders for the optional group
        vals = [c for c in children if c is not None and not isinstance(c, Token)]
        if len(vals) == 2:
            return (vals[0], vals[1])
        return (None, vals[0])

    def finally_clause(self, meta, children):
        return children[1]

    def switch_stmt(self, meta, children):
        cases = tuple(c for c in children[5:] if isinstance(c, A.Case))
        defaults = [c for c in cases if c.test is None]
        for extra in defaults[1:]:
            self.reject("a switch can have only one 'default' clause (JavaScript forbids more)",
                        self._first_word(extra.span))
        return A.Switch(children[2], cases, None, _span(meta))

    def case_clause(self, meta, children):
        return self._case(children[1], children[3:], meta)

    def default_clause(self, meta, children):
        return self._case(None, children[2:], meta)

    def _case(self, test, stmts, meta) -> A.Case:
        body = tuple(c for c in stmts if c is not None and not isinstance(c, Token))
        self._separated(body)
        return A.Case(test, body, _span(meta))

    def labeled_stmt(self, meta, children):
        label, body = str(children[0]), children[2]
        if isinstance(body, A.VarDecl) and body.kind != "var":
            self.reject(f"a '{body.kind}' declaration cannot have a label (JavaScript forbids it); "
                        f"label a loop or a block instead", body.span)
        if isinstance(body, A.BREAKABLE):
            return self._inherit_open(dataclasses.replace(body, label=label), body)
        return self._inherit_open(A.Labeled(label, body, _span(meta)), body)

    def empty_stmt(self, meta, children):
        return A.Empty(_span(meta))

    # -- functions -------------------------------------------------------------
    def function_decl(self, meta, children):
        is_async, _, name, (params, rest), body = children
        fn = A.Function(str(name), params, rest, body, is_async is not None, False, False, _span(meta),
                        _tok_span(name), str(name))
        return A.FunctionDecl(fn, _span(meta))

    def function_expr(self, meta, children):
        is_async, _, name, (params, rest), body = children
        return A.Function(str(name) if name is not None else None, params, rest, body, is_async is not None,
                          False, False, _span(meta), _tok_span(name) if name is not None else A.NOSPAN,
                          str(name) if name is not None else "")

    def method(self, meta, children):
        is_async, key, (params, rest), body = children
        fn = A.Function(None, params, rest, body, is_async is not None, False, False, _span(meta), A.NOSPAN, key)
        return A.Prop(key, fn, _span(meta))

    def params(self, meta, children):
        return self._param_parts(children[1])

    def _param_parts(self, items) -> tuple[tuple, object]:
        items, rest = self._split_rest(list(items or []))
        return tuple(items), rest

    def param_list(self, meta, children):
        return [c for c in children if c is not None and not _is(c, "COMMA")]

    def param(self, meta, children):
        return A.PatternElem(children[0], self._default(children[0], children[2]), _span(meta))

    def rest_param(self, meta, children):
        return ("rest", children[1])

    def arrow(self, meta, children):
        is_async, (params, rest), _, body = children
        expression = isinstance(body, tuple)
        if expression:
            value = body[1]
            body = A.Block((A.Return(value, value.span),), value.span)
        return A.Function(None, params, rest, body, is_async is not None, True, expression, _span(meta))

    def arrow_name(self, meta, children):
        tok = children[0]
        name = A.Name(str(tok), _tok_span(tok))
        return (A.PatternElem(name, None, name.span),), None

    def arrow_params(self, meta, children):
        return self._param_parts(children[1])

    def arrow_expr_body(self, meta, children):
        return ("expr", children[0])

    def _named(self, value, label: str):
        """`const f = () => …`: the function is called `f` (JavaScript infers the name too)."""
        if isinstance(value, A.Function) and not value.label:
            return dataclasses.replace(value, label=label)
        return value

    def _default(self, target, value):
        """A default of a parameter or pattern (`cb = () => …`) is named after its variable, as JavaScript does."""
        return self._named(value, target.name) if isinstance(target, A.Name) else value

    # -- declarations and patterns -------------------------------------------
    def var_decl(self, meta, children):
        kind = children[0]
        decls = tuple(c for c in children[1:] if isinstance(c, A.Declarator))
        return A.VarDecl(kind, decls, _span(meta))

    def decl_kind(self, meta, children):
        return str(children[0])

    def declarator(self, meta, children):
        init = children[2]
        if isinstance(children[0], A.Name):
            init = self._named(init, children[0].name)
        return A.Declarator(children[0], init, _span(meta))

    def array_pattern(self, meta, children):
        items = list(children[1])
        if items and items[-1] is None:
            items.pop()  # `[a, ]`: a trailing comma is not a hole
        items, rest = self._split_rest(items)
        return A.ArrayPattern(tuple(items), rest, _span(meta))

    def _split_rest(self, items: list) -> tuple[list, object]:
        """A pattern's elements and its `...rest` target, which must come last."""
        rest = None
        if items and isinstance(items[-1], tuple):
            rest = items.pop()[1]
        for it in items:
            if isinstance(it, tuple):
                self.reject("a rest element must be the last element of a pattern", it[1].span)
        return [it for it in items if not isinstance(it, tuple)], rest

    def array_pat_items(self, meta, children):
        return [c for c in children if not _is(c, "COMMA")]

    def pat_elem(self, meta, children):
        return A.PatternElem(children[0], self._default(children[0], children[2]), _span(meta))

    def pat_rest(self, meta, children):
        return ("rest", children[1])

    def pat_hole(self, meta, children):
        return None

    def object_pattern(self, meta, children):
        items, rest = self._split_rest(list(children[1] or []))
        return A.ObjectPattern(tuple(items), rest, _span(meta))

    def obj_pat_items(self, meta, children):
        return [c for c in children if c is not None and not _is(c, "COMMA")]

    def pat_shorthand(self, meta, children):
        name = children[0]
        target = A.Name(str(name), _tok_span(name))
        return A.PatternProp(str(name), target, self._default(target, children[2]), _span(meta))

    def pat_prop(self, meta, children):
        return A.PatternProp(children[0], children[2], self._default(children[2], children[4]), _span(meta))

    def pat_computed(self, meta, children):
        return A.PatternProp(children[1], children[4], self._default(children[4], children[6]), _span(meta))

    # -- expressions ----------------------------------------------------------
    def assign(self, meta, children):
        target, op, value = children
        if op != "=" and isinstance(target, (A.ArrayLit, A.ObjectLit)):
            self.reject(f"'{op}' cannot assign to a destructuring pattern; use '=' or assign each variable", target.span)
            return A.Assign(op, A.Name("undefined", target.span), value, _span(meta))
        if isinstance(target, A.Name):
            value = self._named(value, target.name)
        return A.Assign(op, self._target(target), value, _span(meta))

    def assign_op(self, meta, children):
        return str(children[0])

    def _target(self, e):
        """An expression used as an assignment target, or a clear error."""
        if isinstance(e, (A.Name, A.Member, A.Index)) and not getattr(e, "optional", False):
            return e
        if isinstance(e, A.ArrayLit):
            elems = []
            rest = None
            for i, el in enumerate(e.elements):
                if id(el) in self.holes:
                    elems.append(None)
                elif isinstance(el, A.Spread):
                    if i != len(e.elements) - 1:
                        self.reject("a rest element must be the last element of a pattern", el.span)
                    rest = self._target(el.expr)
                elif isinstance(el, A.Assign) and el.op == "=":
                    elems.append(A.PatternElem(el.target, el.value, el.span))  # (assign named the value)
                else:
                    elems.append(A.PatternElem(self._target(el), None, el.span))
            return A.ArrayPattern(tuple(elems), rest, e.span)
        if isinstance(e, A.ObjectLit):
            props = []
            rest = None
            for i, p in enumerate(e.props):
                if isinstance(p, A.Spread):
                    rest = self._target(p.expr)
                elif isinstance(p.value, A.Assign) and p.value.op == "=":  # { a = 1 }, { a: b = 1 }
                    self.cover_inits.pop(id(p), None)
                    props.append(A.PatternProp(p.key, self._target(p.value.target), p.value.value, p.span))
                else:
                    props.append(A.PatternProp(p.key, self._target(p.value), None, p.span))
            return A.ObjectPattern(tuple(props), rest, e.span)
        self.reject("this cannot be assigned to; the left side of an assignment must be a variable, "
                    "a property or an index", e.span)
        return A.Name("undefined", e.span)

    def conditional(self, meta, children):
        return A.Conditional(children[0], children[2], children[4], _span(meta))

    def logical(self, meta, children):
        op, left, right = str(children[1]), children[0], children[2]
        for side in (left, right):
            mixed = isinstance(side, A.Logical) and id(side) not in self.parenthesized \
                and (op == "??") != (side.op == "??")
            if mixed:
                self.reject("'??' cannot be mixed with '||' or '&&' without parentheses (as in JavaScript); "
                            "add parentheses to say which goes first", _span(meta))
        return A.Logical(op, left, right, _span(meta))

    def binary(self, meta, children):
        return A.Binary(str(children[1]), children[0], children[2], _span(meta))

    def unary(self, meta, children):
        return A.Unary(str(children[0]), children[1], _span(meta))

    def await_expr(self, meta, children):
        return A.Await(children[1], _span(meta))

    def postfix(self, meta, children):
        return A.Update(str(children[1]), False, self._update_target(children[0]), _span(meta))

    def prefix(self, meta, children):
        return A.Update(str(children[0]), True, self._update_target(children[1]), _span(meta))

    def _update_target(self, e):
        if isinstance(e, (A.Name, A.Member, A.Index)) and not getattr(e, "optional", False):
            return e
        self.reject("'++' and '--' need a variable, a property or an index to change", e.span)
        return A.Name("undefined", e.span)

    def member(self, meta, children):
        return A.Member(_prototype_as_value(children[0]), str(children[2]), False, _span(meta))

    def opt_member(self, meta, children):
        return A.Member(children[0], str(children[2]), True, _span(meta))

    def index(self, meta, children):
        return A.Index(children[0], children[2], False, _span(meta))

    def opt_index(self, meta, children):
        return A.Index(children[0], children[3], True, _span(meta))

    def call(self, meta, children):
        callee = children[0]
        if isinstance(callee, A.Name) and callee.name in A.ERROR_CONSTRUCTORS:  # Error("x") is new Error("x")
            return A.NewError(children[1], _span(meta), kind=callee.name)
        if _is_prototype_has_own(callee):  # the idiom of code written before Object.hasOwn
            return A.Call(A.Member(A.Name("Object", callee.span), "hasOwn", False, callee.span), children[1],
                          False, _span(meta))
        return A.Call(callee, children[1], False, _span(meta))

    def opt_call(self, meta, children):
        callee = children[0]
        # Every value has Object.prototype's hasOwnProperty, which objects here lack as a property:
        # `o.hasOwnProperty?.(k)` is `o.hasOwnProperty(k)`.
        inherited = isinstance(callee, A.Member) and callee.prop == "hasOwnProperty"
        return A.Call(callee, children[2], not inherited, _span(meta))

    def arguments(self, meta, children):
        return tuple(c for c in children if c is not None and not isinstance(c, Token))

    def new_expr(self, meta, children):
        name = children[1]
        args = children[2] if len(children) > 2 and children[2] is not None else ()
        if str(name) == "RegExp":
            return A.NewRegExp(args, _span(meta))
        if str(name) == "Promise":
            return A.NewPromise(args, _span(meta))
        if str(name) in ("Map", "Set", "Date"):
            return A.NewCollection(str(name), args, _span(meta))
        if str(name) == "Array":  # new Array(n) is Array(n)
            return A.Call(A.Name("Array", _span(meta)), args, False, _span(meta))
        if str(name) not in A.ERROR_CONSTRUCTORS:
            instead = NEW_INSTEAD.get(str(name), "use object literals for data and tasks for behaviour")
            self.reject(f"'new {name}' is not supported in workflows, because the only constructors are "
                        f"Error (and its kinds, such as TypeError), RegExp, Promise, Map, Set and Date; {instead}",
                        _span(meta))
            return A.Null(_span(meta))
        return A.NewError(args, _span(meta), kind=str(name))

    def spread(self, meta, children):
        return A.Spread(children[1], _span(meta))

    def number(self, meta, children):
        return A.Num(children[0].value, _span(meta))

    def string(self, meta, children):
        return A.Str(children[0].value, _span(meta))

    def regex(self, meta, children):
        """A regex literal, checked now: an invalid pattern, or one Rhythm cannot match as JavaScript does,
        is a compile error pointing into the pattern."""
        from rhythm_runtime.execution.values import PatternError, translate, validate_flags

        tok = children[0]
        text = str(tok.value)
        end = text.rindex("/")
        pattern, flags = text[1:end], text[end + 1 :]
        canonical = validate_flags(flags)
        if canonical is None:
            where = A.Span(tok.line, tok.column + end + 1, tok.line, tok.column + len(text))
            self.reject(_flags_message(flags), where)
            return A.RegexLit(pattern, "", _tok_span(tok))
        try:
            translate(pattern, canonical)
        except PatternError as e:
            column = tok.column + 1 + e.offset
            self.reject(_pattern_message(e), A.Span(tok.line, column, tok.line, column + e.width))
        return A.RegexLit(pattern, canonical, _tok_span(tok))

    def true(self, meta, children):
        return A.Bool(True, _span(meta))

    def false(self, meta, children):
        return A.Bool(False, _span(meta))

    def null(self, meta, children):
        return A.Null(_span(meta))

    def name(self, meta, children):
        tok = children[0]
        return A.Name(str(tok), _tok_span(tok))

    def paren(self, meta, children):
        inner = children[1]
        self.parenthesized.add(id(inner))
        if A.has_optional_link(inner):
            return A.OptChain(inner, _span(meta))  # `(a?.b).c`: the short-circuit stops at the parenthesis
        return inner

    def template(self, meta, children):
        quasis = tuple(c.value for c in children if isinstance(c, Token))
        exprs = tuple(c for c in children if not isinstance(c, Token))
        return A.Template(quasis, exprs, _span(meta))

    def array(self, meta, children):
        """A hole (`[1, , 3]`) is an undefined element, as Rhythm's arrays have no holes (a trailing comma
        makes none); as an assignment target it is a pattern's hole (_target)."""
        span = _span(meta)
        items = list(children[1])
        if items[-1] is _HOLE:
            items.pop()
        for i, item in enumerate(items):
            if item is _HOLE:
                items[i] = A.Name("undefined", span)
                self.holes.add(id(items[i]))
        return A.ArrayLit(tuple(items), span)

    def array_items(self, meta, children):
        return [c for c in children if not _is(c, "COMMA")]

    def array_hole(self, meta, children):
        return _HOLE

    def object(self, meta, children):
        return A.ObjectLit(tuple(children[1] or ()), _span(meta))

    def obj_items(self, meta, children):
        return tuple(c for c in children if c is not None and not _is(c, "COMMA"))

    def prop(self, meta, children):
        return A.Prop(children[0], self._named(children[2], children[0]), _span(meta))

    def shorthand(self, meta, children):
        tok = children[0]
        return A.Prop(str(tok), A.Name(str(tok), _tok_span(tok)), _span(meta))

    def computed_prop(self, meta, children):
        return A.Prop(children[1], children[4], _span(meta))

    def shorthand_default(self, meta, children):
        """`{ a = 1 }`, which only a destructuring assignment may hold (`({ a = 1 } = o)`): _target makes it a
        pattern's default, and one left in an expression is rejected (reject_cover_inits)."""
        tok = children[0]
        name = A.Name(str(tok), _tok_span(tok))
        prop = A.Prop(str(tok), A.Assign("=", name, self._named(children[2], name.name), _span(meta)), _span(meta))
        self.cover_inits[id(prop)] = _span(meta)
        return prop

    def reject_cover_inits(self) -> None:
        for span in self.cover_inits.values():
            self.reject("'name = value' in an object literal is only valid in a destructuring assignment "
                        "(({ a = 1 } = obj)); write 'name: value'", span)

    def prop_key(self, meta, children):
        tok = children[0]
        if tok.type == "NUMBER":
            from rhythm_runtime.execution.values import number_to_string

            return number_to_string(tok.value)
        return str(tok.value)
