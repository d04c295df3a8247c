"""Features: what the answer stage's models see of a question's candidate sentences: cheap
features of the question, each candidate, its neighbours and the leading articles (`Features`),
and the decline model's row (`decline_row`), weighing also what the reader (reader.py) finds
around the best rated candidate. One feature code, called by training (assistant/training/train.py,
train_decline.py: `make train`) and by serving alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..ingest.chunking import Chunk
from ..ingest.sources import Document
from ..store.lexical import LexicalIndex, Ranking
from ..store.terms import NAME, fold, holds, in_vocabulary, related, terms, words
from .question import CUES, KIND_CUES, KINDS, NEGATION, Query
from .reader import Reader, Reading
from .retrieve import FOLDED_KEPT, Passage

# An article's folded text, for the names it holds: folding a long one costs ~4 ms, done once.
folded = lru_cache(maxsize=FOLDED_KEPT)(fold)
SENTENCE_FEATURES = (
    "score", "dense", "bm25", "bm25_share", "dense_gap", "rank", "retrieved",
    "cover", "paraphrased", "cover_context", "claim_context", "cover_prev", "cover_next", "cover_gap", "bigrams",
    "matched", "unmatched",
    "missing_max", "missing_elsewhere", "names_context", "numbers_context", "negation_mismatch",
    "names_here", "names_in_article", "chars", "novel_terms", "novel_names", "position", "paragraph_start",
    "after_question", *(f"cue_{name}" for name in CUES), "value_match",
    "question_terms", "negated", *(f"kind_{name}" for name, _ in KINDS),
)
QUESTION_FEATURES = ("absent_share", "absent_terms", "absent_names", "absent_numbers")  # Features.question_row
READ = 1  # the best rated candidates whose windows the reader reads (more read no better: docs/experiments.md)
READING_FEATURES = ("read_margin",)  # how far the reader's best span outscores "no answer" there
DECLINE_FEATURES = ("p1", "p2", "p_gap", *QUESTION_FEATURES, "cover_max",
                    *(f"best_{name}" for name in SENTENCE_FEATURES), *READING_FEATURES)



@dataclass(frozen=True)
class Paraphrase:
    """Word similarity (cosine of static word vectors) and the least that counts as a paraphrase."""
    similarity: Callable[[Sequence[str], Sequence[str]], np.ndarray]  # words x words
    floor: float


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer: retrieved, or the neighbour of one that was."""
    chunk: Chunk
    passage: Passage | None  # None for a neighbour that was not retrieved
    rank: int  # of the retrieved passage it is, or is next to


def candidates(passages: Sequence[Passage], lexical: LexicalIndex) -> list[Candidate]:
    """The retrieved passages and their neighbours on each side, each once."""
    found: dict[str, Candidate] = {}
    for rank, p in enumerate(passages):
        found[p.chunk.id] = Candidate(p.chunk, p, rank)
    for rank, p in enumerate(passages):
        for step in (-1, 1):
            other = lexical.neighbour(p.chunk, step)
            if other is not None and other.id not in found:
                found[other.id] = Candidate(other, None, rank)
    return list(found.values())


