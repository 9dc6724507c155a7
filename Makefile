# The two set-up commands: `make run` (demo) and `make test`. Each makes its own virtualenv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= demo/library.db

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	rm -f $(DB) $(DB)-wal $(DB)-shm
	mkdir -p $(dir $(DB))
	$(BIN)/paperradar --db $(DB) import examples/
	$(BIN)/paperradar --db $(DB) stats
	$(BIN)/paperradar --db $(DB) papers list --limit 15

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo
