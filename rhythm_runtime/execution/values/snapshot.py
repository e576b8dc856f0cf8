"""The snapshot codec: any graph of JS values as JSON a person can read, and
back."""

from __future__ import annotations

import math
import sys
from itertools import chain, count, filterfalse, repeat
from json.encoder import c_make_encoder, encode_basestring_ascii
from operator import is_, methodcaller

from .representation import (
    INF, NAN, RECEIVER_METHODS, UNDEFINED, Env, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet,
    MatchArray, Promise, is_method_value,
)
from .number_text import number_to_string
from .methods import _FREE_FUNCTIONS, _RESOLVING_FUNCTIONS
from .global_objects import global_function
from .collections import _map_set, _set_add


# A snapshot is the JSON that Postgres stores at every step and a person
# reads while debugging, so plain data encodes as itself and only what JSON
# cannot say is tagged, as an object with a "$" key:
#
#   {"$": "undefined"}   {"$": "NaN"}   {"$": "Infinity"}   {"$": "-Infinity"}
#   {"$": "-0"}
#   {"$": "error", "name": …, "message": …, "props": {…}}      (props if any)
#   {"$": "promise", "kind": …, "key": …, "items": […]}        (items if any)
#        code shape 6 on also "state": "pending"|"locked"|"fulfilled"|"rejected",
#        "value": … (once settled or locked) and "reactions": [[…], …] (if any)
#   {"$": "function", "name": "push", "this": <receiver>}   a method value
#   {"$": "function", "name": "Math.floor"}                  a global one
#   {"$": "regexp", "source": …, "flags": …, "lastIndex": …}     a RegExp
#   {"$": "match", "items": […], "props": {…}}   an exec/match result
#   {"$": "closure", "fn": 3, "env": <environment>}   a function of the workflow:
#        its code's id in the generated module, the environment it captured
#   {"$": "env", "vars": {"count": 1, "@up": <environment>}}   an environment
#        record: the captured variables of one scope instance
#   {"$": "map", "entries": [[key, value], …]}   a Map, in insertion order
#   {"$": "set", "items": […]}                   a Set, in insertion order
#   {"$": "date", "time": ms}                    a Date (ms since 1970 UTC; {"$": "NaN"} if invalid)
#   {"$": "object", "value": {…}}     a script object that has a "$" key
#   {"$": "shared", "id": 1, "value": <container>}   first sight of a
#   {"$": "ref", "id": 1}                            container reached twice
#
# Beside a frame's locals "L" (the snapshot's data, a frame record of
# execution/frames.py), "K" lists the slots whose encoding is self-contained:
# no shared definition or reference, no promise inside.  An activation keeps
# those encoded (Locals) until the code reads them, and writes a slot nobody
# read back as the very same encoding: what a step did not touch is neither
# decoded nor encoded again.  "K" is optional both ways: a snapshot without
# it decodes everything, and a reader that ignores it decodes everything.
#
# Numbers are written as JSON numbers (Python's repr round-trips exactly);
# JSON integers, which Postgres may hand back for big values, decode as floats.

_AS_IS = frozenset({str, bool, type(None)})
_DECODED_AS_IS = frozenset({str, bool, float, type(None)})


class Locals(dict):
    """A frame's locals during an activation: the slots in ``kept`` are still
    their self-contained snapshot encoding, decoded alone when first read.
    A kept slot nobody read is written back as that encoding (see "K" above):
    nothing but a read can reach its containers, so it cannot have changed."""

    __slots__ = ("kept", "order", "warm", "lists", "encs", "pieces", "stable", "seq")

    def __init__(self, decoded=(), kept: dict | None = None, order: dict | None = None, warm: dict | None = None):
        super().__init__(decoded)
        self.kept = {} if kept is None else kept
        self.order = order  # with kept slots: the snapshot's slot order (a person reads them in it)
        self.warm = warm  # kept slots' values as the previous step left them (reuse_activation): no decoding
        # slots holding lists of flat objects: what they were encoded as (_ListMemo); None but for a warm step's
        self.lists: dict | None = None
        # each slot's encoding as encode_body last wrote it, and its `"name":text` (None until then)
        self.encs: dict | None = None
        self.pieces: dict | None = None
        self.stable: tuple | None = None  # the slots encode_body need not encode again (see there)
        self.seq: tuple | None = None  # the run's await counters as a warm step wrote them (frames.Run.seq_text)

    def __missing__(self, name):
        encoding = self.kept.pop(name)  # KeyError, as a dict's, if not kept either
        warm = self.warm
        value = self[name] = warm.pop(name) if warm and name in warm else decode_snapshot(encoding)
        return value

    def forget_written(self) -> None:
        """Stop keeping the slots the code assigned without reading them first (a plain dict write)."""
        for name in self.kept.keys() & dict.keys(self):
            del self.kept[name]
            if self.warm:
                self.warm.pop(name, None)

    def pop(self, name, *default):
        """(flowops.drop: a slot leaving scope leaves the snapshot, kept or not)"""
        self.kept.pop(name, None)
        if self.warm:
            self.warm.pop(name, None)
        if self.lists:
            self.lists.pop(name, None)
        if self.order is not None and name in self.order:  # (a copy: the order may be a snapshot's slots)
            self.order = order = dict(self.order)
            del order[name]
        return super().pop(name, *default)


