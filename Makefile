# The two commands of the README: `make demo` and `make test`.
# Each creates .venv when missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test compile-examples clean

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

clean:
	rm -rf $(VENV) .rhythm