class Features:
    """The feature rows of one question's candidates, with what they share computed once."""

    def __init__(self, query: Query, cands: Sequence[Candidate], lexical: LexicalIndex, articles: Ranking,
                 document: Callable[[str], Document | None], paraphrase: Paraphrase):
        self.query, self.cands, self.lexical = query, cands, lexical
        self.documents = {doc_id: document(doc_id) for doc_id in dict.fromkeys(c.chunk.doc_id for c in cands)}
        self.weight = {t: articles.idf(t) for _, t in query.asked}
        self._found: dict[str, frozenset[str]] = {}
        self._family: dict[str, list[str]] = {}
        self.names_in = {doc_id: [holds(folded(d.text) if d else "", n) for n in query.names]
                         for doc_id, d in self.documents.items()}
        scores = articles.scores(query.text)
        self.bm25 = {c.id: float(s) for c, s in zip(articles.chunks, scores)}
        # how close each word of the candidates is to each of the question's (static word vectors)
        around = sorted({w for c in cands for w in words(c.chunk.text)})
        self.floor = paraphrase.floor
        self.closeness = dict(zip(around, paraphrase.similarity([w for w, _ in query.asked], around).T)) \
            if query.asked and around else {}
        self.about = self._about(articles)
        self.absent = self._absent()
        self.claim = [(w, t) for w, t in query.asked if t not in query.named]  # what is asked of the names

    def _about(self, articles: Ranking) -> Ranking:
        """The leading articles holding the most of the question's names (all of them when none
        holds one), with their own term statistics: what the answer must come from."""
        held = {doc_id: sum(flags) for doc_id, flags in self.names_in.items()}
        most = max(held.values(), default=0)
        about = [doc_id for doc_id in articles.doc_ids if held.get(doc_id, 0) == most]
        return articles if len(about) == len(articles.doc_ids) else self.lexical.within(about)

    def _absent(self) -> list[str]:
        """The question's terms that the articles about its names lack, literally, by form and
        family, and by paraphrase: "Which football club does Bondarev support?" asks what the
        Bondarev story lacks, whatever a football story beside it holds."""
        if not self.query.asked:
            return []
        vocabulary, about = self.about.vocabulary, set(self.about.doc_ids)
        close = [self.closeness[w] for w in {w for c in self.cands if c.chunk.doc_id in about
                                             for w in words(c.chunk.text)}]
        best = np.max(close, axis=0) if close else np.zeros(len(self.query.asked))
        return [t for (w, t), b in zip(self.query.asked, best)
                if not in_vocabulary(w, t, vocabulary) and b < self.floor]

    def unsaid(self) -> tuple[list[str], list[str]]:
        """The question's names that the leading articles mention, and its names and words that
        none of them holds (`_absent`): what a decline can say they lack."""
        q = self.query
        held = [n for i, n in enumerate(q.names) if any(flags[i] for flags in self.names_in.values())]
        absent = set(self.absent)
        lacking = [n for n in q.names if n not in held]
        lacking += [w for w, t in q.asked if t in absent and t not in q.named]
        return held, list(dict.fromkeys(lacking))

    def window(self, c: Candidate) -> tuple[int, int]:
        """Where a candidate and its neighbours lie in their article: what the reader reads."""
        prev, nxt = self.lexical.neighbour(c.chunk, -1), self.lexical.neighbour(c.chunk, 1)
        return (prev or c.chunk).start, (nxt or c.chunk).end

    def breaks(self, c: Candidate) -> list[int]:
        """Where the sentences of a candidate's window after the first begin, in the window's characters."""
        start, _ = self.window(c)
        nxt = self.lexical.neighbour(c.chunk, 1)
        return [b - start for b in (c.chunk.start, nxt.start if nxt else None) if b is not None and b > start]

    def window_text(self, c: Candidate) -> str:
        document = self.documents.get(c.chunk.doc_id)
        start, end = self.window(c)
        return document.text[start:end] if document else c.chunk.text

    def paraphrased(self, chunk: Chunk, found: frozenset[str]) -> float:
        """IDF-weighted share of the question's terms a sentence holds, or paraphrases (sane ~
        sanity, hard ~ tough: counted by their similarity)."""
        close = [self.closeness[w] for w in words(chunk.text) if w in self.closeness]
        best = np.max(close, axis=0) if close else np.zeros(len(self.query.asked))
        total = sum(self.weight[t] for _, t in self.query.asked)
        held = sum(self.weight[t] * (1.0 if t in found else float(b) if b >= self.floor else 0.0)
                   for (_, t), b in zip(self.query.asked, best))
        return held / total if total else 0.0

    def found_in(self, chunk: Chunk | None) -> frozenset[str]:
        """The question's terms that a sentence holds, or one of their word family."""
        if chunk is None:
            return frozenset()
        if chunk.id not in self._found:
            self._found[chunk.id] = self.matched(frozenset(terms(chunk.text)))
        return self._found[chunk.id]

    def matched(self, have: frozenset[str]) -> frozenset[str]:
        """The question's terms that `have` holds, or one of their word family."""
        found = set()
        for h in have:
            if h not in self._family:
                self._family[h] = [t for w, t in self.query.asked if related(w, t, h)]
            found.update(self._family[h])
        return frozenset(found)

    def cover(self, found: frozenset[str], asked: Sequence[tuple[str, str]] | None = None) -> float:
        """IDF-weighted share of the question's terms (or of `asked`) among `found`."""
        asked = self.query.asked if asked is None else asked
        total = sum(self.weight[t] for _, t in asked)
        return sum(self.weight[t] for _, t in asked if t in found) / total if total else 0.0

    def sentence_rows(self) -> np.ndarray:
        rows = [self._row(c) for c in self.cands]
        table = np.array(rows, dtype=np.float32).reshape(len(rows), len(SENTENCE_FEATURES))
        names = {n: i for i, n in enumerate(SENTENCE_FEATURES)}
        if len(rows):  # how each stands against the best of its set
            table[:, names["cover_gap"]] = table[:, names["cover"]] - table[:, names["cover"]].max()
            best_bm25 = table[:, names["bm25"]].max()
            table[:, names["bm25_share"]] = table[:, names["bm25"]] / best_bm25 if best_bm25 > 0 else 0.0
            dense = table[:, names["dense"]]
            if not np.isnan(dense).all():
                table[:, names["dense_gap"]] = dense - np.nanmax(dense)
        return table

    def _row(self, c: Candidate) -> list[float]:
        q, chunk, p = self.query, c.chunk, c.passage
        prev, nxt = self.lexical.neighbour(chunk, -1), self.lexical.neighbour(chunk, 1)
        found, before, after = self.found_in(chunk), self.found_in(prev), self.found_in(nxt)
        sentence_stems = terms(chunk.text)
        bigrams = frozenset(zip(sentence_stems, sentence_stems[1:]))
        asked_stems = {t for _, t in q.asked}
        document = self.documents.get(chunk.doc_id)
        text = document.text if document else ""
        names_here = _share([n in fold(chunk.text) for n in q.names])
        names_in_article = _share(self.names_in[chunk.doc_id])
        novel_names = {n for n in NAME.findall(chunk.text)[1:]} - set(q.names)
        context = found | before | after
        around = " ".join(fold(x.text) for x in (prev, chunk, nxt) if x is not None)
        missing = [t for _, t in q.asked if t not in context]
        total = sum(self.weight.values()) or 1.0
        row = [
            p.score if p else math.nan, p.dense if p else math.nan,
            self.bm25.get(chunk.id, 0.0), 0.0, 0.0, c.rank, float(p is not None),
            self.cover(found), self.paraphrased(chunk, found), self.cover(context), self.cover(context, self.claim) if self.claim else 1.0,
            self.cover(before), self.cover(after), 0.0,
            len(q.bigrams & bigrams) / len(q.bigrams) if q.bigrams else 0.0,
            len(found), len(q.asked) - len(found),
            max((self.weight[t] for t in missing), default=0.0) / total,
            sum(self.weight[t] for t in missing if t not in self.absent) / total,
            _share([n in around for n in q.names]), _share([n in around for n in q.numbers]),
            # a yes/no question is answered by a sentence that negates as well as by one that affirms
            float(q.kind != "yes_no" and bool(NEGATION.search(q.text)) != bool(NEGATION.search(chunk.text))),
            names_here, names_in_article,
            len(chunk.text), len(set(sentence_stems) - asked_stems), len(novel_names),
            chunk.start / max(len(text), 1), float(text[max(chunk.start - 2, 0):chunk.start].count("\n") > 0),
            float(prev is not None and prev.text.rstrip("\"'”’) ").endswith(("?", ":"))),
            *(float(bool(cue.search(chunk.text))) for cue in CUES.values()),
            float(any(CUES[cue].search(chunk.text) for cue in KIND_CUES[q.kind])) if q.kind in KIND_CUES else math.nan,
            len(q.asked), float(bool(NEGATION.search(q.text))), *(float(q.kind == name) for name, _ in KINDS),
        ]
        return row

    @cached_property
    def question_row(self) -> np.ndarray:
        """What the leading articles lack of the question: its terms (those about its names, see
        `_absent`), names and numbers."""
        q = self.query
        absent_names = sum(1 for i in range(len(q.names)) if not any(f[i] for f in self.names_in.values()))
        absent_numbers = sum(1 for n in q.numbers
                             if not any(n in d.text for d in self.documents.values() if d))
        weight = {t: self.about.idf(t) for _, t in q.asked}  # as the articles about the names weigh them
        absent_share = sum(weight[t] for t in self.absent) / sum(weight.values()) if weight else 0.0
        return np.array([absent_share, len(self.absent), absent_names, absent_numbers], dtype=np.float32)


