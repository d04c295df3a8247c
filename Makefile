PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX ?= index

.PHONY: install run test bench train train-reader screenshots

$(BIN)/assistant: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test]'
	$(BIN)/python -c 'from assistant import Assistant; from assistant.answer.scorer import get_scorer; Assistant().embedder.words; get_scorer()'  # exported, compiled, distilled: once
	touch $@

install: $(BIN)/assistant

HOST ?= 127.0.0.1
PORT ?= 7860

run: install
	@if [ ! -f $(INDEX)/chroma.sqlite3 ]; then $(BIN)/assistant ingest seeds --index $(INDEX); fi
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/assistant serve --index $(INDEX) --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

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
