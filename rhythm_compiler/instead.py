"""What JavaScript developers reach for that workflows do not have, and what to write instead.

The checker (check.py) turns each of these into a compile error that names the alternative, so a
program never fails at run time with "… is not a function" for something the language leaves out on
purpose: the sandbox (no environment), values that must be storable (no prototypes, nothing read-only)
and results that must not depend on the machine (locale data, the math library's last digit).
"""

from __future__ import annotations

# Names of JavaScript's environment that the sandbox deliberately leaves out.
NOT_IN_SANDBOX = {
    "require", "process", "globalThis", "window", "global", "console", "setTimeout", "setInterval",
    "fetch", "Symbol", "WeakMap", "WeakSet", "Reflect", "Proxy", "Function", "module",
    "exports", "Buffer", "__dirname", "__filename", "queueMicrotask", "setImmediate", "clearTimeout",
    "clearInterval", "btoa", "atob", "TextEncoder", "TextDecoder", "URL", "URLSearchParams", "Intl", "performance",
    "AbortController", "XMLHttpRequest", "WebSocket", "document", "navigator", "localStorage",
}
SANDBOX_INSTEAD = {
    "console": "return values or pass them to a task to log them",
    "setTimeout": "use await Timer.delay(seconds)",
    "setInterval": "use a loop with await Timer.delay(seconds)",
    "fetch": "do network calls in a task (Task.run)",
    "require": "call Python code through Task.run",
    "WeakMap": "use a Map", "WeakSet": "use a Set",
    "clearTimeout": "to stop waiting, race the wait against what ends it: await Promise.race([Timer.delay(s), …])",
    "btoa": "encode base64 in a task", "atob": "decode base64 in a task",
    "URL": "parse and build URLs in a task, or with string methods (split, encodeURIComponent)",
    "URLSearchParams": "build a query string with encodeURIComponent, or in a task",
    "Intl": ("its formats depend on the machine's locale data: format numbers with toFixed and dates with "
             "toISOString, or format them in a task"),
    "performance": "use Date.now() for timestamps",
}
_READ_ONLY = "a workflow cannot make an object read-only; keep constants in a const and do not assign to them"
_PROTOTYPES = "objects are plain data here (no prototypes or property descriptors); use an object literal"
_GROUP_BY = ("group with reduce, as in items.reduce((groups, x) => { (groups[key(x)] ??= []).push(x); "
             "return groups }, {})")
_LIBM = ("its last digit differs between machines' math libraries, so a run could resume with another value; "
         "compute it in a task")
# Members of the global namespaces that workflows do not have, with what to do instead.
UNSUPPORTED_MEMBERS = {
    **{f"Object.{m}": _READ_ONLY for m in ("freeze", "isFrozen", "seal", "isSealed", "preventExtensions",
                                           "isExtensible")},
    **{f"Object.{m}": _PROTOTYPES for m in ("create", "defineProperty", "defineProperties", "getPrototypeOf",
                                            "setPrototypeOf", "getOwnPropertyDescriptor",
                                            "getOwnPropertyDescriptors")},
    "Object.getOwnPropertyNames": "use Object.keys(o) instead",
    **{f"{ns}.prototype": ("values have no prototypes here; read a method from a value ([].slice.call(text)), "
                           "and test kinds with typeof, Array.isArray or instanceof")
       for ns in ("Object", "Array", "String", "Number", "Date", "Promise")},  # Array.prototype.slice: parse.py
    "Object.groupBy": _GROUP_BY, "Map.groupBy": _GROUP_BY,
    **{f"Math.{m}": _LIBM for m in ("log", "log2", "log10", "log1p", "exp", "expm1", "sin", "cos", "tan", "asin",
                                    "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                                    "cbrt", "hypot")},
}
# What to use instead of names JavaScript developers reach for that no environment defines.
UNDECLARED_INSTEAD = {
    "Map": "create one with new Map() or new Map([[key, value], …])",
    "Set": "create one with new Set() or new Set(values)",
    "AggregateError": "Promise.any rejects with one; test an error with err instanceof AggregateError",
    "sleep": "to wait, use await Timer.delay(seconds), e.g. await Timer.delay(\"5m\")",
    "delay": "to wait, use await Timer.delay(seconds), e.g. await Timer.delay(\"5m\")",
}
_OBJECT_METHOD = "objects have no methods in workflows; use Object.hasOwn(o, key) or o.hasOwnProperty(key) instead"
_LOCALE = ("locale-dependent formatting is not supported in workflows (its result depends on the machine); "
           "use toFixed, toUpperCase, toLowerCase or a date's toISOString, or format the value in a task")
_LOCALE_DATE = ("locale-dependent formatting is not supported in workflows (its result depends on the machine); "
                "use toISOString, or the date's getters (getUTCFullYear …), or format the date in a task")
# JavaScript's built-in methods that workflows do not have: calling one is a compile error saying what to use.
UNSUPPORTED_METHODS = {
    "isPrototypeOf": _OBJECT_METHOD, "propertyIsEnumerable": _OBJECT_METHOD,
    "localeCompare": ("'localeCompare' is not supported in workflows (its order depends on the machine's locale "
                      "data); compare with < and >, as in (a, b) => (a < b ? -1 : a > b ? 1 : 0)"),
    "toLocaleString": _LOCALE, "toLocaleUpperCase": _LOCALE, "toLocaleLowerCase": _LOCALE,
    "toLocaleDateString": _LOCALE_DATE, "toLocaleTimeString": _LOCALE_DATE,
    "copyWithin": "'copyWithin' is not supported in workflows; use slice and splice, or a loop, instead",
}
