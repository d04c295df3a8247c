"""Answer: the extractive answerer, which replies with verbatim sentences, each cited.

It cites the fewest retrieved sentences that cover the question's terms (and a neighbour of
theirs when that is where the answer is), trims long ones to the clauses that carry them, and
abstains when the sources do not support an answer: when some of the question's weighty terms
occur neither in the cited sentences and their neighbours nor as a close paraphrase there
(IDF-weighted coverage below Settings.min_support).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chunking import Chunk
from .config import Settings
from .embeddings import Embedder
from .lexical import Lexical
from .retrieve import Passage
from .sources import Document
from .terms import stems, terms, words

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
# Words that frame a question rather than name what it is about.
FRAMING = frozenset(terms("according kind type sort many much besides cannot exactly actually also "
                          "say says said tell happen happened thing things"))
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|articles?|sources?|"
    r"context|above|previous)\b|\b(system prompt|you are now|pretend (to be|you)|act as)\b",
    re.IGNORECASE,
)
# Questions whose answer is a kind of value, not a word of the question: the words that ask for
# it, what a sentence that gives it looks like, and whether it must sit beside the name asked about.
_VALUES = (
    (re.compile(r"\bhow old\b|\bwhat age\b|\bage of\b", re.IGNORECASE), frozenset(terms("old age")),
     re.compile(r"\b[A-Z][\w'’-]+, \d{1,3},|\baged \d{1,3}\b|\b\d{1,3}-year-old\b|\b\d{1,3} years old\b"), True),
    (re.compile(r"\bhow much\b.*\b(earn|cost|pay|paid|salary|price|worth|spen[dt]|charged?|sold|owe)",
                re.IGNORECASE), frozenset(terms("much")),
     re.compile(r"[$£€¥]\s?\d|\d\s?(dollars|pounds|euros|roubles|rubles|francs|yen|bn|billion|million)\b", re.IGNORECASE),
     False),
    (re.compile(r"\bhow (many|much)\b", re.IGNORECASE), frozenset(terms("many much")),
     re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                r"forty|fifty|hundred|thousand|million|billion|dozens?|several|half)\b", re.IGNORECASE),
     False),
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_CLAUSE = re.compile(r"[^,;:—–]+(?:[,;:—–]+|$)")


@dataclass(frozen=True)
class Citation:
    n: int
    source: str  # Document.id
    start: int  # character offsets into the document text
    end: int
    quote: str  # == document.text[start:end], checked before it is returned
    title: str
    version: str  # the content hash of the text the offsets point into
    outlet: str | None = None
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    mode: str = "extractive"
    notice: str | None = None
    unsupported: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "mode": self.mode, "notice": self.notice, "unsupported": list(self.unsupported),
                "citations": [asdict(c) for c in self.citations]}


@lru_cache(maxsize=None)
def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text(encoding="utf-8").strip()


def abstain(question: str, notice: str | None = None) -> Answer:
    return Answer(question=question, text=prompt("abstain"), abstained=True, notice=notice)


class ExtractiveAnswerer:
    def __init__(self, lexical: Lexical, embedder: Embedder, document: Callable[[str], Document | None],
                 settings: Settings):
        self.lexical, self.embedder, self.document, self.settings = lexical, embedder, document, settings
        self._vectors: dict[str, np.ndarray] = {}

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        if _INSTRUCTION.search(question):
            return abstain(question, "the question asks to change instructions; only questions about the articles are answered")
        asked, names = _asked(question), _question_names(question)
        for asks_for, value_terms, value, beside_name in _VALUES:
            if asks_for.search(question):
                asked = [(w, t) for w, t in asked if t not in value_terms]
                passages = [p for p in passages if value.search(p.chunk.text)
                            and (not beside_name or all(n in p.chunk.text for n in names))]
        articles = Lexical.build([c for doc_id in dict.fromkeys(p.chunk.doc_id for p in passages)
                                  for c in self.lexical.passages_of(doc_id)])
        documents = {p.chunk.doc_id: self.document(p.chunk.doc_id) for p in passages}
        # An answer rests on an article that names what the question names, not on a namesake topic.
        passages = [p for p in passages if _mentions(documents[p.chunk.doc_id], names)]
        if not passages or not asked:
            return abstain(question)
        weight = {t: articles.idf(t) for _, t in asked}
        named = {t for n in names for t in terms(n)}
        claim = [(w, t) for w, t in asked if t not in named]
        chosen = self._choose(asked, weight, passages)
        # Names the article carries count as supported: its later sentences need not repeat them.
        # But what the question asks about them must be there too: in a large archive the names
        # are rare and weigh most, while "capital" or "weather" are common and weigh little.
        context = " ".join([*(self.context(c) for c in chosen), *names])
        if (self._support(asked, weight, context)[0] < self.settings.min_support
                or claim and self._support(claim, weight, context)[0] < self.settings.min_claim):
            return abstain(question)
        chosen = self._with_neighbours(claim or asked, weight, chosen)
        spans = [_trim(c, asked) if len(c.text) > self.settings.trim_chars else (c.start, c.end) for c in chosen]
        return cite(question, [(None, [(c, start, end)]) for (start, end), c in zip(spans, chosen)], documents.get)

    def _choose(self, asked: list[tuple[str, str]], weight: dict[str, float],
                passages: Sequence[Passage]) -> list[Chunk]:
        """The top passage, then any close runner-up of the same article that covers a weighty
        share of the question terms it lacks."""
        best = passages[0]
        chosen, covered = [best.chunk], set(_matched(asked, self.context(best.chunk)))
        for p in passages[1:]:
            if len(chosen) >= self.settings.max_sentences or p.score < self.settings.runner_up * best.score:
                break
            if p.chunk.doc_id != best.chunk.doc_id:  # sentences of unrelated articles prove nothing together
                continue
            new = set(_matched(asked, p.chunk.text)) - covered
            if sum(weight[t] for t in new) >= self.settings.runner_up_share * sum(weight.values()):
                chosen.append(p.chunk)
                covered |= new
        for c in list(chosen):
            follower = self.lexical.neighbour(c, 1)
            # A sentence asking a question ("Am I concerned?") is answered by the next one.
            if c.text.rstrip("\"'”’ ").endswith(("?", ":")) and follower and follower not in chosen:
                chosen.insert(chosen.index(c) + 1, follower)
        return chosen

    def _with_neighbours(self, claim: list[tuple[str, str]], weight: dict[str, float],
                         chosen: list[Chunk]) -> list[Chunk]:
        """The chosen sentences, and a neighbour of theirs that carries more of what is asked than
        they do themselves: the support was found there, so it is cited."""
        own = self._support(claim, weight, " ".join(c.text for c in chosen))[0]
        for c in list(chosen):
            for step in (-1, 1):
                other = self.lexical.neighbour(c, step)
                if other is None or other in chosen:
                    continue
                if self._support(claim, weight, other.text)[0] > max(own, self.settings.min_claim):
                    chosen.insert(chosen.index(c) + (step > 0), other)
        return chosen

    def grounding(self, claim: str, evidence: str) -> tuple[float, list[str]]:
        """How much of `claim` the `evidence` carries: the IDF-weighted share of its terms found
        there literally or as a close paraphrase, and the words found in neither way."""
        asked = _asked(claim)
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
            sims = self._word_vectors(tuple(asked[i][0] for i in missing)) @ self._word_vectors(tuple(candidates)).T
            best = sims.max(axis=1)
            score[missing] = np.where(best >= self.settings.paraphrase_floor, best, 0.0)
        unmatched = [asked[i][0] for i in range(len(asked)) if score[i] == 0.0]
        return float(weights @ score / weights.sum()), unmatched

    def _word_vectors(self, items: tuple[str, ...]) -> np.ndarray:
        """Word embeddings, computed once per word in one batch for all the new ones."""
        new = [w for w in items if w not in self._vectors]
        if new:
            self._vectors.update(zip(new, self.embedder.embed(new)))
        return np.stack([self._vectors[w] for w in items])


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


def _asked(text: str) -> list[tuple[str, str]]:
    """The words of `text` that carry its content, with their stems."""
    unique = list(dict.fromkeys(words(text)))
    return [(w, t) for w, t in zip(unique, stems(unique)) if t not in FRAMING]


def _question_names(question: str) -> list[str]:
    """The capitalised words of a question after its first (which is capitalised anyway)."""
    return [re.sub(r"['’]s$", "", n) for n in _NAME.findall(question)[1:] if n not in ("I",)]


def _mentions(document: Document | None, names: list[str]) -> bool:
    return document is not None and all(re.search(rf"\b{re.escape(n)}", document.text) for n in names)


def _matched(asked: list[tuple[str, str]], text: str) -> list[str]:
    """The question terms that `text` has, allowing one to be a prefix of the other (Russia/Russian)."""
    have = set(terms(text))
    return [t for _, t in asked if t in have or any(_prefix_match(t, h) for h in have)]


def _prefix_match(a: str, b: str) -> bool:
    """Stems of one word family: one starts the other (russia/russian) or they part only near
    the end (respond/respons)."""
    short, long = sorted((a, b), key=len)
    if len(short) < 4:
        return False
    if long.startswith(short):
        return True
    shared = len(os.path.commonprefix((a, b)))
    return shared >= 5 and shared >= 0.8 * len(short)


def _trim(chunk: Chunk, asked: list[tuple[str, str]]) -> tuple[int, int]:
    """The shortest run of clauses of a long sentence that has all the question terms the
    sentence has, with one more clause on each side (answers sit next to the words asked)."""
    clauses = [(chunk.start + m.start(), chunk.start + m.end()) for m in _CLAUSE.finditer(chunk.text)]
    has = [set(_matched(asked, chunk.text[s - chunk.start : e - chunk.start])) for s, e in clauses]
    wanted = set().union(*has)
    if not wanted:
        return chunk.start, chunk.end
    runs = [(i, j) for i in range(len(clauses)) for j in range(i, len(clauses))
            if set().union(*has[i : j + 1]) == wanted]
    i, j = min(runs, key=lambda r: clauses[r[1]][1] - clauses[r[0]][0])
    start, end = clauses[max(i - 1, 0)][0], clauses[min(j + 1, len(clauses) - 1)][1]
    text = chunk.text[start - chunk.start : end - chunk.start]
    return start + len(text) - len(text.lstrip()), end - (len(text) - len(text.rstrip(" ,;:—–")))