def encode_snapshot(value, live: set | None = None, texts: dict | None = None, growing: frozenset | None = None):
    """JSON-ready data for any graph of JS values, in one pass.

    Every container's encoding is put into its holder (the output list or
    dict, or the root holder) before its members are encoded, and where it
    was put is remembered.  Reaching a container a second time, whether
    through sharing or a cycle, wraps that first placement in place into
    ``{"$": "shared", "id": n, "value": …}`` and writes ``{"$": "ref", "id":
    n}`` here; the definition thus always sits where the container was first
    reached.  Shared ids are numbered in the order sharing is discovered.

    ``live``: a set that receives the await key of every unsettled leaf
    promise met, i.e. what the snapshot still reaches (the store drops the
    rest), so that costs no second walk.

    ``texts``: a dict that receives id(a Locals' encoding) -> {slot: the JSON
    text of its encoding}, for the slots whose text a _ListMemo knows
    (machine.snapshot_text splices them in rather than serializing them).

    ``growing``: the slots whose lists are all a body may have changed
    since its previous step, by pushing onto them (execution/effects.py):
    their _ListMemo then holds without comparing the items it knows.

    Raises RecursionError for data nested deeper than decode_snapshot could
    read back (see _Encoding.put)."""
    top = [value]
    if type(value) not in _AS_IS:
        encoding = _Encoding(live, texts, growing)
        try:
            encoding.put(value, top, 0, 0)
            encoding.mark_kept()
        except _Reached:  # (rare) encoded again as without `growing`, which then finds where the item is shared
            if live is not None:
                live.clear()
            return encode_snapshot(value, live, texts)
    return top[0]


def encode_body(v: Locals, waits: Promise, live: set, growing: frozenset | None = None) -> tuple[dict, str] | None:
    """encode_snapshot of a warm step's usual roots, ``{"L": v, "W": waits, "C": {}}`` (the body awaiting
    one leaf promise, no completion pending), with the JSON text of that data, written from the slots'
    texts: a slot whose encoding is the very one the last call wrote (a kept slot nobody read) keeps its
    text (``v.encs``, ``v.pieces``), so only the slots the step read or wrote are looked at and only what
    it encoded is serialized. In a body that changes no container
    (``growing`` empty: execution/effects.py), the slots that share containers (``Inputs`` and what was
    read from it, say) are not encoded again either while they hold the very same values (``v.stable``),
    if nothing the step encoded reaches their containers. None if ``waits`` is reached from a slot too
    (encode the usual way)."""
    stable = v.stable if growing is not None and not growing else None
    if stable is not None and not all(dict.get(v, name) is x for name, x in stable[0].items()):
        stable = None
    if growing is not None and not growing:
        body = _flat_body(v, waits, live, stable)
        if body is not None:
            return body
    encoding = _Encoding(live, {}, growing)
    if stable is not None:
        encoding.stable = {name: v.encs[name] for name in stable[0]}
    data = {"L": None, "W": None, "C": {}}
    try:
        encoding.frame_locals(v, data, "L", _DICT_FRAMES)
        if stable is not None and (encoding.shared or not stable[1].isdisjoint(encoding.places)):
            v.stable = None  # (what the step encoded shares one of their containers)
            live.clear()
            return encode_body(v, waits, live, growing)
        if id(waits) in encoding.places:
            live.clear()
            return None
        encoding.put(waits, data, "W", _DICT_FRAMES)
        encoding.mark_kept()
    except _Reached:
        live.clear()
        return None
    out = data["L"]
    encs, pieces, kept = v.encs, v.pieces, v.kept
    if encs is None or not all(map(is_, map(encs.get, kept), kept.values())):
        encs, pieces = v.encs, v.pieces = {}, {}  # (texts of another encoding: every slot's is written)
        touched = out
    else:  # (the kept slots nobody read: their encodings, hence their pieces, are the ones written last)
        touched = filterfalse(kept.__contains__, out) if kept else out
    lists = encoding.texts.get(id(out)) or {}
    for name in touched:
        x = out[name]
        if encs.get(name, _UNKNOWN) is not x:
            text = lists.get(name)
            if text is None:
                text = float.__repr__(x) if type(x) is float else _json_text(x)
            encs[name], pieces[name] = x, f"{encode_basestring_ascii(name)}:{text}"
    if stable is None and growing is not None and not growing:
        v.stable = _stable(v, encoding.locals[0][1])
    names = data.get("K")
    end = "}" if names is None else f',"K":[{",".join(map(encode_basestring_ascii, names))}]}}'
    return data, f'{{"L":{{{",".join(map(pieces.__getitem__, out))}}},"W":{_leaf_text(data["W"])},"C":{{}}{end}'


_UNKNOWN = object()  # (what encode_body finds for a slot it wrote no text for: not even null)


