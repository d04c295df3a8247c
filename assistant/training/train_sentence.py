"""Train the sentence model (stage 1 of `make train`): how well each candidate sentence answers,
learned from ../shared/train/squad asked of its own articles through the product's retrieval and
feature code, a candidate labelled as answering when it overlaps a gold answer span; and the
rows the reader learns from, the windows of the candidates it rates best (train_reader.py).
Folds are groups of whole articles.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..answer.features import SENTENCE_FEATURES
from ..answer.question import parse
from ..ingest.sources import Document
from ..pipeline import Assistant
from .train_data import group_folds

PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
          "verbose": -1, "seed": 7, "num_threads": 2}
ROUNDS = 300
READ_TRAINING = 3  # windows per question the reader learns from: the best rated candidates'
CITED_CHARS = 225  # mean characters cited that the runner-up threshold aims under (the bar is 250)


@dataclass
class Sample:
    """One training question of stage 1, as the answerer sees it."""
    id: str
    article: str
    answerable: bool
    rows: np.ndarray  # sentence features of its candidates
    labels: np.ndarray  # 1 where the candidate overlaps a gold answer span
    chars: np.ndarray  # each candidate's length
    question_row: np.ndarray
    windows: list[tuple[str, int, int]]  # each candidate's window: article, start, end


def build_samples(assistant: Assistant, questions: list[dict], k: int) -> list[Sample]:
    """Each question through the product's retrieval and features."""
    answerer = assistant.answerer
    answerer.document = lru_cache(maxsize=None)(assistant.document)
    samples = []
    for q in tqdm(questions, desc="features", unit="question"):
        passages = assistant.retriever.searcher.search(q["question"], k)
        features = answerer.features(parse(q["question"]), passages)
        rows = features.sentence_rows()
        spans = [(s["source"], s["start"], s["end"]) for s in q["spans"]]
        labels = np.array([any(c.chunk.doc_id == d and c.chunk.start < e and b < c.chunk.end for d, b, e in spans)
                           for c in features.cands], dtype=np.float32)
        chars = np.array([c.chunk.end - c.chunk.start for c in features.cands], dtype=np.float32)
        windows = [(c.chunk.doc_id, *features.window(c)) for c in features.cands]
        samples.append(Sample(q["id"], q["article"], q["answers"] is not None, rows, labels, chars,
                              features.question_row, windows))
    return samples


def load_questions(data: Path) -> list[dict]:
    """The training questions, each with its article. Unanswerable ones name none: the rows come
    in article-name order, then paragraph order, so a drop in paragraph starts the next article."""
    lines = (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    articles = sorted(p.name for p in (data / "docs").iterdir())
    block, last = 0, -1
    for q in questions:
        if q["paragraph"] < last:
            block += 1
        last = q["paragraph"]
        q["article"] = articles[block]
        if q["spans"] and q["spans"][0]["source"] != q["article"]:
            raise ValueError(f"{data}: question {q['id']} is out of article order")
    return questions


def fit_sentences(samples: list[Sample]):
    import lightgbm

    train = [s for s in samples if s.answerable and len(s.rows)]
    data = lightgbm.Dataset(np.vstack([s.rows for s in train]), np.concatenate([s.labels for s in train]),
                            feature_name=list(SENTENCE_FEATURES), free_raw_data=False)
    return lightgbm.train(PARAMS, data, ROUNDS)


def folds(samples: list[Sample], n: int) -> list[set[str]]:
    """Whole articles per fold, balanced by question count."""
    return group_folds([s.article for s in samples], n)


def held_out_sentences(samples: list[Sample], n: int) -> dict[str, np.ndarray]:
    """Out-of-fold sentence probabilities for every question."""
    sentence = {}
    for held in tqdm(folds(samples, n), desc="sentence folds", unit="fold"):
        model = fit_sentences([s for s in samples if s.article not in held])
        for s in samples:
            if s.article in held:
                sentence[s.id] = model.predict(s.rows) if len(s.rows) else np.zeros(0)
    return sentence


def reading_rows(samples: list[Sample], sentence: dict[str, np.ndarray], questions: list[dict],
                 document: Callable[[str], Document | None], fold: dict[str, int]) -> list[dict]:
    """The reader's training rows: the windows of each question's READ_TRAINING best rated
    candidates (held-out sentence probabilities), with the gold span each holds, and the fold of
    its article (train_reader.py holds one out when run on its own)."""
    spans = {q["id"]: [(x["source"], x["start"], x["end"]) for x in q["spans"]] for q in questions}
    text = lru_cache(maxsize=None)(lambda doc_id: document(doc_id).text)
    question = {q["id"]: q["question"] for q in questions}
    rows = []
    for s in samples:
        for i in np.argsort(-sentence[s.id], kind="stable")[:READ_TRAINING]:
            doc, start, end = s.windows[i]
            rows.append(reading_row(s.id, int(i), fold[s.article], question[s.id], text(doc)[start:end],
                                    [(b - start, e - start) for d, b, e in spans[s.id]
                                     if d == doc and start <= b and e <= end]))
    return rows


def reading_row(id_: str, cand: int, fold: int, question: str, window: str, inside: list[tuple[int, int]]) -> dict:
    """One row the reader learns from (train_reader.py): a question, a window of text, and the
    first gold span the window holds (window offsets), or none."""
    return {"id": id_, "cand": cand, "fold": fold, "question": question, "context": window,
            "answer": inside[0] if inside else None}


def outcome(samples: list[Sample], sentence: dict[str, np.ndarray], second: float) -> dict[str, float]:
    """What the best rated candidates (and the runner-up, at `second`) hold of the answerable
    questions, and how long they are."""
    hits, cited, answerable = 0, [], 0
    for s in samples:
        if not s.answerable:
            continue
        answerable += 1
        if not len(s.rows):
            continue
        order = np.argsort(-sentence[s.id])
        chosen = order[:2] if len(order) > 1 and sentence[s.id][order[1]] >= second * sentence[s.id][order[0]] \
            else order[:1]
        cited.append(float(s.chars[chosen].sum()))
        hits += bool(s.labels[chosen].any())
    return {"evidence_hit": hits / answerable if answerable else 0.0,
            "mean_cited_chars": float(np.mean(cited)) if cited else 0.0}


def thresholds(samples: list[Sample], sentence: dict[str, np.ndarray]) -> dict:
    """The lowest runner-up share that keeps mean cited characters under CITED_CHARS (held-out folds)."""
    second = next(r for r in np.arange(0.05, 1.01, 0.05)
                  if outcome(samples, sentence, r)["mean_cited_chars"] <= CITED_CHARS)
    return {"second": round(float(second), 2)}
