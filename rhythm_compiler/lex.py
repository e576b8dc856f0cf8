"""Tokenize `.flow` source: JavaScript's lexical grammar, hand-written.

JavaScript lexing depends on context (a `/` may start a regex literal, a `}` may
resume a template literal, a `{` may open a block or an object), which a
regex-table lexer cannot see. This lexer tracks just enough context and hands
lark's LALR parser unambiguous tokens:

* `LBRACE_OBJ` for a `{` that opens an object literal or pattern, `LBRACE`
  for a block (also after a label's or a `case`'s colon), so statements and
  expressions never conflict;
* `SEMI_AUTO` where JavaScript's restricted productions insert a semicolon
  (`return`/`break`/`continue`/`throw` followed by a line break);
* `INC_NL`/`DEC_NL` for `++`/`--` at the start of a line (always prefix);
* template literals as `TPL_FULL` or `TPL_HEAD expr (TPL_MIDDLE expr)* TPL_TAIL`;
* `REGEX` for a `/` where no operand ended (else it is division), with the
  literal's whole text `/body/flags`.
* `FUNCTION` for a `function` that starts a declaration, `FUNCTION_EXPR` where an
  expression is expected (JavaScript's own rule: a statement never starts with a
  function expression);
* `LPAR_ARROW` for a `(` whose `)` is followed by `=>` (arrow parameters, found by a
  second pass over the tokens), and `ASYNC` for an `async` that starts an async
  function, arrow or method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token

from .diagnostics import Diagnostic

KEYWORDS = {
    "let": "LET", "const": "CONST", "var": "VAR", "if": "IF", "else": "ELSE", "while": "WHILE",
    "for": "FOR", "of": "OF", "in": "IN", "do": "DO", "break": "BREAK",
    "continue": "CONTINUE", "return": "RETURN", "try": "TRY", "catch": "CATCH",
    "finally": "FINALLY", "throw": "THROW", "new": "NEW", "typeof": "TYPEOF", "delete": "DELETE",
    "instanceof": "INSTANCEOF",
    "await": "AWAIT", "async": "ASYNC", "function": "FUNCTION", "true": "TRUE",
    "false": "FALSE", "null": "NULL", "switch": "SWITCH", "case": "CASE", "default": "DEFAULT",
}

# Reserved words we reject with a message of their own (see parse.UNSUPPORTED).
UNSUPPORTED_WORDS = {
    "class", "import", "export", "with", "yield", "this", "void", "super", "debugger",
    "enum", "extends", "static", "eval", "arguments",
}

PUNCTUATORS = [
    ">>>=", "...", "===", "!==", "**=", "??=", "&&=", "||=", "<<=", ">>=", ">>>",
    "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "**", "<<", ">>", "&=", "|=", "^=",
    "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%",
    "!", "?", ":", "=", ".", "~", "&", "|", "^",
]
PUNCT_NAMES = {
    "...": "ELLIPSIS", "===": "SEQ", "!==": "SNE", "**=": "POW_ASSIGN",
    "??=": "NULLISH_ASSIGN", "&&=": "AND_ASSIGN", "||=": "OR_ASSIGN", "=>": "ARROW",
    "==": "EQ", "!=": "NE", "<=": "LE", ">=": "GE", "&&": "AND", "||": "OR",
    "??": "NULLISH", "?.": "QDOT", "++": "INC", "--": "DEC", "+=": "ADD_ASSIGN",
    "-=": "SUB_ASSIGN", "*=": "MUL_ASSIGN", "/=": "DIV_ASSIGN", "%=": "MOD_ASSIGN",
    "**": "POW", "{": "LBRACE", "}": "RBRACE", "(": "LPAR", ")": "RPAR",
    "[": "LSQB", "]": "RSQB", ";": "SEMI", ",": "COMMA", "<": "LT", ">": "GT",
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "%": "PERCENT",
    "!": "BANG", "?": "QMARK", ":": "COLON", "=": "ASSIGN", ".": "DOT",
    "&": "BITAND", "|": "BITOR", "^": "BITXOR", "~": "TILDE", "<<": "SHL", ">>": "SHR", ">>>": "USHR",
    "&=": "BITAND_ASSIGN", "|=": "BITOR_ASSIGN", "^=": "BITXOR_ASSIGN", "<<=": "SHL_ASSIGN", ">>=": "SHR_ASSIGN",
    ">>>=": "USHR_ASSIGN",
}
# One alternation, longest first: the regex engine picks the longest punctuator.
_PUNCTUATOR = re.compile("|".join(re.escape(p) for p in sorted(PUNCTUATORS, key=len, reverse=True)))
# Tokens after which an expression may not end: a following `{` opens an
# object, a following `/` would start a regex.
OPERAND_EXPECTED = {
    "LPAR", "LSQB", "COMMA", "ASSIGN", "COLON", "QMARK", "ARROW", "PLUS", "MINUS",
    "STAR", "SLASH", "PERCENT", "POW", "BANG", "LT", "GT", "LE", "GE", "EQ", "NE",
    "SEQ", "SNE", "AND", "OR", "NULLISH", "TYPEOF", "DELETE", "AWAIT", "RETURN", "THROW",
    "IN", "INSTANCEOF", "OF", "ELLIPSIS", "ADD_ASSIGN", "SUB_ASSIGN", "MUL_ASSIGN", "DIV_ASSIGN",
    "MOD_ASSIGN", "POW_ASSIGN", "NULLISH_ASSIGN", "AND_ASSIGN", "OR_ASSIGN",
    "BITAND", "BITOR", "BITXOR", "TILDE", "SHL", "SHR", "USHR", "BITAND_ASSIGN", "BITOR_ASSIGN", "BITXOR_ASSIGN",
    "SHL_ASSIGN", "SHR_ASSIGN", "USHR_ASSIGN",
    "TPL_HEAD", "TPL_MIDDLE", "LET", "CONST", "VAR", "LBRACE_OBJ", "NEW", "UNSUPPORTED", "CASE",
}
RESTRICTED = {"RETURN", "BREAK", "CONTINUE", "THROW"}
ENDS_OPERAND = {"NAME", "NUMBER", "STRING", "TPL_FULL", "TPL_TAIL", "RPAR", "RSQB", "RBRACE", "TRUE", "FALSE", "NULL",
                "REGEX"}
# What a template literal right after would tag, even across a line break (`}` and `)` may end a block or a
# condition instead, so they are left out).
TAGS = ENDS_OPERAND - {"RBRACE", "RPAR"}

_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[oO][0-7](?:_?[0-7])*|0[bB][01](?:_?[01])*"
    r"|[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
)
_ASCII_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_ASCII_NAME_PART = re.compile(r"[A-Za-z0-9_$]+")
# JavaScript's WhiteSpace (TAB VT FF SP NBSP ZWNBSP and every Zs) and LineTerminators
# (LF CR LS PS); a `//` comment ends at any line terminator, as in JavaScript.
_WS = "\t\v\f \u00a0\ufeff\u1680\u2000-\u200a\u202f\u205f\u3000"
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_TERMINATOR = re.compile(f"[{_LINE_TERMINATORS}]")
_SPACE = re.compile(rf"(?:[{_WS}{_LINE_TERMINATORS}]|//[^{_LINE_TERMINATORS}]*|/\*.*?\*/)+", re.S)
_DIGITS = "0123456789"
_DIGITS_NONEMPTY = set(_DIGITS)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _Token(Token):
    """lark's Token built with positional arguments only: lark's `Token.__new__` sorts out keyword
    arguments first, which cost a third of the lexer's time."""

    __slots__ = ()

    def __new__(cls, type, value, start_pos=None, line=None, column=None, end_line=None, end_column=None,
                end_pos=None):
        tok = str.__new__(cls, value)
        tok.type, tok.value, tok.start_pos, tok.line, tok.column = type, value, start_pos, line, column
        tok.end_line, tok.end_column, tok.end_pos = end_line, end_column, end_pos
        return tok


def _is_name_start(ch: str) -> bool:
    return ch in "$_" or ch.isidentifier()


def _is_name_part(ch: str) -> bool:
    return ch in "$\u200c\u200d" or ("a" + ch).isidentifier()


class LexError(Exception):
    """A lexical error; `recoverable` is False when the rest of the file was swallowed
    (an unclosed comment or template literal), so no later error is worth reporting."""

    def __init__(self, diagnostic: Diagnostic, recoverable: bool = True):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic
        self.recoverable = recoverable


@dataclass
class FrontMatter:
    text: str
    lines: int


# Front matter: in triple backticks (```yaml … ```), or between `---` lines as Markdown writes it
# (no program can start with a `---` line).
_FRONT_MATTER = (re.compile(r"\s*```[^\n]*\n(.*?)^```[^\n]*(\n|$)", re.S | re.M),
                 re.compile(r"\s*---[ \t]*\n(.*?)^---[ \t]*(\n|$)", re.S | re.M))


def split_front_matter(source: str) -> tuple[FrontMatter | None, int]:
    """Optional YAML front matter at the top of the file (see _FRONT_MATTER).

    Returns the front matter and the offset where the program starts.
    """
    m = _FRONT_MATTER[0].match(source) or _FRONT_MATTER[1].match(source)
    if not m:
        return None, 0
    return FrontMatter(m.group(1), source.count("\n", 0, m.end())), m.end()


