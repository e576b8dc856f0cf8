"""Syntax errors of `.flow` source as one-sentence diagnostics.

The first error names what was expected in words (or, for a construct
JavaScript has but workflows do not, why and what to use instead); more
errors come from restarting the parser at a later statement.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic
from .grammar import lark_parser
from .lex import ENDS_OPERAND, KEYWORDS, Lexer, LexError

UNSUPPORTED = {
    "class": "classes are not supported in workflows; use plain objects for data and tasks for behaviour",
    "extends": "classes are not supported in workflows; use plain objects for data and tasks for behaviour",
    "static": "classes are not supported in workflows; use plain objects for data and tasks for behaviour",
    "super": "classes are not supported in workflows, so 'super' does not exist; use plain objects for data and tasks for behaviour",
    "import": "imports are not supported in workflows; call Python code through Task.run and other workflows through Workflow.run",
    "export": "exports are not supported in workflows; every .flow file is one workflow, named after the file",
    "with": "'with' is not supported in workflows (nor in strict JavaScript); refer to the object's properties directly",
    "yield": "generators are not supported in workflows; use await to wait for tasks, timers, signals and child workflows",
    "this": "'this' is not supported in workflows; pass what a function needs as an argument, or let it use the variables around it",
    "void": "'void' is not supported in workflows; write undefined instead",
    "eval": "'eval' is not supported in workflows, because the sandbox runs only the code you wrote; move dynamic behaviour into a task",
    "arguments": "'arguments' is not supported in workflows; use a rest parameter (function f(...args)) instead, and Inputs for the workflow's inputs",
    "debugger": "'debugger' is not supported in workflows; inspect values by returning them or passing them to a task",
    "enum": "'enum' is not supported in workflows; use a plain object of constants instead",
}
TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "REGEX": "a regular expression",
    "TPL_FULL": "a template literal",
    "TPL_HEAD": "a template literal", "TPL_MIDDLE": "'}'", "TPL_TAIL": "'}'", "LBRACE": "'{'",
    "LPAR_ARROW": "'('", "FUNCTION_EXPR": "'function'",
    "LBRACE_OBJ": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "SEMI": "';'", "SEMI_AUTO": "';'", "COMMA": "','", "COLON": "':'", "DOT": "'.'",
    "ASSIGN": "'='", "ELLIPSIS": "'...'", "QMARK": "'?'", "QDOT": "'?.'", "ARROW": "'=>'",
    "INC": "'++'", "DEC": "'--'", "INC_NL": "'++'", "DEC_NL": "'--'",
}
EXPRESSION_STARTS = {"NAME", "NUMBER", "STRING", "REGEX", "TPL_FULL", "TPL_HEAD", "LPAR", "LSQB", "LBRACE_OBJ",
                     "BANG", "TILDE", "MINUS", "PLUS", "TYPEOF", "DELETE", "AWAIT", "NEW", "TRUE", "FALSE", "NULL", "INC_NL", "DEC_NL",
                     "FUNCTION_EXPR", "LPAR_ARROW", "ASYNC"}
STATEMENT_KEYWORDS = {"IF", "WHILE", "FOR", "DO", "BREAK", "CONTINUE", "RETURN", "THROW", "TRY", "LET", "CONST", "VAR",
                      "SWITCH", "FUNCTION"}
# The keywords a variable name follows.
DECLARING = ("LET", "CONST", "VAR")
OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "POW", "LT", "GT", "LE", "GE", "EQ", "NE", "SEQ",
             "SNE", "AND", "OR", "NULLISH", "QMARK", "IN", "INSTANCEOF", "INC", "DEC", "DOT", "QDOT", "ASSIGN", "ADD_ASSIGN",
             "SUB_ASSIGN", "MUL_ASSIGN", "DIV_ASSIGN", "MOD_ASSIGN", "POW_ASSIGN", "NULLISH_ASSIGN",
             "AND_ASSIGN", "OR_ASSIGN", "BITAND", "BITOR", "BITXOR", "TILDE", "SHL", "SHR", "USHR", "BITAND_ASSIGN",
             "BITOR_ASSIGN", "BITXOR_ASSIGN", "SHL_ASSIGN", "SHR_ASSIGN", "USHR_ASSIGN"}
KEYWORD_TYPES = set(KEYWORDS.values())
OPENERS = {"LPAR": "RPAR", "LPAR_ARROW": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE", "LBRACE_OBJ": "RBRACE", "TPL_HEAD": "TPL_TAIL"}
# What closes each open bracket; a template's `}…${` (TPL_MIDDLE) closes one `${` and opens the next.
CLOSE_FOR = {**OPENERS, "TPL_MIDDLE": "TPL_TAIL"}
CLOSERS = {"RPAR", "RSQB", "RBRACE", "TPL_TAIL"}
CLOSE_TEXT = {"RPAR": ")", "RSQB": "]", "RBRACE": "}", "TPL_TAIL": "}"}
# A statement may restart after a syntax error at one of these, when it begins a line.
RESTART_TYPES = STATEMENT_KEYWORDS | {"NAME", "AWAIT", "INC_NL", "DEC_NL", "FUNCTION", "ASYNC"}
MAX_SYNTAX_ERRORS = 10


def syntax_errors(first: Exception, source: str, path: str, start: int) -> list[Diagnostic]:
    """The first syntax error, then more from restarts at later statements."""
    toks = _tolerant_tokens(source, start)
    diags: list[Diagnostic] = []
    err: Exception | None = first
    while err is not None and len(diags) < MAX_SYNTAX_ERRORS:
        diag, recoverable = _explain(err, source, path, toks)
        if diags and (diag.line, diag.col) <= (diags[-1].line, diags[-1].col):
            break  # a restart must make progress
        diags.append(diag)
        restart = _restart_offset(toks, diag.line) if recoverable else None
        if restart is None:
            break
        err = None
        try:
            lark_parser().parse(Lexer(source, path, restart))
        except (LexError, UnexpectedInput) as e:
            err = e
    return diags


def _tolerant_tokens(source: str, start: int) -> list[Token]:
    """Every token of the file; a lexical error skips to the next line."""
    toks: list[Token] = []
    pos = start
    while True:
        lexer = Lexer(source, "<flow>", pos)
        try:
            toks.extend(lexer.tokens())
            return toks
        except LexError as e:
            if not e.recoverable:
                return toks
            nl = source.find("\n", lexer.pos)
            if nl < 0:
                return toks
            pos = nl + 1


def _restart_offset(toks: list[Token], after_line: int) -> int | None:
    """Where parsing may restart after an error on `after_line`: the first token of a
    later line, outside every bracket, that can begin a statement after one that ended."""
    if not toks or toks[0].type == "ASYNC":
        return None  # inside `async function main() { … }` a restart would see main's `}` as stray
    depth = 0
    for i, tok in enumerate(toks):
        if (i and tok.line > after_line and depth == 0 and tok.type in RESTART_TYPES
                and toks[i - 1].end_line < tok.line and toks[i - 1].type in ENDS_OPERAND | {"SEMI", "SEMI_AUTO"}):
            return tok.start_pos
        if tok.type in OPENERS:
            depth += 1
        elif tok.type in CLOSERS:
            depth = max(0, depth - 1)
    return None


def _explain(err: Exception, source: str, path: str, toks: list[Token]) -> tuple[Diagnostic, bool]:
    """One syntax error as a diagnostic, and whether a restart after it makes sense."""
    if isinstance(err, LexError):
        return err.diagnostic, err.recoverable
    if not isinstance(err, UnexpectedToken):  # pragma: no cover - our lexer feeds every token
        line, col = max(1, getattr(err, "line", 1) or 1), max(1, getattr(err, "column", 1) or 1)
        return Diagnostic(line, col, "this is not valid workflow syntax", 1, path), False
    tok = err.token
    if tok.type == "$END":
        i = len(toks)
    else:
        i = next((k for k, t in enumerate(toks) if t.start_pos == tok.start_pos and t.type == tok.type), None)
        if i is None:  # after a restart the context may differ: explain the token alone
            toks, i = [tok], 0
    where, message = _message(tok, set(err.expected), toks, i, source)
    width = where.end_pos - where.start_pos if where.end_line == where.line and where.end_pos > where.start_pos else 1
    if where.type == "$END":
        width = 1
    return Diagnostic(where.line, where.column, message, width, path), tok.type != "$END"


def _message(tok: Token, expected: set[str], toks: list[Token], i: int, source: str) -> tuple[Token, str]:
    """(the token to point at, one sentence) for an unexpected token at toks[i]."""
    prev = toks[i - 1] if 0 < i <= len(toks) else None
    prev_type = prev.type if prev is not None else None
    if tok.type == "$END" and toks:
        last = toks[-1]
        tok = Token("$END", "", start_pos=last.end_pos, line=last.end_line, column=last.end_column,
                    end_line=last.end_line, end_column=last.end_column + 1, end_pos=last.end_pos)
    if tok.type == "STAR" and prev_type in ("FUNCTION", "FUNCTION_EXPR"):
        return prev, "generator functions are not supported in workflows; write a loop that awaits instead"
    word = str(tok.value)
    if prev_type in DECLARING and (tok.type in KEYWORD_TYPES or (tok.type == "UNSUPPORTED" and word.isalpha())):
        return tok, f"'{word}' is a reserved word, so it cannot be used as a variable name"
    if tok.type == "UNSUPPORTED":
        if word in UNSUPPORTED:
            return tok, UNSUPPORTED[word]
        return tok, f"'{word}' is a reserved word that workflows do not support"
    if tok.type in CLOSERS:
        stack = _open_before(toks, i)
        close = CLOSE_TEXT[tok.type]
        if not stack:
            opener = {"RPAR": "(", "RSQB": "[", "RBRACE": "{"}.get(tok.type, "${")
            return tok, f"this '{close}' has no matching '{opener}'"
        top = toks[stack[-1]]
        if CLOSE_FOR[top.type] != tok.type:
            return tok, (f"this '{close}' does not match the '{_open_text(top)}' on line {top.line}, "
                         f"which must be closed with '{CLOSE_TEXT[CLOSE_FOR[top.type]]}' first")
    if tok.type == "$END":
        stack = _open_before(toks, i)
        if stack:
            top = toks[stack[-1]]
            closer = CLOSE_FOR[top.type]
            if closer in expected or (closer == "TPL_TAIL" and "TPL_MIDDLE" in expected):
                return top, f"this '{_open_text(top)}' is never closed: expected a matching '{CLOSE_TEXT[closer]}' before the end of the file"
    if tok.type == "ELSE":
        return tok, "this 'else' has no matching 'if'"
    if tok.type in ("CATCH", "FINALLY"):
        return tok, f"this '{word}' has no matching 'try' block"
    if tok.type == "COLON" and _type_annotation(toks, i):
        return tok, ("type annotations are not supported in workflows: a .flow file is JavaScript, not TypeScript; "
                     "remove the ':' and the type after it")
    ends_operand = prev_type in ENDS_OPERAND or prev_type in ("INC", "DEC")
    if tok.type == "COMMA" and "COMMA" not in expected and ends_operand:
        return tok, ("the comma operator is not supported in workflows outside a for loop's header; write the "
                     "expressions as separate statements (a declaration may still list several variables: "
                     "let a = 1, b = 2)")
    if tok.type == "POW" and prev_type in ENDS_OPERAND:
        return tok, ("the base of '**' cannot have a unary operator (JavaScript forbids it); "
                     "add parentheses, as in (-x) ** 2 or -(x ** 2)")
    member = _object_member(tok, expected, toks, i)
    if member is not None:
        return member
    expected = _plausible(expected, toks, i)
    found = _describe(tok, source)
    if tok.type == "SEMI_AUTO" and prev_type == "THROW":
        return prev, "'throw' must be followed by an expression on the same line"
    if prev_type in DECLARING and "NAME" in expected:
        return tok, f"expected a variable name after '{prev.value}', found {found}"
    if prev_type in ("DOT", "QDOT") and "NAME" in expected:
        return tok, f"expected a property name after '{prev.value}', found {found}"
    words = _expected_words(expected)
    if prev_type in KEYWORD_TYPES - {"TRUE", "FALSE", "NULL"}:
        return tok, f"expected {words} after '{prev.value}', found {found}"
    stack = _open_before(toks, i)
    if stack:
        top = toks[stack[-1]]
        if CLOSE_FOR[top.type] in expected and top.line < tok.line:
            return tok, f"expected {words} to close the '{_open_text(top)}' on line {top.line}, found {found}"
    return tok, f"expected {words}, found {found}"


GETTER_MESSAGE = "getters and setters are not supported in workflows; use plain properties instead"
METHOD_MESSAGE = ("this kind of method is not supported in workflows; write it as a property whose value is a "
                  "function, as in name: (x) => …")
GENERATOR_METHOD_MESSAGE = "generator methods are not supported in workflows; write a loop that awaits instead"


def _object_member(tok: Token, expected: set[str], toks: list[Token], i: int) -> tuple[Token, str] | None:
    """A getter, setter or method in an object literal (`{ get x() {} }`, `{ f() {} }`), if that is
    what toks[i] shows."""
    stack = _open_before(toks, i)
    if not stack or toks[stack[-1]].type != "LBRACE_OBJ" or i < 1:
        return None
    prev = toks[i - 1]
    if tok.type == "STAR" and prev.type in ("LBRACE_OBJ", "COMMA"):  # `{ *gen() {} }`
        return tok, GENERATOR_METHOD_MESSAGE
    if "COLON" not in expected:
        return None
    if (prev.type == "ASYNC" or prev.type == "NAME" and str(prev.value) == "async") and i >= 2 \
            and toks[i - 2].type in ("LBRACE_OBJ", "COMMA"):  # `{ async f() {} }`
        return prev, METHOD_MESSAGE
    key_start = i - 1
    if prev.type == "RSQB":  # a computed key: `{ [k]() {} }`
        opener = _open_before(toks, i - 1)
        key_start = opener[-1] if opener else i - 1
    before = toks[key_start - 1] if key_start >= 1 else None
    if tok.type == "LPAR" and (prev.type in ("NAME", "STRING", "NUMBER", "RSQB") or prev.type in KEYWORD_TYPES):
        accessor = (before is not None and before.type == "NAME" and str(before.value) in ("get", "set")
                    and key_start >= 2 and toks[key_start - 2].type in ("LBRACE_OBJ", "COMMA"))
        return (before if accessor else prev), GETTER_MESSAGE if accessor else METHOD_MESSAGE
    if (prev.type == "NAME" and str(prev.value) in ("get", "set") and before is not None
            and before.type in ("LBRACE_OBJ", "COMMA")
            and (tok.type in ("NAME", "STRING", "NUMBER", "LSQB") or tok.type in KEYWORD_TYPES)):
        return prev, GETTER_MESSAGE
    return None


def _plausible(expected: set[str], toks: list[Token], i: int) -> set[str]:
    """Drop closing brackets that cannot close anything here (LALR merges states, so its
    expected set may list a ']' while the innermost open bracket is a '('), and 'case' and
    'default' outside a switch's braces."""
    stack = _open_before(toks, i)
    closer = CLOSE_FOR[toks[stack[-1]].type] if stack else None
    allowed = {closer, "TPL_MIDDLE"} if closer == "TPL_TAIL" else {closer}
    if stack and _switch_body(toks, stack[-1]):
        allowed |= {"CASE", "DEFAULT"}
    dropped = CLOSERS | {"TPL_MIDDLE", "CASE", "DEFAULT"}
    kept = {t for t in expected if t not in dropped or t in allowed}
    return kept or expected


