"""The JSON shapes answers and documents take on the wire: one definition for the HTTP API, the
OpenAI-compatible endpoint and the MCP tools, so that all three return the same objects."""

from __future__ import annotations

from pydantic import BaseModel

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


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool
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


class DocumentText(BaseModel):
    id: str
    title: str
    text: str
    version: str
    outlet: str | None
    date: str | None
    url: str | None
