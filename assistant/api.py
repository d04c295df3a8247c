"""The HTTP JSON API under /api: ask, documents, health. Each route parses, makes one call on the
shared Assistant (app.state.assistant) and renders JSON; every error is `{"error": "..."}`.
"""

from __future__ import annotations

import logging
import secrets
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import AnswerError, AssistantError, IndexBusyError, IndexMissingError, LimitError, SourceError
from .pipeline import MAX_K, Assistant
from .sources import Document

log = logging.getLogger("assistant.api")
STATUS = {LimitError: 413, IndexMissingError: 503, IndexBusyError: 409}


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    history: list[Turn] = []
    k: int | None = Field(None, ge=1, le=MAX_K)


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


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool
    mode: str
    notice: str | None
    unsupported: list[str]
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


class NewDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    title: str | None = None
    id: str | None = Field(None, min_length=1, max_length=200)


# POST /api/documents takes JSON (NewDocument) or a multipart file: documented by hand, as one route.
UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": NewDocument.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}}}}}


class Removed(BaseModel):
    removed: str


class Health(BaseModel):
    index: str
    documents: int
    passages: int
    model: str


class Error(BaseModel):
    error: str


ERRORS = {code: {"model": Error} for code in (400, 401, 404, 413, 422, 503)}


def create_app(assistant: Assistant) -> FastAPI:
    """The FastAPI app serving `assistant`; the web chat mounts itself on it at /."""
    app = FastAPI(title="assistant", description=__doc__, version="0.1.0")
    app.state.assistant = assistant
    if assistant.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=assistant.settings.cors_origins.split(","),
                           allow_methods=["*"], allow_headers=["*"])
    app.include_router(_router(), prefix="/api", dependencies=[Depends(_authorised)], responses=ERRORS)
    app.add_exception_handler(AssistantError, _assistant_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/ask", response_model=AnswerOut)
    def ask(body: AskRequest, request: Request) -> dict:
        history = [t.model_dump() for t in body.history]
        return _assistant(request).ask(body.question, history, body.k).to_dict()

    @router.get("/documents", response_model=list[DocumentOut])
    def documents(request: Request) -> list[dict]:
        return [{"id": d.id, "title": d.title, "chars": d.chars, "passages": d.passages, "versions": d.versions}
                for d in _assistant(request).documents()]

    @router.get("/documents/{doc_id:path}", response_model=DocumentText)
    def document(doc_id: str, request: Request, version: str | None = None) -> dict:
        """The text citations point into; `version` (a citation's) gives an earlier text."""
        found = _assistant(request).document(doc_id, version)
        if found is None:
            raise HTTPException(404, f"no document {doc_id!r}{f' at version {version!r}' if version else ''} in the index")
        return _document(found)

    @router.post("/documents", response_model=DocumentText, status_code=201, openapi_extra=UPLOAD_SCHEMA)
    async def add(request: Request) -> dict:
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
        return _document(added)

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


def _document(document: Document) -> dict:
    return {"id": document.id, "title": document.title, "text": document.text, "version": document.version,
            "outlet": document.outlet, "date": document.date, "url": document.url}


def _authorised(request: Request) -> None:
    token = _assistant(request).settings.api_token
    if not token:
        return
    given = request.headers.get("authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer <ASSISTANT_API_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})


async def _upload(request: Request) -> tuple[str, bytes]:
    form = await request.form(max_files=1)
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


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    return _error(status, str(exc))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {e.get('msg', 'invalid')}")
    return _error(422, "; ".join(problems))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(500, "internal error: the server log has the details")