class Lexer:
    """Turns source text into lark Tokens (see the module docstring)."""

    def __init__(self, source: str, path: str = "<flow>", start: int = 0):
        self.src = source
        self.path = path
        self.pos = start
        self.line = source.count("\n", 0, start) + 1
        self.line_start = source.rfind("\n", 0, start) + 1
        self.braces: list[str] = []  # "block", "obj" or "tpl" per open `{`
        self.templates: list[int] = []  # backtick offsets of templates inside a `${`
        self.tpl_exprs: list[int] = []  # offsets of the open `${`
        self.prev: Token | None = None
        # Per `case`/`default` whose ':' is still to come: the brace depth it is at and the '?'s open there.
        self.cases: list[list[int]] = []
        self.colon_ends_case = False  # the last ':' ended a `case`/`default` (a `{` after it opens a block)
        # The two tokens before `prev`, and whether a line break came before each of the last three.
        self.history: list[Token | None] = [None, None]
        self.breaks: list[bool] = [False, False, False]
        self.async_in_expression = False  # whether the last `async function` is an expression

    # -- helpers -------------------------------------------------------
    def error(self, message: str, pos: int | None = None, width: int = 1, recoverable: bool = True) -> LexError:
        pos = self.pos if pos is None else pos
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1) + 1
        return LexError(Diagnostic(line, col, message, width, self.path), recoverable)

    def make(self, type_: str, value, start: int, start_line: int, start_col: int) -> Token:
        return _Token(type_, value, start, start_line, start_col, self.line, self.pos - self.line_start + 1, self.pos)

    def advance_to(self, end: int) -> None:
        chunk_newlines = self.src.count("\n", self.pos, end)
        if chunk_newlines:
            self.line += chunk_newlines
            self.line_start = self.src.rfind("\n", self.pos, end) + 1
        self.pos = end

    # -- main loop -----------------------------------------------------
    def tokens(self):
        """Every token; arrow parameter lists and `async` arrows are marked once the whole file is seen.

        A lexical error is raised only after the tokens before it, as a one-pass lexer would."""
        toks: list[Token] = []
        error = None
        try:
            for tok in self.scan_tokens():
                toks.append(tok)
        except LexError as e:
            error = e
        mark_arrows(toks)
        yield from toks
        if error is not None:
            raise error

    def scan_tokens(self):
        src = self.src
        n = len(src)
        while True:
            newline = False
            m = _SPACE.match(src, self.pos)
            if m:
                newline = _TERMINATOR.search(src, m.start(), m.end()) is not None
                self.advance_to(m.end())
            if src.startswith("/*", self.pos):
                raise self.error("this comment is never closed: add '*/' where it should end", width=2, recoverable=False)
            if self.pos >= n:
                if self.prev is not None and self.prev.type in RESTRICTED:
                    yield self.emit_auto_semi()
                return
            if newline and self.prev is not None and self.prev.type in RESTRICTED:
                yield self.emit_auto_semi()
            yield self.next_token(newline)

    def emit_auto_semi(self) -> Token:
        column = self.pos - self.line_start + 1
        tok = _Token("SEMI_AUTO", ";", self.pos, self.line, column, self.line, column, self.pos)
        self.remember(tok, True)
        return tok

    def next_token(self, newline: bool) -> Token:
        tok = self.scan(newline)
        self.remember(tok, newline)
        return tok

    def remember(self, tok: Token, newline: bool) -> None:
        self.history = [self.history[1], self.prev]
        self.breaks = [self.breaks[1], self.breaks[2], newline]
        self.prev = tok

    def colon_ends_label(self) -> bool:
        """Whether the `:` just scanned ends a statement label (`outer: {` opens a block)."""
        name, before = self.history[1], self.history[0]
        if name is None or name.type != "NAME":
            return False
        if before is None or before.type in ("SEMI", "SEMI_AUTO", "LBRACE", "RBRACE", "ELSE", "DO", "RPAR"):
            return True
        return self.breaks[1] and before.type in ENDS_OPERAND

    def scan(self, newline: bool) -> Token:
        src, start = self.src, self.pos
        line, col = self.line, self.pos - self.line_start + 1
        ch = src[start]
        prev_type = self.prev.type if self.prev is not None else None

        if ch == "`":
            if prev_type in TAGS:
                raise self.error("a template literal right after a value is a tagged template, which workflows do not "
                                 "support; put a ';' or an operator before the '`'" if newline else
                                 "tagged templates are not supported in workflows; call a function with the template "
                                 "literal as its argument instead")
            self.pos += 1
            return self.template_part(start, line, col, head=True)
        if ch == "}" and self.braces and self.braces[-1] == "tpl":
            self.braces.pop()
            self.tpl_exprs.pop()
            self.pos += 1
            return self.template_part(start, line, col, head=False)
        if ch in "\"'":
            value = self.string(ch)
            return self.make("STRING", value, start, line, col)
        if ch in _DIGITS or (ch == "." and src[start + 1 : start + 2] in _DIGITS_NONEMPTY):
            return self.number(start, line, col)
        if _is_name_start(ch):
            word = self.name(start)
            return self.make(self.word_type(word, prev_type), word, start, line, col)
        if ch == "/" and prev_type not in ENDS_OPERAND:
            return self.make("REGEX", self.regex_literal(start), start, line, col)
        m = _PUNCTUATOR.match(src, start)
        if m:
            p = m.group()
            if p == "?." and src[start + 2 : start + 3] in _DIGITS_NONEMPTY:
                p = "?"  # `a?.5:b` is a conditional, not optional chaining
            self.pos += len(p)
            return self.make(self.punct_type(p, newline, prev_type), p, start, line, col)
        if ch == "\\":
            raise self.error("a backslash can only appear inside a string or a template literal")
        raise self.error(f"unexpected character {describe_char(ch)}; it may only appear inside a string or a comment")

    def name(self, start: int) -> str:
        """Scan an identifier (ASCII fast path; Unicode ID_Continue otherwise)."""
        src, end, n = self.src, start + 1, len(self.src)
        while end < n:
            m = _ASCII_NAME_PART.match(src, end)
            if m:
                end = m.end()
            elif src[end] >= "\x80" and _is_name_part(src[end]):
                end += 1
            else:
                break
        self.pos = end
        return src[start:end]

    def word_type(self, word: str, prev_type: str | None) -> str:
        if prev_type in ("DOT", "QDOT"):
            return "NAME"  # `obj.new`, `x?.default`: any word is a property name
        if word == "async" and not self.next_word_is("function"):
            return "NAME"  # `async` is a keyword only in `async function` (arrows: see mark_arrows)
        if word in KEYWORDS or word in UNSUPPORTED_WORDS:
            if prev_type in ("LBRACE_OBJ", "COMMA") and self.next_is_colon():
                return "NAME"  # `{ default: 1, if: 2 }`
            if word in ("case", "default"):
                self.cases.append([len(self.braces), 0])
            in_expression = prev_type in OPERAND_EXPECTED and not self.colon_starts_statement(prev_type)
            if word == "async":
                self.async_in_expression = in_expression
            elif word == "function" and (in_expression or (prev_type == "ASYNC" and self.async_in_expression)):
                return "FUNCTION_EXPR"
            return KEYWORDS.get(word, "UNSUPPORTED")
        return "NAME"

    def next_word_is(self, word: str) -> bool:
        m = _SPACE.match(self.src, self.pos)
        at = m.end() if m else self.pos
        nxt = _ASCII_NAME.match(self.src, at)
        return nxt is not None and nxt.group() == word

    def next_is_colon(self) -> bool:
        m = _SPACE.match(self.src, self.pos)
        at = m.end() if m else self.pos
        return self.src.startswith(":", at) and not self.src.startswith("::", at)

    def punct_type(self, p: str, newline: bool, prev_type: str | None) -> str:
        if p in ("?", ":") and self.cases and self.cases[-1][0] == len(self.braces):
            self.track_case_colon(p)
        elif p == ":":
            self.colon_ends_case = False
        if p == "{":
            kind = "obj" if prev_type in OPERAND_EXPECTED and prev_type != "ARROW" else "block"
            if self.colon_starts_statement(prev_type):
                kind = "block"
            self.braces.append(kind)
            return "LBRACE_OBJ" if kind == "obj" else "LBRACE"
        if p == "}":
            if self.braces:
                self.braces.pop()
            return "RBRACE"
        if p in ("++", "--") and (newline or prev_type is None or prev_type not in ENDS_OPERAND):
            return "INC_NL" if p == "++" else "DEC_NL"
        return PUNCT_NAMES[p]

    def colon_starts_statement(self, prev_type: str | None) -> bool:
        """After the ':' of a `case`, `default` or label a statement starts (`{` is a block, `function` a declaration)."""
        return prev_type == "COLON" and (self.colon_ends_case or self.colon_ends_label())

    def track_case_colon(self, p: str) -> None:
        """Tell the ':' that ends a `case` from the ':' of a conditional in its expression."""
        pending = self.cases[-1]
        if p == "?":
            pending[1] += 1
        elif pending[1]:
            pending[1] -= 1
            self.colon_ends_case = False
        else:
            self.cases.pop()
            self.colon_ends_case = True

    # -- literals ------------------------------------------------------
    def number(self, start: int, line: int, col: int) -> Token:
        m = _NUMBER.match(self.src, start)
        text = m.group()
        self.advance_to(m.end())
        nxt = self.src[self.pos : self.pos + 1]
        if nxt == "n":
            raise self.error("BigInt literals are not supported in workflows; drop the 'n' (numbers are doubles, "
                             "exact up to 2**53) or keep larger integers in strings", start, len(text) + 1)
        if nxt and (nxt in _DIGITS_NONEMPTY or _is_name_part(nxt)):
            word = self.src[start : self.pos] + self.name(self.pos)
            raise self.error(f"'{word}' is not a valid number or name; a name cannot start with a digit",
                             start, len(word))
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            octal = f"0o{text[1:]} for octal or " if set(text) <= set("01234567") else ""
            raise self.error(f"numbers with a leading zero like '{text}' are not supported; write {octal}"
                             f"{text.lstrip('0') or '0'} for decimal", start, len(text))
        clean = text.replace("_", "")
        if clean[:2].lower() in ("0x", "0o", "0b"):
            integer = int(clean[2:], {"x": 16, "o": 8, "b": 2}[clean[1].lower()])
            try:
                value = float(integer)
            except OverflowError:  # too large for a double: JavaScript reads Infinity
                value = float("inf")
        else:
            value = float(clean)
        return self.make("NUMBER", value, start, line, col)

    def regex_literal(self, start: int) -> str:
        """Scan `/body/flags` (a `/` inside a class or after a backslash does not end the body); the
        token's text is the whole literal, split again by the parser."""
        src, pos = self.src, start + 1
        in_class = False
        while True:
            c = src[pos] if pos < len(src) else "\n"
            if c in _LINE_TERMINATORS:
                raise self.error("this regular expression is never closed: add a closing '/' before the end "
                                 "of the line", start)
            if c == "\\":
                pos += 1 if src[pos + 1 : pos + 2] in ("", *_LINE_TERMINATORS) else 2
                continue
            if c == "/" and not in_class:
                break
            in_class = (in_class and c != "]") or c == "["
            pos += 1
        self.pos = pos + 1
        if self.pos < len(src) and _is_name_part(src[self.pos]):
            self.name(self.pos)
        return src[start : self.pos]

    def string(self, quote: str) -> str:
        src, start = self.src, self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(src) or src[self.pos] in "\r\n":
                raise self.error(f"this string is never closed: add a closing {quote} before the end of the line", start)
            ch = src[self.pos]
            if ch == quote:
                self.pos += 1
                return combine_surrogates("".join(out))
            if ch == "\\":
                out.append(self.escape())
            else:
                out.append(ch)
                self.pos += 1

    def escape(self) -> str:
        """Decode one backslash escape at self.pos (JS rules)."""
        src = self.src
        at = self.pos
        self.pos += 1
        if self.pos >= len(src):
            raise self.error("unfinished escape sequence", at)
        ch = src[self.pos]
        self.pos += 1
        if ch in _SIMPLE_ESCAPES and not (ch == "0" and src[self.pos : self.pos + 1] in _DIGITS_NONEMPTY):
            return _SIMPLE_ESCAPES[ch]
        if ch == "x":
            return self.hex_digits(2, at)
        if ch == "u":
            if src.startswith("{", self.pos):
                end = src.find("}", self.pos)
                digits = src[self.pos + 1 : end] if end > 0 else ""
                if not digits or not re.fullmatch(r"[0-9a-fA-F]+", digits) or int(digits, 16) > 0x10FFFF:
                    raise self.error("invalid unicode escape", at)
                self.pos = end + 1
                return chr(int(digits, 16))
            return self.hex_digits(4, at)
        if ch == "\r" and src.startswith("\n", self.pos):
            ch = "\n"
            self.pos += 1
        if ch in "\r\n\u2028\u2029":
            if ch == "\n":  # lines are numbered at LF only, as diagnostics show them
                self.line += 1
                self.line_start = self.pos
            return ""  # line continuation
        if ch in _DIGITS_NONEMPTY:
            raise self.error("octal escape sequences are not supported in workflows; write \\x or \\u escapes instead", at, 2)
        return ch

    def hex_digits(self, count: int, at: int) -> str:
        digits = self.src[self.pos : self.pos + count]
        if len(digits) != count or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise self.error("invalid escape sequence", at, 2)
        self.pos += count
        return chr(int(digits, 16))

    def template_part(self, start: int, line: int, col: int, head: bool) -> Token:
        """Scan template text up to the closing backtick or the next `${`."""
        src = self.src
        out: list[str] = []
        backtick = start if head else self.templates[-1]
        while True:
            if self.pos >= len(src):
                if head and self.tpl_exprs:  # most likely the `}` of an enclosing `${` is missing
                    raise self.error("this '${' is never closed: add a '}' after the expression", self.tpl_exprs[-1],
                                     2, recoverable=False)
                raise self.error("this template literal is never closed: add a closing '`'", backtick,
                                 recoverable=False)
            ch = src[self.pos]
            if ch == "`":
                self.pos += 1
                kind = "TPL_FULL" if head else "TPL_TAIL"
                if not head:
                    self.templates.pop()
                break
            if ch == "$" and src.startswith("{", self.pos + 1):
                self.tpl_exprs.append(self.pos)
                self.pos += 2
                self.braces.append("tpl")
                kind = "TPL_HEAD" if head else "TPL_MIDDLE"
                if head:
                    self.templates.append(start)
                break
            if ch == "\\":
                out.append(self.escape())
                continue
            if ch == "\r":  # a raw CR or CRLF in template text is a LF, as in JavaScript
                self.pos += 1
                if not src.startswith("\n", self.pos):
                    out.append("\n")
                continue
            if ch == "\n":
                self.line += 1
                self.line_start = self.pos + 1
            out.append(ch)
            self.pos += 1
        text = combine_surrogates("".join(out))
        return self.make(kind, text, start, line, col)


