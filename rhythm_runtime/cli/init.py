"""``rhythm init``: a new project that runs (a workflow, a task, an app), so a first run is three commands away.

Like ``cargo init`` and ``dbos init``: it writes only files that are not there yet and refuses (writing
nothing) when one of them is, so it is safe to run in an existing directory.
"""

from __future__ import annotations

from pathlib import Path

import click

from rhythm_runtime.errors import RhythmError

WORKFLOW = """\
// hello: greet someone, wait a second (durably: a worker may stop and another carry on), greet again
const first = await Task.run("greet", { name: Inputs.name })
await Timer.delay(1)
const again = await Task.run("greet", { name: `${Inputs.name}, again` })
return [first.message, again.message]
"""

APP = '''\
"""The app: `rhythm dev app:app` runs a worker for it; `python app.py` starts a run and prints its result."""

import asyncio

from rhythm import RhythmApp, RhythmClient, task

app = RhythmApp("workflows")


@task("greet")
def greet(payload: dict) -> dict:
    return {"message": f"Hello, {payload['name']}!"}


async def main() -> None:
    handle = await RhythmClient().start_workflow("hello", {"name": "Ada"})
    print(handle.id, await handle.result(timeout=60))


if __name__ == "__main__":
    asyncio.run(main())
'''

PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"

[tool.rhythm]
app = "app:app"
"""

GITIGNORE = """\
# the embedded Postgres of `rhythm dev` (its data and logs)
.rhythm/
__pycache__/
"""


def project_files(name: str) -> dict[str, str]:
    """Path (relative to the project) -> text of every file a new project gets."""
    return {
        "workflows/hello.flow": WORKFLOW,
        "app.py": APP,
        "pyproject.toml": PYPROJECT.format(name=name),
        ".gitignore": GITIGNORE,
    }


def create_project(directory: Path) -> list[str]:
    """Write a new project into `directory` (made if missing); RhythmError, having written nothing, if any of
    its files exists. Returns the paths written."""
    files = project_files(_package_name(directory))
    present = [path for path in files if (directory / path).exists()]
    if present:
        raise RhythmError(
            f"{directory} already has {', '.join(present)}; rhythm init writes only new files "
            f"(run it in an empty directory, or remove those)"
        )
    for path, text in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return list(files)


def _package_name(directory: Path) -> str:
    """A valid project name from the directory's name ("my project" -> "my-project")."""
    name = "-".join(directory.resolve().name.lower().split())
    return "".join(c for c in name if c.isalnum() or c in "-_.") or "rhythm-project"


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init_cmd(directory: Path) -> None:
    """Create a new project in DIRECTORY (default: here): a workflow, a task and an app that runs them."""
    written = create_project(directory)
    click.echo(f"created {', '.join(written)} in {directory}", err=True)
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory}\n  "
    click.echo(
        "next:\n"
        f"  {where}rhythm compile          # workflows/hello.flow -> workflows/compiled/hello.py\n"
        "  rhythm dev app:app      # Postgres (embedded) and a worker that recompiles on change; leave it running\n"
        "  python app.py           # in another terminal: start `hello` and print its result",
        err=True,
    )
