import numpy as np

from assistant.answer.features import DECLINE_FEATURES
from assistant.evaluation.eval import calibration_error, reliability
from assistant.training.train_data import Example
from assistant.training.train_decline import (
    MAX_UNSURE,
    MAX_WRONG_DECLINES,
    Asked,
    calibrated,
    calibration,
    confidences,
    outcome,
    threshold,
)


def asked(kind: str, n: int, empty: bool = False, hit: bool | None = None) -> Asked:
    return Asked(Example(f"{kind}{n}", "?", kind, f"g{n % 5}", ()), f"set/g{n % 5}",
                 np.zeros(len(DECLINE_FEATURES), dtype=np.float32), empty, kind == "answerable" if hit is None else hit)


def test_the_threshold_declines_at_most_the_allowed_share_of_answerable_questions():
    rng = np.random.default_rng(0)
    questions = [asked("answerable", i) for i in range(200)] + [asked("silent", i) for i in range(100)]
    probabilities = np.concatenate([rng.uniform(0, 0.8, 200), rng.uniform(0.7, 1, 100)])
    decline, unsure = threshold(questions, probabilities), threshold(questions, probabilities, MAX_UNSURE)
    figures = outcome(questions, probabilities, decline, unsure)
    assert MAX_WRONG_DECLINES - 0.01 <= figures["declined_answerable"] <= MAX_WRONG_DECLINES
    assert MAX_UNSURE - 0.01 <= 1 - figures["confident_answerable"] <= MAX_UNSURE
    assert unsure < decline and figures["confident_silent"] < 1 - figures["declined_silent"]
    assert figures["declined_silent"] > 0.6 and "declined_other" not in figures


def test_a_question_that_asks_nothing_counts_as_declined_and_against_the_allowance():
    questions = [asked("answerable", i, empty=i < 5) for i in range(100)]
    probabilities = np.linspace(0, 0.5, 100)
    decline = threshold(questions, probabilities)
    figures = outcome(questions, probabilities, decline, decline)
    assert figures["declined_answerable"] <= MAX_WRONG_DECLINES + 0.01
    assert figures["evidence_hit"] == 1 - figures["declined_answerable"]


def noisy(seed: int = 0) -> tuple[list[Asked], np.ndarray]:
    """Questions whose best candidate holds the answer with probability 1 - p, p their decline probability."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, 3000)
    hits = rng.uniform(0, 1, 3000) < 1 - p
    return [asked("answerable" if h or i % 2 else "silent", i, hit=bool(h)) for i, h in enumerate(hits)], p


def test_the_confidence_is_the_held_out_share_whose_best_candidate_holds_the_answer():
    questions, p = noisy()
    points = calibration(questions, p)
    xs, ys = zip(*points)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys, reverse=True)  # surer of a decline, less confident
    confidence = confidences(points, p)
    assert confidence[p < 0.1].mean() > 0.85 and confidence[p > 0.9].mean() < 0.15
    labels = np.array([q.answerable and q.hit for q in questions], dtype=float)
    assert calibration_error(reliability(zip(confidence, labels))) < 0.03
    assert calibration_error(reliability(zip(1 - confidence, labels))) > 0.3  # the measure can fail
    held = calibrated(questions, p)
    assert held["calibration_error"]["mean"] < 0.05
    assert held["confidence_answerable"]["mean"] > held["confidence_unanswerable"]["mean"]


def test_questions_that_ask_nothing_are_left_out_of_the_calibration():
    questions, p = noisy(1)
    emptied = [asked("answerable", i, empty=True) for i in range(500)]  # declined unjudged, at any p
    assert calibration(questions + emptied, np.concatenate([p, np.zeros(500)])) == calibration(questions, p)
