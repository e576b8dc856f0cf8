"""JavaScript value semantics for compiled workflows.

Generated modules do ``from rhythm_runtime import values as _js`` and route
every operator, property access, method call and global through this module,
so a ``.flow`` program computes what Node computes.

Representation (fixed, shared with the compiler and the runtime):

=============  ===========================================================
JavaScript     Python
=============  ===========================================================
number         ``float`` -- always; never ``int``, never ``bool``
string         ``str``; astral characters are single code points, and a
               valid surrogate pair is always stored joined (see UTF-16)
boolean        ``bool``
null           ``None``
undefined      ``UNDEFINED`` (the only ``Undefined``)
array          ``list`` (dense: a hole reads as ``UNDEFINED``)
object         ``dict`` with ``str`` keys
Error          ``JSError``
promise        ``Promise`` (a handle the runtime resolves)
method value   ``JSFunction`` (``arr.push`` read as a value)
RegExp         ``JSRegExp`` (source, flags, lastIndex; see regexps)
match result   ``MatchArray``: a ``list`` with named properties
function       ``JSClosure`` (a function of the workflow: code id +
               captured ``Env``)
Map, Set       ``JSMap``, ``JSSet`` (insertion-ordered, SameValueZero keys;
               see collections)
Date           ``JSDate`` (a time value; see date_time and dates)
=============  ===========================================================

Everything a script can observe as an error is raised as ``JSThrow``; no
Python exception escapes an operation on well-formed values.

The sandbox: property names are only ever looked up in dicts owned by this
module or by the script.  ``getattr`` is never called with a script-supplied
name, so ``__class__``, ``constructor``, ``__proto__`` and friends are plain
missing properties.

Deliberate differences from Node (each has a test):

* ``==`` does not coerce: it is ``===`` except that null == undefined.
* There are no prototypes: ``({}).toString`` is undefined and
  ``"toString" in {}`` is false; a method read as a value is not bound to
  the value it was read from, as in JS, but ``call``, ``apply`` and
  ``bind`` give it a receiver of its own type only.
* Arrays are dense lists: ``delete a[i]`` leaves undefined, a write that
  would grow an array past 2**24 elements throws RangeError, and arrays,
  promises and method values hold no named properties (TypeError).
* An Error's ``message`` is always a string, and never enumerable.
* ``JSON.parse`` takes no reviver, ``JSON.stringify`` only an array of keys
  as replacer; functions hold no properties but ``name`` and ``length``.
* JSON nested deeper than Python's recursion limit throws RangeError.
* Strings must arrive canonical (see UTF-16): the compiler emits an escaped
  pair like ``"\\uD83D\\uDE00"`` as the one character it encodes.
"""

from __future__ import annotations

