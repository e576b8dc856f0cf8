"""`rhythm lsp`: the language server (pygls 2, stdio) on the compiler's own lexer, parser and checker.

Each open document is re-analysed on every change (full sync: a workflow is
small, and one parse is cheaper than keeping incremental state right); the
workflows on disk are analysed once at start-up and when saved, for
workflow names, signal names and find-references across files. The app
(`[tool.rhythm] app` in the workspace's pyproject.toml, or the client's
`initializationOptions.app`) is imported once, for task names.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from rhythm_compiler.diagnostics import Diagnostic
from rhythm_runtime.api.app import load_app
from rhythm_runtime.editor import features
from rhythm_runtime.editor.analysis import Analysis, analyze
from rhythm_runtime.editor.app_names import AppNames, configured_app, workflow_files

log = logging.getLogger("rhythm.lsp")
SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
            "note": T.DiagnosticSeverity.Information}
KIND = {"task": T.CompletionItemKind.Function, "workflow": T.CompletionItemKind.Module,
        "signal": T.CompletionItemKind.Event, "variable": T.CompletionItemKind.Variable,
        "global": T.CompletionItemKind.Constant, "method": T.CompletionItemKind.Method,
        "key": T.CompletionItemKind.Property}


class FlowServer(LanguageServer):
    """The server's state: the app's names and the latest analysis of every workflow it knows."""

    def __init__(self) -> None:
        super().__init__("rhythm-lsp", "0.1.0")
        self.names = AppNames()
        self.analyses: dict[str, Analysis] = {}  # path -> analysis (open documents and workflows on disk)
        self.parsed: dict[str, Analysis] = {}  # path -> the latest analysis whose text parsed (mid-edit scopes)

    def load_project(self, root: Path, app_spec: str | None) -> None:
        """Import the app (for task names) and analyse the workflows on disk; a broken app only loses task names."""
        dirs = [root / "workflows"]
        spec, app_root = (app_spec, root) if app_spec else (configured_app(root) or (None, root))
        if spec:
            try:
                app = load_app(spec, app_root)
                self.names = AppNames.of_app(app)
                dirs = [d if Path(d).is_absolute() else app_root / d for d in app.workflow_dirs]
            except BaseException as e:  # noqa: BLE001 -- a user's import error (even SystemExit) must not stop the server
                self.window_log_message(T.LogMessageParams(T.MessageType.Warning,
                                                           f"rhythm: cannot load the app {spec!r}: {e}"))
        self.names.workflows = {**workflow_files(dirs), **self.names.workflows}
        for path, text in features.workflow_documents(self.names.workflows.values()).items():
            self.analyses[path] = analyze(text, path, self.names)

    def refresh(self, uri: str) -> None:
        """Re-analyse one document and publish its diagnostics."""
        document = self.workspace.get_text_document(uri)
        path = to_fs_path(uri) or uri
        found = self.analyses[path] = analyze(document.source, path, self.names)
        if found.program is not None:
            self.parsed[path] = found
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, version=document.version, diagnostics=[_diagnostic(d, found) for d in found.diagnostics]))

    def analysis(self, uri: str) -> Analysis:
        path = to_fs_path(uri) or uri
        if path not in self.analyses:
            self.refresh(uri)
        return self.analyses[path]


server = FlowServer()


@server.feature(T.INITIALIZED)
def initialized(ls: FlowServer, params: T.InitializedParams) -> None:
    options = getattr(ls, "init_options", None) or {}
    root = Path(ls.workspace.root_path or Path.cwd())
    ls.load_project(root, options.get("app") if isinstance(options, dict) else None)


@server.feature(T.INITIALIZE)
def initialize(ls: FlowServer, params: T.InitializeParams) -> None:
    ls.init_options = params.initialization_options


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def changed(ls: FlowServer, params) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def closed(ls: FlowServer, params: T.DidCloseTextDocumentParams) -> None:
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[".", '"', "'", "`"]))
def completion(ls: FlowServer, params: T.CompletionParams) -> T.CompletionList:
    found = ls.analysis(params.text_document.uri)
    line, col = _position(found, params.position)
    scopes = found if found.program is not None else ls.parsed.get(found.path, found)  # mid-edit: the last parse
    items = features.completions(found, scopes, ls.names, line, col, features.signal_names(ls.analyses))
    return T.CompletionList(is_incomplete=False, items=[
        T.CompletionItem(label=c.label, kind=KIND[c.kind], detail=c.detail or None) for c in items])


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: FlowServer, params: T.HoverParams) -> T.Hover | None:
    found = ls.analysis(params.text_document.uri)
    text = features.hover(found, ls.names, *_position(found, params.position))
    line, col = _position(found, params.position)
    states = found.waiting_states(line) if "await" in features._line(found.source, line) else []
    if states:
        text = (text + "\n\n" if text else "") + f"a run waiting here is in state {', '.join(map(str, states))} " \
               "(as `rhythm inspect` shows it)"
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text)) if text else None


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: FlowServer, params: T.DefinitionParams) -> T.Location | None:
    found = ls.analysis(params.text_document.uri)
    place = features.definition(found, ls.names, *_position(found, params.position))
    return _location(place) if place is not None else None


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
def references(ls: FlowServer, params: T.ReferenceParams) -> list[T.Location]:
    found = ls.analysis(params.text_document.uri)
    line, col = _position(found, params.position)
    ref = found.reference_at(line, col)
    if ref is not None and ref.kind == "task":
        return [_location(p) for p in features.task_references(ref.name, ls.analyses)]
    name = found.name_at(line, col)
    return [_location(features.Place(found.path, n.span.line, n.span.col, n.span.width))
            for n in found.occurrences(name)] if name is not None else []


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: FlowServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol]:
    found = ls.analysis(params.text_document.uri)
    out = []
    for name, kind, line in features.symbols(found):
        where = T.Range(T.Position(line - 1, 0), T.Position(line - 1, len(features._line(found.source, line))))
        out.append(T.DocumentSymbol(name=name, detail=kind, kind=T.SymbolKind.Event if kind != "front matter"
                                    else T.SymbolKind.Namespace, range=where, selection_range=where))
    return out


@server.feature(T.TEXT_DOCUMENT_RENAME)
def rename(ls: FlowServer, params: T.RenameParams) -> T.WorkspaceEdit | None:
    found = ls.analysis(params.text_document.uri)
    name = found.name_at(*_position(found, params.position))
    if name is None:
        return None
    edits = [T.TextEdit(range=_range(found, n.span.line, n.span.col, n.span.width), new_text=params.new_name)
             for n in found.occurrences(name)]
    return T.WorkspaceEdit(changes={params.text_document.uri: edits})


def _diagnostic(d: Diagnostic, found: Analysis) -> T.Diagnostic:
    return T.Diagnostic(range=_range(found, d.line, d.col, d.width), message=d.message, severity=SEVERITY[d.severity],
                        source="rhythm")


def _position(found: Analysis, position: T.Position) -> tuple[int, int]:
    """An LSP position (0-based, UTF-16 units) -> the compiler's 1-based line and column (code points)."""
    text = features._line(found.source, position.line + 1)
    units = 0
    for i, ch in enumerate(text):
        if units >= position.character:
            return position.line + 1, i + 1
        units += 2 if ord(ch) > 0xFFFF else 1
    return position.line + 1, len(text) + 1


def _range(found: Analysis, line: int, col: int, width: int) -> T.Range:
    text = features._line(found.source, line)

    def units(c: int) -> int:
        return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text[: c - 1])

    return T.Range(T.Position(line - 1, units(col)), T.Position(line - 1, units(col + max(width, 1))))


def _location(place: features.Place) -> T.Location:
    start = T.Position(place.line - 1, place.col - 1)
    return T.Location(uri=from_fs_path(place.path) or place.path,
                      range=T.Range(start, T.Position(place.line - 1, place.col - 1 + place.width)))


def serve() -> None:
    server.start_io()
