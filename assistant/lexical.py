"""Lexical ranking: BM25 over the stemmed terms of passages, in two forms.

`LexicalIndex` ranks every passage of the store: an SQLite FTS5 table in the local cache folder
(its `bm25()` over the project's own terms), written per article, so that adding or removing one
costs time in proportion to that article at any archive size. Chroma stays the source of truth:
`catch_up` applies what any process added, changed or removed there since it last looked, and a
missing or stale file is filled from it. `Ranking` ranks the passages of a few articles with their
own term statistics (bm25s, in memory): the leading articles of a question, as the retriever and
the answerer weigh them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np
from tqdm import tqdm

from .chunking import Chunk
from .terms import VERSION as TERMS_VERSION
from .terms import terms

if TYPE_CHECKING:
    from .index import Index

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself: noise under any log handler

FILE = "lexical.sqlite3"
FORMAT = f"1 terms-{TERMS_VERSION}"  # a file written in another is filled again from the store
LEGACY = ("chunks.jsonl", "fingerprint", "params.index.json", "vocab.index.json", "data.csc.index.npy",
          "indices.csc.index.npy", "indptr.csc.index.npy")  # the whole-ranking files of before
SLACK = 30.0  # seconds a catch-up looks back past the last one: other writers' clocks, stamps in flight
CATCH_UP_DOCUMENTS = 200  # articles fetched from the store at a time
WITHIN_KEPT = 8

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (id TEXT PRIMARY KEY, version TEXT NOT NULL)",
    "CREATE TABLE passages (row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, "
    "end INTEGER NOT NULL, text TEXT NOT NULL)",
    "CREATE INDEX passages_in_order ON passages (doc_id, start)",
    # one token per term: the terms are words already, split and stemmed by assistant/terms.py
    "CREATE VIRTUAL TABLE passage_terms USING fts5 (terms, tokenize = \"ascii tokenchars '_'\")",
    "CREATE VIRTUAL TABLE term_counts USING fts5vocab (passage_terms, row)",
)
TABLES = ("term_counts", "passage_terms", "passages", "documents", "meta")


class Ranking:
    """BM25 (bm25s) over the passages of a few articles, with their own term statistics."""

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks  # ordered by (doc_id, start)
        self._bm25 = bm25s.BM25() if chunks else None
        if self._bm25:
            self._bm25.index([terms(c.text) or ["\0"] for c in chunks], show_progress=False)
        self._df = np.diff(self._bm25.scores["indptr"]) if self._bm25 else np.zeros(0)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage, in `self.chunks` order."""
        query_terms = [t for t in terms(query) if self._bm25 and t in self._bm25.vocab_dict]
        if not query_terms:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return self._bm25.get_scores(query_terms)

    def idf(self, term: str) -> float:
        """Inverse document frequency over passages; a term no passage has gets the highest."""
        row = self._bm25.vocab_dict.get(term) if self._bm25 else None
        return _idf(len(self.chunks), int(self._df[row]) if row is not None else 0)

    @property
    def doc_ids(self) -> list[str]:
        return list(dict.fromkeys(c.doc_id for c in self.chunks))

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._bm25.vocab_dict) if self._bm25 else frozenset()


