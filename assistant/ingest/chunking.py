"""Chunking: a Document becomes sentence `Chunk`s that keep their character offsets.

Sentences are the unit because citations must be tight: an answer cites the sentence that
carries it, not a whole paragraph. Invariant: chunk.text == document.text[chunk.start:chunk.end].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .sources import Document

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sen rep gov gen lt col sgt capt jr sr inc co corp ltd vs no "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e etc "
    "v b d c ca".split()  # a case's "v.", and born, died, circa before a year: "(d. 1471)", "c. 1200"
)
MAX_CHARS = 600  # a longer "sentence" (a list, a run-on) is cut at clause marks

# A sentence ends at . ! or ? (plus closing quotes/brackets) before a space and a capital or
# an opening quote, or glued to the next capital ("Ukraine.I didn't"): both occur in real copy.
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|(?<=[a-z]{2})[.!?](?=[A-Z])""")
_LINE = re.compile(r"[^\n]+")
_CLAUSE = re.compile(r"[;:,—–]\s+")


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc_id}@{self.start}-{self.end}"


def split(document: Document) -> list[Chunk]:
    """The document's sentences, in order, with their offsets."""
    text = document.text
    return [Chunk(document.id, s, e, text[s:e]) for s, e in sentence_spans(text)]


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence: lines are hard breaks, whitespace is trimmed."""
    for line in _LINE.finditer(text):
        start = line.start()
        for end in _sentence_ends(line.group(), start):
            yield from _bounded(text, start, end)
            start = end
        yield from _bounded(text, start, line.end())


def _sentence_ends(line: str, offset: int) -> Iterator[int]:
    for match in _END.finditer(line):
        word = line[: match.start()].rsplit(None, 1)[-1] if line[: match.start()].strip() else ""
        if word.lower().strip("\"'“(") in ABBREVIATIONS or len(word) == 1 and word.isupper():
            continue
        yield offset + match.end()


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Trim whitespace; cut spans over MAX_CHARS at the clause mark nearest their middle."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start <= MAX_CHARS:
        if end > start:
            yield start, end
        return
    marks = [m.end() for m in _CLAUSE.finditer(text, start, end)]
    middle = (start + end) // 2
    cut = min(marks, key=lambda m: abs(m - middle)) if marks else text.rfind(" ", start, middle) + 1
    if cut <= start:
        cut = middle
    yield from _bounded(text, start, cut)
    yield from _bounded(text, cut, end)
