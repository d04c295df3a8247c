PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX ?= index

.PHONY: install run test bench

$(BIN)/assistant: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test]'
	touch $@

install: $(BIN)/assistant

run: install
	@if [ ! -f $(INDEX)/chroma.sqlite3 ]; then $(BIN)/assistant ingest seeds --index $(INDEX); fi
	$(BIN)/assistant ask --index $(INDEX)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run.py
