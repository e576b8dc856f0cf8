"""`rhythm lsp`, driven as an editor drives it: a real server process over stdio (pytest-lsp)."""

from __future__ import annotations

import asyncio
import random
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

PROJECT = Path(__file__).resolve().parent / "lsp_project"
MAIN = PROJECT / "workflows" / "main.flow"
MAIN_TEXT = MAIN.read_text(encoding="utf-8")
URI = from_fs_path(str(MAIN))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rhythm_runtime.cli", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=from_fs_path(str(PROJECT)),
        workspace_folders=[T.WorkspaceFolder(uri=from_fs_path(str(PROJECT)), name="project")]))
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, text: str = MAIN_TEXT, uri: str = URI) -> None:
    client.text_document_did_open(T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "flow", 1, text)))


def change(client: LanguageClient, text: str, version: int, uri: str = URI) -> None:
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        T.VersionedTextDocumentIdentifier(version, uri), [T.TextDocumentContentChangeWholeDocument(text)]))


async def diagnostics(client: LanguageClient) -> list[T.Diagnostic]:
    """The diagnostics of the next publish (call it right after the change that causes one)."""
    await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 60)
    return list(client.diagnostics[URI])


def at(text: str, needle: str, offset: int = 0) -> T.Position:
    """The position of `needle` (plus `offset` characters) in `text`."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return T.Position(line, index - (text.rfind("\n", 0, index) + 1))


@pytest.mark.asyncio
async def test_diagnostics_appear_and_clear_as_the_document_changes(client: LanguageClient) -> None:
    open_document(client)
    assert [(d.message, d.severity) for d in await diagnostics(client)] == []
    typo = MAIN_TEXT.replace('"send-email"', '"send-emial"')
    change(client, typo, 2)
    (found,) = await diagnostics(client)
    assert found.severity == T.DiagnosticSeverity.Error and "did you mean 'send-email'?" in found.message
    assert (found.range.start, found.range.end.character) == (at(typo, '"send-emial"'), at(typo, ", { to").character)
    change(client, typo + "let = 2\n", 3)
    (found,) = await diagnostics(client)
    assert found.range.start.line == typo.count("\n") and found.message.startswith("expected a variable name")
    change(client, MAIN_TEXT, 4)
    assert await diagnostics(client) == []


@pytest.mark.asyncio
async def test_unused_variables_and_unreachable_code_are_warnings(client: LanguageClient) -> None:
    open_document(client, "let unused = 1\nreturn 2\nconst after = 3\n")
    found = await diagnostics(client)
    assert [(d.message, d.severity) for d in found] == [
        ("'unused' is declared but never used", T.DiagnosticSeverity.Warning),
        ("unreachable code after 'return'", T.DiagnosticSeverity.Warning),
        ("'after' is declared but never used", T.DiagnosticSeverity.Warning)]


def test_the_compiler_s_own_names_are_not_the_editor_s() -> None:
    """A function's `var`s start where it does, and a `for await` loop has an internal element name: neither is
    a name in the text, so neither is hovered, completed, renamed or counted as a use."""
    from rhythm_runtime.editor.analysis import analyze
    from rhythm_runtime.editor.app_names import AppNames

    found = analyze("var unused = 1\nvar used = 2\nfor await (const x of [1]) { used += x }\nreturn used\n",
                    "w.flow", AppNames())
    assert [(d.line, d.message) for d in found.diagnostics] == [(1, "'unused' is declared but never used")]
    assert [n.name for n in found.names] == ["unused", "used", "x", "used", "x", "used"]
    assert found.name_at(3, 5) is None  # the `await` of `for await`


@pytest.mark.asyncio
async def test_completion_of_task_names_members_and_variables(client: LanguageClient) -> None:
    text = 'const user = await Task.run("get-user", {})\nawait Task.run("\nMath.\nus'
    open_document(client, 'const user = await Task.run("get-user", {})\nawait Task.run("get-user")\nuser\n')
    await diagnostics(client)
    change(client, text, 2)  # mid-edit: the text does not parse; variables come from the last parse
    await diagnostics(client)

    async def labels(line: int, character: int) -> set[str]:
        result = await client.text_document_completion_async(T.CompletionParams(
            T.TextDocumentIdentifier(URI), T.Position(line, character)))
        return {item.label for item in result.items}

    assert await labels(1, len('await Task.run("')) == {"get-user", "send-email"}
    assert {"floor", "max", "PI"} <= await labels(2, len("Math."))
    assert "user" in await labels(3, 2)


@pytest.mark.asyncio
async def test_hover_on_globals_and_methods_shows_the_language_references_row(client: LanguageClient) -> None:
    text = MAIN_TEXT + 'const parts = user.email.split("@")\nconst n = Math.max(parts.length, 1)\nconst when = new Date(0)\nconst due = when.toISOString()\n'
    open_document(client, text)
    await diagnostics(client)

    async def hover(needle: str, offset: int) -> str:
        found = await client.text_document_hover_async(T.HoverParams(T.TextDocumentIdentifier(URI), at(text, needle, offset)))
        return found.contents.value

    split = await hover(".split(", 2)
    assert "string.split" in split and '`"a,b,,c".split(",")` → `["a", "b", "", "c"]`' in split
    assert "Math.max(" in await hover("Math.max", 6) and "→ `[2, -Infinity]`" in await hover("Math.max", 6)
    assert "resolves with: the task's return value" in await hover("Task.run", 6)
    assert '"2024-03-15T10:00:00.000Z"' in await hover(".toISOString", 2)  # a date method's row


def test_the_hover_table_is_docs_language_md_and_covers_the_whole_library() -> None:
    """reference.json is built from the doc (run `python -m rhythm_runtime.editor.reference docs/LANGUAGE.md`
    after editing its tables), and every global and method has a row."""
    from rhythm_compiler.check import WORKFLOW_NAMESPACES, library
    from rhythm_runtime.editor.reference import build, reference
    from rhythm_runtime.execution.values.collections import _MAP_METHODS, _SET_METHODS
    from rhythm_runtime.execution.values.dates import DATE_METHODS
    from rhythm_runtime.execution.values.methods import _ARRAY_METHODS, _NUMBER_METHODS
    from rhythm_runtime.execution.values.string_methods import _STRING_METHODS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "LANGUAGE.md").read_text(encoding="utf-8")
    assert reference() == build(doc), "reference.json is stale: run python -m rhythm_runtime.editor.reference docs/LANGUAGE.md"
    funcs, consts = library()
    names = [*funcs, *consts, *(f"{ns}.{m}" for ns, ms in WORKFLOW_NAMESPACES.items() for m in ms if ns != "Task"),
             *(f"array.{m}" for m in _ARRAY_METHODS), *(f"string.{m}" for m in _STRING_METHODS),
             *(f"number.{m}" for m in _NUMBER_METHODS), "Task.run",
             *(f"map.{m}" for m in _MAP_METHODS), *(f"set.{m}" for m in _SET_METHODS), "map.size", "set.size",
             *(f"date.{m}" for m in DATE_METHODS)]
    assert [n for n in names if n not in reference()] == []


@pytest.mark.asyncio
async def test_hover_and_definition_of_a_task_land_on_its_python_function(client: LanguageClient) -> None:
    open_document(client)
    await diagnostics(client)
    where = at(MAIN_TEXT, '"send-email"', 2)
    hover = await client.text_document_hover_async(T.HoverParams(T.TextDocumentIdentifier(URI), where))
    assert "def send_email(payload: dict) -> dict" in hover.contents.value
    assert "Send one welcome e-mail." in hover.contents.value
    target = await client.text_document_definition_async(T.DefinitionParams(T.TextDocumentIdentifier(URI), where))
    tasks_py = PROJECT / "svc" / "app.py"
    assert target.uri == from_fs_path(str(tasks_py))
    line = next(i for i, text in enumerate(tasks_py.read_text().splitlines()) if text.startswith("@task(\"send-email\""))
    assert target.range.start.line == line


@pytest.mark.asyncio
async def test_definition_of_a_workflow_and_a_variable(client: LanguageClient) -> None:
    open_document(client)
    await diagnostics(client)
    target = await client.text_document_definition_async(T.DefinitionParams(
        T.TextDocumentIdentifier(URI), at(MAIN_TEXT, '"notify"', 2)))
    assert target.uri == from_fs_path(str(PROJECT / "workflows" / "notify.flow"))
    use = at(MAIN_TEXT, "user.email", 1)
    target = await client.text_document_definition_async(T.DefinitionParams(T.TextDocumentIdentifier(URI), use))
    assert target.range.start == at(MAIN_TEXT, "user =")


@pytest.mark.asyncio
async def test_references_symbols_and_rename(client: LanguageClient) -> None:
    open_document(client)
    await diagnostics(client)
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(URI), position=at(MAIN_TEXT, '"send-email"', 1),
        context=T.ReferenceContext(include_declaration=True)))
    assert sorted((Path(r.uri).name, r.range.start.line) for r in refs) == [
        ("main.flow", at(MAIN_TEXT, '"send-email"').line), ("notify.flow", 0)]
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(T.TextDocumentIdentifier(URI)))
    assert [s.name for s in symbols][:2] == ["front matter", 'task "get-user" (waits in state 1)']
    edit = await client.text_document_rename_async(T.RenameParams(
        text_document=T.TextDocumentIdentifier(URI), position=at(MAIN_TEXT, "user ="), new_name="account"))
    assert len(edit.changes[URI]) == MAIN_TEXT.count("user.") + 1
    assert all(e.new_text == "account" for e in edit.changes[URI])


@pytest.mark.asyncio
async def test_random_edits_never_crash_the_server(client: LanguageClient) -> None:
    rng = random.Random(7)
    text = MAIN_TEXT
    open_document(client, text)
    pieces = ["{", "}", "(", ")", "await ", "Task.run(", '"', "`${", "let ", "\n", "/", "=>", "...", "\\", "💥"]
    for version in range(2, 120):
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(pieces) + text[i + rng.randrange(3):]
        change(client, text, version)
        for line in range(0, text.count("\n") + 1, 3):  # every feature, anywhere, on broken text
            where = T.TextDocumentIdentifier(URI), T.Position(line, version % 20)
            await client.text_document_completion_async(T.CompletionParams(*where))
            await client.text_document_hover_async(T.HoverParams(*where))
            await client.text_document_definition_async(T.DefinitionParams(*where))
    await client.text_document_document_symbol_async(T.DocumentSymbolParams(T.TextDocumentIdentifier(URI)))
    change(client, MAIN_TEXT, 200)
    assert await diagnostics(client) == []
    assert client.error is None
