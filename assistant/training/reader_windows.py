"""The reader's windows at scale: every question of the sets the decline never asks, each read in
windows of its article built as the product builds them (a sentence with its neighbours), without
an index, so that 60,000 questions make their windows in minutes.

For each question with an answer: the window around the sentence that holds it, the window around
one of that sentence's neighbours (the answer at its edge, as the product often reads it), and the
two windows whose centre sentences the article's own BM25 (store/lexical.Ranking) rates best among
those holding no answer text: windows of the right article that do not say it, which is what a
silent question meets. For a question without one (SQuAD 2.0's adversarial questions): the three
best rated windows, two of them in its own paragraph. News questions that name no article (other
news) are left out: their week's articles are not known.

The sets, split so that the decline still meets questions its reader has not read
(train_data.reader_articles, reader_weeks): `squad/` whole, the SQuAD 1.1 articles after the
decline's in the seeded order, and the news quiz weeks the decline leaves. `validation` builds the
same windows from articles and weeks of the decline's side: the checkpoint's figures.
"""

from __future__ import annotations

import random
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..ingest.chunking import Chunk, split
from ..ingest.sources import Document
from ..store.lexical import Ranking
from .train_sentence import load_questions
from .train_data import TRAIN, Question, read_set, reader_articles, reader_weeks

SEED = 20261207
HARD = 2  # windows per answerable question that hold no answer text: the best rated such
UNANSWERED = 3  # windows per question without an answer


def windows(train: Path = TRAIN) -> list[dict]:
    """Every training window of the reader's side of `train`, in a fixed order."""
    rows = list(_set_windows(train / "squad", None))
    rows += _set_windows(train / "squad11", set(reader_articles(train)))
    rows += _set_windows(train / "news", None, weeks=set(reader_weeks(train)))
    return rows


def validation(train: Path = TRAIN, articles: int = 20, per_article: int = 40) -> list[dict]:
    """Windows built the same way from the decline's side: `articles` of its SQuAD 1.1 articles
    (at most `per_article` questions each) and its news weeks."""
    docs, _ = read_set(train / "squad11")
    chosen = sorted(set(docs) - set(reader_articles(train)))[:articles]
    rows = list(_set_windows(train / "squad11", set(chosen), per_article=per_article))
    news_weeks = {q.group for q in read_set(train / "news")[1]} - set(reader_weeks(train))
    return rows + list(_set_windows(train / "news", None, weeks=news_weeks))


def _set_windows(folder: Path, articles: set[str] | None, weeks: set[str] | None = None,
                 per_article: int = 0) -> Iterator[dict]:
    """The windows of a training set's questions on `articles` (a Wikipedia set: each question
    read in its own article) or in `weeks` (news: read among the week's articles)."""
    docs, questions = read_set(folder)
    rng = random.Random(SEED)
    if weeks is not None:
        for asked in _grouped([q for q in questions if q.group in weeks]).values():
            names = sorted({s for q in asked for s, _, _ in q.spans})
            if names:
                yield from _read(folder.name, {n: docs[n] for n in names}, asked, rng)
        return
    # Wikipedia: unanswerable questions name no article, their row order does
    placed = {q["id"]: (q["article"], q["paragraph"]) for q in load_questions(folder)}
    questions = [replace(q, group=placed[q.id][0]) for q in questions]
    paragraphs = {i: p for i, (_, p) in placed.items()}
    for name, asked in _grouped(questions).items():
        if name and (articles is None or name in articles):
            if per_article and len(asked) > per_article:
                asked = random.Random(SEED).sample(asked, per_article)
            yield from _read(folder.name, {name: docs[name]}, asked, rng, paragraphs)


def _grouped(questions: list[Question]) -> dict[str, list[Question]]:
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(q.group, []).append(q)
    return groups


def _read(source: str, docs: dict[str, str], questions: list[Question], rng: random.Random,
          paragraphs: dict[str, int] | None = None) -> Iterator[dict]:
    """The windows of `questions` among the sentences of `docs` (each question's paragraph in
    `paragraphs`, where known)."""
    chunks = [c for name, text in docs.items() for c in split(Document(name, name, name, text))]
    ranking = Ranking(chunks)
    for q in questions:
        order = np.argsort(-ranking.scores(q.question), kind="stable")
        texts = [a.lower() for a in q.answers or ()]
        gold = [g for g in (_gold(docs, q, source) if q.answers else []) if g is not None]
        chosen: list[tuple[int, tuple[int, int] | None]] = []
        if gold:
            doc, start, end = gold[0]
            at = next(i for i, c in enumerate(chunks) if c.doc_id == doc and c.start <= start < c.end)
            chosen.append((at, _inside(chunks, at, doc, start, end)))
            near = [i for i in (at - 1, at + 1) if _same_doc(chunks, at, i) and _inside(chunks, i, doc, start, end)]
            if near:
                i = rng.choice(near)
                chosen.append((i, _inside(chunks, i, doc, start, end)))
        plain = [i for i in order if i not in {c for c, _ in chosen}
                 and not any(t in _window_text(docs, chunks, i).lower() for t in texts)]
        if not q.answers:
            own = (paragraphs or {}).get(q.id)
            paragraph = [i for i in plain if _paragraph(docs, chunks[i]) == own]
            plain = list(dict.fromkeys([*paragraph[:UNANSWERED - 1], *plain]))
        chosen += [(i, None) for i in plain[: HARD if q.answers else UNANSWERED]]
        for n, (i, answer) in enumerate(chosen):
            yield {"id": q.id, "cand": n, "fold": 0, "set": source, "question": q.question,
                   "context": _window_text(docs, chunks, i), "answer": answer}


def _gold(docs: dict[str, str], q: Question, source: str) -> list[tuple[str, int, int] | None]:
    """The answer's spans in the documents: the gold spans, or (news: evidence sentences) the
    answer's text within the evidence."""
    if source != "news":
        return list(q.spans)
    found = []
    for doc, start, end in q.spans:
        evidence = docs[doc][start:end].lower()
        at = next((evidence.find(a.lower()) for a in q.answers if a and a.lower() in evidence), -1)
        answer = next((a for a in q.answers if a and a.lower() in evidence), "")
        found.append((doc, start + at, start + at + len(answer)) if at >= 0 else None)
    return found


def _same_doc(chunks: list[Chunk], at: int, i: int) -> bool:
    return 0 <= i < len(chunks) and chunks[i].doc_id == chunks[at].doc_id


def _bounds(chunks: list[Chunk], i: int) -> tuple[int, int]:
    """Where the window centred on sentence `i` lies in its article (features.Features.window)."""
    prev = chunks[i - 1] if _same_doc(chunks, i, i - 1) else chunks[i]
    nxt = chunks[i + 1] if _same_doc(chunks, i, i + 1) else chunks[i]
    return prev.start, nxt.end


def _window_text(docs: dict[str, str], chunks: list[Chunk], i: int) -> str:
    start, end = _bounds(chunks, i)
    return docs[chunks[i].doc_id][start:end]


def _inside(chunks: list[Chunk], i: int, doc: str, start: int, end: int) -> tuple[int, int] | None:
    """The answer's span in the window centred on sentence `i`, or None where it is not all there."""
    low, high = _bounds(chunks, i)
    if chunks[i].doc_id != doc or not (low <= start and end <= high):
        return None
    return start - low, end - low


def _paragraph(docs: dict[str, str], chunk: Chunk) -> int:
    """The 0-based paragraph after the title that a sentence lies in (../shared/train's format)."""
    text = docs[chunk.doc_id]
    title_end = text.find("\n\n")
    return text.count("\n\n", title_end + 2, chunk.start)

