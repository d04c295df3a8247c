"""Answer: the extractive answerer, which replies with verbatim sentences, each cited.

A trained model (scorer.py, over features.py) rates every retrieved sentence and its neighbours for how well it
answers; one trained decision declines when none does, weighing what the leading articles lack
of the question and what the reader (reader.py) finds around the best one, and says what they
lack where they lack something. Its calibrated probability is the answer's confidence; in the band
just under a decline the answer is unsure: the closest passage, with no words marked as the answer.
The answer cites the best sentence, the runner-up when the model is unsure between the two, and the
best one's neighbour where the reader finds the answer; long sentences are cut to the clauses that
carry the question's terms and the reader's answer. The words that answer are the reader's span
in the best sentence's window, or in the runner-up's where that is cited and the reader is surer
there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..config import Settings
from ..ingest.chunking import Chunk
from ..ingest.sources import Document
from ..store.embeddings import Embedder
from ..store.lexical import LexicalIndex
from ..store.terms import matches, terms, words
from .cited import Answer, Citation, ShortAnswer
from .features import Candidate, Features, Paraphrase, candidates
from .question import Query, asked_terms, parse
from .reader import Reading
from .retrieve import Passage
from .scorer import Scorer, get_scorer

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|articles?|sources?|"
    r"context|above|previous)\b|\b(system prompt|you are now|pretend (to be|you)|act as)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[^,;:—–]+(?:[,;:—–]+|$)")
_EDGES = " \t\n.,;:!?\"'“”‘’()[]"  # trimmed off a phrase's ends
_ARTICLE = re.compile(r"(the|a|an)\s+", re.IGNORECASE)
# The reader's margin under which its phrase is not shown: below it, on the windows of the decline's
# training questions (../shared/train squad11 and news), its span matched the answer at F1 under
# 0.4 on average (docs/experiments.md).
PHRASE_MARGIN = -6.0
# The reader's margin above which the best sentence's neighbour holding its span is cited too, and
# the phrase shown there: on the decline's squad11 training questions, such spans from -1 to 0 match
# the answer at F1 0.42, from -6 to -1 at 0.19-0.29 (docs/experiments.md).
NEIGHBOUR_MARGIN = -1.0


@lru_cache(maxsize=None)
def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text(encoding="utf-8").strip()


def abstain(question: str, notice: str | None = None) -> Answer:
    return Answer(question=question, text=prompt("abstain"), abstained=True, notice=notice)


class ExtractiveAnswerer:
    def __init__(self, lexical: LexicalIndex, embedder: Embedder, document: Callable[[str], Document | None],
                 settings: Settings):
        self.lexical, self.embedder, self.document, self.settings = lexical, embedder, document, settings

    @cached_property
    def scorer(self) -> Scorer:
        return get_scorer()

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        if _INSTRUCTION.search(question):
            return abstain(question, "the question asks to change instructions; only questions about the articles are answered")
        query = parse(question)
        if not passages or not query.asked:
            return abstain(question)
        features = self.features(query, passages)
        rows = features.sentence_rows()
        probabilities = self.scorer.sentence_probabilities(rows)
        found = self.scorer.read(features, probabilities)
        judgement = self.scorer.judge(features, probabilities, rows, found, self.settings.decline)
        if judgement.outcome == "declined":
            return replace(abstain(question, unsaid(features)), confidence=judgement.confidence)
        reading = found[0] if found and found[0].margin > PHRASE_MARGIN else None  # a phrase worth showing
        neighbour = found[0] if found and found[0].margin > NEIGHBOUR_MARGIN else None  # cite its sentence too
        chosen = self._choose(features.cands, probabilities, neighbour)
        runner_up = self._runner_up(features, probabilities, chosen)
        if runner_up and runner_up.margin > max(PHRASE_MARGIN, reading.margin if reading else -np.inf):
            reading = runner_up  # the reader is surer of the phrase in the other sentence cited
        spans = [_trim(c, query.asked, reading) if len(c.text) > self.settings.trim_chars else (c.start, c.end)
                 for c in chosen]
        parts = [(None, [(c, start, end)]) for (start, end), c in zip(spans, chosen)]
        answer = cite(question, parts, features.documents.get)  # fetched once, for the features
        if answer.abstained:
            return answer
        if judgement.outcome == "unsure":  # the closest passage, no words marked as the answer
            return replace(answer, text=f"{prompt('unsure')} {answer.text}", unsure=True, notice=unsaid(features),
                           confidence=judgement.confidence)
        return replace(answer, short_answer=short(answer, reading, features.documents.get, query.explained),
                       confidence=judgement.confidence)

    def features(self, query: Query, passages: Sequence[Passage]) -> Features:
        """The scorer's features of the retrieved passages and their neighbours, with term weights
        of the articles they come from."""
        articles = self.lexical.within(p.chunk.doc_id for p in passages)
        return Features(query, candidates(passages, self.lexical), self.lexical, articles, self.document,
                        Paraphrase(self.similarity, self.settings.paraphrase_floor))

    def _choose(self, cands: Sequence[Candidate], probabilities: np.ndarray, span: Reading | None) -> list[Chunk]:
        """The sentence most likely to answer; the runner-up too when the model is unsure between
        them; the best one's neighbour where the reader found the answer; and the sentence after
        any that asks a question ("Am I concerned?")."""
        order = np.argsort(-probabilities, kind="stable")  # as read_order: the best is the sentence the reader read
        best = cands[order[0]].chunk
        chosen = [best]
        if len(order) > 1 and probabilities[order[1]] >= self.scorer.thresholds.second * probabilities[order[0]]:
            chosen.append(cands[order[1]].chunk)
        neighbours = (self.lexical.neighbour(best, step) for step in (-1, 1))
        holder = next((n for n in neighbours if n and span and _holds(n, span)), None)
        if holder is not None and holder not in chosen:
            chosen.append(holder)
        chosen.sort(key=lambda c: (c.doc_id, c.start))
        for c in list(chosen):
            follower = self.lexical.neighbour(c, 1)
            if c.text.rstrip("\"'”’ ").endswith(("?", ":")) and follower and follower not in chosen:
                chosen.insert(chosen.index(c) + 1, follower)
        return chosen

    def _runner_up(self, features: Features, probabilities: np.ndarray, chosen: Sequence[Chunk]) -> Reading | None:
        """The reader's span in the runner-up's window where the answer cites the runner-up and the
        span lies in it: the best candidate's window alone is read to decide whether to answer."""
        order = np.argsort(-probabilities, kind="stable")
        if len(order) < 2 or features.cands[order[1]].chunk not in chosen:
            return None
        candidate = features.cands[order[1]]
        reading = self.scorer.read_windows(features, [candidate])[0]
        return reading if _holds(candidate.chunk, reading) else None

    def grounding(self, claim: str, evidence: str) -> tuple[float, list[str]]:
        """How much of `claim` the `evidence` carries: the IDF-weighted share of its terms found
        there literally or as a close paraphrase, and the words found in neither way."""
        asked = asked_terms(claim)
        if not asked:
            return 1.0, []
        return self._support(asked, {t: self.lexical.idf(t) for _, t in asked}, evidence)

    def context(self, chunk: Chunk) -> str:
        """A sentence with its neighbours: where its pronouns and its subject are resolved."""
        around = (self.lexical.neighbour(chunk, -1), chunk, self.lexical.neighbour(chunk, 1))
        return " ".join(c.text for c in around if c)

    def _support(self, asked: list[tuple[str, str]], weight: dict[str, float], text: str) -> tuple[float, list[str]]:
        """IDF-weighted share of the question's terms found in `text`, literally or paraphrased,
        and the words found in neither way."""
        found = set(_matched(asked, text))
        weights = np.array([weight[t] for _, t in asked])
        score = np.array([1.0 if t in found else 0.0 for _, t in asked])
        missing = [i for i, (_, t) in enumerate(asked) if t not in found]
        candidates = sorted(set(words(text)))
        if missing and candidates:
            best = self.similarity([asked[i][0] for i in missing], candidates).max(axis=1)
            score[missing] = np.where(best >= self.settings.paraphrase_floor, best, 0.0)
        unmatched = [asked[i][0] for i in range(len(asked)) if score[i] == 0.0]
        return float(weights @ score / weights.sum()), unmatched

    def similarity(self, these: Sequence[str], those: Sequence[str]) -> np.ndarray:
        """The cosine similarity of each word of `these` to each of `those`."""
        return self.embedder.embed_words(these) @ self.embedder.embed_words(those).T


