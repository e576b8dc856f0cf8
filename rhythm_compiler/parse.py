"""Parse `.flow` source into the AST (lark LALR + our lexer).

Syntax errors become one `Diagnostic` that names what was expected in words;
constructs that JavaScript has but workflows do not get a message of their
own saying why and what to use instead.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.lexer import Lexer as LarkLexer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast as A
from .diagnostics import CompileError, Diagnostic
from .lex import Lexer, LexError, split_front_matter

UNSUPPORTED = {
    "function": "functions are not supported in workflows; put reusable logic in a task or a child workflow (Workflow.run)",
    "ARROW": "arrow functions are not supported in workflows; use a for…of loop instead of callbacks, or move the logic into a task",
    "var": "'var' is not supported in workflows; use 'let' or 'const'",
    "class": "classes are not supported in workflows; use plain objects, and put behaviour in tasks",
    "import": "imports are not supported in workflows; call Python code through Task.run and other workflows through Workflow.run",
    "export": "exports are not supported in workflows; every .flow file is one workflow named after the file",
    "with": "'with' is not supported in workflows (nor in strict JavaScript)",
    "yield": "generators are not supported in workflows; use await",
    "switch": "'switch' is not supported in workflows yet; use if / else if",
    "case": "'switch' is not supported in workflows yet; use if / else if",
    "default": "'switch' is not supported in workflows yet; use if / else if",
    "this": "'this' does not exist in workflows; use variables",
    "delete": "'delete' is not supported in workflows; build a new object without the key",
    "instanceof": "'instanceof' is not supported in workflows; use typeof or Array.isArray",
    "void": "'void' is not supported in workflows; use undefined",
    "eval": "eval is not available in workflows: the sandbox runs only the code you wrote",
    "arguments": "'arguments' does not exist in workflows; use Inputs",
}
BITWISE_MESSAGE = "bitwise operators are not supported in workflows; use Math.floor, Math.trunc or arithmetic instead"

TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "TPL_FULL": "a template literal",
    "TPL_HEAD": "a template literal", "TPL_MIDDLE": "'}'", "TPL_TAIL": "'}'", "LBRACE": "'{'",
    "LBRACE_OBJ": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "SEMI": "';'", "SEMI_AUTO": "';'", "COMMA": "','", "COLON": "':'", "DOT": "'.'",
    "ASSIGN": "'='", "ELLIPSIS": "'...'", "QMARK": "'?'", "QDOT": "'?.'", "ARROW": "'=>'",
    "INC": "'++'", "DEC": "'--'", "INC_NL": "'++'", "DEC_NL": "'--'", "$END": "end of file",
}
EXPRESSION_STARTS = {"NAME", "NUMBER", "STRING", "TPL_FULL", "TPL_HEAD", "LPAR", "LSQB", "LBRACE_OBJ",
                     "BANG", "MINUS", "PLUS", "TYPEOF", "AWAIT", "NEW", "TRUE", "FALSE", "NULL", "INC_NL", "DEC_NL"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("rhythm_compiler").joinpath("flow.lark").read_text()
    return Lark(grammar, parser="lalr", lexer=_LexerAdapter, propagate_positions=True,
                maybe_placeholders=True, cache=False)


class _LexerAdapter(LarkLexer):
    """lark's custom-lexer hook: the 'text' handed to lark is our Lexer."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, lexer: Lexer):
        return lexer.tokens()


def parse(source: str, path: str = "<flow>") -> A.Program:
    """Source text -> Program, or CompileError with one syntax diagnostic."""
    front, start = split_front_matter(source)
    lexer = Lexer(source, path, start)
    try:
        tree = _parser().parse(lexer)
        program = _ToAst().transform(tree)
    except LexError as e:
        raise CompileError([e.diagnostic], source) from None
    except UnexpectedInput as e:
        raise CompileError([_syntax_diagnostic(e, path)], source) from None
    except VisitError as e:
        if isinstance(e.orig_exc, _Reject):
            raise CompileError([e.orig_exc.diagnostic(path)], source) from None
        raise
    return A.Program(program.body, front.text if front else None, program.span, program.wrapped_in_main)


