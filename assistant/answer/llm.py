"""LLM answerer: a chat model writes the answer from numbered passages, and is checked, not trusted.

The model sees the retrieved passages numbered and must cite them as [n]. Its quotes are never
used: every citation's quote and offsets come from the stored text of the passage it names. A
number that names no passage is dropped and reported. Each sentence is verified (verify.py);
unsupported ones are removed from the answer and listed in `unsupported`; with none supported the
answer is an abstention. A model that is down, slow or returns garbage gives way to the
extractive answer, with a notice saying why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from ..config import Settings
from ..errors import ConfigError
from ..ingest.chunking import Chunk
from ..ingest.sources import Document
from .cited import Answer
from .extractive import ExtractiveAnswerer, abstain, cite, prompt
from .retrieve import Passage
from .verify import Verifier

log = logging.getLogger(__name__)
_MARKER = re.compile(r"\s*\[(\d+)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\s\[])|(?<=\])\s+(?=[A-Z\"“'])")


def chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by Settings.llm (PROVIDER:MODEL), through LangChain's init_chat_model;
    base URLs and keys come from the provider's own settings (OPENAI_BASE_URL, OLLAMA_HOST...)."""
    from langchain.chat_models import init_chat_model

    if not settings.llm or ":" not in settings.llm:
        raise ConfigError(f"--llm {settings.llm!r}: expected PROVIDER:MODEL, e.g. openai:gpt-4o-mini or ollama:llama3")
    try:
        return init_chat_model(settings.llm, timeout=settings.llm_timeout, max_retries=0, temperature=0)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"--llm {settings.llm}: {exc}") from exc


class LLMAnswerer:
    def __init__(self, model: BaseChatModel, extractive: ExtractiveAnswerer,
                 document: Callable[[str], Document | None], settings: Settings):
        self.model, self.extractive, self.document, self.settings = model, extractive, document, settings
        self.verifier = Verifier(extractive, settings)
        self.prompt = ChatPromptTemplate.from_messages([("system", prompt("system")), ("human", prompt("answer"))])

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        *_, answer = self.stream(question, passages)
        return answer

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str | Answer]:
        """The model's text so far as it streams (unchecked), then the checked Answer."""
        if not passages:
            yield _llm(abstain(question))
            return
        messages = self.prompt.format_messages(question=question, passages=_numbered(passages))
        reply = ""
        try:
            for chunk in self.model.stream(messages):
                if not isinstance(chunk.content, str):
                    raise TypeError(f"content of type {type(chunk.content).__name__}")
                reply += chunk.content
                yield reply
        except Exception as exc:  # a remote model fails in many ways; each one means: answer without it
            log.warning("language model failed: %r", exc)
            yield self._fallback(question, passages, f"the language model failed ({type(exc).__name__})")
            return
        if not reply.strip():
            yield self._fallback(question, passages, "the language model returned no usable text")
        else:
            yield self._checked(question, reply, [p.chunk for p in passages])

    def _fallback(self, question: str, passages: Sequence[Passage], why: str) -> Answer:
        return replace(self.extractive.answer(question, passages), notice=f"{why}: this is the extractive answer")

    def _checked(self, question: str, reply: str, chunks: list[Chunk]) -> Answer:
        if prompt("abstain").rstrip(".").lower() in reply.lower():
            return _llm(abstain(question))
        kept, unsupported, dropped = [], [], []
        for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(reply.strip()))):
            numbers = [int(n) for n in _MARKER.findall(sentence)]
            text = _MARKER.sub("", sentence).strip()
            dropped += [n for n in numbers if not 1 <= n <= len(chunks)]
            cited = [chunks[n - 1] for n in dict.fromkeys(numbers) if 1 <= n <= len(chunks)]
            why = self.verifier.check(text, cited, chunks)
            if why:
                unsupported.append(f"{text} ({why})")
            else:
                kept.append((text, cited))
        notice = f"dropped citation(s) {', '.join(f'[{n}]' for n in dict.fromkeys(dropped))}: no such passage" \
            if dropped else None
        if not kept:
            answer = abstain(question, notice or "the model's answer was not supported by the sources")
            return _llm(answer, unsupported)
        parts = [(text, [(c, c.start, c.end) for c in cited]) for text, cited in kept]
        return _llm(cite(question, parts, self.document, notice), unsupported)


def _numbered(passages: Sequence[Passage]) -> str:
    return "\n".join(f"[{i}] {p.chunk.text}" for i, p in enumerate(passages, 1))


def _llm(answer: Answer, unsupported: list[str] | None = None) -> Answer:
    return replace(answer, mode="llm", unsupported=tuple(unsupported or ()))