def _switch_body(toks: list[Token], j: int) -> bool:
    """Whether toks[j] is the '{' of a switch: `switch (…) {`."""
    if toks[j].type != "LBRACE" or j == 0 or toks[j - 1].type != "RPAR":
        return False
    depth = 0
    for k in range(j - 1, -1, -1):
        depth += {"RPAR": 1, "LPAR": -1}.get(toks[k].type, 0)
        if depth == 0:
            return k > 0 and toks[k - 1].type == "SWITCH"
    return False


def _type_annotation(toks: list[Token], i: int) -> bool:
    """Whether the ':' at toks[i] reads as TypeScript's type annotation: after a declared name
    (`let x: number`, `(a: string, b`), or after a parameter list (`function f(): number {`)."""
    if i < 2 or i + 1 >= len(toks):
        return False
    before, name, after = toks[i - 2].type, toks[i - 1].type, toks[i + 1].type
    if name == "NAME" and before in DECLARING:
        return True
    return after == "NAME" and ((name == "NAME" and before in ("LPAR", "COMMA")) or name == "RPAR")


def _open_text(tok: Token) -> str:
    return "${" if tok.type in ("TPL_HEAD", "TPL_MIDDLE") else str(tok.value)


def _describe(tok: Token, source: str) -> str:
    """How a message names the token it found."""
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "SEMI_AUTO":
        return "a line break"
    if tok.type == "STRING":
        return "a string"
    if tok.type == "REGEX":
        return "a regular expression"
    if tok.type in ("TPL_FULL", "TPL_HEAD"):
        return "a template literal"
    if tok.type in ("TPL_MIDDLE", "TPL_TAIL"):
        return "'}'"
    text = source[tok.start_pos : tok.end_pos] if tok.end_pos and tok.end_pos > tok.start_pos else str(tok.value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    if len(text) > 24:
        text = text[:23] + "…"
    return f"'{text}'"


def _expected_words(expected: set[str]) -> str:
    """Expected terminals in words: groups first collapse into 'a statement', 'an expression', 'an operator'."""
    names = set(expected)
    groups: list[str] = []
    if len(names & STATEMENT_KEYWORDS) >= 3:
        groups.append("a statement")
        names -= STATEMENT_KEYWORDS | EXPRESSION_STARTS | {"SEMI", "SEMI_AUTO", "LBRACE", "ELSE", "COMMA", "RBRACE", "$END"}
    elif len(names & EXPRESSION_STARTS) > 3:
        groups.append("an expression")
        names -= EXPRESSION_STARTS
    if len(names & OPERATORS) >= 4:
        groups.append("an operator")
        names -= OPERATORS
    end = "$END" in names
    names.discard("$END")
    words: list[str] = []
    for name in sorted(names):
        word = TOKEN_WORDS.get(name)
        if word is None:
            word = f"'{name.lower()}'" if name.isalpha() else name
        if word not in words:
            words.append(word)
    words += groups
    if end:
        words.append("the end of the file")
    if not words:
        return "something else"
    if len(words) > 5:
        words = words[:4] + ["something else"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _open_before(toks: list[Token], i: int) -> list[int]:
    """Indexes of the brackets still open before toks[i], innermost last."""
    stack: list[int] = []
    for k in range(min(i, len(toks))):
        t = toks[k].type
        if t in OPENERS:
            stack.append(k)
        elif t in CLOSERS or t == "TPL_MIDDLE":
            if stack and CLOSE_FOR[toks[stack[-1]].type] in (t, "TPL_TAIL" if t == "TPL_MIDDLE" else t):
                stack.pop()
            if t == "TPL_MIDDLE":
                stack.append(k)
    return stack


def _closing(toks: list[Token], j: int) -> int | None:
    """The index of the bracket that closes toks[j]."""
    depth = 0
    for k in range(j, len(toks)):
        t = toks[k].type
        if t in OPENERS:
            depth += 1
        elif t in CLOSERS:
            depth -= 1
            if depth == 0:
                return k if CLOSE_FOR[toks[j].type] == t else None
    return None


def _opening(toks: list[Token], k: int) -> int | None:
    """The index of the bracket that toks[k] closes."""
    depth = 0
    for j in range(k, -1, -1):
        t = toks[j].type
        if t in CLOSERS:
            depth += 1
        elif t in OPENERS:
            depth -= 1
            if depth == 0:
                return j
    return None
