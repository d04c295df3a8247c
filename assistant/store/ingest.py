"""Ingest: Documents are split, embedded in batches and stored, in the index and then in the
lexical index, a batch at a time; unchanged ones are left alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tqdm import tqdm

from ..config import Settings
from ..ingest.chunking import Chunk, split
from ..ingest.sources import Document, Skipped
from .embeddings import Embedder
from .index import Index
from .lexical import LexicalIndex

EMBED_GROUP = 512  # passages embedded together: large batches keep the encoder busy


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # left incomplete by an interrupted ingest
    notes: list[str] = field(default_factory=list)  # e.g. a file read in a legacy encoding
    passages: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.recovered)

    def summary(self) -> str:
        rate = f", {self.passages / self.seconds:.0f} passages/s" if self.seconds and self.passages else ""
        recovered = f"; {len(self.recovered)} incomplete from an interrupted ingest removed" if self.recovered else ""
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.skipped)} skipped; {self.passages} passages in {self.seconds:.1f} s{rate}{recovered}")


def ingest(items: Iterable[Document | Skipped], index: Index, lexical: LexicalIndex, embedder: Callable[[], Embedder],
           settings: Settings, progress: bool = True, report: IngestReport | None = None) -> IngestReport:
    """Store every new or changed Document of `items`; record the rest in the report. First,
    what an interrupted ingest left incomplete is removed (and stored again if it is in `items`).
    `embedder` gives the model only when a passage is to be embedded: an ingest of unchanged
    articles never loads it."""
    report = report or IngestReport()
    started = time.perf_counter()
    for doc_id in index.incomplete():
        index.discard(doc_id)
        lexical.remove([doc_id])
        report.recovered.append(doc_id)
    pending: list[tuple[Document, list[Chunk]]] = []
    seen: dict[str, str] = {}
    bar = tqdm(items, unit=" doc", disable=not progress, desc="ingest", delay=0.5)  # only if it lasts
    for item in bar:
        if isinstance(item, Skipped):
            report.skipped.append(item)
            continue
        if item.id in seen:
            report.skipped.append(Skipped(item.path or item.id, f"same id {item.id!r} as {seen[item.id]}"))
            continue
        seen[item.id] = item.path or item.id
        if item.encoding:
            report.notes.append(f"{item.path or item.id}: read as {item.encoding} (not UTF-8)")
        known = index.version_of(item.id)
        if known == item.version:
            report.unchanged.append(item.id)
            continue
        (report.updated if known else report.added).append(item.id)
        pending.append((item, split(item)))
        if sum(len(chunks) for _, chunks in pending) >= EMBED_GROUP:
            report.passages += _store(pending, index, lexical, embedder, settings)
            bar.set_postfix(passages_per_s=f"{report.passages / (time.perf_counter() - started):.0f}")
            pending = []
    report.passages += _store(pending, index, lexical, embedder, settings)
    bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _store(pending: list[tuple[Document, list[Chunk]]], index: Index, lexical: LexicalIndex,
           embedder: Callable[[], Embedder], settings: Settings) -> int:
    texts = [embedding_text(doc, c) for doc, chunks in pending for c in chunks]
    if not texts:
        return 0
    vectors = embedder().embed(texts, batch_size=settings.batch_size)
    stored, at = [], 0
    for doc, chunks in pending:
        stored.append((doc, chunks, vectors[at : at + len(chunks)]))
        at += len(chunks)
    index.put(stored)
    lexical.put([(doc.id, doc.version, chunks) for doc, chunks in pending])
    return at


def embedding_text(document: Document, chunk: Chunk) -> str:
    """What the encoder sees for a passage; offsets always refer to chunk.text alone."""
    # The title gives a sentence its subject ("He railed against..." is about the article's person).
    return f"{document.title}: {chunk.text}"
