"""Editor and CI support: `rhythm check` (a workflow's names against the app's) and the language server."""
