# The two commands of the README: `make demo` and `make test`.
# Each creates .venv when missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test grammar-test vsix compile-examples clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rhythm compile examples
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/rhythm compile --check examples bench/workflows tests/chaos/workflows
	cd examples && ../$(BIN)/rhythm check --app demo_app:app
	$(BIN)/python -m pytest -q
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory grammar-test; \
	else echo "make test: npm not found, so the editor grammar tests (editors/vscode) were skipped"; fi

# The VS Code extension's grammar tests and package (Node only; see editors/vscode/README.md).
grammar-test:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm test

vsix:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package

clean:  # stop the embedded Postgres first: deleting its files under a running server leaves it orphaned
	if [ -d .rhythm ] && [ -x $(BIN)/rhythm ]; then $(BIN)/rhythm db stop --force; fi
	rm -rf $(VENV) .rhythm
