"""Tokenize `.flow` source: JavaScript's lexical grammar, hand-written.

JavaScript lexing depends on context (a `/` may start a regex, a `}` may
resume a template literal, a `{` may open a block or an object), which a
regex-table lexer cannot see. This lexer tracks just enough context and hands
lark's LALR parser unambiguous tokens:

* `LBRACE_OBJ` for a `{` that opens an object literal or pattern, `LBRACE`
  for a block, so statements and expressions never conflict;
* `SEMI_AUTO` where JavaScript's restricted productions insert a semicolon
  (`return`/`break`/`continue`/`throw` followed by a line break);
* `INC_NL`/`DEC_NL` for `++`/`--` at the start of a line (always prefix);
* template literals as `TPL_FULL` or `TPL_HEAD expr (TPL_MIDDLE expr)* TPL_TAIL`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token

from .diagnostics import Diagnostic

KEYWORDS = {
    "let": "LET", "const": "CONST", "if": "IF", "else": "ELSE", "while": "WHILE",
    "for": "FOR", "of": "OF", "in": "IN", "do": "DO", "break": "BREAK",
    "continue": "CONTINUE", "return": "RETURN", "try": "TRY", "catch": "CATCH",
    "finally": "FINALLY", "throw": "THROW", "new": "NEW", "typeof": "TYPEOF",
    "await": "AWAIT", "async": "ASYNC", "function": "FUNCTION", "true": "TRUE",
    "false": "FALSE", "null": "NULL",
}

# Reserved words we reject with a message of their own (see parse.UNSUPPORTED).
UNSUPPORTED_WORDS = {
    "var", "class", "import", "export", "with", "yield", "switch", "case",
    "default", "this", "delete", "instanceof", "void", "super", "debugger",
    "enum", "extends", "static", "eval", "arguments",
}

PUNCTUATORS = [
    ">>>=", "...", "===", "!==", "**=", "??=", "&&=", "||=", "<<=", ">>=", ">>>",
    "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "**", "<<", ">>", "&=", "|=", "^=",
    "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%",
    "!", "?", ":", "=", ".", "~", "&", "|", "^", "@", "#",
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
}
# Bitwise and other operators we lex only to reject them clearly.
BITWISE = {">>>=", "<<=", ">>=", ">>>", "<<", ">>", "&=", "|=", "^=", "~", "&", "|", "^", "@", "#"}

# Tokens after which an expression may not end: a following `{` opens an
# object, a following `/` would start a regex.
OPERAND_EXPECTED = {
    "LPAR", "LSQB", "COMMA", "ASSIGN", "COLON", "QMARK", "ARROW", "PLUS", "MINUS",
    "STAR", "SLASH", "PERCENT", "POW", "BANG", "LT", "GT", "LE", "GE", "EQ", "NE",
    "SEQ", "SNE", "AND", "OR", "NULLISH", "TYPEOF", "AWAIT", "RETURN", "THROW",
    "IN", "OF", "ELLIPSIS", "ADD_ASSIGN", "SUB_ASSIGN", "MUL_ASSIGN", "DIV_ASSIGN",
    "MOD_ASSIGN", "POW_ASSIGN", "NULLISH_ASSIGN", "AND_ASSIGN", "OR_ASSIGN",
    "TPL_HEAD", "TPL_MIDDLE", "LET", "CONST", "LBRACE_OBJ", "NEW", "UNSUPPORTED",
}
RESTRICTED = {"RETURN", "BREAK", "CONTINUE", "THROW"}
ENDS_OPERAND = {"NAME", "NUMBER", "STRING", "TPL_FULL", "TPL_TAIL", "RPAR", "RSQB", "RBRACE", "TRUE", "FALSE", "NULL"}

_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[oO][0-7](?:_?[0-7])*|0[bB][01](?:_?[01])*"
    r"|\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?"
    r"|\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?"
)
_NAME = re.compile(r"[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")
_SPACE = re.compile(r"(?:[ \t\f\v\u00a0\ufeff\u2028\u2029]|\r?\n|\r|//[^\n]*|/\*.*?\*/)+", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class LexError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass
class FrontMatter:
    text: str
    lines: int


def split_front_matter(source: str) -> tuple[FrontMatter | None, int]:
    """Optional YAML front matter in triple backticks at the top of the file.

    Returns the front matter and the offset where the program starts.
    """
    m = re.match(r"\s*```[^\n]*\n(.*?)^```[^\n]*(\n|$)", source, re.S | re.M)
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
        self.prev: Token | None = None

    # -- helpers -------------------------------------------------------
    def error(self, message: str, pos: int | None = None, width: int = 1) -> LexError:
        pos = self.pos if pos is None else pos
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1) + 1
        return LexError(Diagnostic(line, col, message, width, self.path))

    def make(self, type_: str, value, start: int, start_line: int, start_col: int) -> Token:
        tok = Token(type_, value, start_pos=start, line=start_line, column=start_col,
                    end_line=self.line, end_column=self.pos - self.line_start + 1, end_pos=self.pos)
        return tok

    def advance_to(self, end: int) -> None:
        chunk_newlines = self.src.count("\n", self.pos, end)
        if chunk_newlines:
            self.line += chunk_newlines
            self.line_start = self.src.rfind("\n", self.pos, end) + 1
        self.pos = end

    # -- main loop -----------------------------------------------------
    def tokens(self):
        src = self.src
        n = len(src)
        while True:
            newline = False
            m = _SPACE.match(src, self.pos)
            if m:
                newline = "\n" in m.group() or "\r" in m.group()
                self.advance_to(m.end())
            if src.startswith("/*", self.pos):
                raise self.error("this comment is never closed with */", width=2)
            if self.pos >= n:
                if self.prev is not None and self.prev.type in RESTRICTED:
                    yield self.emit_auto_semi()
                return
            if newline and self.prev is not None and self.prev.type in RESTRICTED:
                yield self.emit_auto_semi()
            yield self.next_token(newline)

    def emit_auto_semi(self) -> Token:
        tok = Token("SEMI_AUTO", ";", start_pos=self.pos, line=self.line,
                    column=self.pos - self.line_start + 1, end_line=self.line,
                    end_column=self.pos - self.line_start + 1, end_pos=self.pos)
        self.prev = tok
        return tok

    def next_token(self, newline: bool) -> Token:
        tok = self.scan(newline)
        self.prev = tok
        return tok

    def scan(self, newline: bool) -> Token:
        src, start = self.src, self.pos
        line, col = self.line, self.pos - self.line_start + 1
        ch = src[start]
        prev_type = self.prev.type if self.prev is not None else None

        if ch == "`":
            self.pos += 1
            return self.template_part(start, line, col, head=True)
        if ch == "}" and self.braces and self.braces[-1] == "tpl":
            self.braces.pop()
            self.pos += 1
            return self.template_part(start, line, col, head=False)
        if ch in "\"'":
            value = self.string(ch)
            return self.make("STRING", value, start, line, col)
        if ch.isdigit() or (ch == "." and start + 1 < len(src) and src[start + 1].isdigit()):
            return self.number(start, line, col)
        m = _NAME.match(src, start)
        if m:
            word = m.group()
            self.advance_to(m.end())
            return self.make(self.word_type(word, prev_type), word, start, line, col)
        if ch == "/" and prev_type not in ENDS_OPERAND and not src.startswith("/=", start):
            raise self.error(
                "regular expression literals are not supported in workflows; "
                "use string methods such as includes, startsWith, split or replaceAll"
            )
        for p in PUNCTUATORS:
            if src.startswith(p, start):
                if p == "?." and start + 2 < len(src) and src[start + 2].isdigit():
                    continue  # `a?.5:b` is a conditional, not optional chaining
                self.pos += len(p)
                return self.make(self.punct_type(p, newline, prev_type), p, start, line, col)
        raise self.error(f"unexpected character {ch!r}")

    def word_type(self, word: str, prev_type: str | None) -> str:
        if prev_type in ("DOT", "QDOT"):
            return "NAME"  # `obj.new`, `x?.default`: any word is a property name
        if word in KEYWORDS or word in UNSUPPORTED_WORDS:
            if prev_type in ("LBRACE_OBJ", "COMMA") and self.next_is_colon():
                return "NAME"  # `{ default: 1, if: 2 }`
            return KEYWORDS.get(word, "UNSUPPORTED")
        return "NAME"

    def next_is_colon(self) -> bool:
        m = _SPACE.match(self.src, self.pos)
        at = m.end() if m else self.pos
        return self.src.startswith(":", at) and not self.src.startswith("::", at)

    def punct_type(self, p: str, newline: bool, prev_type: str | None) -> str:
        if p in BITWISE:
            return "UNSUPPORTED"
        if p == "{":
            kind = "obj" if prev_type in OPERAND_EXPECTED else "block"
            self.braces.append(kind)
            return "LBRACE_OBJ" if kind == "obj" else "LBRACE"
        if p == "}":
            if self.braces:
                self.braces.pop()
            return "RBRACE"
        if p in ("++", "--") and (newline or prev_type is None or prev_type not in ENDS_OPERAND):
            return "INC_NL" if p == "++" else "DEC_NL"
        return PUNCT_NAMES[p]

    # -- literals ------------------------------------------------------
    def number(self, start: int, line: int, col: int) -> Token:
        m = _NUMBER.match(self.src, start)
        text = m.group()
        self.advance_to(m.end())
        nxt = self.src[self.pos : self.pos + 1]
        if nxt == "n":
            raise self.error("BigInt literals are not supported in workflows; numbers are IEEE doubles", start, len(text) + 1)
        if nxt and (nxt.isalnum() or nxt in "_$"):
            raise self.error(f"invalid number literal {text + nxt!r}", start, len(text) + 1)
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            raise self.error("legacy octal literals are not supported; write 0o17 for octal", start, len(text))
        clean = text.replace("_", "")
        if clean[:2].lower() in ("0x", "0o", "0b"):
            value = float(int(clean[2:], {"x": 16, "o": 8, "b": 2}[clean[1].lower()]))
        else:
            value = float(clean)
        return self.make("NUMBER", value, start, line, col)

    def string(self, quote: str) -> str:
        src, start = self.src, self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(src) or src[self.pos] in "\r\n":
                raise self.error("this string is never closed", start)
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
        if ch in _SIMPLE_ESCAPES and not (ch == "0" and src[self.pos : self.pos + 1].isdigit()):
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
            self.pos += 1
        if ch in "\r\n\u2028\u2029":
            self.line += 1
            self.line_start = self.pos
            return ""  # line continuation
        if ch.isdigit():
            raise self.error("octal escape sequences are not supported", at, 2)
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
        while True:
            if self.pos >= len(src):
                raise self.error("this template literal is never closed", start)
            ch = src[self.pos]
            if ch == "`":
                self.pos += 1
                kind = "TPL_FULL" if head else "TPL_TAIL"
                break
            if ch == "$" and src.startswith("{", self.pos + 1):
                self.pos += 2
                self.braces.append("tpl")
                kind = "TPL_HEAD" if head else "TPL_MIDDLE"
                break
            if ch == "\\":
                out.append(self.escape())
                continue
            if ch == "\n":
                self.line += 1
                self.line_start = self.pos + 1
            out.append(ch)
            self.pos += 1
        text = combine_surrogates("".join(out).replace("\r\n", "\n"))
        return self.make(kind, text, start, line, col)


def combine_surrogates(text: str) -> str:
    """Join `\\uD83D\\uDE00`-style escaped pairs into one code point, as JS sees them."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
