#!/usr/bin/env node
// Conformance oracle: runs `.flow` programs in Node with the same workflow
// semantics that the Python runner (rhythm_runtime.testing.run_workflow)
// models, and prints {relative_program_path: result} as JSON.
//
//   node tests/conformance/harness.js programs/ops/001_x.flow [more.flow ...]
//
// Model (kept identical to tests/test_conformance.py / tasks.py):
// * The program body is the body of an async function with parameters
//   Inputs, Task, Timer, Signal, Workflow, Context, Promise (native Promise).
//   Optional YAML front matter in triple backticks at the top is stripped;
//   a file that declares `async function main()` gets `return await main()`.
// * Header comments at the top: `// inputs: <JSON>` (default {}) and
//   `// signals: <JSON list of [name, payload]>` (default []). All signals are
//   queued before the run starts.
// * One event queue and a virtual clock. Task.run and Signal.next (when a
//   signal of that name is queued; consumed when Signal.next is called, FIFO
//   per name) create events due now; Timer.delay(s) creates an event due at
//   now + s. Loop: drain microtasks, take the earliest event (due time, then
//   creation order), advance the clock, resolve/reject it, repeat.
// * A task function runs when its event is taken, on the JSON copy of the
//   payload made at Task.run time; its result is JSON-copied. A throwing task
//   rejects with an Error named "TaskError" carrying the thrown message.
// * Signal.next with nothing queued never resolves.
// * Workflow.run(name, inputs) starts children/<name>.flow synchronously
//   (like calling an async function) on a JSON copy of inputs; it resolves
//   with a JSON copy of the child's return value or rejects with an Error
//   named "WorkflowError" carrying the child's error message.
// * Result: {status: "completed", output} | {status: "failed", error:
//   {message, type}} | {status: "suspended"} (queue empty, body waiting).
// * An unhandled rejection fails the run with its reason, as it ends a Node
//   process, except for what Rhythm treats as fire and forget: the promises
//   of Task.run, Timer.delay, Signal.next, Workflow.run and of the
//   combinators (Promise.all/any/race/allSettled, Task.all/any/race).
"use strict";

const fs = require("fs");
const path = require("path");

const HERE = __dirname;
const PROGRAMS_DIR = path.join(HERE, "programs");
const CHILDREN_DIR = path.join(HERE, "children");
const MAX_EVENTS = 100000;

const AsyncFunction = (async function () {}).constructor;
const PARAMS = ["Inputs", "Task", "Timer", "Signal", "Workflow", "Context", "Promise"];

// Fire-and-forget promises that fail are ignored; any other unhandled rejection fails the run.
const fireAndForget = new WeakSet();
let activeWorld = null;
function forgettable(p) {
  fireAndForget.add(p);
  return p;
}
process.on("unhandledRejection", (reason, promise) => {
  if (!fireAndForget.has(promise) && activeWorld !== null) activeWorld.unhandled(reason);
});
process.on("rejectionHandled", () => {});

// The Promise global of a program: native promises, with the combinators' results marked fire and forget.
const NativePromise = Promise;
function makePromiseGlobal() {
  function FlowPromise(executor) {
    if (!new.target) throw new TypeError("Promise constructor cannot be invoked without 'new'");
    return new NativePromise(executor);
  }
  FlowPromise.resolve = (v) => NativePromise.resolve(v);
  FlowPromise.reject = (e) => NativePromise.reject(e);
  for (const name of ["all", "any", "race", "allSettled"]) {
    FlowPromise[name] = (xs) => forgettable(NativePromise[name](xs));
  }
  return FlowPromise;
}

// ---------------------------------------------------------------- sources

