"""OpenAI-compatible chat under /v1: GET /v1/models and POST /v1/chat/completions, so that chat
front ends and SDKs made for OpenAI's API (Open WebUI, the `openai` client, LangChain's
`ChatOpenAI`) use the assistant unchanged.

The last user message is the question and the user and assistant messages before it are the
history, as in `Assistant.ask`; system messages do not change what the articles say, and are not
read. The reply's content is the answer with its [n] markers (the words that answer in Markdown
bold) followed by the numbered sources as plain text; the message also carries `citations`,
`short_answer`, `outcome` and `confidence`, as /api/ask returns them. A decline is an ordinary
reply. Streaming sends the checked answer as server-sent events once it is ready: a language
model's draft is never sent unchecked. `usage` counts tokens with the embedding
model's tokenizer (the only one the assistant runs), not the tokenizer of any OpenAI model.
Errors have OpenAI's shape, {"error": {"message", "type", "code", "param"}} (api.py renders them).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..answer.cited import Answer
from ..errors import AnswerError
from ..pipeline import Assistant
from .wire import NOT_BLANK, CitationOut, Outcome, ShortAnswerOut

MODEL = "assistant"  # verbatim extracts
LLM_MODEL = "assistant-llm"  # a language model's answer, checked against the passages
OWNER = "newsroom"


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    """A system, developer, assistant or tool message: context, not a question."""
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used
    role: Literal["system", "developer", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class QuestionPart(TextPart):
    text: str = Field(pattern=NOT_BLANK)


class UserMessage(Message):
    role: Literal["user"]
    content: Annotated[str, Field(pattern=NOT_BLANK)] | Annotated[list[QuestionPart], Field(min_length=1)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p, max_tokens...: accepted, not used
    model: str = Field(min_length=1)
    # at least one user message: the last one is the question
    messages: list[UserMessage | Message] = Field(min_length=1, json_schema_extra={
        "contains": {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}}})
    stream: bool = False
    stream_options: StreamOptions | None = None


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut]  # as /api/ask returns them
    abstained: bool  # the articles do not say
    outcome: Outcome  # unsure: the closest passage, where the articles may not say it
    confidence: float | None  # the probability that the cited passage answers
    notice: str | None  # why, where it can say: what the articles lack
    short_answer: ShortAnswerOut | None  # the words that answer, marked in bold in `content`


class Choice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


def router(assistant: Assistant) -> APIRouter:
    routes = APIRouter()
    started = int(time.time())

    @routes.get("/models", response_model=ModelList)
    def models() -> dict:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": started, "owned_by": OWNER}
                                           for m in model_ids(assistant)]}

    @routes.post("/chat/completions", response_model=Completion,
                 responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                                  "description": "the completion; with stream=true, server-sent events "
                                                 "of chat.completion.chunk objects ending in `data: [DONE]`"}})
    async def completions(body: CompletionRequest):
        question, history = conversation(body.messages)
        if body.model not in model_ids(assistant):
            raise HTTPException(404, f"model {body.model!r} does not exist; GET /v1/models lists "
                                     f"{', '.join(model_ids(assistant))}")
        answer = await run_in_threadpool(assistant.ask, question, history, None, body.model == MODEL)
        reply = completion(answer, body, usage(assistant, body.messages, answer))
        if not body.stream:
            return reply
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(events(reply, include_usage), media_type="text/event-stream")

    return routes


def model_ids(assistant: Assistant) -> list[str]:
    return [MODEL, LLM_MODEL] if assistant.chat_model is not None else [MODEL]


def conversation(messages: list[UserMessage | Message]) -> tuple[str, list[dict]]:
    """The question (the last user message) and the user and assistant turns before it; system
    and tool messages, and any after the question, are not part of what the articles are asked."""
    asked = [i for i, m in enumerate(messages) if m.role == "user"]
    if not asked:
        raise AnswerError("messages: no user message; the last user message is the question")
    history = [{"role": m.role, "content": m.text} for m in messages[: asked[-1]] if m.role in ("user", "assistant")]
    return messages[asked[-1]].text, history


def usage(assistant: Assistant, messages: list[Message], answer: Answer) -> dict:
    tokenizer = assistant.embedder.tokenizer
    prompt = sum(len(tokenizer.tokenize(m.text)) for m in messages)
    reply = len(tokenizer.tokenize(answer.as_text(markdown=True)))
    return {"prompt_tokens": prompt, "completion_tokens": reply, "total_tokens": prompt + reply}


def completion(answer: Answer, body: CompletionRequest, counted: dict) -> dict:
    data = answer.to_dict()
    message = {"role": "assistant", "content": answer.as_text(markdown=True), "citations": data["citations"],
               "abstained": answer.abstained, "outcome": answer.outcome, "confidence": answer.confidence,
               "notice": answer.notice, "short_answer": data["short_answer"]}
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": body.model, "choices": [{"index": 0, "message": message, "finish_reason": "stop",
                                              "logprobs": None}], "usage": counted}


def events(reply: dict, include_usage: bool) -> Iterator[str]:
    """The reply as chat.completion.chunk events: the role, the content, then the citations with
    the finish reason, the usage when asked for, and [DONE]."""
    message = reply["choices"][0]["message"]
    head = {key: reply[key] for key in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        return f"data: {json.dumps(head | {'choices': choices} | extra)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    yield chunk({"content": message["content"]})
    yield chunk({key: message[key] for key in ("citations", "abstained", "outcome", "confidence", "notice",
                                                  "short_answer")}, "stop")
    if include_usage:
        yield f"data: {json.dumps(head | {'choices': [], 'usage': reply['usage']})}\n\n"
    yield "data: [DONE]\n\n"
