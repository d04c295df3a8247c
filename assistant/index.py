"""Index: the Chroma store of documents and their embedded passages (the sole chromadb importer).

Two collections: `passages` (one record per Chunk, with its embedding) and `documents` (the full
text of every article, so any citation can be checked and shown without the original files).
A document record is written after its passages, so it marks a complete ingest.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import chromadb
import numpy as np

from .chunking import Chunk
from .config import Settings
from .errors import IndexMissingError
from .sources import Document

PASSAGES = "passages"
DOCUMENTS = "documents"
# Chroma's default ef_search (10) loses recall on large collections; measured in bench/.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 128, "max_neighbors": 32}


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    title: str
    version: str
    chars: int
    passages: int
    ingested: float


class Index:
    def __init__(self, settings: Settings, create: bool = False):
        if not create and not _exists(settings):
            raise IndexMissingError(
                f"no index at {settings.index}: run `assistant ingest seeds --index {settings.index}` first"
            )
        settings.index.mkdir(parents=True, exist_ok=True)
        self.location = str(settings.index)
        self._client = chromadb.PersistentClient(
            path=self.location, settings=chromadb.Settings(anonymized_telemetry=False)
        )
        self._passages = self._client.get_or_create_collection(
            PASSAGES, embedding_function=None, configuration={"hnsw": HNSW}
        )
        self._documents = self._client.get_or_create_collection(DOCUMENTS, embedding_function=None)

    def version_of(self, doc_id: str) -> str | None:
        found = self._documents.get(ids=[doc_id], include=["metadatas"])
        return found["metadatas"][0]["version"] if found["ids"] else None

    def put(self, document: Document, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Store a document and its passages, replacing any earlier version of it."""
        self.remove(document.id)
        batch = self._client.get_max_batch_size()
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self._passages.add(
                ids=[c.id for c in part],
                embeddings=embeddings[i : i + batch],
                documents=[c.text for c in part],
                metadatas=[{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in part],
            )
        meta = {"title": document.title, "path": document.path, "version": document.version,
                "chars": len(document.text), "passages": len(chunks), "ingested": time.time()}
        # Chroma needs a vector per record; documents are looked up by id, never by similarity.
        self._documents.upsert(ids=[document.id], embeddings=[[1.0]], documents=[document.text],
                               metadatas=[meta])

    def remove(self, doc_id: str) -> bool:
        """Delete a document and its passages; False when there was none."""
        existed = bool(self._documents.get(ids=[doc_id], include=[])["ids"])
        self._documents.delete(ids=[doc_id])
        self._passages.delete(where={"doc_id": doc_id})
        return existed

    def document(self, doc_id: str) -> Document | None:
        found = self._documents.get(ids=[doc_id], include=["documents", "metadatas"])
        if not found["ids"]:
            return None
        meta = found["metadatas"][0]
        return Document(id=doc_id, path=meta["path"], title=meta["title"], text=found["documents"][0])

    def documents(self) -> list[DocumentInfo]:
        found = self._documents.get(include=["metadatas"])
        infos = [DocumentInfo(id=i, **{k: m[k] for k in ("title", "version", "chars", "passages", "ingested")})
                 for i, m in zip(found["ids"], found["metadatas"])]
        return sorted(infos, key=lambda info: info.id)

    def fingerprint(self) -> str:
        """Changes whenever a document is added, changed or removed."""
        versions = sorted(f"{d.id}\0{d.version}" for d in self.documents())
        return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]

    def chunks(self) -> list[Chunk]:
        """Every stored passage, in a stable order."""
        found = self._passages.get(include=["documents", "metadatas"])
        chunks = [_chunk(text, meta) for text, meta in zip(found["documents"], found["metadatas"])]
        return sorted(chunks, key=lambda c: (c.doc_id, c.start))

    def nearest(self, embedding: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        """The n passages closest to `embedding`, with their cosine similarity."""
        n = min(n, self._passages.count())
        if n == 0:
            return []
        found = self._passages.query(query_embeddings=[embedding], n_results=n,
                                     include=["documents", "metadatas", "distances"])
        # Chroma returns cosine distance: lower is closer.
        return [(_chunk(t, m), 1.0 - d) for t, m, d in
                zip(found["documents"][0], found["metadatas"][0], found["distances"][0])]

    def embeddings(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not chunk_ids:
            return {}
        found = self._passages.get(ids=list(chunk_ids), include=["embeddings"])
        return dict(zip(found["ids"], np.asarray(found["embeddings"], dtype=np.float32)))

    def count(self) -> int:
        return self._passages.count()


def _chunk(text: str, meta: dict) -> Chunk:
    return Chunk(doc_id=meta["doc_id"], start=meta["start"], end=meta["end"], text=text)


def _exists(settings: Settings) -> bool:
    return (settings.index / "chroma.sqlite3").is_file()