def _flat_body(v: Locals, waits: Promise, live: set, stable: tuple | None) -> tuple[dict, str] | None:
    """encode_body's result, without the general encoder, for the usual warm step of a body that changes no
    container: the step read or wrote numbers, strings, booleans, nulls and plain objects of those alone (a
    task's result, say), each held by one slot, besides the ``stable`` slots (still their own values); such
    an object encodes as a copy of itself, is self-contained and joins "K". None for anything else (encode
    the general way: it gives the same snapshot)."""
    encs, pieces, kept = v.encs, v.pieces, v.kept
    if encs is None or waits.born is not None or waits.items is not None or waits.state != "pending" \
            or type(waits.key) is not str:
        return None
    if kept:
        v.forget_written()
        if not all(map(is_, map(encs.get, kept), kept.values())):
            return None
    out = dict(v) if v.order is None else _in_order(v)
    shared, reached = stable if stable is not None else (_NO_SLOTS, _NO_SLOTS)
    objects, texts = [], []
    for name in filterfalse(kept.__contains__, out) if kept else out:
        x = out[name]
        if encs.get(name, _UNKNOWN) is x or name in shared:  # (unchanged: a number not reassigned, a stable slot)
            out[name] = encs[name]
            continue
        t = type(x)
        if t is dict:
            text = _flat_text(x)
            if text is None or id(x) in reached:
                return None
            reached = {*reached, id(x)}  # (one slot each: a second one would share it)
            out[name] = x = x.copy()
            objects.append(name)
        elif t is float:
            if x - x != 0 or not x and math.copysign(1.0, x) < 0:  # (NaN, an infinity, -0: tagged)
                return None
            text = float.__repr__(x)
        elif t is str or t is bool or x is None:
            text = _json_text(x)
        else:
            return None
        texts.append((name, x, text))
    for name, x, text in texts:
        encs[name], pieces[name] = x, f"{encode_basestring_ascii(name)}:{text}"
    kind, key = waits.kind, waits.key
    live.add(key)
    data = {"L": out, "W": {"$": "promise", "kind": kind, "key": key, "state": "pending"}, "C": {}}
    names = [*kept, *objects]
    end = "}"
    if names:
        data["K"] = names
        end = f',"K":[{",".join(map(encode_basestring_ascii, names))}]}}'
    return data, f'{{"L":{{{",".join(map(pieces.__getitem__, out))}}},"W":{_pending_text(kind, key)},"C":{{}}{end}'


_NO_SLOTS: dict = {}


def _flat_text(x: dict) -> str | None:
    """The JSON text of a plain object of strings, booleans, nulls and numbers, which encodes as a copy of itself;
    None for anything else (a "$" key, NaN, an infinity or -0, which are tagged, a container)."""
    if "$" in x or not _FLAT_SCALARS.issuperset(map(type, x.values())):
        return None
    try:
        text = _json_text(x)
    except ValueError:  # (NaN or an infinity: the encoder allows neither)
        return None
    return None if ":-0.0," in text or ":-0.0}" in text else text  # (-0, or a string that reads so: either way)


_FLAT_SCALARS = frozenset({str, float, bool, type(None)})


def _stable(v: Locals, slots: list) -> tuple[dict, set] | None:
    """(the slots of `v` whose encodings share containers, by value; the ids of those containers), if every
    shared container and no promise is in those (a promise changes as it settles), else None."""
    shared = {name: dict.__getitem__(v, name) for name, owner in slots if owner[0]}
    pieces = v.pieces
    if not shared or any('"$":"promise"' in pieces[name] for name in shared):
        return None
    reach = _Encoding()
    for name, x in shared.items():
        reach.put(x, [None], 0, 0)
    return shared, set(reach.places)


def _leaf_text(encoding: dict) -> str:
    """The JSON text of a promise's encoding (a pending leaf's written here)."""
    if len(encoding) == 4 and encoding.get("state") == "pending" and type(encoding["key"]) is str:
        return _pending_text(encoding["kind"], encoding["key"])
    return _json_text(encoding)


def _pending_text(kind: str, key: str) -> str:
    """The JSON text of a pending leaf promise's encoding."""
    return f'{{"$":"promise","kind":{encode_basestring_ascii(kind)},"key":{encode_basestring_ascii(key)},"state":"pending"}}'


class _Reached(Exception):
    """An item of a list reused without comparing its items (`growing`) was reached elsewhere too."""


# Python frames decode_snapshot spends between a container and its members
# (e.g. _decode -> _decode_list -> <listcomp> -> _decode for a list; a tagged
# object adds _decode_container), and how
# many frames below the recursion limit encode_snapshot leaves for callers.
_LIST_FRAMES, _DICT_FRAMES, _TAGGED_FRAMES, _PROMISE_FRAMES, _FUNCTION_FRAMES = 3, 3, 4, 4, 2
_CALLER_FRAMES = 100


