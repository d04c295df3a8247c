"""The Assistant: one object that ingests articles and answers questions about them.

    a = Assistant(index="index")
    a.ingest(["seeds"])
    answer = a.ask("What did Bondarev rail against at the Foreign Ministry?")

The answer chain is a LangChain Runnable: {question, passages: PassageRetriever} | answerer.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import (
    ConfigurableField,
    Runnable,
    RunnableLambda,
    RunnablePassthrough,
)

from .answer import llm
from .answer.cited import Answer
from .answer.extractive import ExtractiveAnswerer
from .answer.followups import Turn, standalone, turns
from .answer.retrieve import PassageRetriever, Searcher, from_lc_document
from .answer.scorer import get_scorer
from .config import Settings
from .errors import AnswerError, LimitError
from .ingest.sources import Document, document_from_bytes, document_from_text, load
from .store.embeddings import Embedder, get_embedder
from .store.index import DocumentInfo, Index
from .store.ingest import IngestReport, ingest
from .store.lexical import LexicalIndex

LEXICAL_DIR = "lexical"
MAX_K = 100


class Assistant:
    """Safe to share between threads: writes (ingest, remove) take turns, and answers read the
    index and the lexical index as each write batch left them. With a Chroma server, what other
    processes write there is applied to the lexical index before an answer (Settings.sync_seconds)."""

    def __init__(self, index: str | Path | None = None, settings: Settings | None = None,
                 chat_model: BaseChatModel | None = None):
        """`chat_model` (or Settings.llm) makes a language model write the answers, checked
        against the passages; without one, answers are verbatim extracts."""
        settings = settings or Settings.from_env()
        self.settings = replace(settings, index=Path(index)) if index is not None else settings
        self._writing = threading.Lock()
        if chat_model is None and self.settings.llm:
            chat_model = llm.chat_model(self.settings)
        self.chat_model = chat_model
        self._synced = 0.0  # when the lexical index last caught up with the store (time.monotonic)

    @cached_property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings.embedding_model, self.settings.device, self.settings.backend,
                            self.settings.model_cache)

    @cached_property
    def index(self) -> Index:
        return Index(self.settings)

    @cached_property
    def lexical(self) -> LexicalIndex:
        """The lexical index of every passage, in step with the store (filled from it when missing)."""
        lexical = LexicalIndex(self.settings.cache / LEXICAL_DIR, self.index.identity)
        lexical.catch_up(self.index, progress=True)
        self._synced = time.monotonic()
        return lexical

    @cached_property
    def retriever(self) -> PassageRetriever:
        """A LangChain retriever over this index, for use in other chains."""
        return PassageRetriever(searcher=Searcher(self.index, self.lexical, self.embedder, self.settings))

    @cached_property
    def answerer(self) -> ExtractiveAnswerer | llm.LLMAnswerer:
        answerer = ExtractiveAnswerer(self.lexical, self.embedder, self.index.document, self.settings)
        if self.chat_model is None:
            return answerer
        return llm.LLMAnswerer(self.chat_model, answerer, self.index.document, self.settings)

    @cached_property
    def chain(self) -> Runnable:
        answerer = self.answerer
        retriever = self.retriever.configurable_fields(k=ConfigurableField(id="k", name="passages retrieved"))
        passages = retriever | RunnableLambda(lambda docs: [from_lc_document(d) for d in docs])
        return {"question": RunnablePassthrough(), "passages": passages} | RunnableLambda(
            lambda x: answerer.answer(x["question"], x["passages"]))

    def warm(self) -> None:
        """Load the models and the index parts now, so that the first question is fast."""
        self.chain
        self.embedder.embed_query("warm up")
        self.embedder.embed_words(["warm"])
        get_scorer()

    def ingest(self, paths: Iterable[str | Path], progress: bool = False) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones are left as they are."""
        return self._ingest(load(paths, self.settings.max_file_bytes), progress)

    def add_documents(self, documents: Iterable[Document]) -> IngestReport:
        """Add Documents built elsewhere."""
        return self._ingest(documents, progress=False)

    def add_file(self, name: str, data: bytes) -> Document:
        """Add an uploaded file (.txt, .md, .html, .pdf), named by its file name."""
        name = Path(name).name
        if len(data) > self.settings.max_file_bytes:
            raise LimitError(f"{name}: {len(data):,} bytes, over the limit of {self.settings.max_file_bytes:,}")
        document = document_from_bytes(name, data)
        self.add_documents([document])
        return document

    def add_text(self, text: str, title: str | None = None, doc_id: str | None = None) -> Document:
        """Add pasted text; its id is `doc_id` or made from the title and the text."""
        document = document_from_text(doc_id or "pasted", text, title and title.strip())
        if len(text.encode("utf-8")) > self.settings.max_file_bytes:
            raise LimitError(f"{document.id}: text over the limit of {self.settings.max_file_bytes:,} bytes")
        if not doc_id:
            slug = re.sub(r"\W+", "-", document.title.lower()).strip("-")[:60]
            document = replace(document, id=f"{slug}-{document.version[:6]}")
        self.add_documents([document])
        return document

    def remove(self, doc_id: str) -> bool:
        """Remove an article and its passages; False when the index has no such article."""
        with self._writing:
            removed = self.index.remove(doc_id)
            self.lexical.remove([doc_id])
            return removed

    def _ingest(self, items: Iterable, progress: bool) -> IngestReport:
        with self._writing:
            if "index" not in self.__dict__:
                self.index = Index(self.settings, create=True)
            return ingest(items, self.index, self.lexical, lambda: self.embedder, self.settings, progress=progress)

    def _keep_up(self) -> None:
        """Apply what other processes wrote to the Chroma server since the last look (an embedded
        index has no other writers)."""
        if self.settings.chroma_url and time.monotonic() - self._synced >= self.settings.sync_seconds:
            self._synced = time.monotonic()
            self.lexical.catch_up(self.index)

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None, k: int | None = None,
            extractive: bool = False) -> Answer:
        """Answer from the articles with verbatim, cited sentences, or abstain. `history` holds
        the conversation so far (role and content per turn): a follow-up is read in its light.
        `k` overrides the number of passages retrieved; `extractive` answers with verbatim
        extracts even when a language model is configured."""
        question = _check(question, self.settings.max_question_chars)
        if k is not None and not 1 <= k <= MAX_K:
            raise AnswerError(f"k={k}: expected 1 to {MAX_K} passages")
        query = standalone(question, turns(history))
        self._keep_up()
        config = {"configurable": {"k": k}} if k else None
        if extractive and isinstance(self.answerer, llm.LLMAnswerer):
            passages = self.retriever.searcher.search(query, k)
            return replace(self.answerer.extractive.answer(query, passages), question=question)
        return replace(self.chain.invoke(query, config=config), question=question)

    def stream(self, question: str, history: Sequence[Turn | dict] | None = None) -> Iterator[str | Answer]:
        """As ask(), but with a language model its text arrives as it is written (unchecked
        strings), before the checked Answer, which always comes last."""
        question = _check(question, self.settings.max_question_chars)
        query = standalone(question, turns(history))
        self._keep_up()
        if self.chat_model is None:
            yield replace(self.chain.invoke(query), question=question)
            return
        passages = [from_lc_document(d) for d in self.retriever.invoke(query)]
        for item in self.answerer.stream(query, passages):
            yield replace(item, question=question) if isinstance(item, Answer) else item

    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def document(self, doc_id: str, version: str | None = None) -> Document | None:
        """The stored text of an article (the one citations point into), or an earlier version."""
        return self.index.document(doc_id, version)

    def versions(self, doc_id: str) -> list[str]:
        """The earlier versions kept of an article, oldest first (the current one is not listed)."""
        return self.index.versions(doc_id)


def _check(question: str, limit: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise AnswerError("empty question: ask something about the articles")
    if len(question) > limit:
        raise LimitError(f"question of {len(question)} characters: the limit is {limit}")
    return question.strip()
