"""The resumable reader run: windows built as the product reads them, and chunks that continue one plan."""

import json

import pytest

from assistant.training import reader_run, reader_windows
from assistant.training.train_data import READER_AFTER, TRAIN


@pytest.fixture(scope="module")
def rows():
    return list(reader_windows._set_windows(TRAIN / "squad", {"Kenya.txt"}))[:64]


def test_windows_hold_their_answers_and_negatives_hold_none(rows):
    answered = [r for r in rows if r["answer"]]
    assert answered and len(answered) < len(rows)
    for r in answered:
        assert r["context"][r["answer"][0]:r["answer"][1]].strip()
    assert rows == list(reader_windows._set_windows(TRAIN / "squad", {"Kenya.txt"}))[:64]


def test_reader_and_decline_sides_share_no_article():
    assert len(reader_windows.reader_articles()) == 442 - READER_AFTER


def test_learning_rate_warms_up_each_chunk_and_ends_at_zero():
    assert reader_run.learning_rate(500, 1000, 0) < reader_run.learning_rate(500, 1000, reader_run.REWARM)
    assert reader_run.learning_rate(999, 1000, 100) < 1e-6 < reader_run.learning_rate(500, 1000, 100)


@pytest.mark.slow
def test_a_chunk_continues_where_the_last_stopped(rows, tmp_path):
    held = rows[:12]
    first = reader_run.run_chunk(rows, held, tmp_path, steps=1)
    assert first["step"] == 1 and (tmp_path / "reader.safetensors").stat().st_size < 30_000_000
    second = reader_run.run_chunk(rows, held, tmp_path, steps=1)
    assert second["step"] == 2 and [c["steps"] for c in second["chunks"]] == [[0, 1], [1, 2]]
    assert json.loads((tmp_path / "state.json").read_text())["weights_sha256"] == second["weights_sha256"]
    with pytest.raises(SystemExit, match="other windows"):
        reader_run.run_chunk(rows[:40], held, tmp_path, steps=1)
