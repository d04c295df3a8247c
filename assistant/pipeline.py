"""The Assistant: one object that ingests articles and answers questions about them.

    a = Assistant(index="index")
    a.ingest(["seeds"])
    answer = a.ask("Which foreign minister did Bondarev single out?")

The answer chain is a LangChain Runnable: {question, passages: PassageRetriever} | answerer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from .answer import Answer, ExtractiveAnswerer
from .chat import Turn, standalone, turns
from .config import Settings
from .embeddings import Embedder, get_embedder
from .errors import AnswerError
from .index import DocumentInfo, Index
from .ingest import IngestReport, ingest, lexical_for
from .lexical import Lexical
from .retrieve import PassageRetriever, Searcher, from_lc_document
from .sources import Document, load

LEXICAL_DIR = "lexical"


class Assistant:
    def __init__(self, index: str | Path | None = None, settings: Settings | None = None):
        settings = settings or Settings.from_env()
        self.settings = replace(settings, index=Path(index)) if index is not None else settings

    @cached_property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings.embedding_model, self.settings.device)

    @cached_property
    def index(self) -> Index:
        return Index(self.settings)

    @cached_property
    def lexical(self) -> Lexical:
        return lexical_for(self.index, self.settings.index / LEXICAL_DIR)

    @cached_property
    def retriever(self) -> PassageRetriever:
        """A LangChain retriever over this index, for use in other chains."""
        return PassageRetriever(searcher=Searcher(self.index, self.lexical, self.embedder, self.settings))

    @cached_property
    def chain(self) -> Runnable:
        answerer = ExtractiveAnswerer(self.lexical, self.embedder, self.index.document, self.settings)
        passages = self.retriever | RunnableLambda(lambda docs: [from_lc_document(d) for d in docs])
        return {"question": RunnablePassthrough(), "passages": passages} | RunnableLambda(
            lambda x: answerer.answer(x["question"], x["passages"]))

    def ingest(self, paths: Iterable[str | Path], progress: bool = False) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones are left as they are."""
        return self._ingest(load(paths), progress)

    def add_documents(self, documents: Iterable[Document]) -> IngestReport:
        """Add Documents built elsewhere (pasted text, uploads)."""
        return self._ingest(documents, progress=False)

    def _ingest(self, items: Iterable, progress: bool) -> IngestReport:
        if "index" not in self.__dict__:
            self.index = Index(self.settings, create=True)
        report = ingest(items, self.index, self.embedder, self.settings, progress=progress)
        if report.changed or not (self.settings.index / LEXICAL_DIR).exists():
            for name in ("lexical", "retriever", "chain"):
                self.__dict__.pop(name, None)
            self.lexical  # rebuilt and saved now, not on the first question
        return report

    def ask(self, question: str, history: Sequence[Turn | dict] | None = None) -> Answer:
        """Answer from the articles with verbatim, cited sentences, or abstain. `history` holds
        the conversation so far (role and content per turn): a follow-up is read in its light."""
        question = _check(question, self.settings.max_question_chars)
        query = standalone(question, turns(history))
        return replace(self.chain.invoke(query), question=question)

    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def document(self, doc_id: str) -> Document | None:
        return self.index.document(doc_id)


def _check(question: str, limit: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise AnswerError("empty question: ask something about the articles")
    if len(question) > limit:
        raise AnswerError(f"question of {len(question)} characters: the limit is {limit}")
    return question.strip()
