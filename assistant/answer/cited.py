"""Cited: an answer as the product returns it, with its citations and the words that answer, and
the one way it is written as text (the CLI, the web chat's copy, /v1 and MCP).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

OPENING_QUOTES = ('"', "“", "'", "‘", "«", "„")


@dataclass(frozen=True)
class Citation:
    n: int
    source: str  # Document.id
    start: int  # character offsets into the document text
    end: int
    quote: str  # == document.text[start:end], checked before it is returned
    title: str
    version: str  # the content hash of the text the offsets point into
    outlet: str | None = None
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ShortAnswer:
    """The words that answer, inside a cited quote: what a person would underline."""
    text: str  # == document.text[start:end], checked as citations are
    source: str  # Document.id
    start: int
    end: int
    citation: int  # the number of the citation whose span holds it


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    mode: str = "extractive"
    notice: str | None = None
    unsupported: tuple[str, ...] = ()
    short_answer: ShortAnswer | None = None
    unsure: bool = False  # the closest passage, given where the articles may not say it: no short answer
    confidence: float | None = None  # the probability that the cited passage answers (None: not judged)

    @property
    def outcome(self) -> str:
        """"answered", "unsure" or "declined"."""
        return "declined" if self.abstained else "unsure" if self.unsure else "answered"

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "abstained": self.abstained,
                "outcome": self.outcome, "confidence": self.confidence,
                "mode": self.mode, "notice": self.notice, "unsupported": list(self.unsupported),
                "short_answer": asdict(self.short_answer) if self.short_answer else None,
                "citations": [asdict(c) for c in self.citations]}

    def around(self, citation: Citation | None = None) -> tuple[str, str, str]:
        """The answer text (or `citation`'s quote) split around the short answer: before, the
        words that answer, after; the words are "" where it does not lie there."""
        short, whole = self.short_answer, self.text if citation is None else citation.quote
        if short is None or citation is not None and short.citation != citation.n:
            return whole, "", ""
        holder = self.citations[short.citation - 1]
        at = 0 if citation is not None else self.text.find(f"{holder.quote} [{holder.n}]")
        if at < 0:
            return whole, "", ""
        start, end = at + short.start - holder.start, at + short.end - holder.start
        return whole[:start], whole[start:end], whole[end:]

    def as_text(self, markdown: bool = False) -> str:
        """The answer as text any reader or chat client shows: the words that answer first (in
        Markdown, in bold where they lie), the answer, what the articles lack on a decline, and
        each source with where its quote lies."""
        if markdown:
            before, words, after = self.around()
            lines = [f"{before}**{words}**{after}" if words else self.text]
        else:
            lines = [f"{self.short_answer.text} — {self.text}" if self.short_answer else self.text]
        if self.notice:
            lines.append(f"({self.notice})")
        if self.citations:
            lines += ["", "Sources:"]
            lines += [f"[{c.n}] {c.title}{byline(c)} ({c.url or c.source}, version {c.version}, characters "
                      f"{c.start}-{c.end}): {quoted(c.quote)}" for c in self.citations]
        return "\n".join(lines)


def byline(item) -> str:
    """", outlet, date" for a citation or document that carries them."""
    return "".join(f", {v}" for v in (item.outlet, item.date) if v)


def quoted(text: str) -> str:
    """`text` in quotation marks, unless it opens with one of its own (a quote of a quote)."""
    return text if text.startswith(OPENING_QUOTES) else f"“{text}”"