class _Encoding:
    """The state of one encode_snapshot call."""

    __slots__ = ("places", "shared", "limit", "live", "owner", "locals", "reused", "texts", "growing", "grown",
                 "stable")

    def __init__(self, live: set | None = None, texts: dict | None = None, growing: frozenset | None = None):
        # id(container) -> [holder, slot, shared id or 0, owner]; the containers
        # are all reachable from the value being encoded, so their ids are stable.
        self.places: dict[int, list] = {}
        self.shared = 0
        self.limit = sys.getrecursionlimit() - _CALLER_FRAMES
        self.live = set() if live is None else live
        # The Locals slot being encoded: [True] once it holds a promise or a shared container (its
        # encoding is then not self-contained); None outside a Locals.
        self.owner: list | None = None
        self.locals: list[tuple] = []  # (holder, [(slot, owner)], kept slots, the Locals, its encoding)
        self.reused: dict[int, int] = {}  # id(a list's encoding) -> how many items it took from its _ListMemo
        self.texts = texts
        self.growing = growing
        self.grown: list = []  # the _ListMemos reused because their slot is `growing` (items not in `places`)
        self.stable: dict | None = None  # slots written as these encodings (encode_body's), not encoded

    def put(self, v, holder, slot, depth: int) -> None:
        """Write the encoding of ``v`` (anything but a str, bool or None) to
        ``holder[slot]``.

        ``depth`` counts the frames decode_snapshot will need to reach ``v``
        when the snapshot is read back; data past the recursion limit is
        refused here rather than stored and found unreadable at the next
        step.  (A shared definition or a reference decoded before it may
        cost decoding a few frames more; _CALLER_FRAMES covers that.)"""
        t = type(v)
        if t is float:
            holder[slot] = v if v - v == 0 and v else _encode_number(v)
            return
        if v is UNDEFINED:
            holder[slot] = {"$": "undefined"}
            return
        if t is JSFunction:
            if v.this is UNDEFINED:
                holder[slot] = {"$": "function", "name": v.name}
                return
            if is_method_value(v):  # a built-in method has no identity of its own to keep (strict_eq)
                self.function(v, holder, slot, depth)
                return
        places = self.places
        key = id(v)
        place = places.get(key)
        if place is not None:  # reached before: shared, or a cycle
            if place[3] is not None:
                place[3][0] = True
            if self.owner is not None:
                self.owner[0] = True
            n = place[2]
            if not n:
                n = place[2] = self.shared = self.shared + 1
                first, first_slot = place[0], place[1]
                first[first_slot] = {"$": "shared", "id": n, "value": first[first_slot]}
            holder[slot] = {"$": "ref", "id": n}
            return
        if depth > self.limit:
            raise RecursionError("the snapshot data is nested too deeply")
        places[key] = [holder, slot, 0, self.owner]
        if t is list:
            holder[slot] = out = v.copy()
            self.items(out, depth + _LIST_FRAMES)
        elif t is dict:
            out = v.copy()
            if "$" in v:
                holder[slot] = {"$": "object", "value": out}
                self.members(out, depth + _TAGGED_FRAMES)
            else:
                holder[slot] = out
                self.members(out, depth + _DICT_FRAMES)
        else:
            _ENCODERS.get(t, _Encoding.unknown)(self, v, holder, slot, depth)

    def items(self, out: list, depth: int, start: int = 0) -> None:
        """Encode in place the items of ``out``, a copy of a list (or a fresh list of the encoding), from
        index ``start``."""
        places, owner = self.places, self.owner
        for i, x in enumerate(out[start:] if start else out, start):
            t = type(x)
            if t is str or t is bool or x is None or (t is float and x - x == 0 and x):
                continue
            if t is dict and "$" not in x and id(x) not in places and depth < self.limit:  # put's, inline
                places[id(x)] = [out, i, 0, owner]
                out[i] = x = x.copy()
                self.members(x, depth + _DICT_FRAMES)
                continue
            self.put(x, out, i, depth)

    def members(self, out: dict, depth: int) -> None:
        """Encode in place the values of ``out``, a copy of a dict."""
        places, owner = self.places, self.owner
        for k, x in out.items():
            t = type(x)
            if t is str or t is bool or x is None or (t is float and x - x == 0 and x):
                continue
            if t is dict and "$" not in x and id(x) not in places and depth < self.limit:  # put's, inline
                places[id(x)] = [out, k, 0, owner]
                out[k] = x = x.copy()
                self.members(x, depth + _DICT_FRAMES)
                continue
            self.put(x, out, k, depth)

    def unknown(self, v, holder, slot, depth: int) -> None:
        raise TypeError(f"{type(v).__name__} is not a JavaScript value")

    def error(self, v: JSError, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "error", "name": v.name, "message": v.message}
        if v.props:
            out["props"] = props = v.props.copy()
            self.members(props, depth + _TAGGED_FRAMES)
        if v.hidden:
            out["hidden"] = hidden = v.hidden.copy()
            self.members(hidden, depth + _TAGGED_FRAMES)

    def function(self, v: JSFunction, holder, slot, depth: int) -> None:
        this = v.this
        holder[slot] = out = {"$": "function", "name": v.name, "this": this}
        if type(this) not in _AS_IS:
            self.put(this, out, "this", depth + _FUNCTION_FRAMES)

    def regexp(self, v: JSRegExp, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "regexp", "source": v.source, "flags": v.flags, "lastIndex": v.last_index}
        if type(v.last_index) not in _AS_IS:
            self.put(v.last_index, out, "lastIndex", depth + _TAGGED_FRAMES)

    def match(self, v: MatchArray, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "match", "items": v.copy(), "props": v.props.copy()}
        depth += _PROMISE_FRAMES
        self.items(out["items"], depth)
        self.members(out["props"], depth)

    def promise(self, v: Promise, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "promise", "kind": v.kind, "key": v.key}
        if v.born is not None:
            out["born"] = v.born
        depth += _PROMISE_FRAMES
        if v.items is not None:
            out["items"] = items = v.items.copy()
            self.items(items, depth)
        if self.owner is not None:
            self.owner[0] = True
        state = v.state
        if v.key is not None and (state is None or state == "pending"):
            self.live.add(v.key)
        if state is not None:
            out["state"] = state
            if state != "pending":
                out["value"] = value = v.value
                if type(value) not in _AS_IS:
                    self.put(value, out, "value", depth)
            if v.reactions:
                self.put(v.reactions, out, "reactions", depth)

    def closure(self, v: JSClosure, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "closure", "fn": v.fid, "env": v.env}
        if v.env is not None:
            self.put(v.env, out, "env", depth + _TAGGED_FRAMES)

    def env(self, v: Env, holder, slot, depth: int) -> None:
        holder[slot] = {"$": "env", "vars": (out := dict(v))}
        self.members(out, depth + _TAGGED_FRAMES)

    def map(self, v: JSMap, holder, slot, depth: int) -> None:
        # fresh lists made for the encoding: not the script's containers, never shared, never in `places`
        holder[slot] = {"$": "map", "entries": (pairs := [[k, x] for k, x in v.data.values()])}
        for pair in pairs:
            self.items(pair, depth + _PROMISE_FRAMES)

    def date(self, v: JSDate, holder, slot, depth: int) -> None:
        holder[slot] = out = {"$": "date", "time": v.time}
        if v.time != v.time:  # an invalid date
            self.put(v.time, out, "time", depth + _TAGGED_FRAMES)

    def set(self, v: JSSet, holder, slot, depth: int) -> None:
        holder[slot] = {"$": "set", "items": (items := [cell[0] for cell in v.data.values()])}
        self.items(items, depth + _PROMISE_FRAMES)

    def frame_locals(self, v: Locals, holder, slot, depth: int) -> None:
        """A frame's locals: every slot read or written is encoded, each with an owner flag; the kept
        ones are written back as they were."""
        kept = v.kept
        if kept:
            v.forget_written()
        holder[slot] = out = dict(v) if v.order is None else _in_order(v)
        depth += _DICT_FRAMES
        slots = []
        outer = self.owner
        for name in filterfalse(kept.__contains__, out) if kept else out:
            x = out[name]
            t = type(x)
            if t is str or t is bool or x is None or (t is float and x - x == 0 and x):
                continue
            if t is float or x is UNDEFINED:  # a tagged number or undefined: not worth keeping
                self.put(x, out, name, depth)
                continue
            if self.stable is not None and name in self.stable:
                out[name] = self.stable[name]
                continue
            self.owner = owner = [False]
            memo = v.lists.get(name) if v.lists and t is list else None
            if memo is None or not self.reuse(x, memo, out, name, depth):
                self.put(x, out, name, depth)
            slots.append((name, owner))
        self.owner = outer
        if slot == "L" and type(holder) is dict:
            self.locals.append((holder, slots, kept, v, out))

    def reuse(self, v: list, memo: "_ListMemo", holder, slot, depth: int) -> bool:
        """Encode a list that a warm step's slot held as ``memo``'s encoding of its first items, which are
        still the very objects with the very keys and values encoded then, plus its new items; or do
        nothing and say False. Its items' places are taken as put() takes them, so a second sight of one
        is still found (and makes the slot's encoding not self-contained, as it would have)."""
        places = self.places
        done = len(memo.items)
        grown = self.growing is not None and slot in self.growing  # nothing but a push can have changed it
        if not (memo.grew(v) if grown else memo.holds(v)) or id(v) in places or depth > self.limit \
                or not grown and not places.keys().isdisjoint(map(id, memo.items)):
            return False
        places[id(v)] = [holder, slot, 0, self.owner]
        holder[slot] = out = memo.encoding + v[done:]
        if grown:  # (a second sight of an item, before or after, is looked for at the end: mark_kept)
            self.grown.append(memo)
        else:
            places.update(zip(map(id, memo.items), map(list, zip(repeat(out), count(), repeat(0), repeat(self.owner)))))
        self.reused[id(out)] = done
        if len(out) > done:
            self.items(out, depth + _LIST_FRAMES, done)
        return True

    def mark_kept(self) -> None:
        """List beside each encoded Locals the slots whose encoding turned out self-contained ("K"), and
        remember how those of them that hold lists of flat objects were encoded (Locals.lists)."""
        for memo in self.grown:
            if not memo.ids.isdisjoint(self.places):  # (iterates `places`: what this step encoded)
                raise _Reached()
        for holder, slots, kept, v, out in self.locals:
            names = [name for name, owner in slots if not owner[0]]
            lists = v.lists  # (None but for the locals of a warm step: no memo for a step nobody continues)
            texts = {}
            for name in names if lists is not None else ():
                x = dict.__getitem__(v, name)
                if type(x) is list:
                    memo = _ListMemo.of(x, out[name], lists.get(name), self.reused.get(id(out[name])))
                    if memo is not None:
                        lists[name] = texts[name] = memo
                    else:
                        lists.pop(name, None)
            if lists:
                for name in kept:  # (written back as the encoding its memo has, if it has one)
                    memo = lists.get(name)
                    if memo is not None and memo.encoding is out[name]:
                        texts[name] = memo
            if texts and self.texts is not None:
                self.texts[id(out)] = {name: memo.text for name, memo in texts.items()}
            names[:0] = kept  # (kept first: the next step's `kept` is this one's with the new ones added)
            if names:
                holder["K"] = names


