// Renders the language server's view of a sample workflow (tools/screenshot_data.py's JSON on stdin)
// as an HTML page highlighted by this extension's grammar, with squiggles, the first error's message
// and the completion list, for the README's screenshot:
//   python tools/screenshot_data.py | node tools/render.js > /tmp/editor.html
//   chromium --headless --screenshot=editor.png --window-size=900,420 /tmp/editor.html
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const COLORS = [  // a Dark+-like theme: the first scope prefix that matches wins
  ["comment", "#6a9955"], ["string.regexp", "#d16969"], ["constant.character.escape", "#d7ba7d"],
  ["string", "#ce9178"], ["constant.numeric", "#b5cea8"], ["constant.language", "#569cd6"],
  ["keyword.control", "#c586c0"], ["storage", "#569cd6"], ["support.class.rhythm", "#4ec9b0"],
  ["support.function", "#dcdcaa"], ["support.class", "#4ec9b0"], ["entity.name.function", "#dcdcaa"],
  ["variable.language", "#9cdcfe"], ["variable", "#9cdcfe"], ["punctuation.definition.template-expression", "#569cd6"],
  ["meta.embedded.block.yaml", "#9cdcfe"], ["punctuation.definition.front-matter", "#808080"],
];

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const color = (scopes) => {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const hit = COLORS.find(([prefix]) => scopes[i].startsWith(prefix));
    if (hit) return hit[1];
  }
  return "#d4d4d4";
};

async function main() {
  const data = JSON.parse(fs.readFileSync(0, "utf8"));
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p),
                               createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => {
      const file = { "source.flow": "../syntaxes/flow.tmLanguage.json", "source.yaml": "../tests/yaml-stub.tmLanguage.json" }[scope];
      return file ? vsctm.parseRawGrammar(fs.readFileSync(path.join(__dirname, file), "utf8"), file) : null;
    },
  });
  const grammar = await registry.loadGrammar("source.flow");
  let state = vsctm.INITIAL;
  const rows = data.source.split("\n").map((line, i) => {
    const { tokens, ruleStack } = grammar.tokenizeLine(line, state);
    state = ruleStack;
    const marks = data.diagnostics.filter((d) => d.line === i + 1);
    let html = "";
    for (const t of tokens) {
      for (let c = t.startIndex; c < Math.min(t.endIndex, line.length); c++) {
        const squiggle = marks.find((d) => c >= d.col - 1 && c < d.col - 1 + d.width);
        const style = `color:${color(t.scopes)}` + (squiggle ? ";text-decoration:underline wavy #f14c4c" : "");
        html += `<span style="${style}">${escape(line[c])}</span>`;
      }
    }
    const message = marks.length && marks[0] === data.diagnostics[0]
      ? `<div class="message"><b>${marks[0].severity}</b> ${escape(marks[0].message)} <i>rhythm</i></div>` : "";
    const popup = i + 1 === data.completion.line
      ? `<div class="completion" style="margin-left:${data.completion.col - 1}ch">` + data.completion.items.map((c, k) =>
          `<div class="${k === 0 ? "selected" : ""}"><span class="icon">ƒ</span>${escape(c.label)}<span class="detail">${escape(c.detail)}</span></div>`).join("") + "</div>"
      : "";
    return `<div class="row"><span class="gutter">${i + 1}</span><span class="code">${html || " "}</span></div>${message}${popup}`;
  });
  process.stdout.write(`<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#1e1e1e;font:14px/20px "DejaVu Sans Mono",monospace;padding:12px 0}
.row{white-space:pre}.gutter{display:inline-block;width:3.5ch;text-align:right;color:#858585;margin-right:2ch}
.message{margin:2px 0 4px 5.5ch;padding:4px 8px;background:#252526;border:1px solid #454545;color:#d4d4d4;width:fit-content;font-size:13px}
.message b{color:#f14c4c;font-weight:normal;margin-right:1ch}.message i{color:#858585;font-style:normal;margin-left:1ch}
.completion{position:relative;left:5.5ch;width:54ch;background:#252526;border:1px solid #454545;color:#d4d4d4}
.completion div{padding:1px 6px}.completion .selected{background:#04395e}.icon{color:#b180d7;margin-right:1ch}
.detail{float:right;color:#9d9d9d;font-size:12px}
</style>${rows.join("\n")}`);
}

main();