# Tokens that cannot come right before the `(` of arrow parameters (a call, or a statement's condition).
_NOT_BEFORE_ARROW_PARAMS = ENDS_OPERAND | {"IF", "WHILE", "FOR", "CATCH", "FUNCTION", "FUNCTION_EXPR"}


def mark_arrows(toks: list[Token]) -> None:
    """Retype, in place, the `(` of arrow parameters as LPAR_ARROW, and an `async` before arrow
    parameters, a single-name arrow parameter or an object method as ASYNC.

    JavaScript tells `(a, b) => …` from `(a, b)` only at the `=>`; a LALR parser cannot wait that long,
    so the lexer looks: the `)` that closes the `(` must be followed by `=>` on the same line."""
    opened: list[int] = []
    closes: dict[int, int] = {}
    for i, tok in enumerate(toks):
        if tok.type == "LPAR":
            opened.append(i)
        elif tok.type == "RPAR" and opened:
            closes[opened.pop()] = i
    n = len(toks)
    for i, tok in enumerate(toks):
        if tok.type == "LPAR":
            j = closes.get(i)
            if j is None or j + 1 >= n or toks[j + 1].type != "ARROW" or toks[j + 1].line != toks[j].end_line:
                continue
            prev = toks[i - 1] if i else None
            if prev is not None and _is_async_word(prev) and prev.end_line == tok.line:
                prev.type = "ASYNC"
            elif prev is not None and prev.type in _NOT_BEFORE_ARROW_PARAMS:
                continue
            tok.type = "LPAR_ARROW"
        elif _is_async_word(tok) and i + 2 < n and toks[i + 1].line == tok.end_line:
            nxt, after = toks[i + 1], toks[i + 2]
            if nxt.type == "NAME" and after.type == "ARROW" and after.line == nxt.end_line:
                tok.type = "ASYNC"  # async x => …
            elif (i and toks[i - 1].type in ("LBRACE_OBJ", "COMMA") and after.type == "LPAR"
                  and nxt.type in ("NAME", "STRING", "NUMBER")):
                tok.type = "ASYNC"  # { async load() { … } }


def _is_async_word(tok: Token) -> bool:
    return tok.type == "NAME" and tok.value == "async"


def describe_char(ch: str) -> str:
    """A character as a message shows it: visible ones quoted, the rest by code point."""
    code = f"U+{ord(ch):04X}"
    return f"'{ch}' ({code})" if ch.isprintable() and not ch.isspace() else code


def combine_surrogates(text: str) -> str:
    """Join `\\uD83D\\uDE00`-style escaped pairs into one code point, as JS sees them."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