_FLAT = frozenset({str, float, bool, type(None), type(UNDEFINED)})  # (encoded as themselves, or as a tag)
_HAS_DOLLAR = methodcaller("__contains__", "$")


class _ListMemo:
    """A list of plain objects whose values are all flat, as a step encoded it: its items, their lengths,
    keys and values, its encoding and that encoding's JSON text. While the first items are still those
    objects with those keys and values (compared by identity: an object changed in place has another
    value object, or another key), their encoding and text are still right, so the next warm step encodes
    and serializes only the items added since."""

    __slots__ = ("list", "items", "lengths", "keys", "values", "ids", "encoding", "text")

    def __init__(self, v: list, items: list, lengths: list, keys: list, values: list, encoding: list, text: str):
        self.list, self.items, self.lengths, self.keys, self.values = v, items, lengths, keys, values
        self.ids = set(map(id, items))
        self.encoding, self.text = encoding, text

    @classmethod
    def of(cls, v: list, encoding: list, old: "_ListMemo | None", done: int | None):
        """The memo of `v` (a self-contained slot's list) encoded as `encoding`, whose first `done` items came
        from `old` (checked then; `old` is extended in place: the cost is the new items'); None unless every
        item is a plain object of flat values."""
        fresh = v[done:] if done is not None else v
        if set(map(type, fresh)) - _DICTS or any(map(_HAS_DOLLAR, fresh)) \
                or set(map(type, chain.from_iterable(map(dict.values, fresh)))) - _FLAT:
            return None
        if done is None:
            return cls(v, list(v), list(map(len, v)), list(chain.from_iterable(v)),
                       list(chain.from_iterable(map(dict.values, v))), encoding, _json_text(encoding))
        if fresh:
            old.items += fresh
            old.lengths += map(len, fresh)
            old.keys += chain.from_iterable(fresh)
            old.values += chain.from_iterable(map(dict.values, fresh))
            old.ids.update(map(id, fresh))
            old.text = f"{old.text[:-1]}{',' if done else ''}{_json_text(encoding[done:])[1:]}"
        old.encoding = encoding
        return old

    def grew(self, v: list) -> bool:
        """Whether `v` is still this list with at least as many items (all a push can do to it)."""
        return v is self.list and len(v) >= len(self.items)

    def holds(self, v: list) -> bool:
        """Whether `v` is still this list, with these first items, each with these keys and values."""
        items = self.items
        return (v is self.list and len(v) >= len(items) and all(map(is_, v, items))
                and list(map(len, items)) == self.lengths and list(chain.from_iterable(items)) == self.keys
                and all(map(is_, chain.from_iterable(map(dict.values, items)), self.values)))


