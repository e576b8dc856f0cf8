"""`python -m rhythm_runtime.cli` is the `rhythm` command."""

from rhythm_runtime.cli.main import main

main()
