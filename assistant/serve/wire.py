"""The JSON shapes answers and documents take on the wire: one definition for the HTTP API, the
OpenAI-compatible endpoint and the MCP tools, so that all three return the same objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from ..ingest.sources import Document
    from ..store.index import DocumentInfo

NOT_BLANK = r"\S"  # the pattern of a text with at least one character that is not a space


class CitationOut(BaseModel):
    n: int
    source: str
    start: int
    end: int
    quote: str
    title: str
    version: str
    outlet: str | None
    date: str | None
    url: str | None


class ShortAnswerOut(BaseModel):
    text: str  # the words that answer: document text[start:end], inside citation number `citation`
    source: str
    start: int
    end: int
    citation: int


Outcome = Literal["answered", "unsure", "declined"]  # scorer.OUTCOMES


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool
    outcome: Outcome  # unsure: the closest passage, where the articles may not say it
    confidence: float | None  # the probability that the cited passage answers; None where not judged
    mode: str
    notice: str | None
    unsupported: list[str]
    short_answer: ShortAnswerOut | None
    citations: list[CitationOut]


class DocumentOut(BaseModel):
    id: str
    title: str
    chars: int
    passages: int
    versions: int

    @classmethod
    def of(cls, info: DocumentInfo) -> DocumentOut:
        return cls(id=info.id, title=info.title, chars=info.chars, passages=info.passages, versions=info.versions)


class DocumentText(BaseModel):
    id: str
    title: str
    text: str
    version: str
    outlet: str | None
    date: str | None
    url: str | None

    @classmethod
    def of(cls, document: Document) -> DocumentText:
        return cls(id=document.id, title=document.title, text=document.text, version=document.version,
                   outlet=document.outlet, date=document.date, url=document.url)
