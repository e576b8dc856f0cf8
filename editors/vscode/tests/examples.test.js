// Tokenizes every workflow under examples/ with the grammar and checks what the
// SYNTAX TEST files cannot: the front matter at the top of a file is YAML, and
// each line's first keyword is highlighted. Run by `npm test` (after the grammar tests).
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "..", "..", "..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scope) => {
    const file = { "source.flow": "../syntaxes/flow.tmLanguage.json", "source.yaml": "yaml-stub.tmLanguage.json" }[scope];
    return file ? vsctm.parseRawGrammar(fs.readFileSync(path.join(__dirname, file), "utf8"), file) : null;
  },
});

function flows(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === "compiled" ? [] : flows(path.join(dir, e.name)))
      : e.name.endsWith(".flow") ? [path.join(dir, e.name)] : []);
}

function scopesOf(grammar, text) {
  let state = vsctm.INITIAL;
  return text.split("\n").map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

const KEYWORDS = new Set(["const", "let", "await", "if", "for", "while", "return", "try", "throw"]);

// Front matter written as Markdown writes it, between `---` lines (the compiler accepts both forms).
const DASHED = ["---", 'schedule: "0 3 * * *"', "timezone: Europe/Berlin", "---",
  "const report = await Task.run(\"build-report\", {})", "return report"].join("\n");

function problems(grammar, name, text) {
  const lines = scopesOf(grammar, text);
  const fence = ["```", "---"].find((f) => text.startsWith(f));
  const closing = fence ? text.split("\n").findIndex((line, i) => i > 0 && line.startsWith(fence)) : -1;
  let failures = 0;
  lines.forEach((tokens, i) => {
    const inFront = fence && i > 0 && i < closing;
    for (const t of tokens) {
      const word = t.text.trim();
      if (inFront && !t.scopes.includes("meta.embedded.block.yaml")) {
        console.error(`${name}:${i + 1}: front matter not scoped as YAML: ${JSON.stringify(t.text)}`);
        failures++;
      }
      if (!inFront && KEYWORDS.has(word) && t.scopes.length === 1) {
        console.error(`${name}:${i + 1}: keyword '${word}' not highlighted`);
        failures++;
      }
    }
  });
  return failures;
}

registry.loadGrammar("source.flow").then((grammar) => {
  const files = flows(path.join(root, "examples"));
  let failures = problems(grammar, "dashed front matter", DASHED);
  for (const file of files) {
    failures += problems(grammar, file, fs.readFileSync(file, "utf8"));
  }
  if (failures || files.length === 0) {
    console.error(`✖ examples: ${failures} problems in ${files.length} files`);
    process.exit(1);
  }
  console.log(`✓ examples: ${files.length} workflows and a dashed front matter tokenized, front matter scoped as YAML`);
});
