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


def test_a_span_stays_within_one_sentence_of_the_window(reader):
    # Wikipedia's "Rhine" (SQuAD dev): read whole, the best span runs from the first sentence into the second
    window = ("Near Tamins-Reichenau the Anterior Rhine and the Posterior Rhine join and form the Rhine. The river "
              "makes a distinctive turn to the north near Chur. This section is nearly 86 km long, and descends from a "
              "height of 599 m to 396 m.")
    question = "Near Chur, which direction does the Rhine turn?"
    breaks = [window.index("The river"), window.index("This section")]
    across, within = reader.read(question, [window])[0], reader.read(question, [window], [breaks])[0]
    assert across.start < breaks[0] < across.end
    assert window[within.start : within.end] == "north" and within.margin <= across.margin