def _not_json(value):
    raise TypeError(f"{type(value).__name__} is not JSON")


# JSON text as machine.acyclic_json_text writes it (compact, ASCII), for encodings (acyclic by construction).
_TEXT = c_make_encoder(None, _not_json, encode_basestring_ascii, None, ":", ",", False, False, False)


def _json_text(encoding) -> str:
    return "".join(_TEXT(encoding, 0))


_DICTS = frozenset({dict})


def _in_order(v: Locals) -> dict:
    """The slots of `v` (kept ones as their encoding) in the snapshot's order, then the new ones."""
    kept = v.kept
    out = dict.fromkeys(v.order)
    out.update(kept)
    out.update(v)  # (a dict subclass that keeps dict's iteration: merged from its own slots, no __getitem__)
    if len(out) == len(kept) + dict.__len__(v):  # (every slot of the order is kept or in `v`: Locals.pop)
        return out
    out = {name: kept[name] if name in kept else dict.__getitem__(v, name) for name in v.order
           if name in kept or dict.__contains__(v, name)}
    for name, x in v.items():
        if name not in out:
            out[name] = x
    return out


_ENCODERS = {JSError: _Encoding.error, JSFunction: _Encoding.function, JSRegExp: _Encoding.regexp,
             MatchArray: _Encoding.match, Promise: _Encoding.promise, JSClosure: _Encoding.closure, Env: _Encoding.env,
             JSMap: _Encoding.map, JSSet: _Encoding.set, JSDate: _Encoding.date, Locals: _Encoding.frame_locals}


def _encode_number(x: float):
    """A zero, NaN or an infinity (other numbers are written as they are)."""
    if x == 0:
        return x if math.copysign(1.0, x) > 0 else {"$": "-0"}
    return {"$": number_to_string(x)}  # NaN, Infinity, -Infinity


