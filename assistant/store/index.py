"""Index: the Chroma store of documents and their embedded passages (the sole chromadb importer).

Four collections: `passages` (one record per Chunk, with its embedding), `documents` (the full
text of every article, so any citation can be checked and shown without the original files),
`versions` (the earlier texts of corrected articles, so an old citation can still be checked) and
`removed` (when each removed article went), from which every process keeps its lexical index in
step (`changed_since`, `removed_since`).

Crash safety: a document record is written first marked incomplete, then its passages, then it is
marked complete; only complete records count as ingested. An ingest killed at any moment leaves
incomplete records, which the next ingest removes (with their passages) before anything else.
Writers take a lock file in the index folder: one writing process at a time.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import chromadb
import numpy as np
from filelock import FileLock, Timeout

from ..config import Settings
from ..errors import ConfigError, IndexBusyError, IndexMissingError
from ..ingest.chunking import Chunk
from ..ingest.sources import Document
from .embeddings import FAMILY

PASSAGES = "passages"
DOCUMENTS = "documents"
VERSIONS = "versions"
REMOVED = "removed"
LOCK_FILE = "write.lock"
OPTIONAL = ("outlet", "date", "url", "encoding")  # Document fields stored only when set
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
    versions: int = 1  # the current text and the earlier ones kept


class Index:
    def __init__(self, settings: Settings, create: bool = False):
        self.location = settings.location
        if not create and not settings.chroma_url and not (settings.index / "chroma.sqlite3").is_file():
            raise _missing(settings)
        self._client = _client(settings)
        if not create and PASSAGES not in {c.name for c in self._client.list_collections()}:
            raise _missing(settings)
        self._passages = self._client.get_or_create_collection(PASSAGES, embedding_function=None,
                                                               configuration={"hnsw": HNSW})
        self._documents = self._client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        self._versions = self._client.get_or_create_collection(VERSIONS, embedding_function=None)
        self._removed = self._client.get_or_create_collection(REMOVED, embedding_function=None)
        self._check_vectors(settings)
        # A Chroma server orders its writers itself; an embedded index is one process's at a time.
        self._lock = None if settings.chroma_url else FileLock(settings.index / LOCK_FILE, thread_local=False)

    def _check_vectors(self, settings: Settings) -> None:
        """An index records the model and backend its vectors were made with (an empty one takes
        this run's); a run whose vectors differ measurably from those is refused."""
        made = {"embedding_model": settings.embedding_model, "embedding_backend": settings.backend}
        if self._passages.count() == 0:
            if (self._passages.metadata or {}) != made:
                self._passages.modify(metadata=made)
            return
        recorded = self.embedding
        model, backend = recorded.get("embedding_model", settings.embedding_model), recorded["embedding_backend"]
        if model != settings.embedding_model or FAMILY.get(backend) != FAMILY.get(settings.backend):
            raise ConfigError(
                f"{self.location} holds vectors made by {model} with the {backend} embedding backend; this run "
                f"embeds with {settings.embedding_model} on {settings.backend}, whose vectors differ. Use "
                f"ASSISTANT_EMBEDDING_BACKEND={backend} (--embedding-backend {backend}), or rebuild the index "
                f"with this backend: remove {self.location} and run `assistant ingest` again")

    @property
    def identity(self) -> str:
        """Tells this store from another at the same place (one removed and made again)."""
        return str(self._documents.id)

    @property
    def embedding(self) -> dict[str, str]:
        """The model and backend the stored vectors were made with (indexes from before the
        record were all made with PyTorch)."""
        return {"embedding_backend": "torch", **(self._passages.metadata or {})}

    def lock(self) -> None:
        """Hold an embedded index for writing, for the life of this process; fail if another holds it."""
        if self._lock is None:
            return
        try:
            self._lock.acquire(timeout=0)
        except Timeout as exc:
            raise IndexBusyError(f"{self.location} is being written by another process (an ingest or a "
                                 "server): wait for it to finish, or go through the server's API") from exc

    def version_of(self, doc_id: str) -> str | None:
        """The version of the complete record of `doc_id`, if there is one."""
        found = self._documents.get(ids=[doc_id], include=["metadatas"])
        return found["metadatas"][0]["version"] if found["ids"] and _complete(found["metadatas"][0]) else None

    def incomplete(self) -> list[str]:
        """Documents whose ingest was interrupted."""
        return self._documents.get(where={"complete": False}, include=[])["ids"]

    def put(self, stored: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]]) -> None:
        """Store documents with their passages and embeddings, in one batch of Chroma calls; the
        earlier text of a changed document is kept as a version."""
        if not stored:
            return
        self.lock()
        documents = [d for d, _, _ in stored]
        ids = [d.id for d in documents]
        self._keep_versions(documents)
        metas = [_metadata(d, len(chunks)) for d, chunks, _ in stored]
        # Chroma needs a vector per record; documents are looked up by id, never by similarity.
        self._documents.upsert(ids=ids, embeddings=[[1.0]] * len(ids), documents=[d.text for d in documents],
                               metadatas=[{**m, "complete": False} for m in metas])
        self._passages.delete(where={"doc_id": {"$in": ids}})
        chunks = [c for _, cs, _ in stored for c in cs]
        embeddings = np.concatenate([e for _, _, e in stored]) if chunks else np.zeros((0, 1))
        batch = self._client.get_max_batch_size()
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self._passages.add(ids=[c.id for c in part], embeddings=embeddings[i : i + batch],
                               documents=[c.text for c in part],
                               metadatas=[{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in part])
        # stamped again when complete: what other processes catch up on (changed_since)
        done = time.time()
        self._documents.update(ids=ids, metadatas=[{**m, "complete": True, "ingested": done} for m in metas])

    def _keep_versions(self, documents: Sequence[Document]) -> None:
        """Copy the stored complete text of each changed document to the versions."""
        found = self._documents.get(ids=[d.id for d in documents], include=["documents", "metadatas"])
        new = {d.id: d.version for d in documents}
        kept = [(i, text, meta) for i, text, meta in zip(found["ids"], found["documents"], found["metadatas"])
                if _complete(meta) and meta["version"] != new[i]]
        if kept:
            self._versions.upsert(ids=[f"{i}@{meta['version']}" for i, _, meta in kept],
                                  embeddings=[[1.0]] * len(kept), documents=[text for _, text, _ in kept],
                                  metadatas=[{**meta, "doc_id": i} for i, _, meta in kept])

    def discard(self, doc_id: str) -> None:
        """Delete an incomplete document and its passages; its earlier versions stay."""
        self.lock()
        self._passages.delete(where={"doc_id": doc_id})
        self._documents.delete(ids=[doc_id])
        self._mark_removed(doc_id)

    def remove(self, doc_id: str) -> bool:
        """Delete a document, its passages and its earlier versions; False when there was none."""
        self.lock()
        existed = bool(self._documents.get(ids=[doc_id], include=[])["ids"])
        self._passages.delete(where={"doc_id": doc_id})
        self._versions.delete(where={"doc_id": doc_id})
        self._documents.delete(ids=[doc_id])
        self._mark_removed(doc_id)
        return existed

    def _mark_removed(self, doc_id: str) -> None:
        self._removed.upsert(ids=[doc_id], embeddings=[[1.0]], metadatas=[{"at": time.time()}])

    def changed_since(self, since: float | None) -> list[tuple[str, str]]:
        """(id, version) of the complete documents stored after `since` (all of them: None)."""
        if since is None:
            found = _everything(self._documents, ["metadatas"])
        else:
            found = self._documents.get(where={"ingested": {"$gt": since}}, include=["metadatas"])
        return [(i, m["version"]) for i, m in zip(found["ids"], found["metadatas"]) if _complete(m)]

    def removed_since(self, since: float | None) -> list[str]:
        """The documents removed after `since` (or ever: None), some of which may be back since."""
        if since is None:
            return _everything(self._removed, [])["ids"]
        return self._removed.get(where={"at": {"$gt": since}}, include=[])["ids"]

    def passages(self, doc_ids: Sequence[str]) -> dict[str, list[Chunk]]:
        """The passages of each of `doc_ids`, in order."""
        found = self._passages.get(where={"doc_id": {"$in": list(doc_ids)}}, include=["documents", "metadatas"]) \
            if doc_ids else {"documents": [], "metadatas": []}
        kept: dict[str, list[Chunk]] = {}
        for text, meta in zip(found["documents"], found["metadatas"]):
            kept.setdefault(meta["doc_id"], []).append(_chunk(text, meta))
        return {doc_id: sorted(chunks, key=lambda c: c.start) for doc_id, chunks in kept.items()}

    def document(self, doc_id: str, version: str | None = None) -> Document | None:
        """The stored text of `doc_id`: the current one, or the earlier `version` of it."""
        found = self._documents.get(ids=[doc_id], include=["documents", "metadatas"])
        if found["ids"] and version not in (None, found["metadatas"][0]["version"]):
            found = self._versions.get(ids=[f"{doc_id}@{version}"], include=["documents", "metadatas"])
        if not found["ids"]:
            return None
        return _document(doc_id, found["documents"][0], found["metadatas"][0])

    def documents(self) -> list[DocumentInfo]:
        """The complete documents, with how many versions each has."""
        found = _everything(self._documents, ["metadatas"])
        counts = Counter(meta["doc_id"] for meta in _everything(self._versions, ["metadatas"])["metadatas"])
        infos = [DocumentInfo(id=i, versions=1 + counts.get(i, 0),
                              **{k: m[k] for k in ("title", "version", "chars", "passages", "ingested")})
                 for i, m in zip(found["ids"], found["metadatas"]) if _complete(m)]
        return sorted(infos, key=lambda info: info.id)

    def versions(self, doc_id: str) -> list[str]:
        """The earlier versions kept of `doc_id`, oldest first."""
        found = self._versions.get(where={"doc_id": doc_id}, include=["metadatas"])
        return [m["version"] for m in sorted(found["metadatas"], key=lambda m: m["ingested"])]

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

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every passage id and embedding (for exact search, as a yardstick of the HNSW index)."""
        found = _everything(self._passages, ["embeddings"])
        return found["ids"], np.asarray(found["embeddings"], dtype=np.float32)

    def count(self) -> int:
        return self._passages.count()


def _everything(collection, include: list[str], page: int = 2000) -> dict[str, list]:
    """Every record of a collection, fetched a page at a time: one get of a large collection
    overflows SQLite's limit on query variables."""
    found: dict[str, list] = {"ids": [], **{key: [] for key in include}}
    for offset in range(0, collection.count(), page):
        part = collection.get(include=include, limit=page, offset=offset)
        for key in found:
            found[key].extend(part[key])
    return found


def _complete(meta: dict) -> bool:
    # Indexes written before the flag existed have no key: their records were written whole.
    return meta.get("complete", True)


def _metadata(document: Document, passages: int) -> dict:
    meta = {"title": document.title, "path": document.path, "version": document.version,
            "chars": len(document.text), "passages": passages, "ingested": time.time()}
    meta |= {k: getattr(document, k) for k in OPTIONAL if getattr(document, k)}
    if document.pages:
        meta["pages"] = json.dumps(document.pages)
    return meta


def _document(doc_id: str, text: str, meta: dict) -> Document:
    return Document(id=doc_id, path=meta["path"], title=meta["title"], text=text,
                    pages=tuple(json.loads(meta.get("pages", "[]"))), **{k: meta.get(k) for k in OPTIONAL})


def _chunk(text: str, meta: dict) -> Chunk:
    return Chunk(doc_id=meta["doc_id"], start=meta["start"], end=meta["end"], text=text)


def _missing(settings: Settings) -> IndexMissingError:
    flag = f"--chroma-url {settings.chroma_url}" if settings.chroma_url else f"--index {settings.index}"
    return IndexMissingError(f"no index at {settings.location}: run `assistant ingest seeds {flag}` first")


def _client(settings: Settings):
    telemetry_off = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlsplit(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"chroma url {settings.chroma_url!r}: expected http://HOST:PORT")
        try:
            return chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                                       ssl=url.scheme == "https", settings=telemetry_off)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError subclasses here
            raise ConfigError(f"cannot reach the Chroma server at {settings.chroma_url} ({exc})") from exc
    settings.index.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index), settings=telemetry_off)
