"""The HTTP JSON API under /api: ask, documents, health. Each route parses, makes one call on the
shared Assistant (app.state.assistant) and renders JSON; every error is `{"error": "..."}`, and
under /v1 (the OpenAI-compatible routes, completions.py) it has OpenAI's error shape.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .. import __version__
from ..answer.followups import Turn
from ..errors import (
    AnswerError,
    AssistantError,
    IndexBusyError,
    IndexMissingError,
    LimitError,
    SourceError,
)
from ..ingest.sources import ARTICLES
from ..pipeline import MAX_K, Assistant
from . import completions, mcp_server
from .auth import CHALLENGE, REFUSED, authorised
from .wire import NOT_BLANK, AnswerOut, DocumentOut, DocumentText

log = logging.getLogger(__name__)
STATUS = {LimitError: 413, IndexMissingError: 503, IndexBusyError: 409}
OPENAI = "/v1/"
# OpenAI's error type and code for each status, for the /v1 routes.
OPENAI_ERRORS = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
                 404: ("invalid_request_error", "model_not_found"), 405: ("invalid_request_error", None),
                 409: ("server_error", None), 413: ("invalid_request_error", "request_too_large"),
                 500: ("server_error", None), 503: ("server_error", None)}


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(pattern=NOT_BLANK, description="not blank")
    history: list[Turn] = []
    k: int | None = Field(None, ge=1, le=MAX_K)


class NewDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(pattern=NOT_BLANK, description="the article's text, not blank")
    title: str | None = None
    id: str | None = Field(None, min_length=1, max_length=200)


# POST /api/documents takes JSON (NewDocument) or a multipart file: documented by hand, as one route.
# A file is read by its name's extension: the example name tells generated clients to give one.
UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": NewDocument.model_json_schema()},
    "multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "additionalProperties": False, "properties": {"file": {
            "type": "string", "format": "binary",
            "description": f"an article: {', '.join(ARTICLES)}, read by the file name's extension"}}},
        "encoding": {"file": {
            "contentType": "text/plain, text/markdown, text/html, application/pdf",
            "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                                "example": 'form-data; name="file"; filename="article.txt"'}}}}}}}}


class Removed(BaseModel):
    removed: str


class Health(BaseModel):
    index: str
    documents: int
    passages: int
    model: str


class Error(BaseModel):
    error: str


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    code: str | None
    param: str | None


class OpenAIError(BaseModel):
    error: OpenAIErrorBody


ERRORS = {code: {"model": Error} for code in (400, 401, 404, 413, 422, 503)}


def create_app(assistant: Assistant, host: str = "127.0.0.1") -> FastAPI:
    """The FastAPI app serving `assistant` on `host`: /api, /v1 (OpenAI-compatible), /mcp; the web
    chat mounts itself on it at /."""
    app = FastAPIOffline(title="assistant", description=__doc__, version=__version__)  # /docs from local files
    app.state.assistant = assistant
    if assistant.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=assistant.settings.cors_origins.split(","),
                           allow_methods=["*"], allow_headers=["*"])
    routers = {"/api": _router(), "/v1": completions.router(assistant)}
    app.include_router(routers["/api"], prefix="/api", dependencies=[Depends(_authorised)], responses=ERRORS)
    app.include_router(routers["/v1"], prefix="/v1", dependencies=[Depends(_authorised)],
                       responses={code: {"model": OpenAIError} for code in (400, 401, 404, 413, 503)})
    _refuse_other_methods(app, routers)
    mcp_server.mount(app, assistant, host)
    app.add_exception_handler(AssistantError, _assistant_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


def _refuse_other_methods(app: FastAPI, routers: dict[str, APIRouter]) -> None:
    """405 with Allow for a method a path does not serve. Without it such a request falls through
    to the web chat mounted at / and gets its 404, which tells a client the path does not exist."""
    served: dict[str, set[str]] = {}
    for prefix, router in routers.items():
        for route in router.routes:
            if isinstance(route, APIRoute):
                served.setdefault(prefix + route.path, set()).update(route.methods)
    for path, methods in served.items():
        app.router.routes.append(Route(path, _Refusal(", ".join(sorted(methods))), include_in_schema=False))


class _Refusal:
    """An ASGI app (so that its route matches every method) refusing with 405 and Allow."""

    def __init__(self, allow: str):
        self.allow = allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise HTTPException(405, f"{scope['method']} is not served on {scope['path']} (it serves {self.allow})",
                            headers={"Allow": self.allow})


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/ask", response_model=AnswerOut)
    def ask(body: AskRequest, request: Request) -> dict:
        return _assistant(request).ask(body.question, body.history, body.k).to_dict()

    @router.get("/documents", response_model=list[DocumentOut])
    def documents(request: Request) -> list[DocumentOut]:
        return [DocumentOut.of(d) for d in _assistant(request).documents()]

    @router.get("/documents/{doc_id:path}", response_model=DocumentText)
    def document(doc_id: str, request: Request, version: str | None = None) -> DocumentText:
        """The text citations point into; `version` (a citation's) gives an earlier text."""
        found = _assistant(request).document(doc_id, version)
        if found is None:
            raise HTTPException(404, f"no document {doc_id!r}{f' at version {version!r}' if version else ''} in the index")
        return DocumentText.of(found)

    @router.post("/documents", response_model=DocumentText, status_code=201, openapi_extra=UPLOAD_SCHEMA)
    async def add(request: Request) -> DocumentText:
        assistant = _assistant(request)
        limit = assistant.settings.max_file_bytes
        if int(request.headers.get("content-length") or 0) > 2 * limit:
            raise LimitError(f"request body over the upload limit of {limit:,} bytes")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            name, data = await _upload(request)
            added = await run_in_threadpool(assistant.add_file, name, data)
        else:
            body = _parse(NewDocument, await _json(request))
            added = await run_in_threadpool(assistant.add_text, body.text, body.title, body.id)
        return DocumentText.of(added)

    @router.delete("/documents/{doc_id:path}", response_model=Removed)
    def remove(doc_id: str, request: Request) -> dict:
        if not _assistant(request).remove(doc_id):
            raise HTTPException(404, f"no document {doc_id!r} in the index")
        return {"removed": doc_id}

    @router.get("/health", response_model=Health)
    def health(request: Request) -> dict:
        assistant = _assistant(request)
        return {"index": assistant.settings.location, "documents": len(assistant.documents()),
                "passages": assistant.index.count(), "model": assistant.settings.embedding_model}

    return router


def _assistant(request: Request) -> Assistant:
    return request.app.state.assistant


def _authorised(request: Request) -> None:
    if not authorised(_assistant(request).settings.api_token, request.headers.get("authorization", "")):
        raise HTTPException(401, REFUSED, headers=CHALLENGE)


async def _upload(request: Request) -> tuple[str, bytes]:
    form = await request.form(max_files=1)
    unknown = sorted(set(form) - {"file"})
    if unknown:
        raise SourceError(f"multipart upload with unknown part {unknown[0]!r}: send only 'file'")
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise SourceError("multipart upload without a 'file' part")
    return upload.filename or "upload", await upload.read()


async def _json(request: Request):
    try:
        return await request.json()
    except ValueError as exc:
        raise AnswerError(f"malformed JSON body ({exc})") from exc


def _parse(model: type[BaseModel], data) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def _error(request: Request, status: int, message: str, headers: dict | None = None) -> JSONResponse:
    if request.url.path.startswith(OPENAI):
        kind, code = OPENAI_ERRORS.get(status, ("invalid_request_error", None))
        body = {"error": {"message": message, "type": kind, "code": code, "param": None}}
    else:
        body = {"error": message}
    return JSONResponse(body, status_code=status, headers=headers)


async def _assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    return _error(request, status, str(exc))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        blank = e.get("type") == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NOT_BLANK
        problems.append(f"{where}: {'blank (it needs words)' if blank else e.get('msg', 'invalid')}")
    # OpenAI answers a malformed request with 400; clients made for it expect that
    return _error(request, 400 if request.url.path.startswith(OPENAI) else 422, "; ".join(problems))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(request, 500, "internal error: the server log has the details")
