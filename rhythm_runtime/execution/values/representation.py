"""How JavaScript values are held in Python (the table in the package docstring):
the value types, the JSThrow every layer raises and its error constructors, and
V8's limits.  The bottom layer: nothing else in the package is imported while it
loads."""

from __future__ import annotations

import math


class Undefined:
    """The type of ``UNDEFINED``: a falsy singleton that survives copying."""

    __slots__ = ()
    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return (Undefined, ())


UNDEFINED = Undefined()


class JSError:
    """An Error object.

    ``name`` and ``message`` are strings: the error's name and message as
    ``String(e)`` shows them.  ``props`` holds the own enumerable properties
    a script adds later (``e.code = 5``), which are all ``JSON.stringify``
    shows.  As in JS, assigning ``e.name`` adds an enumerable ``name`` (it
    lives on the prototype until then): it goes to ``props`` with the value
    as assigned, and ``name`` follows it as a string.
    """

    __slots__ = ("name", "message", "props", "hidden")

    def __init__(self, name: str, message: str = "", props: dict | None = None, hidden: dict | None = None):
        self.name = name
        self.message = message
        self.props = {} if props is None else props
        # non-enumerable own properties (AggregateError's `errors`, `cause`): readable, not in JSON
        self.hidden = hidden

    def __repr__(self) -> str:
        return f"JSError({self.name!r}, {self.message!r}, {self.props!r})"


class Promise:
    """A handle on something the runtime resolves: a leaf (``key`` names it)
    or a combinator over ``items``.  Compared by identity, like JS objects.

    ``born`` (combinators only): the highest settlement seq the run had seen
    when the combinator was made; items settled by then count as settled at
    its creation, so they take part in array order, as in JavaScript.

    Code shape 6 on (execution/promises.py) promises are JavaScript's own:
    ``state`` is "pending", "locked" (resolved with another promise, not yet
    settled), "fulfilled" or "rejected", ``value`` the result or reason,
    ``reactions`` what runs when it settles.  Older shapes leave ``state``
    None and settle lazily (execution/machine.py)."""

    __slots__ = ("kind", "key", "items", "born", "state", "value", "reactions")

    def __init__(self, kind: str, key: str | None = None, items: list | None = None, born: int | None = None,
                 state: str | None = None, value=None, reactions: list | None = None):
        self.kind = kind
        self.key = key
        self.items = items
        self.born = born
        self.state = state
        self.value = UNDEFINED if value is None else value
        self.reactions = reactions

    def __repr__(self) -> str:
        if self.state is not None:
            return f"Promise({self.kind!r}, {self.key!r}, {self.state})"
        return f"Promise({self.kind!r}, {self.key!r}, {self.items!r})"


class JSFunction:
    """A built-in function as a value: a global (``Math.max``; ``this`` is
    UNDEFINED), a method read from a value (``arr.push``: ``this`` is that
    value, see is_method_value), or a function made at run time from data it
    carries in ``this`` (a bound function, a promise's resolving function).
    ``impl(this, args)`` runs it."""

    __slots__ = ("name", "this", "impl")

    def __init__(self, name: str, this, impl):
        self.name = name
        self.this = this
        self.impl = impl

    def __repr__(self) -> str:
        return f"<JSFunction {self.name}>"


# The built-in methods by receiver type ({list: {"push": impl, …}, …}); each module that defines a table
# adds it. Read as a value (`arr.push`), such a method is its prototype's function, as in JavaScript: it is
# not bound to the value it was read from, so only `call`, `apply` and `bind` give it a receiver.
RECEIVER_METHODS: dict = {}


def is_method_value(fn: JSFunction) -> bool:
    """Whether `fn` is a built-in method read from a value (not a global, a bound or a resolving function)."""
    table = RECEIVER_METHODS.get(type(fn.this))
    return table is not None and table.get(fn.name) is fn.impl


# A method's name where V8's differs from the name it was read by.
_ALIASES = {"trimLeft": "trimStart", "trimRight": "trimEnd"}


def native_function_name(fn: JSFunction) -> str:
    """JavaScript's `name` of a JSFunction that is not bound: a global's last part, a method's own name (V8's,
    where it was read by an alias), "" for a promise's resolving function."""
    if fn.this is UNDEFINED:
        return fn.name.rpartition(".")[2]
    if not is_method_value(fn):  # a promise's resolving function
        return ""
    if type(fn.this) is JSSet and fn.name == "keys":
        return "values"
    return _ALIASES.get(fn.name, fn.name)


def is_shared_function(fn: JSFunction) -> bool:
    """Whether `fn` is one of JavaScript's built-in functions, the same function however often it is read
    (`[].push === list.push`): a global or a method value. Other JSFunctions are made at run time, each
    a function of its own."""
    return fn.this is UNDEFINED or is_method_value(fn)