def cite(question: str, parts: Sequence[tuple[str | None, Sequence[tuple[Chunk, int, int]]]],
         document: Callable[[str], Document | None], notice: str | None = None) -> Answer:
    """An answer made of `parts`: each a sentence (None: the quoted span itself) and the spans of
    passages it rests on, numbered in order. Every span is checked against the stored text; a part
    left with no span is left out, and an answer left with none is an abstention."""
    citations: dict[tuple[str, int, int], Citation] = {}
    documents: dict[str, Document | None] = {}
    texts = []
    for text, spans in parts:
        numbers = []
        for chunk, start, end in spans:
            if chunk.doc_id not in documents:
                documents[chunk.doc_id] = document(chunk.doc_id)
            source = documents[chunk.doc_id]
            # The stored text is the authority: a passage that no longer matches it is not cited.
            if source is None or source.text[chunk.start : chunk.end] != chunk.text:
                continue
            key = (source.id, start, end)
            if key not in citations:
                citations[key] = Citation(len(citations) + 1, source.id, start, end, source.text[start:end],
                                          source.title, source.version, source.outlet, source.date, source.url)
            numbers.append(citations[key])
        if numbers:
            body = text if text is not None else numbers[0].quote
            texts.append(f"{body} " + "".join(f"[{c.n}]" for c in numbers))
    if not citations:
        return abstain(question, notice)
    return Answer(question=question, text=" ".join(texts), citations=tuple(citations.values()), notice=notice)


