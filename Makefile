# Two commands on a fresh machine: `make demo` and `make test`. Each makes .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint templates bench clean mutate

$(BIN)/pmo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all,test]'
	touch $(BIN)/pmo

# Runs again as often as you like: each run starts the demo afresh in demo/.
demo: $(BIN)/pmo
	$(BIN)/pmo demo --dir demo
	@echo ""
	@echo "pmo is installed in $(VENV): run $(BIN)/pmo --help, or 'source $(BIN)/activate' and then pmo --help."

test: $(BIN)/pmo
	$(BIN)/ruff check pmo_sheets tests benchmarks
	# Two workers: tests sharing a module-scoped fixture stay on one worker (--dist loadgroup + xdist_group).
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# Mutation testing of the core: CPU heavy (tens of minutes), one module at a time, writes docs/mutation.md.
# `make mutate MODULES="rollups coerce"` runs some modules only.
mutate: $(BIN)/pmo
	nice $(BIN)/python tests/mutation_report.py $(MODULES)

templates: $(BIN)/pmo
	$(BIN)/pmo templates

bench: $(BIN)/pmo
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) demo .pytest_cache