class LexicalIndex:
    """Every passage of the store, ranked by FTS5's BM25 and updated per article. Safe to share
    between threads; processes sharing the file take turns to write."""

    def __init__(self, folder: Path, store: str):
        """The ranking kept in `folder` for the store identified by `store` (emptied when it was
        kept for another store or in another format)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in LEGACY:
            (folder / name).unlink(missing_ok=True)
        self.path = folder / FILE
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._lock = threading.RLock()
        self.generation = 0  # counts the changes this process has seen: derived caches compare it
        self._within: dict[tuple[str, ...], Ranking] = {}
        self._count: int | None = None
        with self._writing():
            if self._meta("format") != FORMAT or self._meta("store") != store:
                for table in TABLES:
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in SCHEMA:
                    self._db.execute(statement)
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("store", store)])

    def _meta(self, key: str) -> str | None:
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return None
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction, other processes' writers waiting; the caches start afresh after it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.generation += 1
            self._within.clear()
            self._count = None

    def put(self, documents: Sequence[tuple[str, str, Sequence[Chunk]]]) -> None:
        """Store (id, version, passages) per article, replacing what was kept of each, in one go."""
        if not documents:
            return
        rows = [(d, c.start, c.end, c.text, " ".join(terms(c.text))) for d, _, chunks in documents for c in chunks]
        with self._writing():
            self._delete([d for d, _, _ in documents])
            self._db.executemany("INSERT INTO documents VALUES (?, ?)", [(d, v) for d, v, _ in documents])
            first = self._db.execute("SELECT coalesce(max(row), 0) + 1 FROM passages").fetchone()[0]
            self._db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
                                 [(first + i, *r[:4]) for i, r in enumerate(rows)])
            self._db.executemany("INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)",
                                 [(first + i, r[4]) for i, r in enumerate(rows)])

    def remove(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            with self._writing():
                self._delete(doc_ids)

    def _delete(self, doc_ids: Sequence[str]) -> None:
        for doc_id in doc_ids:
            self._db.execute("DELETE FROM passage_terms WHERE rowid IN (SELECT row FROM passages WHERE doc_id = ?)",
                             (doc_id,))
            self._db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def catch_up(self, index: Index, progress: bool = False) -> bool:
        """Apply what the store gained, changed or lost since the last catch-up (everything, the
        first time); True when anything changed here."""
        started = time.time()
        with self._lock:
            synced = self._meta("synced")
        since = float(synced) - SLACK if synced else None
        changed = [(d, v) for d, v in index.changed_since(since) if self.version_of(d) != v]
        gone = [d for d in index.removed_since(since) if self.version_of(d) and not index.version_of(d)]
        with tqdm(total=len(changed), unit=" doc", desc="lexical index", disable=not progress, delay=2) as bar:
            for at in range(0, len(changed), CATCH_UP_DOCUMENTS):
                part = changed[at : at + CATCH_UP_DOCUMENTS]
                passages = index.passages([d for d, _ in part])
                self.put([(d, v, passages.get(d, [])) for d, v in part])
                bar.update(len(part))
        self.remove(gone)
        with self._writing():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('synced', ?)", (repr(started),))
        return bool(changed or gone)

    def version_of(self, doc_id: str) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT version FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return found[0] if found else None

    def top(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """The n passages that BM25 ranks highest for `query` (those sharing a term with it)."""
        match = _match(query)
        if not match:
            return []
        with self._lock:
            found = self._db.execute(
                "SELECT p.doc_id, p.start, p.end, p.text, t.score FROM (SELECT rowid, -bm25(passage_terms) AS score "
                "FROM passage_terms WHERE passage_terms MATCH ? ORDER BY rank LIMIT ?) AS t "
                "JOIN passages AS p ON p.row = t.rowid", (match, n)).fetchall()
        return [(Chunk(*row[:4]), row[4]) for row in found]

    def scores(self, query: str, chunks: Iterable[Chunk]) -> dict[str, float]:
        """The BM25 score of each of `chunks` for `query` (0 when it shares no term)."""
        chunks, match = list(chunks), _match(query)
        if not match or not chunks:
            return {c.id: 0.0 for c in chunks}
        with self._lock:
            rows = {}
            for c in chunks:
                found = self._db.execute("SELECT row FROM passages WHERE doc_id = ? AND start = ?",
                                         (c.doc_id, c.start)).fetchone()
                if found:
                    rows[found[0]] = c.id
            scored = dict(self._db.execute(
                f"SELECT rowid, -bm25(passage_terms) FROM passage_terms WHERE passage_terms MATCH ? "
                f"AND rowid IN ({', '.join('?' * len(rows))})", (match, *rows)).fetchall())
        return {c.id: 0.0 for c in chunks} | {rows[row]: score for row, score in scored.items()}

    def idf(self, term: str) -> float:
        """Inverse document frequency over every passage; a term no passage has gets the highest."""
        with self._lock:
            found = self._db.execute("SELECT doc FROM term_counts WHERE term = ?", (term,)).fetchone()
            if self._count is None:
                self._count = self._db.execute("SELECT count(*) FROM passages").fetchone()[0]
        return _idf(self._count, found[0] if found else 0)

    def passages_of(self, doc_id: str) -> list[Chunk]:
        with self._lock:
            found = self._db.execute("SELECT doc_id, start, end, text FROM passages WHERE doc_id = ? ORDER BY start",
                                     (doc_id,)).fetchall()
        return [Chunk(*row) for row in found]

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """The passage `step` places after `chunk` in its document (before, if negative)."""
        if step > 0:
            sql = "SELECT doc_id, start, end, text FROM passages WHERE doc_id = ? AND start > ? ORDER BY start"
        else:
            sql = "SELECT doc_id, start, end, text FROM passages WHERE doc_id = ? AND start < ? ORDER BY start DESC"
        with self._lock:
            found = self._db.execute(f"{sql} LIMIT 1 OFFSET ?", (chunk.doc_id, chunk.start, abs(step) - 1)).fetchone()
        return Chunk(*found) if found else None

    def within(self, doc_ids: Iterable[str]) -> Ranking:
        """A ranking of these articles' passages alone, with their own term statistics. The
        retriever and the answerer ask for the same articles in turn: it is built once."""
        key = tuple(sorted(set(doc_ids)))
        with self._lock:
            if key not in self._within:
                if len(self._within) >= WITHIN_KEPT:
                    self._within.pop(next(iter(self._within)))
                self._within[key] = Ranking([c for doc_id in key for c in self.passages_of(doc_id)])
            return self._within[key]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM passages").fetchone()[0]


def _match(query: str) -> str:
    """An FTS5 query for passages holding any of the query's terms (each quoted: a term is never
    read as an operator)."""
    return " OR ".join(f'"{t}"' for t in terms(query))


def _idf(passages: int, holding: int) -> float:
    return float(np.log(1 + (passages - holding + 0.5) / (holding + 0.5)))
