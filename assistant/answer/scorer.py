"""Scorer: the answer stage's trained models, loaded from assistant/models/ and checked against
their card: a LightGBM model that rates how well each candidate sentence answers a question, a
LightGBM decision whether any of them does, and the reader (reader.py) it weighs. The decision's
probability, calibrated on held-out folds, is the answer's confidence: the probability that the cited
passage answers. The card carries the data, the features, the cross-validated figures, the
calibration, the thresholds and the sha256 of each model file, checked when it loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL, MODEL_CACHE
from ..errors import ConfigError
from ..store.embeddings import resolve
from .features import DECLINE_FEATURES, SENTENCE_FEATURES, Candidate, Features, decline_row, read, read_windows
from .reader import Reader, Reading

MODELS = Path(__file__).resolve().parents[1] / "models"
CARD = "card.json"
CARD_VERSION = 1


OUTCOMES = ("answered", "unsure", "declined")


@dataclass(frozen=True)
class Thresholds:
    decline: float  # decline when the decline model's probability is at least this
    unsure: float  # below `decline` and at least this: the closest passage, said to be unsure
    second: float  # cite the runner-up too when its probability is at least this share of the best's


@dataclass(frozen=True)
class Calibration:
    """The decline model's probability mapped to the probability that the cited passage answers:
    an isotonic fit on held-out folds, as the points it steps through (linear between them)."""
    declines: tuple[float, ...]  # increasing
    confidences: tuple[float, ...]  # not increasing

    def confidence(self, decline: float) -> float:
        return float(np.interp(decline, self.declines, self.confidences))


@dataclass(frozen=True)
class Judgement:
    """The one decision on a question: the decline model's probability, its calibrated confidence,
    and the outcome the thresholds give."""
    decline: float
    confidence: float
    outcome: str  # one of OUTCOMES


class Scorer:
    """The trained models, loaded from `folder` and checked against their card."""

    def __init__(self, folder: Path = MODELS):
        import lightgbm

        card_path = folder / CARD
        rebuild = "rebuild it with `make train`"
        try:
            self.card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{card_path}: the answer model's card cannot be read ({exc}); {rebuild}") from exc
        if self.card.get("version") != CARD_VERSION or self.card.get("sentence_features") != list(SENTENCE_FEATURES) \
                or self.card.get("decline_features") != list(DECLINE_FEATURES):
            raise ConfigError(f"{card_path}: made for other features than this code computes; {rebuild}")
        paths = {name: folder / self.card["files"][name]["name"] for name in ("sentence", "decline", "reader")}
        for name, path in paths.items():
            if file_sha256(path) != self.card["files"][name]["sha256"]:
                raise ConfigError(f"{path}: missing or not the file its card names (sha256 differs); {rebuild}")
        self.sentence, self.decline = (lightgbm.Booster(model_file=str(paths[name])) for name in ("sentence", "decline"))
        self.reader = Reader(paths["reader"], resolve(DEFAULT_MODEL), MODEL_CACHE,
                             self.card["files"]["reader"]["sha256"])  # checked just above
        self.thresholds = Thresholds(**self.card["thresholds"])
        self.calibration = Calibration(*map(tuple, zip(*self.card["calibration"]["points"])))

    def sentence_probabilities(self, rows: np.ndarray) -> np.ndarray:
        return self.sentence.predict(rows, num_threads=1) if len(rows) else np.zeros(0)

    def decline_probability(self, row: np.ndarray) -> float:
        return float(self.decline.predict(row[None, :], num_threads=1)[0])

    def read(self, features: Features, probabilities: np.ndarray) -> list[Reading]:
        return read(self.reader, features, probabilities)

    def read_windows(self, features: Features, cands: Sequence[Candidate]) -> list[Reading]:
        return read_windows(self.reader, features, cands)

    def judge(self, features: Features, probabilities: np.ndarray, rows: np.ndarray, found: Sequence[Reading],
              threshold: float | None = None) -> Judgement:
        """Whether the best candidate answers: declined where the decline model's probability
        reaches `threshold` (or the trained one), unsure in the band under it, else answered."""
        margins = np.array([f.margin for f in found], dtype=np.float32)
        probability = self.decline_probability(decline_row(probabilities, rows, features.question_row, margins))
        decline = self.thresholds.decline if threshold is None else threshold
        unsure = min(self.thresholds.unsure, decline)
        outcome = "declined" if probability >= decline else "unsure" if probability >= unsure else "answered"
        return Judgement(probability, self.calibration.confidence(probability), outcome)


def file_sha256(path: Path) -> str:
    """The file's sha256 in hex; empty when there is no such file."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


@lru_cache(maxsize=1)
def get_scorer() -> Scorer:
    """The process-wide trained models: loaded on first use only."""
    return Scorer()