# Every other name, by module.  A module imports only from modules listed before
# it (JSThrow.__str__ in representation, which imports on use, aside).
from .representation import (
    INF, NAN, UNDEFINED, _ABSENT, _MAX_ARRAY_INDEX, _MAX_HOLEY_LENGTH, _MAX_SAFE,
    _MAX_STRING_LENGTH, Env, JSClosure, JSDate, JSError, JSFunction, JSMap, JSRegExp, JSSet, JSThrow, MatchArray,
    Promise, Undefined,
    range_error, reference_error, syntax_error, type_error,
)
from .utf16 import (
    _ASTRAL, _SURROGATE, _canonical, _concat, _split_pair, _string_lt, _unit_length, _units,
)
from .regexp_syntax import (
    FLAGS, LINE_TERMINATORS, MAX_LEAST_REPEATS, _CONTROL_ESCAPES, _MAX_STRING_UNITS, _DIGIT_RANGES, _ESCAPED_TERMINATORS,
    _SPACE_RANGES, _SYNTAX, _TERMINATORS, _WORD_RANGES, _WORD_RANGES_UI, PatternError,
    Translation, _Node, _Parser, _char, _canonicalize, _case_variants, _check_repeated_captures, _class_text, _complement,
    _count_groups, _emit, _is_hex, _is_identifier, _leaf, _least_repeats, _folded, _merge, _reference,
    _single, _skippable_capture, _variant_codes, escaped_source, translate, validate_flags,
)
from .number_text import (
    _DECIMAL_LITERAL, _DIGIT_CHARS, _DIGIT_VALUES, _FLOAT_PREFIX, _RADIX_PREFIXES,
    _STRING_NUMBER, _WHITESPACE, _digits_prefix, _digits_value, _format_positive, _radix_string,
    _round_up, _shortest_digits, _string_to_number, number_to_string,
)
from .fdlibm_pow import (
    _BITS, _BP, _CP, _CP_H, _CP_L, _DOUBLE, _DP_H, _DP_L, _IVLN2, _IVLN2_H, _IVLN2_L, _L1, _L2,
    _L3, _L4, _L5, _L6, _LG2, _LG2_H, _LG2_L, _OVT, _P1, _P2, _P3, _P4, _P5, _clear_low, _exp2,
    _fdlibm_pow, _from_words, _log2_parts, _words,
)
from .date_time import date_string, time_clip, to_iso_string, to_json_value
from .conversions import (
    _TYPEOF, _clamp, _error_string, _join, _join_part, _relative, _to_int32, _to_integer,
    _to_uint32, to_number, to_primitive, to_property_key, to_string, truthy, typeof,
)
from .operators import (
    _comparable, _is_odd_integer, add, bit_and, bit_not, bit_or, bit_xor, div, ge, gt, instance_of, le, loose_eq,
    loose_ne, lt, mod, mul, neg, pos, pow, shift_left, shift_right, shift_right_unsigned, strict_eq, strict_ne, sub,
    template,
)
from .regexps import (
    REGEX_TIMEOUT, _FLAG_PROPERTIES, RegexTimeout, _Subject, _groups, _match_array, _run,
    advance, all_matches, compiled, new_regexp, new_regexp_object, regexp_exec, regexp_literal, regexp_property,
    regexp_source, regexp_split, regexp_to_string, to_length,
)
from .calls import (
    _arg, call, _callback, _shown, described,
)
from .string_methods import (
    _STRING_METHODS, _REGEXP_METHODS, _DIGITS, _occurrences, _pad, _piece, _replacement, _string_at,
    _string_char_at, _string_char_code_at, _string_concat, _string_ends_with, _string_includes,
    _string_index_of, _string_last_index_of, _string_pad_end, _string_pad_start, _string_repeat,
    _string_replace, _string_replace_all, _string_slice, _string_split, _string_starts_with,
    _string_substring, _string_to_lower_case, _string_to_string, _string_to_upper_case, _string_trim,
    _string_trim_end, _string_trim_start, _as_regexp, _capture_reference, _regexp_exec, _regexp_replace,
    _regexp_test, _regexp_to_string, _string_match, _string_match_all, _string_search, _substitute,
)
from .dates import DATE_METHODS, date_parse, date_utc, new_date
from .methods import (
    _ARRAY_METHODS, _BOOLEAN_METHODS, _ERROR_METHODS, _FIXED_CONTEXT, _FIXED_QUANTUM, _METHODS,
    _METHODS_BY_TYPE, _NUMBER_METHODS, _array_at, _array_concat, _array_entries, _array_fill, _array_flat,
    _array_includes, _array_index_of, _array_join, _array_keys, _array_values, _array_last_index_of,
    _array_pop, _array_push, _array_reverse, _array_shift, _array_slice, _array_sort, _array_splice,
    _array_to_string, _array_unshift, _boolean_to_string, _error_to_string, _flatten_into, _number_to_fixed,
    _number_to_precision, _number_to_string, _sort_key, _PROMISE_METHODS, _RESOLVING_FUNCTIONS, _sorted,
)
from .collections import (
    _MAP_METHODS, _SET_METHODS, _not_iterable, collection_items, collection_size, key_token, new_map, new_set,
)
from .properties import (
    _NAMED, _float_index, _get_array, _get_error, _get_string, _in_key_text, _index_key,
    _method_value, _no_named_properties, _ordered_keys, _primitive_write, _set_array,
    _set_error, _set_length, call_method, call_on, delete, get, get_optional, has_own, has_property, own_keys,
    set_,
)
from .json_text import (
    _JSON_DECODER, _JsonErrorFinder, _JsonFail, _circular_structure, _json_gap, _json_members,
    _json_quote, _reject_constant, _replacer_keys, json_parse, json_stringify,
)
from .global_objects import (
    GLOBAL_CONSTANTS, GLOBAL_FUNCTIONS, VARIADIC, _GLOBAL_VALUES, _global_impl, array_call, array_from, array_of,
    _num, _object_argument, array_is_array, boolean_call, decode_uri, decode_uri_component, encode_uri,
    encode_uri_component, constructor_member, crypto_random_uuid, date_now, global_function, is_finite,
    is_nan, math_abs, math_ceil, math_clz32, math_floor, math_fround, math_imul, math_max, math_min, math_pow, math_random,
    math_round, math_sign, math_sqrt, math_trunc, new_error, number_call, number_is_finite,
    number_is_integer, number_is_nan, number_is_safe_integer, object_assign, object_entries, object_from_entries, object_is,
    object_keys, object_values, parse_float, parse_int, string_call, string_from_char_code, structured_clone,
    string_from_code_point,
)
from .boundary import (
    _Circular, _exact_type, _from_json, _from_json_key, _int_to_float, _to_json, from_json,
    json_copy, to_json,
)
from .snapshot import (
    _AS_IS, _CALLER_FRAMES, _DECODED_AS_IS, _DICT_FRAMES, _LIST_FRAMES, _PROMISE_FRAMES,
    _SCALAR_TAGS, _TAGGED_FRAMES, _Encoding, _Refs, _decode, _decode_container,
    _decode_function, _decode_list, _decode_object, _encode_number, _register,
    _shared_definitions, _without_kept, Locals, decode_activation, decode_snapshot, encode_body, encode_snapshot,
    reuse_activation,
)