def short(answer: Answer, span: Reading | None, document: Callable[[str], Document | None],
          explained: bool) -> ShortAnswer | None:
    """The reader's answer span, trimmed to the phrase a person would underline, where it lies
    inside a citation; None for a question that asks for an explanation (Query.explained), or where
    the reader is not sure."""
    if span is None or explained or answer.abstained:
        return None
    source = document(span.doc_id)
    if source is None:
        return None
    start, end = _phrase(source.text, span.start, span.end)
    for c in answer.citations:
        if c.source == span.doc_id and c.start <= start < end <= c.end:
            return ShortAnswer(source.text[start:end], c.source, start, end, c.n)
    return None


def _phrase(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the spaces and punctuation at its ends or a leading article."""
    while start < end and text[start] in _EDGES:
        start += 1
    while end > start and text[end - 1] in _EDGES:
        end -= 1
    article = _ARTICLE.match(text, start, end)
    if article and article.end() < end:
        start = article.end()
    return start, end


def unsaid(features: Features) -> str | None:
    """What the leading articles lack of the question, in plain words, where they lack any of
    it: "They mention Bondarev, but not “wife”." Only what was looked for is said, never a guess."""
    held, lacking = features.unsaid()
    if not lacking:
        return None
    missing = _listed([f"“{w}”" for w in lacking], "or")
    if held:
        return f"They mention {_listed(held, 'and')}, but not {missing}."
    return f"The articles found do not mention {missing}."


def _listed(items: Sequence[str], last: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _matched(asked: Sequence[tuple[str, str]], text: str) -> list[str]:
    """The question terms that `text` has, or one of their word family."""
    have = frozenset(terms(text))
    return [t for w, t in asked if matches(w, t, have)]


def _holds(chunk: Chunk, span: Reading) -> bool:
    return chunk.doc_id == span.doc_id and chunk.start <= span.start < chunk.end


def _trim(chunk: Chunk, asked: Sequence[tuple[str, str]], span: Reading | None = None) -> tuple[int, int]:
    """The shortest run of clauses of a long sentence that has all the question terms the
    sentence has, and the reader's answer where it lies there, with one more clause on each side
    (answers sit next to the words asked)."""
    clauses = [(chunk.start + m.start(), chunk.start + m.end()) for m in _CLAUSE.finditer(chunk.text)]
    has = [set(_matched(asked, chunk.text[s - chunk.start : e - chunk.start])) for s, e in clauses]
    if span is not None and span.doc_id == chunk.doc_id:
        for held, (s, e) in zip(has, clauses):
            if s < span.end and span.start < e:
                held.add("")  # the answer's clauses are wanted as a question term is
    wanted = set().union(*has)
    if not wanted:
        return chunk.start, chunk.end
    runs = [(i, j) for i in range(len(clauses)) for j in range(i, len(clauses))
            if set().union(*has[i : j + 1]) == wanted]
    i, j = min(runs, key=lambda r: clauses[r[1]][1] - clauses[r[0]][0])
    start, end = clauses[max(i - 1, 0)][0], clauses[min(j + 1, len(clauses) - 1)][1]
    text = chunk.text[start - chunk.start : end - chunk.start]
    return start + len(text) - len(text.lstrip()), end - (len(text) - len(text.rstrip(" ,;:—–")))
