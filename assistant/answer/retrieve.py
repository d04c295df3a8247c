"""Retrieval: dense (Chroma) and lexical (BM25) rankings merged into one list of `Passage`s.

Dense similarity alone misses exact names and numbers; BM25 alone misses paraphrase. Both are
scaled to 0-1 over the merged candidates and mixed (Settings.dense_weight), as measured in bench/.
The whole-index ranking picks the leading articles, those holding more of the question's names
first; their passages are then ranked again with the BM25 statistics of those articles alone
(docs/method.md; measured on the archive in docs/experiments.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..config import Settings
from ..ingest.chunking import Chunk
from ..store.embeddings import Embedder
from ..store.index import Index
from ..store.lexical import LexicalIndex, Ranking
from ..store.terms import fold, holds, names

FOLDED_KEPT = 256  # articles whose folded text is kept


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # the hybrid score, 0-1
    dense: float  # cosine similarity to the question
    lexical: float  # BM25 score, unscaled


class Searcher:
    """Ranks the passages of an index for a query."""

    def __init__(self, index: Index, lexical: LexicalIndex, embedder: Embedder, settings: Settings):
        self.index, self.lexical, self.embedder, self.settings = index, lexical, embedder, settings
        # an article's folded text, for the names it holds: folding a long article costs ~10 ms
        self._folded = lru_cache(maxsize=FOLDED_KEPT)(self._fold)  # by article and lexical generation

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """The k best passages of the articles that lead the whole-index ranking, re-ranked
        among those articles' own passages."""
        query_vector = self.embedder.embed_query(query)
        ranked = _mix(self._candidates(query, query_vector), self.settings.dense_weight)
        articles = list(dict.fromkeys(p.chunk.doc_id for p in sorted(ranked, key=lambda p: -p.score)))
        within = self.lexical.within(self._by_names(names(query), articles)[: self.settings.articles])
        return sorted(self._rescore(query, query_vector, within), key=lambda p: -p.score)[: k or self.settings.k]

    def _by_names(self, asked: Sequence[str], articles: list[str]) -> list[str]:
        """`articles` with those holding more of the names a question asks about first, in order
        otherwise: among thousands of articles the question's other words can lead to a story
        about someone else ("Which football club does Bondarev support?": a Manchester United
        story)."""
        if not asked:
            return articles
        held = {doc_id: sum(holds(self._folded(doc_id, self.lexical.generation), n) for n in asked)
                for doc_id in articles}
        return sorted(articles, key=lambda doc_id: -held[doc_id])

    def _fold(self, doc_id: str, generation: int) -> str:
        return fold(" ".join(c.text for c in self.lexical.passages_of(doc_id)))

    def _candidates(self, query: str, query_vector: np.ndarray) -> list[tuple[Chunk, float, float]]:
        """The union of both rankings' top candidates over the whole index, scored on both."""
        n = self.settings.candidates
        similarity = {c.id: (c, sim) for c, sim in self.index.nearest(query_vector, n)}
        top = self.lexical.top(query, n)
        bm25 = {c.id: score for c, score in top}
        bm25 |= self.lexical.scores(query, [c for c, _ in similarity.values() if c.id not in bm25])
        lexical_only = [c for c, _ in top if c.id not in similarity]
        similarity.update(self._similarity(query_vector, lexical_only))
        return [(chunk, sim, bm25.get(chunk.id, 0.0)) for chunk, sim in similarity.values()]

    def _rescore(self, query: str, query_vector: np.ndarray, within: Ranking) -> list[Passage]:
        """Hybrid scores with term weights of these articles alone. Across an archive a name is
        rare and outweighs every other word of the question; among the articles about that name
        it is common, and the words that tell its sentences apart decide, as they should."""
        similarity = self._similarity(query_vector, within.chunks)
        bm25 = within.scores(query)
        return _mix([(c, similarity[c.id][1], float(b)) for c, b in zip(within.chunks, bm25) if c.id in similarity],
                    self.settings.dense_weight)

    def _similarity(self, query_vector: np.ndarray, chunks: list[Chunk]) -> dict[str, tuple[Chunk, float]]:
        vectors = self.index.embeddings([c.id for c in chunks])
        return {c.id: (c, float(vectors[c.id] @ query_vector)) for c in chunks if c.id in vectors}


def _mix(candidates: list[tuple[Chunk, float, float]], dense_weight: float) -> list[Passage]:
    if not candidates:
        return []
    dense = _scale(np.array([c[1] for c in candidates]))
    lexical = _scale(np.array([c[2] for c in candidates]))
    mixed = dense_weight * dense + (1 - dense_weight) * lexical
    return [Passage(c, float(s), d, lx) for (c, d, lx), s in zip(candidates, mixed)]


def _scale(values: np.ndarray) -> np.ndarray:
    """0-1 over the candidates; all equal (one passage) is the best there is, unless it is 0 (no
    lexical match at all)."""
    low, high = float(values.min()), float(values.max())
    if high > low:
        return (values - low) / (high - low)
    return np.full_like(values, 1.0 if high > 0 else 0.0)


class PassageRetriever(BaseRetriever):
    """A LangChain retriever over the index: reusable in any LangChain chain.

    Each Document's metadata carries source, start, end and score; page_content is the passage,
    equal to the source text between start and end.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Searcher
    k: int | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_lc_document(p) for p in self.searcher.search(query, self.k)]


def to_lc_document(passage: Passage) -> LCDocument:
    c = passage.chunk
    return LCDocument(page_content=c.text, metadata={
        "source": c.doc_id, "start": c.start, "end": c.end,
        "score": passage.score, "dense": passage.dense, "lexical": passage.lexical})


def from_lc_document(document: LCDocument) -> Passage:
    m = document.metadata
    chunk = Chunk(m["source"], m["start"], m["end"], document.page_content)
    return Passage(chunk, m["score"], m["dense"], m["lexical"])
