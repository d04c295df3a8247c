"""Lexical ranking: BM25 (bm25s) over the stemmed terms of every passage, kept on disk."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from .chunking import Chunk
from .terms import terms

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself: noise under any log handler

CHUNKS_FILE = "chunks.jsonl"
FINGERPRINT_FILE = "fingerprint"
WITHIN_KEPT = 8


class Lexical:
    def __init__(self, bm25: bm25s.BM25 | None, chunks: list[Chunk]):
        self._bm25 = bm25
        self.chunks = chunks  # ordered by (doc_id, start): neighbours are adjacent rows
        self._row = {c.id: i for i, c in enumerate(chunks)}
        self._rows: dict[str, range] = {}  # each document's rows
        for doc_id, rows in itertools.groupby(range(len(chunks)), key=lambda i: chunks[i].doc_id):
            rows = list(rows)
            self._rows[doc_id] = range(rows[0], rows[-1] + 1)
        self._df = np.diff(bm25.scores["indptr"]) if bm25 else np.zeros(0)
        self._within: dict[tuple[str, ...], Lexical] = {}  # the last few rankings of a few articles

    @classmethod
    def build(cls, chunks: list[Chunk]) -> Lexical:
        if not chunks:
            return cls(None, [])
        bm25 = bm25s.BM25()
        bm25.index([terms(c.text) or ["\0"] for c in chunks], show_progress=False)
        return cls(bm25, chunks)

    def within(self, doc_ids: Iterable[str]) -> Lexical:
        """A ranking of these articles' passages alone, with their own term statistics. The
        retriever and the answerer ask for the same articles in turn: it is built once."""
        key = tuple(sorted(set(doc_ids)))
        if key not in self._within:
            if len(self._within) >= WITHIN_KEPT:
                self._within.pop(next(iter(self._within)))
            self._within[key] = Lexical.build([c for doc_id in key for c in self.passages_of(doc_id)])
        return self._within[key]

    def save(self, folder: Path, fingerprint: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        with open(folder / CHUNKS_FILE, "w", encoding="utf-8") as out:
            for c in self.chunks:
                out.write(json.dumps([c.doc_id, c.start, c.end, c.text], ensure_ascii=False) + "\n")
        # Written last: a folder without it (a crash mid-save) is rebuilt, never trusted.
        (folder / FINGERPRINT_FILE).write_text(fingerprint)

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> Lexical | None:
        """The saved ranking if it was built for `fingerprint`, else None."""
        marker = folder / FINGERPRINT_FILE
        if not marker.is_file() or marker.read_text() != fingerprint:
            return None
        with open(folder / CHUNKS_FILE, encoding="utf-8") as lines:
            chunks = [Chunk(*json.loads(line)) for line in lines]
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if chunks else None
        return cls(bm25, chunks)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in `self.chunks` order."""
        query_terms = [t for t in terms(query) if self._bm25 and t in self._bm25.vocab_dict]
        if not query_terms:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return self._bm25.get_scores(query_terms)

    def idf(self, term: str) -> float:
        """Inverse document frequency over passages; a term no passage has gets the highest."""
        n = len(self.chunks)
        row = self._bm25.vocab_dict.get(term) if self._bm25 else None
        df = int(self._df[row]) if row is not None else 0
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    @property
    def doc_ids(self) -> list[str]:
        return list(self._rows)

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._bm25.vocab_dict) if self._bm25 else frozenset()

    def row_of(self, chunk_id: str) -> int | None:
        return self._row.get(chunk_id)

    def passages_of(self, doc_id: str) -> list[Chunk]:
        return [self.chunks[row] for row in self._rows.get(doc_id, ())]

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """The passage `step` places after `chunk` in its document (before, if negative)."""
        row = self.row_of(chunk.id)
        if row is None or not 0 <= row + step < len(self.chunks):
            return None
        other = self.chunks[row + step]
        return other if other.doc_id == chunk.doc_id else None
