"""Train the decline model: whether any candidate answers, learned from questions of every kind the
product meets (train_data.py): answerable, silent (the article is about the subject but does not
say), other (no loaded article covers it).

The sentence model and the reader it stands on are trained on ../shared/train/squad (train.py);
the decline's questions come from articles neither saw (SQuAD 1.1's and the news quizzes'), so
what those models make of them is what they make of a newsroom's articles. Each folder is indexed
with the product's own ingest and each question goes through the product's own retrieval,
features and reader. Folds are whole articles or quiz weeks; the threshold is set on held-out
folds so that at most MAX_WRONG_DECLINES of the answerable questions are declined, and the unsure
band under it so that at most MAX_UNSURE are declined or unsure. The held-out probabilities are
calibrated (isotonic) into the answer's confidence: the probability that its best candidate holds
the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..answer.features import DECLINE_FEATURES, Features, decline_row, read
from ..answer.question import parse
from ..evaluation.eval import calibration_error, reliability
from ..pipeline import Assistant
from .train_data import KINDS, Example, Folder, group_folds

# The direction of the evidence is known: the more of the question the articles lack, the likelier
# they are silent; the surer the sentence model and the reader, the less. The fit may not learn
# the opposite from a corner of its data.
LACKING = ("absent_share", "absent_terms", "absent_names", "absent_numbers")
FOUND = ("p1", "cover_max", "read_margin")
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 40,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
          "monotone_constraints": [1 if f in LACKING else -1 if f in FOUND else 0 for f in DECLINE_FEATURES],
          "monotone_constraints_method": "advanced", "verbose": -1, "seed": 7, "num_threads": 2}
ROUNDS = 200
FOLDS = 5
MAX_WRONG_DECLINES = 0.05  # share of answerable questions declining may cost (held-out folds)
MAX_UNSURE = 0.10  # share of answerable questions declined or unsure at most (held-out folds)


@dataclass(frozen=True)
class Asked:
    """One training question as the answerer saw it."""
    example: Example
    group: str  # the training set and the article or week: folds keep it whole
    row: np.ndarray  # the decline model's features
    empty: bool  # it asks nothing the articles could hold (no content word), or nothing was found
    hit: bool  # the best rated candidate holds the answer

    @property
    def answerable(self) -> bool:
        return self.example.kind == "answerable"


def questioned(folder: Folder, work: Path) -> Iterator[tuple[Example, Features]]:
    """Each question of `folder` through the product's retrieval and features, its articles
    indexed under `work`."""
    assistant = Assistant(index=work / folder.name / "index")
    assistant.ingest([folder.write(work / folder.name)], progress=True)
    for stale in {d.id for d in assistant.documents()} - set(folder.docs):  # of an earlier, other sample
        assistant.remove(stale)
    answerer = assistant.answerer
    answerer.document = lru_cache(maxsize=None)(assistant.document)
    for e in tqdm(folder.examples, desc=folder.name, unit="question"):
        passages = assistant.retriever.searcher.search(e.question, assistant.settings.k)
        yield e, answerer.features(parse(e.question), passages)


def ask_all(folder: Folder, work: Path, sentence, reader) -> list[Asked]:
    """Each question of `folder` through retrieval, features, the sentence model and the reader,
    its articles indexed under `work`."""
    out = []
    for e, features in questioned(folder, work):
        rows = features.sentence_rows()
        probabilities = sentence.predict(rows, num_threads=1) if len(rows) else np.zeros(0)
        found = read(reader, features, probabilities)
        margins = np.array([f.margin for f in found], dtype=np.float32)
        row = decline_row(probabilities, rows, features.question_row, margins)
        best = int(np.argmax(probabilities)) if len(rows) else None
        chunk = features.cands[best].chunk if best is not None else None
        hit = chunk is not None and any(chunk.doc_id == d and chunk.start < end and start < chunk.end
                                        for d, start, end in e.spans)
        empty = not features.query.asked or not len(rows)
        out.append(Asked(e, f"{folder.source}/{e.group}", row, empty, hit))
    return out


def fit(asked: list[Asked]):
    import lightgbm

    rows = np.vstack([a.row for a in asked])
    labels = np.array([not a.answerable for a in asked], dtype=np.float32)
    return lightgbm.train(PARAMS, lightgbm.Dataset(rows, labels, feature_name=list(DECLINE_FEATURES)), ROUNDS)


def folds(asked: list[Asked], n: int = FOLDS) -> list[set[str]]:
    """Whole groups (articles, weeks) per fold, balanced by question count."""
    return group_folds([a.group for a in asked], n)


def held_out(asked: list[Asked], n: int = FOLDS) -> np.ndarray:
    """Each question's decline probability from a model that did not see its fold."""
    out = np.zeros(len(asked))
    for held in tqdm(folds(asked, n), desc="decline folds", unit="fold"):
        model = fit([a for a in asked if a.group not in held])
        at = [i for i, a in enumerate(asked) if a.group in held]
        out[at] = model.predict(np.vstack([asked[i].row for i in at]))
    return out