def decode_snapshot(data):
    """The JS values ``encode_snapshot`` encoded, sharing and cycles included.

    Key order may have changed on the way (Postgres ``jsonb`` sorts keys), so
    a reference may come before the definition it points to."""
    return _decode(data, _Refs(data))


def decode_activation(data) -> dict:
    """decode_snapshot of a run's data for an activation: the body's and each frame's locals as
    Locals, the slots their "K" lists left encoded until read."""
    data, kept = _without_kept(data)
    frames = data.get("F")
    kept_frames = {}
    if frames:
        data["F"] = frames = dict(frames)
        for key, record in frames.items():
            frames[key], kept_frames[key] = _without_kept(record)  # (kept slots, order) or ()
    out = decode_snapshot(data)
    out["L"] = Locals(out["L"], *kept)
    for key, record in (out.get("F") or {}).items():
        record["L"] = Locals(record["L"], *kept_frames[key])
    return out


def reuse_activation(roots: dict, data: dict) -> dict:
    """What decode_activation(data) returns, made of ``roots``, the values ``data`` was just encoded from
    (execution/warm.py): the same values where the encoding decodes to them, each frame's locals
    rearranged in place so that their "K" slots are their encoding again, as a snapshot read back would
    have them. ``roots`` is then the new activation's (nothing else may use its locals)."""
    out = dict(roots)
    out["L"] = _reused_locals(roots["L"], data)
    frames = roots.get("F")
    if frames:
        encoded = data["F"]
        out["F"] = {key: {**record, "L": _reused_locals(record["L"], encoded[key])}
                    for key, record in frames.items()}
    return out


def _reused_locals(values: dict, node: dict) -> dict:
    """``values``, the locals ``node`` (data or a frame record) was encoded from, made what decode_activation
    makes of ``node``: the slots kept anew move to ``kept`` (as their encoding) and their values to ``warm``
    (read instead of decoding the encoding: self-contained, so nothing else reaches them); slots kept before
    and not read since are there already, with the very encoding ``node`` holds."""
    if type(values) is not Locals:  # (code shapes 1-5: every slot decoded)
        return values
    if values.lists is None:  # a warm step's locals: its self-contained lists get memos (_ListMemo)
        values.lists = {}
    encoded = node["L"]
    names = node.get("K")
    if not names:  # (the slots in the snapshot's order, as decoding gives them)
        slots = [(name, dict.__getitem__(values, name)) for name in encoded]
        dict.clear(values)
        dict.update(values, slots)
        values.order = None
        return values
    if values.warm is None:
        values.warm = {}
    warm, kept = values.warm, values.kept
    new = names[len(kept):]  # (K lists the slots still kept first: mark_kept)
    for name in new:  # read or written by the step that encoded it
        warm[name] = dict.pop(values, name)
    kept.update(zip(new, map(encoded.__getitem__, new)))  # (in "K" order, as decoding keeps them)
    values.order = encoded
    return values


def _without_kept(node: dict) -> tuple[dict, tuple]:
    """A copy of `node` (data or a frame record) without "K" and the slots it lists; and (those slots,
    the order of all the slots), or () when none is kept."""
    node = dict(node)
    names = node.pop("K", None)
    if not names:
        return node, ()
    order = dict.fromkeys(node["L"])
    node["L"] = L = dict(node["L"])
    return node, ({name: L.pop(name) for name in names if name in L}, order)


class _Refs(dict):
    """Decoded shared containers by id.  A reference met before its
    definition (only when key order changed: the encoder writes definitions
    first) looks for every definition once, and decodes that one on the spot."""

    def __init__(self, data):
        super().__init__()
        self.data = data
        self.definitions = None

    def __missing__(self, ref_id):
        if self.definitions is None:
            self.definitions = _shared_definitions(self.data)
        return _decode_container(self.definitions[ref_id], self, ref_id)


def _shared_definitions(data) -> dict:
    """Every ``shared`` definition in ``data`` by id.  Walks encoded nodes
    only: the raw member dicts of objects and errors are script data, which
    may look like a tag without being one."""
    found = {}
    stack = [data]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(node)
        elif type(node) is dict:
            tag = node.get("$")
            if tag is None:
                stack.extend(node.values())
            elif tag == "shared":
                found[node["id"]] = node["value"]
                stack.append(node["value"])
            elif tag == "object":
                stack.extend(node["value"].values())
            elif tag == "error":
                stack.extend(node.get("props", {}).values())
                stack.extend(node.get("hidden", {}).values())
            elif tag == "promise":
                stack.extend(node.get("items", ()))
                stack.append(node.get("value"))
                stack.append(node.get("reactions"))
            elif tag == "function":
                stack.append(node.get("this"))
            elif tag == "regexp":
                stack.append(node["lastIndex"])
            elif tag == "match":
                stack.extend(node["items"])
                stack.extend(node["props"].values())
            elif tag == "closure":
                stack.append(node.get("env"))
            elif tag == "env":
                stack.extend(node["vars"].values())
            elif tag == "map":
                stack.extend(x for pair in node["entries"] for x in pair)
            elif tag == "set":
                stack.extend(node["items"])
    return found


