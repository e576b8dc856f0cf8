"""The language server's view of a sample workflow, as JSON for render.js: diagnostics and a completion list.

    python editors/vscode/tools/screenshot_data.py > /tmp/editor.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tests" / "lsp_project"))  # the test app: its tasks are the completions

from rhythm_runtime.cli.options import load_app  # noqa: E402
from rhythm_runtime.editor.analysis import analyze  # noqa: E402
from rhythm_runtime.editor.app_names import AppNames  # noqa: E402
from rhythm_runtime.editor.features import completions  # noqa: E402

SAMPLE = '''```
description: Welcome a new user.
```
const user = await Task.run("get-user", { id: Inputs.userId })
try {
  await Task.run("send-emial", { to: user.email, template: `welcome-${user.plan}` })
} catch (err) {
  await Task.run("send-email", { to: "support@example.com", template: err.message })
}
await Timer.delay(3 * 24 * 3600)
const stats = await Task.run("'''


def main() -> None:
    names = AppNames.of_app(load_app("svc.app:app", HERE.parents[2] / "tests" / "lsp_project"))
    found = analyze(SAMPLE + '")\n', "onboard.flow", names)
    lines = SAMPLE.split("\n")
    items = completions(found, found, names, len(lines), len(lines[-1]) + 1, set())
    print(json.dumps({
        "source": SAMPLE,
        "diagnostics": [{"line": d.line, "col": d.col, "width": d.width, "severity": d.severity, "message": d.message}
                        for d in found.diagnostics if d.line < len(lines)],
        "completion": {"line": len(lines), "col": len(lines[-1]) + 1,
                       "items": [{"label": c.label, "detail": c.detail} for c in items]},
    }))


if __name__ == "__main__":
    main()
