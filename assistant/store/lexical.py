"""Lexical ranking: BM25 over the stemmed terms of passages, in two forms.

`LexicalIndex` ranks every passage of the store: a Tantivy index in the local cache folder, over
the project's own terms, written an article at a time, so that adding or removing one costs time
in proportion to that article and a query's cost grows slowly with the archive (Tantivy skips the
blocks of postings that cannot reach the top; bench/lexical.py and docs/scaling.md have the
engines measured side by side). Chroma stays the source of truth: `catch_up` applies what any
process added, changed or removed there since it last looked, and a missing or stale folder is
filled from it. `Ranking` ranks the passages of a few articles with their own term statistics
(bm25s, in memory): the leading articles of a question, as the retriever and the answerer weigh
them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np
import tantivy
from tantivy import Occur, Query
from tqdm import tqdm

from ..errors import IndexBusyError
from ..ingest.chunking import Chunk
from .terms import VERSION as TERMS_VERSION
from .terms import terms

if TYPE_CHECKING:
    from .index import Index

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself: noise under any log handler

STATE = "state.json"  # the format, the store it mirrors and when it last caught up; written after each commit
FORMAT = f"tantivy-1 terms-{TERMS_VERSION}"  # a folder written in another is emptied and filled again
SLACK = 30.0  # seconds a catch-up looks back past the last one: other writers' clocks, stamps in flight
CATCH_UP_DOCUMENTS = 200  # articles fetched from the store at a time
WRITER_HEAP = 50_000_000  # bytes Tantivy buffers before it writes a segment
WRITER_WAIT = 120.0  # seconds a write waits for another process's to finish
PASSAGES_KEPT = 512  # articles whose passages are kept in memory (neighbours, foldings)
WITHIN_KEPT = 8


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # one token per term: the terms are words already, split and stemmed by assistant/store/terms.py
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("doc", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("passage", tokenizer_name="raw", index_option="basic")  # Chunk.id
    builder.add_text_field("version", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("start", stored=True)
    builder.add_unsigned_field("end", stored=True)
    builder.add_bytes_field("text", stored=True)
    return builder.build()


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
    """Every passage of the store, ranked by Tantivy's BM25 and updated per article. Safe to
    share between threads; processes sharing the folder take turns to write."""

    def __init__(self, folder: Path, store: str):
        """The ranking kept in `folder` for the store identified by `store` (emptied when it was
        kept for another store or in another format)."""
        self.folder = folder
        self._schema = _schema()
        state = self._state()
        if state.get("format") != FORMAT or state.get("store") != store or not tantivy.Index.exists(str(folder)):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            tantivy.Index(self._schema, path=str(folder))
            state = {"format": FORMAT, "store": store}
            self._save_state(state)
        self._synced = state.get("synced")
        self._index = tantivy.Index.open(str(folder))
        self._lock = threading.RLock()
        self.generation = 0  # counts the changes this process has seen: derived caches compare it
        self._passages: dict[str, list[Chunk]] = {}
        self._within: dict[tuple[str, ...], Ranking] = {}
        self._searcher = self._index.searcher()

    def _state(self) -> dict:
        try:
            return json.loads((self.folder / STATE).read_text())
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict) -> None:
        (self.folder / f"{STATE}.new").write_text(json.dumps(state))
        os.replace(self.folder / f"{STATE}.new", self.folder / STATE)

    def _write(self, deleted: Sequence[str], added: Sequence[tuple[str, str, Chunk]]) -> None:
        """One commit: the passages of `deleted` articles out, `added` (article, version, passage)
        in. The writer is held for this commit alone, so that processes sharing the folder (a
        server and a command line) take turns."""
        with self._lock:
            writer = self._writer()
            for doc_id in deleted:
                writer.delete_documents_by_term("doc", doc_id)
            for doc_id, version, c in added:
                writer.add_document(tantivy.Document.from_dict(
                    {"terms": " ".join(terms(c.text)), "doc": doc_id, "passage": c.id, "version": version,
                     "start": c.start, "end": c.end, "text": c.text.encode("utf-8")}, self._schema))
            writer.commit()
            writer.wait_merging_threads()  # merges finish before the writer goes, or they are lost
            self._refresh()

    def _writer(self):
        deadline = time.monotonic() + WRITER_WAIT
        while True:
            try:
                return self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise IndexBusyError(f"{self.folder} is being written by another process: wait for it, or give "
                                         "each process its own --index folder") from exc
                time.sleep(0.05)

    def _refresh(self, written: bool = True) -> None:
        """See the latest commit, this process's or another's; the caches start afresh when it
        was this process's or the index looks changed (a commit adds a segment)."""
        with self._lock:
            seen = (self._searcher.num_docs, self._searcher.num_segments)
            self._index.reload()
            self._searcher = self._index.searcher()
            if written or (self._searcher.num_docs, self._searcher.num_segments) != seen:
                self.generation += 1
                self._passages.clear()
                self._within.clear()

    def put(self, documents: Sequence[tuple[str, str, Sequence[Chunk]]]) -> None:
        """Store (id, version, passages) per article, replacing what was kept of each, in one commit."""
        if documents:
            self._write([d for d, _, _ in documents], [(d, v, c) for d, v, chunks in documents for c in chunks])

    def remove(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self._write(doc_ids, [])

    def catch_up(self, index: Index, progress: bool = False) -> bool:
        """Apply what the store gained, changed or lost since the last catch-up (everything, the
        first time); True when anything changed here."""
        started = time.time()
        self._refresh(written=False)  # another process sharing the folder may have written
        since = self._synced - SLACK if self._synced is not None else None
        changed = [(d, v) for d, v in index.changed_since(since) if self.version_of(d) != v]
        gone = [d for d in index.removed_since(since) if self.version_of(d) and not index.version_of(d)]
        with tqdm(total=len(changed), unit=" doc", desc="lexical index", disable=not progress, delay=2) as bar:
            for at in range(0, len(changed), CATCH_UP_DOCUMENTS):
                part = changed[at : at + CATCH_UP_DOCUMENTS]
                passages = index.passages([d for d, _ in part])
                self.put([(d, v, passages.get(d, [])) for d, v in part])
                bar.update(len(part))
        self.remove(gone)
        with self._lock:
            self._synced = started
            self._save_state({**self._state(), "synced": started})
        return bool(changed or gone)

    def version_of(self, doc_id: str) -> str | None:
        searcher = self._searcher
        hits = searcher.search(Query.term_query(self._schema, "doc", doc_id), 1).hits
        return searcher.doc(hits[0][1])["version"][0] if hits else None

    def top(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """The n passages that BM25 ranks highest for `query` (those sharing a term with it)."""
        asked = self._query(query)
        if asked is None:
            return []
        searcher = self._searcher
        return [(_chunk(searcher.doc(at)), score) for score, at in searcher.search(asked, n).hits]

    def scores(self, query: str, chunks: Iterable[Chunk]) -> dict[str, float]:
        """The BM25 score of each of `chunks` for `query` (0 when it shares no term)."""
        chunks, asked = list(chunks), self._query(query)
        scored = {c.id: 0.0 for c in chunks}
        if asked is None or not chunks:
            return scored
        these = Query.const_score_query(Query.term_set_query(self._schema, "passage", list(scored)), 0.0)
        searcher = self._searcher
        both = Query.boolean_query([(Occur.Must, asked), (Occur.Must, these)])
        for score, at in searcher.search(both, len(chunks)).hits:
            scored[_chunk(searcher.doc(at)).id] = score
        return scored

    def _query(self, query: str) -> Query | None:
        asked = terms(query)
        if not asked:
            return None
        return Query.boolean_query([(Occur.Should, Query.term_query(self._schema, "terms", t)) for t in asked])

    def idf(self, term: str) -> float:
        """Inverse document frequency over every passage; a term no passage has gets the highest."""
        searcher = self._searcher
        return _idf(searcher.num_docs, searcher.doc_freq("terms", term))

    def passages_of(self, doc_id: str) -> list[Chunk]:
        generation = self.generation
        found = self._passages.get(doc_id)
        if found is None:
            searcher = self._searcher
            most = searcher.doc_freq("doc", doc_id)  # a bound: it counts deleted passages until a merge
            hits = searcher.search(Query.term_query(self._schema, "doc", doc_id), max(1, most)).hits
            found = sorted((_chunk(searcher.doc(at)) for _, at in hits), key=lambda c: c.start)
            with self._lock:
                if generation == self.generation:
                    if len(self._passages) >= PASSAGES_KEPT:
                        self._passages.pop(next(iter(self._passages)))
                    self._passages[doc_id] = found
        return found

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """The passage `step` places after `chunk` in its document (before, if negative)."""
        passages = self.passages_of(chunk.doc_id)
        at = next((i for i, c in enumerate(passages) if c.start == chunk.start), None)
        return passages[at + step] if at is not None and 0 <= at + step < len(passages) else None

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
        return self._searcher.num_docs


def _chunk(stored: tantivy.Document) -> Chunk:
    return Chunk(stored["doc"][0], stored["start"][0], stored["end"][0], stored["text"][0].decode("utf-8"))


def _idf(passages: int, holding: int) -> float:
    return float(np.log(1 + (passages - holding + 0.5) / (holding + 0.5)))