function parseSource(text) {
  // Returns {inputs, signals, body}. Front matter lines and header comments
  // are blanked (line numbers are kept).
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let inputs = {};
  let signals = [];
  let i = 0;
  let sawFrontMatter = false;
  while (i < lines.length) {
    const t = lines[i].trim();
    if (t === "") { i++; continue; }
    if (!sawFrontMatter && t.startsWith("```")) {
      sawFrontMatter = true;
      let j = i + 1;
      while (j < lines.length && !lines[j].trim().startsWith("```")) j++;
      if (j >= lines.length) throw new Error("unterminated front matter");
      for (let k = i; k <= j; k++) lines[k] = "";
      i = j + 1;
      continue;
    }
    if (t.startsWith("//")) {
      let m = /^\/\/\s*inputs:\s*(.*)$/.exec(t);
      if (m) inputs = JSON.parse(m[1]);
      m = /^\/\/\s*signals:\s*(.*)$/.exec(t);
      if (m) signals = JSON.parse(m[1]);
      i++;
      continue;
    }
    break;
  }
  let body = lines.join("\n");
  if (/(^|\n)\s*async\s+function\s+main\s*\(/.test(body)) {
    body += "\n;return await main();";
  }
  return { inputs, signals, body };
}

const compiled = new Map();
function compileFile(file) {
  if (!compiled.has(file)) {
    const parsed = parseSource(fs.readFileSync(file, "utf8"));
    const fn = new AsyncFunction(...PARAMS, '"use strict";\n' + parsed.body);
    compiled.set(file, { fn, inputs: parsed.inputs, signals: parsed.signals });
  }
  return compiled.get(file);
}

// ---------------------------------------------------------------- values

function jsonCopy(value) {
  if (value === undefined) return null;
  const s = JSON.stringify(value);
  return s === undefined ? null : JSON.parse(s);
}

// Errors made by the runtime (TaskError, WorkflowError) look like built-in
// errors: `name` and `message` are not enumerable own properties, so
// JSON.stringify(err) is "{}" and Object.keys(err) is [].
function namedError(name, message) {
  const e = new Error(message);
  Object.defineProperty(e, "name", { value: name, writable: true, enumerable: false, configurable: true });
  return e;
}

// A thrown plain object reports its string `message` (and `name`), as Rhythm
// does for `throw { message, code }`; anything else reads as String(value).
function describeError(e) {
  if (e instanceof Error) return { message: String(e.message), type: String(e.name) };
  if (e !== null && typeof e === "object" && !Array.isArray(e) && typeof e.message === "string") {
    return { message: e.message, type: typeof e.name === "string" ? e.name : "Error" };
  }
  return { message: String(e), type: "Error" };
}

// ---------------------------------------------------------------- tasks
// Keep in sync with tasks.py (same names, same results).

function makeTasks(store) {
  return {
    echo: (p) => p,
    add: (p) => p.a + p.b,
    double: (p) => p * 2,
    upper: (p) => p.toUpperCase(),
    concat: (p) => p.join(""),
    sum: (p) => {
      let total = 0;
      for (const x of p) total += x;
      return total;
    },
    divide: (p) => {
      if (p.b === 0) throw new Error("division by zero");
      return p.a / p.b;
    },
    fail: (p) => {
      throw new Error(p !== null && typeof p === "object" && typeof p.message === "string" ? p.message : "task failed");
    },
    fail_if: (p) => {
      if (p.fail) throw new Error("failed: " + String(p.value));
      return p.value;
    },
    make_user: (p) => ({
      id: p.id,
      name: "user" + p.id,
      tags: ["new", "trial"],
      profile: { age: 20 + p.id, emails: ["u" + p.id + "@example.com"] },
      active: true,
      manager: null,
    }),
    kv_set: (p) => {
      const prev = store.has(p.key) ? store.get(p.key) : null;
      store.set(p.key, p.value);
      return prev;
    },
    kv_get: (p) => (store.has(p.key) ? store.get(p.key) : null),
    kv_append: (p) => {
      const list = store.has(p.key) ? store.get(p.key) : [];
      list.push(p.value);
      store.set(p.key, list);
      return list.length;
    },
    nothing: (p) => null,
  };
}

// ---------------------------------------------------------------- the world

class World {
  constructor(signals) {
    this.now = 0;
    this.seq = 0;
    this.events = [];
    this.executions = 0;
    this.store = new Map();
    this.tasks = makeTasks(this.store);
    this.signals = new Map();
    this.failure = null;
    for (const [name, payload] of signals) {
      if (!this.signals.has(name)) this.signals.set(name, []);
      this.signals.get(name).push(jsonCopy(payload));
    }
  }

  unhandled(reason) {
    if (this.failure === null) this.failure = reason;
  }

  schedule(due, fire) {
    this.events.push({ due, seq: this.seq++, fire });
  }

  takeNext() {
    if (this.events.length === 0) return null;
    let best = 0;
    for (let i = 1; i < this.events.length; i++) {
      const a = this.events[i];
      const b = this.events[best];
      if (a.due < b.due || (a.due === b.due && a.seq < b.seq)) best = i;
    }
    return this.events.splice(best, 1)[0];
  }

  // Starts one execution (root or child); returns the body's promise.
  start(file, inputs) {
    const { fn } = compileFile(file);
    const world = this;
    const executionId = "exec-" + ++this.executions;
    const Task = {
      run(name, payload) {
        const copy = jsonCopy(payload);
        return forgettable(new Promise((resolve, reject) => {
          world.schedule(world.now, () => {
            const impl = Object.prototype.hasOwnProperty.call(world.tasks, name) ? world.tasks[name] : null;
            if (impl === null) {
              reject(namedError("TaskError", "unknown task: " + String(name)));
              return;
            }
            let result;
            try {
              result = impl(copy);
            } catch (e) {
              reject(namedError("TaskError", e instanceof Error ? e.message : String(e)));
              return;
            }
            resolve(jsonCopy(result));
          });
        }));
      },
      all: (xs) => forgettable(Promise.all(xs)),
      any: (xs) => forgettable(Promise.any(xs)),
      race: (xs) => forgettable(Promise.race(xs)),
    };
    const Timer = {
      delay(seconds) {
        return forgettable(new Promise((resolve) => {
          world.schedule(world.now + Number(seconds), () => resolve(undefined));
        }));
      },
    };
    const Signal = {
      next(name) {
        const queue = world.signals.get(name);
        if (queue && queue.length > 0) {
          const payload = queue.shift();
          return forgettable(new Promise((resolve) => world.schedule(world.now, () => resolve(jsonCopy(payload)))));
        }
        return forgettable(new Promise(() => {}));
      },
    };
    const Workflow = {
      run(name, childInputs) {
        const childFile = path.join(CHILDREN_DIR, String(name) + ".flow");
        if (!fs.existsSync(childFile)) {
          return forgettable(Promise.reject(namedError("WorkflowError", "unknown workflow: " + String(name))));
        }
        return forgettable(world.start(childFile, jsonCopy(childInputs)).then(
          (v) => jsonCopy(v),
          (e) => {
            throw namedError("WorkflowError", describeError(e).message);
          },
        ));
      },
    };
    const Context = { executionId };
    return fn(inputs, Task, Timer, Signal, Workflow, Context, makePromiseGlobal());
  }
}

function drainMicrotasks() {
  return new Promise((resolve) => setImmediate(resolve));
}

async function runProgram(file) {
  const { inputs, signals } = compileFile(file);
  const world = new World(signals);
  activeWorld = world;
  let result = null;
  world.start(file, jsonCopy(inputs)).then(
    (v) => {
      result = { status: "completed", output: jsonCopy(v) };
    },
    (e) => {
      result = { status: "failed", error: describeError(e) };
    },
  );
  let steps = 0;
  for (;;) {
    await drainMicrotasks();
    if (result === null && world.failure !== null) {
      result = { status: "failed", error: describeError(world.failure) };
    }
    if (result !== null) break;
    const ev = world.takeNext();
    if (ev === null) break;
    if (++steps > MAX_EVENTS) throw new Error(file + ": more than " + MAX_EVENTS + " events");
    world.now = ev.due;
    ev.fire();
  }
  return result === null ? { status: "suspended" } : result;
}

function programKey(file) {
  const rel = path.relative(PROGRAMS_DIR, path.resolve(file));
  const key = rel.startsWith("..") ? path.resolve(file) : rel;
  return key.split(path.sep).join("/");
}

async function main(argv) {
  const out = {};
  for (const file of argv) {
    try {
      out[programKey(file)] = await runProgram(path.resolve(file));
    } catch (e) {
      process.stderr.write(`harness: ${file}: ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 2;
      out[programKey(file)] = { status: "harness-error", error: String(e) };
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

module.exports = { parseSource, runProgram, makeTasks };

if (require.main === module) {
  main(process.argv.slice(2));
}