def _syntax_diagnostic(e: UnexpectedInput, path: str) -> Diagnostic:
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            return Diagnostic(max(1, e.line if e.line > 0 else 1), max(1, e.column if e.column > 0 else 1),
                              f"unexpected end of file: expected {_expected_words(e.expected)}", 1, path)
        message = _unsupported_message(tok) or _unexpected_message(tok, e.expected)
        return Diagnostic(tok.line, tok.column, message, max(1, len(str(tok.value or " "))), path)
    if isinstance(e, UnexpectedEOF):
        return Diagnostic(1, 1, f"unexpected end of file: expected {_expected_words(e.expected)}", 1, path)
    if isinstance(e, UnexpectedCharacters):  # pragma: no cover - our lexer raises LexError instead
        return Diagnostic(e.line, e.column, "unexpected character", 1, path)
    return Diagnostic(1, 1, "syntax error", 1, path)  # pragma: no cover


def _unsupported_message(tok: Token) -> str | None:
    if tok.type == "UNSUPPORTED":
        return UNSUPPORTED.get(str(tok), BITWISE_MESSAGE)
    if tok.type == "FUNCTION":
        return UNSUPPORTED["function"]
    if tok.type == "ARROW":
        return UNSUPPORTED["ARROW"]
    if tok.type == "ASYNC":
        return "only 'async function main() { … }' wrapping the whole file is supported; functions are not"
    return None


def _unexpected_message(tok: Token, expected) -> str:
    shown = f"'{tok.value}'" if tok.type not in ("STRING", "TPL_FULL") else "a string"
    return f"unexpected {shown}: expected {_expected_words(expected)}"


