"""MCP: the assistant's tools for agents and desktop or IDE assistants, on the official `mcp` SDK.

`assistant mcp` serves them over stdio; `assistant serve` mounts the same server over streamable
HTTP at /mcp, behind the token that guards /api. Tools: ask, search, get_document, list_documents;
each returns the objects /api returns, as structured content and as readable text.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

import anyio
from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..answer.followups import Turn
from ..errors import AssistantError
from ..pipeline import MAX_K, Assistant
from .auth import CHALLENGE, REFUSED, authorised
from .wire import AnswerOut, DocumentOut, DocumentText

PATH = "/mcp"
INSTRUCTIONS = """\
Answers questions from the news articles a newsroom has loaded, and only from them.
Every answer is made of verbatim quotes, each cited as [n]: a citation gives the article id
(`source`), character offsets (`start`, `end`) into that article's stored text and the `quote`
itself, which equals text[start:end] of the article's `version`: check it with get_document.
A decline ("abstained": true, "The articles do not say") is an answer: the articles hold nothing
that supports one. Say so to the user; do not fill the gap from general knowledge. An "unsure"
`outcome` gives the closest passage where the articles may not say it: tell the user it is
unsure. `confidence` is the probability that the cited passage answers the question."""


class PassageOut(BaseModel):
    source: str = Field(description="the article id")
    start: int = Field(description="character offset of the passage in the article's text")
    end: int
    quote: str = Field(description="the passage, verbatim: the article's text[start:end]")
    score: float = Field(description="hybrid relevance, 0-1 (dense and BM25)")


class Passages(BaseModel):
    passages: list[PassageOut]


class Documents(BaseModel):
    documents: list[DocumentOut]


def build(assistant: Assistant) -> MCPServer:
    """The MCP server for `assistant`: its four tools."""
    server = MCPServer("assistant", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    @server.tool(description="Answer a question from the loaded articles with cited verbatim quotes, or "
                             "decline when they do not say. `history`: the conversation so far (role and "
                             "content per turn), so that a follow-up such as 'How old is he?' is understood. "
                             "Returns the answer text with [n] markers and its citations (article id, "
                             "character offsets, verbatim quote, version). A decline is an answer.")
    async def ask(question: str, history: list[Turn] | None = None) -> Annotated[CallToolResult, AnswerOut]:
        answer = await _call(assistant.ask, question, history or [])
        return CallToolResult(content=[TextContent(type="text", text=answer.as_text(markdown=True))],
                              structured_content=answer.to_dict())

    @server.tool(description="Find the passages (sentences) of the loaded articles that best match `query`, "
                             f"best first: at most `k` (1 to {MAX_K}). Each has its article id, character "
                             "offsets and the verbatim quote. Use it to explore; use ask for answers.")
    async def search(query: str, k: int = 5) -> Passages:
        if not query.strip():
            raise ToolError("empty query: give words to search the articles for")
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k={k}: expected 1 to {MAX_K} passages")
        found = await _call(assistant.retriever.searcher.search, query, k)
        return Passages(passages=[PassageOut(source=p.chunk.doc_id, start=p.chunk.start, end=p.chunk.end,
                                             quote=p.chunk.text, score=round(p.score, 4)) for p in found])

    @server.tool(description="The stored text of one article, the text citations point into. `version` (a "
                             "citation's version) gives the text as it was when that citation was made.")
    async def get_document(id: str, version: str | None = None) -> DocumentText:
        found = await _call(assistant.document, id, version)
        if found is None:
            at = f" at version {version!r}" if version else ""
            raise ToolError(f"no document {id!r}{at} in the index: list_documents gives the ids")
        return DocumentText.of(found)

    @server.tool(description="The articles loaded: id, title, characters, passages and versions kept.")
    async def list_documents() -> Documents:
        listed = await _call(assistant.documents)
        return Documents(documents=[DocumentOut.of(d) for d in listed])

    return server


async def _call(function, *args):
    """`function(*args)` in a worker thread (answers take tens of milliseconds of CPU); an
    AssistantError becomes a tool error the model reads."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc


def mount(app: FastAPI, assistant: Assistant, host: str) -> None:
    """Serve the tools over streamable HTTP at /mcp on `app`, behind the API token."""
    server = build(assistant)
    http = server.streamable_http_app(streamable_http_path=PATH, host=host)
    token = assistant.settings.api_token
    for route in http.routes:
        app.router.routes.append(route)
        if token:
            route.app = _Guarded(route.app, token)
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(started: FastAPI):
        async with outer(started), server.session_manager.run():
            yield

    app.router.lifespan_context = lifespan


class _Guarded:
    """An ASGI app that answers 401 unless the request carries `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not authorised(self.token, dict(scope.get("headers", [])).get(b"authorization", b"")):
            response = JSONResponse({"error": REFUSED}, status_code=401, headers=CHALLENGE)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def serve_stdio(assistant: Assistant) -> None:
    """Serve the tools over stdin/stdout until the client closes them."""
    build(assistant).run("stdio")

