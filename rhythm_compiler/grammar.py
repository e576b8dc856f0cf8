"""flow.lark as lark's LALR parser, fed by our lexer.

The fast path (`parse._build`) runs this parser's table itself; lark's own
`parse` is used only to explain a syntax error and to measure a tree too deep.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lark import Lark
from lark.lexer import Lexer as LarkLexer

from .caches import writable_cache_dir
from .lex import Lexer


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """lark's LALR analysis of flow.lark takes about a second: its result is cached on disk (keyed by the grammar)."""
    grammar = resources.files("rhythm_compiler").joinpath("flow.lark").read_text()
    folder = writable_cache_dir()
    cache = str(folder / "flow-grammar.lark") if folder else False
    return Lark(grammar, parser="lalr", lexer=_LexerAdapter, propagate_positions=True,
                maybe_placeholders=True, cache=cache)


class _LexerAdapter(LarkLexer):
    """lark's custom-lexer hook: the 'text' handed to lark is our Lexer."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, lexer: Lexer):
        return lexer.tokens()