def _expected_words(expected) -> str:
    names = set(expected)
    words: list[str] = []
    if names & EXPRESSION_STARTS and len(names & EXPRESSION_STARTS) > 3:
        words.append("an expression")
        names -= EXPRESSION_STARTS
    for name in sorted(names):
        word = TOKEN_WORDS.get(name)
        if word is None:
            word = f"'{name.lower()}'" if name.isalpha() else name
        if word not in words:
            words.append(word)
    if not words:
        return "something else"
    if len(words) > 6:
        words = words[:6] + ["…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


class _Reject(Exception):
    """A construct the grammar accepts but workflows do not (raised inside the transformer)."""

    def __init__(self, message: str, span: A.Span):
        self.message, self.span = message, span

    def diagnostic(self, path: str) -> Diagnostic:
        return Diagnostic(self.span.line, self.span.col, self.message, self.span.width, path)


def _span(meta) -> A.Span:
    if getattr(meta, "empty", True):
        return A.NOSPAN
    return A.Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(tok: Token) -> A.Span:
    return A.Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _is(x, *types) -> bool:
    return isinstance(x, Token) and x.type in types


def _values(children):
    """Children without punctuation/keyword tokens and without absent optionals."""
    return [c for c in children if c is not None and not (isinstance(c, Token) and c.type not in ("NAME", "NUMBER", "STRING"))]


@v_args(meta=True)
class _ToAst(Transformer):
    """lark tree -> AST. Never raises user errors except `_Reject` (see parse)."""

    # -- program and statements ---------------------------------------------
    def start(self, meta, children):
        kids = [c for c in children if c is not None]
        if len(kids) == 1 and isinstance(kids[0], tuple):
            body, span = kids[0]
            return A.Program(body, None, span, True)
        return A.Program(tuple(kids), None, _span(meta))

    def main_wrapper(self, meta, children):
        name = children[2]
        if str(name) != "main":
            raise _Reject("the only function allowed is 'async function main() { … }' wrapping the whole workflow", _tok_span(name))
        return (children[-1].body, _span(meta))

    def block(self, meta, children):
        return A.Block(tuple(c for c in children if not isinstance(c, Token) and c is not None), _span(meta))

    def decl_stmt(self, meta, children):
        return children[0]

    def expr_stmt(self, meta, children):
        return A.ExprStmt(children[0], _span(meta))

    def if_stmt(self, meta, children):
        _, _, test, _, then, _, other = children
        return A.If(test, then, other, _span(meta))

    def while_stmt(self, meta, children):
        return A.While(children[2], children[4], None, _span(meta))

    def do_stmt(self, meta, children):
        return A.DoWhile(children[1], children[4], None, _span(meta))

    def for_stmt(self, meta, children):
        _, _, init, _, test, _, update, _, body = children
        return A.For(init, test, update, body, None, _span(meta))

    def for_of_decl(self, meta, children):
        return A.ForOf(str(children[2]), children[3], children[5], children[7], False, None, _span(meta))

    def for_in_decl(self, meta, children):
        return A.ForOf(str(children[2]), children[3], children[5], children[7], True, None, _span(meta))

    def for_of_expr(self, meta, children):
        return A.ForOf(None, self._target(children[2]), children[4], children[6], False, None, _span(meta))

    def for_in_expr(self, meta, children):
        return A.ForOf(None, self._target(children[2]), children[4], children[6], True, None, _span(meta))

    def for_init(self, meta, children):
        return children[0]

    def break_stmt(self, meta, children):
        return A.Break(str(children[1]) if children[1] is not None else None, _span(meta))

    def continue_stmt(self, meta, children):
        return A.Continue(str(children[1]) if children[1] is not None else None, _span(meta))

    def return_stmt(self, meta, children):
        return A.Return(children[1], _span(meta))

    def throw_stmt(self, meta, children):
        return A.Throw(children[1], _span(meta))

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

    def labeled_stmt(self, meta, children):
        label, body = str(children[0]), children[2]
        if isinstance(body, A.LOOPS):
            import dataclasses

            return dataclasses.replace(body, label=label)
        return A.Labeled(label, body, _span(meta))

    def empty_stmt(self, meta, children):
        return A.Empty(_span(meta))

    # -- declarations and patterns -------------------------------------------
    def var_decl(self, meta, children):
        kind = children[0]
        decls = tuple(c for c in children[1:] if isinstance(c, A.Declarator))
        return A.VarDecl(kind, decls, _span(meta))

    def decl_kind(self, meta, children):
        return str(children[0])

    def declarator(self, meta, children):
        return A.Declarator(children[0], children[2], _span(meta))

    def array_pattern(self, meta, children):
        items = list(children[1])
        if items and items[-1] is None:
            items.pop()  # `[a, ]`: a trailing comma is not a hole
        rest = None
        if items and isinstance(items[-1], tuple):
            rest = items.pop()[1]
        for it in items:
            if isinstance(it, tuple):
                raise _Reject("a rest element must be the last element of a pattern", it[1].span)
        return A.ArrayPattern(tuple(items), rest, _span(meta))

    def array_pat_items(self, meta, children):
        return [c for c in children if not _is(c, "COMMA")]

    def pat_elem(self, meta, children):
        return A.PatternElem(children[0], children[2], _span(meta))

    def pat_rest(self, meta, children):
        return ("rest", children[1])

    def pat_hole(self, meta, children):
        return None

    def object_pattern(self, meta, children):
        items = [c for c in (children[1] or [])]
        rest = None
        if items and isinstance(items[-1], tuple):
            rest = items.pop()[1]
        for it in items:
            if isinstance(it, tuple):
                raise _Reject("a rest element must be the last element of a pattern", it[1].span)
        return A.ObjectPattern(tuple(items), rest, _span(meta))

    def obj_pat_items(self, meta, children):
        return [c for c in children if c is not None and not _is(c, "COMMA")]

    def pat_shorthand(self, meta, children):
        name = children[0]
        return A.PatternProp(str(name), A.Name(str(name), _tok_span(name)), children[2], _span(meta))

    def pat_prop(self, meta, children):
        return A.PatternProp(children[0], children[2], children[4], _span(meta))

    # -- expressions ----------------------------------------------------------
    def assign(self, meta, children):
        target, op, value = children
        if op != "=" and isinstance(target, (A.ArrayLit, A.ObjectLit)):
            raise _Reject(f"invalid left-hand side in assignment with '{op}'", target.span)
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
                if isinstance(el, A.Spread):
                    if i != len(e.elements) - 1:
                        raise _Reject("a rest element must be the last element of a pattern", el.span)
                    rest = self._target(el.expr)
                elif isinstance(el, A.Assign) and el.op == "=":
                    elems.append(A.PatternElem(el.target, el.value, el.span))
                else:
                    elems.append(A.PatternElem(self._target(el), None, el.span))
            return A.ArrayPattern(tuple(elems), rest, e.span)
        if isinstance(e, A.ObjectLit):
            props = []
            rest = None
            for i, p in enumerate(e.props):
                if isinstance(p, A.Spread):
                    rest = self._target(p.expr)
                else:
                    props.append(A.PatternProp(p.key, self._target(p.value), None, p.span))
            return A.ObjectPattern(tuple(props), rest, e.span)
        raise _Reject("invalid assignment target: assign to a variable, a property or an index", e.span)

    def conditional(self, meta, children):
        return A.Conditional(children[0], children[2], children[4], _span(meta))

    def logical(self, meta, children):
        return A.Logical(str(children[1]), children[0], children[2], _span(meta))

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
        raise _Reject("invalid operand for ++/--: use a variable, a property or an index", e.span)

    def member(self, meta, children):
        return A.Member(children[0], str(children[2]), False, _span(meta))

    def opt_member(self, meta, children):
        return A.Member(children[0], str(children[2]), True, _span(meta))

    def index(self, meta, children):
        return A.Index(children[0], children[2], False, _span(meta))

    def opt_index(self, meta, children):
        return A.Index(children[0], children[3], True, _span(meta))

    def call(self, meta, children):
        return A.Call(children[0], children[1], False, _span(meta))

    def opt_call(self, meta, children):
        return A.Call(children[0], children[2], True, _span(meta))

    def arguments(self, meta, children):
        return tuple(c for c in children if c is not None and not isinstance(c, Token))

    def new_expr(self, meta, children):
        name = children[1]
        if str(name) != "Error":
            raise _Reject(f"'new {name}' is not supported in workflows; the only constructor is new Error(message)", _span(meta))
        args = children[2] if len(children) > 2 and children[2] is not None else ()
        return A.NewError(args, _span(meta))

    def spread(self, meta, children):
        return A.Spread(children[1], _span(meta))

    def number(self, meta, children):
        return A.Num(children[0].value, _span(meta))

    def string(self, meta, children):
        return A.Str(children[0].value, _span(meta))

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
        return children[1]

    def template(self, meta, children):
        quasis = tuple(c.value for c in children if isinstance(c, Token))
        exprs = tuple(c for c in children if not isinstance(c, Token))
        return A.Template(quasis, exprs, _span(meta))

    def array(self, meta, children):
        items = children[1] or ()
        return A.ArrayLit(tuple(items), _span(meta))

    def array_items(self, meta, children):
        return tuple(c for c in children if c is not None and not _is(c, "COMMA"))

    def object(self, meta, children):
        return A.ObjectLit(tuple(children[1] or ()), _span(meta))

    def obj_items(self, meta, children):
        return tuple(c for c in children if c is not None and not _is(c, "COMMA"))

    def prop(self, meta, children):
        return A.Prop(children[0], children[2], _span(meta))

    def shorthand(self, meta, children):
        tok = children[0]
        return A.Prop(str(tok), A.Name(str(tok), _tok_span(tok)), _span(meta))

    def computed_prop(self, meta, children):
        return A.Prop(children[1], children[4], _span(meta))

    def prop_key(self, meta, children):
        tok = children[0]
        if tok.type == "NUMBER":
            from rhythm_runtime.values import number_to_string

            return number_to_string(tok.value)
        return str(tok.value)