_SCALAR_TAGS = {
    "undefined": UNDEFINED,
    "NaN": NAN,
    "Infinity": INF,
    "-Infinity": -INF,
    "-0": -0.0,
}


def _decode(node, refs: dict):
    t = type(node)
    if t in _DECODED_AS_IS:
        return node
    if t is int:
        return float(node)
    if t is list:  # (plain containers inline: one Python frame less per level)
        return [x if type(x) in _DECODED_AS_IS else _decode(x, refs) for x in node]
    tag = node.get("$")
    if tag is None:
        return {k: x if type(x) in _DECODED_AS_IS else _decode(x, refs) for k, x in node.items()}
    if tag == "ref":
        return refs[node["id"]]
    if tag == "shared":
        if node["id"] in refs:  # already decoded through an earlier reference
            return dict.__getitem__(refs, node["id"])
        return _decode_container(node["value"], refs, node["id"])
    if tag == "function":
        return _decode_function(node, refs)
    if tag in _SCALAR_TAGS:
        return _SCALAR_TAGS[tag]
    return _decode_container(node, refs, None)


def _decode_function(node: dict, refs: dict) -> JSFunction:
    name = node["name"]
    if "this" not in node:
        return global_function(name)
    this = _decode(node["this"], refs)
    return JSFunction(name, this, _function_impl(name, this))


def _function_impl(name: str, this):
    return RECEIVER_METHODS[type(this)].get(name) or _RESOLVING_FUNCTIONS.get(name) or _FREE_FUNCTIONS[name]


def _decode_container(node, refs: dict, ref_id):
    """Decode a list, object, error or promise; with ``ref_id`` it is
    registered before its members are decoded, so cycles resolve."""
    if type(node) is list:
        return _decode_list(node, refs, ref_id)
    tag = node.get("$")
    if tag is None:
        return _decode_object(node, refs, ref_id)
    if tag == "object":
        return _decode_object(node["value"], refs, ref_id)
    if tag == "error":
        error = _register(JSError(node["name"], node["message"]), refs, ref_id)
        error.props = _decode_object(node.get("props", {}), refs, None)
        if "hidden" in node:
            error.hidden = _decode_object(node["hidden"], refs, None)
        return error
    if tag == "regexp":
        rx = _register(JSRegExp(node["source"], node["flags"]), refs, ref_id)
        rx.last_index = _decode(node["lastIndex"], refs)
        return rx
    if tag == "match":
        match = _register(MatchArray((), {}), refs, ref_id)
        match.extend(_decode_list(node["items"], refs, None))
        match.props = _decode_object(node["props"], refs, None)
        return match
    if tag == "promise":
        promise = _register(Promise(node["kind"], node["key"], None, node.get("born"), node.get("state")),
                            refs, ref_id)
        if "items" in node:
            promise.items = _decode_list(node["items"], refs, None)
        if "value" in node:
            value = node["value"]
            promise.value = value if type(value) in _DECODED_AS_IS else _decode(value, refs)
        if "reactions" in node:
            promise.reactions = _decode(node["reactions"], refs)
        elif promise.state is not None:
            promise.reactions = []
        return promise
    if tag == "function":  # a bound or resolving function reached twice
        fn = _register(JSFunction(node["name"], None, None), refs, ref_id)
        fn.this = _decode(node["this"], refs)
        fn.impl = _function_impl(fn.name, fn.this)
        return fn
    if tag == "closure":
        closure = _register(JSClosure(int(node["fn"]), None), refs, ref_id)
        env = node["env"]
        closure.env = env if env is None else _decode(env, refs)
        return closure
    if tag == "map":
        m = _register(JSMap(), refs, ref_id)
        for k, x in node["entries"]:
            _map_set(m, [_decode(k, refs), _decode(x, refs)])
        return m
    if tag == "set":
        s = _register(JSSet(), refs, ref_id)
        for x in node["items"]:
            _set_add(s, [_decode(x, refs)])
        return s
    if tag == "date":
        return _register(JSDate(_decode(node["time"], refs)), refs, ref_id)
    if tag == "env":
        env = _register(Env(), refs, ref_id)
        for k, x in node["vars"].items():
            env[k] = x if type(x) in _DECODED_AS_IS else _decode(x, refs)
        return env
    raise ValueError(f"unknown snapshot tag {tag!r}")


def _register(container, refs: dict, ref_id):
    if ref_id is not None:
        refs[ref_id] = container
    return container


def _decode_list(node: list, refs: dict, ref_id) -> list:
    if ref_id is None:  # (only a shared container can be part of a cycle)
        return [x if type(x) in _DECODED_AS_IS else _decode(x, refs) for x in node]
    out = _register([], refs, ref_id)
    out.extend([x if type(x) in _DECODED_AS_IS else _decode(x, refs) for x in node])
    return out


def _decode_object(node: dict, refs: dict, ref_id) -> dict:
    if ref_id is None:
        return {k: x if type(x) in _DECODED_AS_IS else _decode(x, refs) for k, x in node.items()}
    out = _register({}, refs, ref_id)
    for k, x in node.items():
        out[k] = x if type(x) in _DECODED_AS_IS else _decode(x, refs)
    return out