def read_order(probabilities: np.ndarray) -> np.ndarray:
    """The candidates whose windows the reader reads, best rated first."""
    return np.argsort(-probabilities, kind="stable")[:READ]


def decline_row(probabilities: np.ndarray, rows: np.ndarray, question_row: np.ndarray,
                margins: np.ndarray) -> np.ndarray:
    """The decline model's features: how sure the sentence model is, what the articles lack,
    how much of the question any candidate carries, the best candidate's own features, and how
    far the reader's best span outscores "no answer" around it (`margins`, of `read_order`)."""
    order = np.argsort(-probabilities)
    p1 = float(probabilities[order[0]]) if len(order) else 0.0
    p2 = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    cover_max = float(rows[:, SENTENCE_FEATURES.index("cover_context")].max()) if len(rows) else 0.0
    best_row = rows[order[0]] if len(order) else np.full(len(SENTENCE_FEATURES), np.nan, dtype=np.float32)
    reading = float(margins[0]) if len(margins) else math.nan
    return np.array([p1, p2, p1 - p2, *question_row, cover_max, *best_row, reading], dtype=np.float32)


def read(reader: Reader, features: Features, probabilities: np.ndarray) -> list[Reading]:
    """What `reader` finds in the windows of `read_order`, in article offsets."""
    return read_windows(reader, features, [features.cands[i] for i in read_order(probabilities)])


def read_windows(reader: Reader, features: Features, cands: Sequence[Candidate]) -> list[Reading]:
    """What `reader` finds in the windows of `cands`, each within one sentence, in article offsets."""
    readings = reader.read(features.query.text, [features.window_text(c) for c in cands],
                           [features.breaks(c) for c in cands])
    starts = [features.window(c)[0] for c in cands]
    return [r.within(c.chunk.doc_id, start) for c, start, r in zip(cands, starts, readings)]


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 1.0