def threshold(asked: list[Asked], probabilities: np.ndarray, share: float = MAX_WRONG_DECLINES) -> float:
    """The lowest decline probability at which at most `share` of the answerable questions fall
    at or above it (or ask nothing): MAX_WRONG_DECLINES for the decline, MAX_UNSURE for the unsure
    band under it."""
    answerable = [i for i, a in enumerate(asked) if a.answerable]
    kept = np.sort([probabilities[i] for i in answerable if not asked[i].empty])
    budget = int(len(answerable) * (1 - share))  # answerable questions to keep
    return float(kept[min(budget, len(kept) - 1)])


def calibration(asked: list[Asked], probabilities: np.ndarray) -> list[list[float]]:
    """The confidence: whether the best candidate holds the answer, fitted on held-out decline
    probabilities by isotonic regression (the more likely a decline, the less likely an answer),
    as the points the fit steps through (scorer.Calibration). Questions that ask nothing are
    declined unjudged and left out."""
    from sklearn.isotonic import IsotonicRegression

    judged = [i for i, a in enumerate(asked) if not a.empty]
    labels = np.array([asked[i].answerable and asked[i].hit for i in judged], dtype=float)
    fit = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
    fit.fit(probabilities[judged], labels)
    return [[round(float(x), 5), round(float(y), 4)] for x, y in zip(fit.X_thresholds_, fit.y_thresholds_)]


def confidences(points: list[list[float]], probabilities: np.ndarray) -> np.ndarray:
    xs, ys = zip(*points)
    return np.interp(probabilities, xs, ys)


def calibrated(asked: list[Asked], probabilities: np.ndarray, n: int = FOLDS) -> dict:
    """How well the calibration holds on folds it was not fitted on: per held-out fold, its
    expected calibration error, with the calibration fitted on the other folds' held-out
    probabilities; for answerable and unanswerable questions, the mean confidence."""
    per_fold = []
    for held in folds(asked, n):
        inside = [i for i, a in enumerate(asked) if a.group not in held]
        at = [i for i, a in enumerate(asked) if a.group in held and not a.empty]
        points = calibration([asked[i] for i in inside], probabilities[inside])
        confidence = confidences(points, probabilities[at])
        labels = np.array([asked[i].answerable and asked[i].hit for i in at], dtype=float)
        answerable = np.array([asked[i].answerable for i in at])
        per_fold.append({"calibration_error": calibration_error(reliability(zip(confidence, labels))),
                         "confidence_answerable": float(confidence[answerable].mean()),
                         "confidence_unanswerable": float(confidence[~answerable].mean())})
    return summary(per_fold)


def outcome(asked: list[Asked], probabilities: np.ndarray, decline: float, unsure: float) -> dict[str, float]:
    """The share of each kind declined and of each kind answered confidently (neither declined nor
    unsure), and of answerable questions, the best candidate's hits."""
    declined = [a.empty or p >= decline for a, p in zip(asked, probabilities)]
    confident = [not a.empty and p < unsure for a, p in zip(asked, probabilities)]
    figures = {}
    for kind in KINDS:
        mine = [i for i, a in enumerate(asked) if a.example.kind == kind]
        if mine:
            figures[f"declined_{kind}"] = float(np.mean([declined[i] for i in mine]))
            figures[f"confident_{kind}"] = float(np.mean([confident[i] for i in mine]))
    answered = [a for a, d in zip(asked, declined) if a.answerable and not d]
    answerable = sum(a.answerable for a in asked)
    figures["evidence_hit"] = sum(a.hit for a in answered) / answerable if answerable else 0.0
    return figures


def cross_validated(asked: list[Asked], probabilities: np.ndarray, decline: float, unsure: float,
                    n: int = FOLDS) -> dict:
    """`outcome` per held-out fold: mean and spread of each figure, per source of questions."""
    out, split = {}, folds(asked, n)
    for source in sorted({a.group.split("/")[0] for a in asked}) + ["all"]:
        mine = [i for i, a in enumerate(asked) if source == "all" or a.group.startswith(source + "/")]
        per_fold = []
        for held in split:
            at = [i for i in mine if asked[i].group in held]
            if at:
                per_fold.append(outcome([asked[i] for i in at], probabilities[at], decline, unsure))
        out[source] = summary(per_fold)
        out[source]["questions"] = {kind: sum(asked[i].example.kind == kind for i in mine) for kind in KINDS}
    return out


def summary(per_fold: list[dict[str, float]]) -> dict:
    """Each figure's mean and spread over the folds that have it."""
    keys = dict.fromkeys(key for f in per_fold for key in f)
    return {key: {"mean": round(float(np.mean([f[key] for f in per_fold if key in f])), 3),
                  "spread": [round(float(min(f[key] for f in per_fold if key in f)), 3),
                             round(float(max(f[key] for f in per_fold if key in f)), 3)]} for key in keys}
