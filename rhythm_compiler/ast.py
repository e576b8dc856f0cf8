"""The `.flow` AST: small frozen dataclasses with source spans.

Nodes compare by identity (`eq=False`) so later stages can key side tables
(scopes, await flags) by node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Span:
    line: int
    col: int
    end_line: int
    end_col: int

    @property
    def width(self) -> int:
        return self.end_col - self.col if self.end_line == self.line and self.end_col > self.col else 1


NOSPAN = Span(0, 0, 0, 0)


def node(cls):
    return dataclass(frozen=True, eq=False)(cls)


# -- expressions ---------------------------------------------------------------


@node
class Num:
    value: float
    span: Span = NOSPAN


@node
class Str:
    value: str
    span: Span = NOSPAN


@node
class Bool:
    value: bool
    span: Span = NOSPAN


@node
class Null:
    span: Span = NOSPAN


@node
class RegexLit:
    pattern: str  # the body between the slashes, as written
    flags: str  # canonical order (dgimsuy)
    span: Span = NOSPAN


@node
class Template:
    quasis: tuple[str, ...]
    exprs: tuple["Expr", ...]
    span: Span = NOSPAN


@node
class Name:
    name: str
    span: Span = NOSPAN


@node
class Spread:
    expr: "Expr"
    span: Span = NOSPAN


@node
class ArrayLit:
    elements: tuple["Expr", ...]  # may contain Spread
    span: Span = NOSPAN


@node
class Prop:
    key: Union[str, "Expr"]  # str, or an expression for a computed key
    value: "Expr"
    span: Span = NOSPAN


@node
class ObjectLit:
    props: tuple[Union[Prop, Spread], ...]
    span: Span = NOSPAN


@node
class Member:
    obj: "Expr"
    prop: str
    optional: bool = False
    span: Span = NOSPAN


@node
class Index:
    obj: "Expr"
    index: "Expr"
    optional: bool = False
    span: Span = NOSPAN


@node
class Call:
    callee: "Expr"
    args: tuple["Expr", ...]  # may contain Spread
    optional: bool = False
    span: Span = NOSPAN


@node
class OptChain:
    """Marks where an optional chain ends: `a?.b.c` short-circuits to here."""

    expr: "Expr"
    span: Span = NOSPAN


# The error constructors, called with or without `new` (AggregateError exists only as Promise.any's rejection).
ERROR_CONSTRUCTORS = ("Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError")


@node
class NewError:
    args: tuple["Expr", ...]
    span: Span = NOSPAN
    kind: str = "Error"  # TypeError, RangeError, ...: the constructor's name


@node
class NewRegExp:
    """`new RegExp(…)`: always a new object (`RegExp(re)` called plainly may return `re` itself)."""

    args: tuple["Expr", ...]
    span: Span = NOSPAN


@node
class NewCollection:
    """`new Map(entries)`, `new Set(values)` or `new Date(…)`."""

    kind: str  # "Map" | "Set" | "Date"
    args: tuple["Expr", ...]
    span: Span = NOSPAN


@node
class Unary:
    op: str  # "!", "-", "+", "typeof"
    operand: "Expr"
    span: Span = NOSPAN


@node
class Update:
    op: str  # "++" or "--"
    prefix: bool
    target: "Expr"
    span: Span = NOSPAN


@node
class Binary:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span = NOSPAN


@node
class Logical:
    op: str  # "&&", "||", "??"
    left: "Expr"
    right: "Expr"
    span: Span = NOSPAN


@node
class Conditional:
    test: "Expr"
    then: "Expr"
    other: "Expr"
    span: Span = NOSPAN


@node
class Assign:
    op: str  # "=", "+=", ...
    target: "Target"
    value: "Expr"
    span: Span = NOSPAN


@node
class Await:
    expr: "Expr"
    span: Span = NOSPAN


@node
class NewPromise:
    """`new Promise(executor)`: the executor is called at once with the resolving functions."""

    args: tuple["Expr", ...]
    span: Span = NOSPAN


@node
class Function:
    """A function declaration, function expression, arrow function or object method.

    `body` is a Block; an arrow's expression body is parsed as `{ return expr }`. `name` is the
    declared name (a declaration or a named function expression binds it); `label` is the name a
    person would call it by (inferred from `const f = …` or `{ f: … }`), for stacks and tables."""

    name: Union[str, None]
    params: tuple["PatternElem", ...]
    rest: Union["Target", None]
    body: "Block"
    is_async: bool = False
    is_arrow: bool = False
    expression_body: bool = False
    span: Span = NOSPAN
    name_span: Span = NOSPAN
    label: str = ""


Expr = Union[
    Num, Str, Bool, Null, RegexLit, Template, Name, ArrayLit, ObjectLit, Member, Index, Call,
    OptChain, NewError, NewRegExp, NewCollection, Unary, Update, Binary, Logical, Conditional, Assign, Await,
    NewPromise, Function,
]

# -- patterns (declarations and destructuring) -----------------------------------


@node
class ArrayPattern:
    elements: tuple[Union["PatternElem", None], ...]  # None = hole
    rest: Union["Target", None] = None
    span: Span = NOSPAN


@node
class PatternElem:
    target: "Target"
    default: Union[Expr, None] = None
    span: Span = NOSPAN


@node
class PatternProp:
    key: Union[str, Expr]
    target: "Target"
    default: Union[Expr, None] = None
    span: Span = NOSPAN


@node
class ObjectPattern:
    props: tuple[PatternProp, ...]
    rest: Union["Target", None] = None
    span: Span = NOSPAN


Target = Union[Name, Member, Index, ArrayPattern, ObjectPattern]

# -- statements ------------------------------------------------------------------


@node
class Declarator:
    target: Target
    init: Union[Expr, None]
    span: Span = NOSPAN


@node
class VarDecl:
    kind: str  # "let" | "const"
    decls: tuple[Declarator, ...]
    span: Span = NOSPAN


@node
class ExprStmt:
    expr: Expr
    span: Span = NOSPAN


@node
class Block:
    body: tuple["Stmt", ...]
    span: Span = NOSPAN


@node
class If:
    test: Expr
    then: "Stmt"
    other: Union["Stmt", None]
    span: Span = NOSPAN


@node
class While:
    test: Expr
    body: "Stmt"
    label: Union[str, None] = None
    span: Span = NOSPAN


@node
class DoWhile:
    body: "Stmt"
    test: Expr
    label: Union[str, None] = None
    span: Span = NOSPAN


@node
class For:
    init: Union[VarDecl, tuple[Expr, ...], None]  # `for (i = 0, j = n; …)` lists several expressions
    test: Union[Expr, None]
    update: Union[tuple[Expr, ...], None]  # `i++, j--`
    body: "Stmt"
    label: Union[str, None] = None
    span: Span = NOSPAN


@node
class ForOf:
    kind: Union[str, None]  # "let"/"const", or None for an existing target
    target: Target
    iterable: Expr
    body: "Stmt"
    is_in: bool = False  # for…in iterates keys
    label: Union[str, None] = None
    span: Span = NOSPAN


@node
class Break:
    label: Union[str, None]
    span: Span = NOSPAN


@node
class Continue:
    label: Union[str, None]
    span: Span = NOSPAN


@node
class Return:
    value: Union[Expr, None]
    span: Span = NOSPAN


@node
class Throw:
    value: Expr
    span: Span = NOSPAN


@node
class Try:
    block: Block
    param: Union[Target, None]
    handler: Union[Block, None]
    finalizer: Union[Block, None]
    span: Span = NOSPAN


@node
class Case:
    """One `case test:` (or `default:` when test is None) clause and the statements after it."""

    test: Union[Expr, None]
    body: tuple["Stmt", ...]
    span: Span = NOSPAN


@node
class Switch:
    discriminant: Expr
    cases: tuple[Case, ...]
    label: Union[str, None] = None
    span: Span = NOSPAN


@node
class Labeled:
    label: str
    body: "Stmt"
    span: Span = NOSPAN


@node
class Empty:
    span: Span = NOSPAN


@node
class FunctionDecl:
    """`function name(…) { … }` as a statement: hoisted to the top of its block."""

    fn: Function
    span: Span = NOSPAN


Stmt = Union[
    VarDecl, ExprStmt, Block, If, While, DoWhile, For, ForOf, Break, Continue, Return, Throw, Try, Switch, Labeled, Empty,
    FunctionDecl,
]
LOOPS = (While, DoWhile, For, ForOf)
BREAKABLE = LOOPS + (Switch,)  # what an unlabelled `break` leaves


@node
class Program:
    body: tuple[Stmt, ...]
    front_matter: Union[str, None] = None
    span: Span = NOSPAN
    wrapped_in_main: bool = False
    extras: dict = field(default_factory=dict)


def has_optional_link(e) -> bool:
    """Is `e` a member/index/call chain with a `?.` somewhere along it?"""
    while isinstance(e, (Member, Index, Call)):
        if e.optional:
            return True
        e = e.callee if isinstance(e, Call) else e.obj
    return False


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def children(n) -> list:
    """Direct child nodes of any AST node, in evaluation order."""
    names = _CHILD_FIELDS.get(type(n))
    if names is None:
        names = _CHILD_FIELDS[type(n)] = tuple(f for f in n.__dataclass_fields__ if f not in ("span", "extras"))
    out = []
    for name in names:
        v = getattr(n, name)
        if isinstance(v, tuple):
            out.extend(x for x in v if x is not None and hasattr(x, "__dataclass_fields__"))
        elif v is not None and hasattr(v, "__dataclass_fields__"):
            out.append(v)
    return out
