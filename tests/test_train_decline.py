import numpy as np

from assistant.answer.features import DECLINE_FEATURES
from assistant.training.train_data import Example
from assistant.training.train_decline import (
    MAX_WRONG_DECLINES,
    Asked,
    outcome,
    threshold,
)


def asked(kind: str, n: int, empty: bool = False) -> Asked:
    return Asked(Example(f"{kind}{n}", "?", kind, f"g{n % 5}", ()), f"set/g{n % 5}",
                 np.zeros(len(DECLINE_FEATURES), dtype=np.float32), empty, kind == "answerable")


def test_the_threshold_declines_at_most_the_allowed_share_of_answerable_questions():
    rng = np.random.default_rng(0)
    questions = [asked("answerable", i) for i in range(200)] + [asked("silent", i) for i in range(100)]
    probabilities = np.concatenate([rng.uniform(0, 0.8, 200), rng.uniform(0.7, 1, 100)])
    figures = outcome(questions, probabilities, threshold(questions, probabilities))
    assert MAX_WRONG_DECLINES - 0.01 <= figures["declined_answerable"] <= MAX_WRONG_DECLINES
    assert figures["declined_silent"] > 0.6 and "declined_other" not in figures


def test_a_question_that_asks_nothing_counts_as_declined_and_against_the_allowance():
    questions = [asked("answerable", i, empty=i < 5) for i in range(100)]
    probabilities = np.linspace(0, 0.5, 100)
    decline = threshold(questions, probabilities)
    figures = outcome(questions, probabilities, decline)
    assert figures["declined_answerable"] <= MAX_WRONG_DECLINES + 0.01
    assert figures["evidence_hit"] == 1 - figures["declined_answerable"]
