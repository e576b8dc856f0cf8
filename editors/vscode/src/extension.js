// The VS Code side of Rhythm: starts `rhythm lsp` (stdio) for .flow files.
// The command comes from the `rhythm.lsp.command` setting, else the workspace's
// .venv/bin/rhythm, else `rhythm` on PATH.
"use strict";

const fs = require("fs");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration("rhythm").get("lsp.command") || [];
  if (configured.length > 0) {
    return { command: configured[0], args: [...configured.slice(1)] };
  }
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  const bin = process.platform === "win32" ? path.join(".venv", "Scripts", "rhythm.exe") : path.join(".venv", "bin", "rhythm");
  const local = folder ? path.join(folder.uri.fsPath, bin) : null;
  return { command: local && fs.existsSync(local) ? local : "rhythm", args: ["lsp"] };
}

function activate(context) {
  const { command, args } = serverCommand();
  const app = vscode.workspace.getConfiguration("rhythm").get("app");
  const run = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("rhythm", "Rhythm", { run, debug: run }, {
    documentSelector: [{ scheme: "file", language: "rhythm-flow" }],
    initializationOptions: app ? { app } : {},
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
