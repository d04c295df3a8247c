PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
INDEX ?= index

.PHONY: install lock run test bench train train-reader screenshots

# uv installs exactly the versions and hashes of requirements.lock, and torch's CPU build from the
# wheels this machine keeps on disk (WHEELS); the models are then exported, compiled and distilled once.
WHEELS ?= /opt/wheels
$(BIN)/assistant: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q uv==0.13.8
	$(UV) pip install -q --python $(BIN)/python --no-deps --find-links $(WHEELS) torch==2.13.0+cpu
	$(UV) pip install -q --python $(BIN)/python --no-deps --require-hashes -r requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	$(BIN)/python -c 'from assistant import Assistant; from assistant.answer.scorer import get_scorer; Assistant().embedder.words; get_scorer()'  # exported, compiled, distilled: once
	touch $@

install: $(BIN)/assistant

# requirements.lock again from pyproject.toml (its dependencies and the test extra) for Python 3.11
# on Linux x86_64; torch, the CPU build from WHEELS, is installed apart (above).
lock:
	$(UV) pip compile pyproject.toml --extra test --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--find-links $(WHEELS) --no-emit-package torch --generate-hashes -o requirements.lock

HOST ?= 127.0.0.1
PORT ?= 7860

run: install
	@if [ ! -f $(INDEX)/chroma.sqlite3 ]; then $(BIN)/assistant ingest seeds --index $(INDEX); fi
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/assistant serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Two workers, a test file each at a time (a file's server and browser are set up once).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The web chat's and the report's screenshots in docs/, taken by the browser tests.
screenshots: install
	ASSISTANT_SCREENSHOTS=docs $(BIN)/python -m pytest tests/test_ui.py tests/test_report.py

# Rebuilds assistant/models/ from ../shared/train in three stages (docs/method.md): the sentence model and
# the reader from squad/ (the reader on a GPU when there is one); the reader further on silent windows of
# squad11/ articles halved; the decline model from squad11/ and news/, asked of whole and silenced folders.
# Every set's articles are indexed under .train/; folds are whole articles or weeks. STAGE=silence or
# STAGE=decline starts at that stage over the committed models of those before it (the decline alone: about
# 20 minutes on 2 cores).
train: install
	$(BIN)/python -m assistant.training.train $(if $(STAGE),--from $(STAGE))

# The big reader run (assistant/training/reader_run.py): the next chunk of at most MINUTES from the
# checkpoint in assistant/training/checkpoint/, written back there; commit it and run again.
MINUTES ?= 110
train-reader: install
	$(BIN)/python -m assistant.training.reader_run --minutes $(MINUTES)

# ARCHIVE=1 adds bench/archive.py: seeds among ../shared/corpus/news.jsonl. Its first run builds
# the archive index in bench/results/archive-index (about 20 minutes on 2 cores); later runs reuse it.
# Then bench/lexical.py: the whole-archive lexical engines side by side.
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/run.py --questions ../shared/eval/squad-dev/questions.jsonl --seeds ../shared/eval/squad-dev/docs --repeat 1
	$(BIN)/python bench/load.py
	$(BIN)/python bench/embed.py --squad
	$(BIN)/python bench/servers.py
	@if [ "$(ARCHIVE)" = 1 ]; then $(BIN)/python bench/archive.py && $(BIN)/python bench/lexical.py; fi
