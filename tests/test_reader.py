from pathlib import Path

import pytest

from assistant.answer.scorer import get_scorer

SEED = Path(__file__).resolve().parent.parent / "seeds" / "002_41f72d074bf60d22.txt"


@pytest.fixture(scope="module")
def reader():
    return get_scorer().reader


@pytest.fixture(scope="module")
def window():
    text = SEED.read_text(encoding="utf-8")
    start = text.index("Boris Bondarev, 41,")
    return text[start : text.index("\n", start)]


def test_the_reader_finds_the_span_that_answers_in_a_window(reader, window):
    reading = reader.read("How old is Boris Bondarev?", [window])[0]
    assert reading.margin > 0
    assert window[reading.start : reading.end] == "41"


def test_the_reader_finds_no_answer_where_the_window_holds_none(reader, window):
    answered, unanswered = reader.read("How old is Boris Bondarev?", [window])[0], \
        reader.read("What did Boris Bondarev eat for breakfast?", [window])[0]
    assert unanswered.margin < 0 < answered.margin


def test_windows_are_read_each_on_its_own(reader, window):
    alone = reader.read("How old is Boris Bondarev?", [window])[0]
    together = reader.read("How old is Boris Bondarev?", ["It rained in Geneva.", window])
    assert together[1].margin == pytest.approx(alone.margin, abs=0.1)
    assert together[0].margin < 0
