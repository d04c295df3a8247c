"""View: how an answer and its article look in the web chat: the answer as chat Markdown with its
markers linked, the words that answer in bold and its confidence (an unsure answer under a warning,
with no words in bold), and the article as HTML with the cited span marked."""

from __future__ import annotations

import html
import re

from ..answer.cited import Answer, byline, quoted
from ..ingest.sources import Document

_MARKER = re.compile(r"\[(\d+)\]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    """Text shown as text: HTML escaped, Markdown punctuation neutralised."""
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def markdown(answer: Answer, turn: int) -> str:
    """The answer as chat Markdown: its markers and a numbered citation list, as links; the words
    that answer in bold, in the answer and in their citation's quote."""

    def linked(text: str) -> str:
        parts = _MARKER.split(text)
        return "".join(escape(p) if i % 2 == 0 else _link(turn, int(p)) for i, p in enumerate(parts))

    before, words, after = answer.around()
    lines = [f"⚠️ **Unsure** (confidence {answer.confidence:.2f}): check the passage before relying on it"] \
        if answer.unsure else []
    lines.append(f"{linked(before)}**{escape(words)}**{linked(after)}" if words else linked(answer.text))
    if answer.notice:
        lines.append(f"*{escape(answer.notice)}*")
    if answer.unsupported:
        removed = "\n".join(f"- ~~{escape(s)}~~" for s in answer.unsupported)
        lines.append(f"**Removed: the model wrote this, the sources do not support it**\n{removed}")
    for c in answer.citations:
        lines.append(f"{_link(turn, c.n)} **{escape(c.title)}**{escape(byline(c))}: {quoted(_quote(answer, c))}")
    if answer.outcome == "answered" and answer.confidence is not None:
        lines.append(f"*Confidence {answer.confidence:.2f}*")
    return "\n\n".join(lines)


def phrase(answer: Answer, citation) -> tuple[int, int] | None:
    """Where the short answer lies in the article, when it lies in this citation."""
    short = answer.short_answer
    return (short.start, short.end) if short and short.citation == citation.n else None


def _quote(answer: Answer, citation) -> str:
    """A citation's quote as chat Markdown, the short answer in it in bold."""
    before, words, after = answer.around(citation)
    return f"{escape(before)}**{escape(words)}**{escape(after)}" if words else escape(citation.quote)


def _link(turn: int, n: int) -> str:
    return f"[\\[{n}\\]](#cite-{turn}-{n})"


def article(document: Document | None, citation: dict) -> str:
    """The whole article, escaped, with the cited span marked and the short answer in it in bold."""
    if document is None:
        return f"<p class='hint'>{html.escape(citation['source'])} is no longer in the index.</p>"
    text, start, end = document.text, citation["start"], citation["end"]
    link = f" · {html.escape(document.url)}" if document.url else ""
    return (f"<h3>{html.escape(document.title)}</h3>"
            f"<p class='meta'>{html.escape(document.id + byline(document))}{link} · version {document.version} · "
            f"characters {start}–{end}</p>"
            f"<div class='text'>{html.escape(text[:start])}<mark>{_within(text, start, end, citation.get('phrase'))}"
            f"</mark>{html.escape(text[end:])}</div>")


def _within(text: str, start: int, end: int, words: tuple[int, int] | None) -> str:
    """The cited span, escaped, the short answer in it (`words`, article offsets) in bold."""
    if not words:
        return html.escape(text[start:end])
    return (f"{html.escape(text[start:words[0]])}<b>{html.escape(text[words[0]:words[1]])}</b>"
            f"{html.escape(text[words[1]:end])}")