class JSRegExp:
    """A RegExp object: the pattern as written (``source``), its flags in
    canonical order (``dgimsuy``) and ``lastIndex`` (any JS value a script
    stored there).  The compiled matcher is looked up by (source, flags), so
    the object is plain data, as a snapshot stores it."""

    __slots__ = ("source", "flags", "last_index")

    def __init__(self, source: str, flags: str, last_index=0.0):
        self.source = source
        self.flags = flags
        self.last_index = last_index

    def __repr__(self) -> str:
        return f"JSRegExp({self.source!r}, {self.flags!r}, {self.last_index!r})"


class MatchArray(list):
    """An array with named properties: what ``exec`` and ``match`` return
    (``index``, ``input``, ``groups``, ``indices``) and the ``indices``
    array of the ``d`` flag (``groups``).  Everything else treats it as the
    array it is."""

    __slots__ = ("props",)

    def __init__(self, items, props: dict):
        super().__init__(items)
        self.props = props

    def __repr__(self) -> str:
        return f"MatchArray({list(self)!r}, {self.props!r})"


class JSClosure:
    """A function of the workflow: the id of its code in the generated module
    and the environment record it captured (shared, by reference, with every
    other closure and scope that sees it).  Compared by identity.

    ``invoke(fn, args)`` and ``describe(fn)`` are installed by the layer that
    runs generated code (execution/frames.py), which knows the module."""

    __slots__ = ("fid", "env")

    def __init__(self, fid: int, env):
        self.fid = fid
        self.env = env

    def __repr__(self) -> str:
        return f"<JSClosure f{self.fid}>"

    @staticmethod
    def invoke(fn, args):
        raise type_error("functions can only be called while the workflow runs")

    @staticmethod
    def describe(fn) -> tuple[str, int, str]:
        """(name, parameter count, source text) of the function."""
        return "", 0, "function () { [native code] }"


class JSMap:
    """A Map: ``data`` maps each key's token (see collections.key_token: keys
    compare as SameValueZero, objects by identity) to its ``[key, value]``,
    in insertion order, as JavaScript iterates it."""

    __slots__ = ("data",)

    def __init__(self):
        self.data: dict = {}

    def __repr__(self) -> str:
        return f"JSMap({list(self.data.values())!r})"


class JSSet:
    """A Set: ``data`` maps each value's token to ``[value]``, in insertion order."""

    __slots__ = ("data",)

    def __init__(self):
        self.data: dict = {}

    def __repr__(self) -> str:
        return f"JSSet({[cell[0] for cell in self.data.values()]!r})"


class JSDate:
    """A Date: its time value, milliseconds since 1970 UTC as a float (NaN: an invalid date); see date_time."""

    __slots__ = ("time",)

    def __init__(self, time: float):
        self.time = time

    def __repr__(self) -> str:
        return f"JSDate({self.time!r})"


class Env(dict):
    """An environment record: the captured variables of one scope instance,
    with ``"@up"`` the enclosing record.  Reading a variable before its
    declaration ran is JavaScript's ReferenceError (the temporal dead zone)."""

    __slots__ = ()

    def __missing__(self, name):
        raise JSThrow(JSError("ReferenceError", f"Cannot access '{name}' before initialization"))

    def __repr__(self) -> str:
        return f"Env({dict.__repr__(self)})"


class JSThrow(Exception):
    """A JavaScript ``throw``; ``value`` is the thrown JS value."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value

    # How a thrown value reads as text; json_text.py, which sits above this
    # layer (it needs String() and JSON.stringify), installs the real one.
    describe = staticmethod(repr)

    def __str__(self) -> str:
        return JSThrow.describe(self.value)


def type_error(message: str) -> JSThrow:
    """A ``TypeError`` ready to raise: ``raise type_error(...)``."""
    return JSThrow(JSError("TypeError", message))


def range_error(message: str) -> JSThrow:
    return JSThrow(JSError("RangeError", message))


def reference_error(message: str) -> JSThrow:
    return JSThrow(JSError("ReferenceError", message))


def syntax_error(message: str) -> JSThrow:
    return JSThrow(JSError("SyntaxError", message))


NAN = math.nan
INF = math.inf
_MAX_SAFE = 9007199254740992.0  # 2**53
_MAX_STRING_LENGTH = 2**29 - 24  # V8's limit on 64-bit machines
_MAX_ARRAY_INDEX = 2**32 - 2
# Arrays are dense lists, so a write far past the end would allocate every
# hole; cap the length such writes may produce (a documented deviation).
_MAX_HOLEY_LENGTH = 2**24
_ABSENT = object()  # "no argument at all", where JS tells it from undefined
