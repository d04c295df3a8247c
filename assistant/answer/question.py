"""Question: what a question asks, as the features see it: its content words and their stems,
its names and numbers, and the kind of value it asks for (how many, when, who, why...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ..store.terms import names, stems, terms, words

# Words that frame a question rather than name what it is about.
FRAMING = frozenset(terms("according kind type sort many much besides cannot exactly actually also "
                          "say says said tell happen happened thing things"))
# What a question asks for, by its wording; the first that matches wins.
KINDS = (
    ("how_many", r"\bhow many\b|\bnumber of\b"),
    ("how_much", r"\bhow much\b"),
    ("how_old", r"\bhow old\b|\bwhat age\b"),
    ("how_long", r"\bhow (long|far|big|large|tall|high|often)\b"),
    ("when", r"\bwhen\b|\b(what|which) (year|years|century|decade|month|day|date|time|period)\b"),
    ("who", r"\bwho|\bwhom\b|\bwhose\b"),
    ("where", r"\bwhere\b"),
    ("why", r"\bwhy\b|\bwhat (caused|causes|reason|led)\b|\bfor what reason\b"),
    ("which", r"\bwhich\b"),
    ("what", r"\bwhat\b"),
    ("how", r"\bhow\b"),
    ("yes_no", r"^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|must)\b"),
)
_KINDS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in KINDS]
_VALUE_WORD = re.compile(r"\bhow (long|far|big|large|tall|high|old|often|many|much|deep|wide|heavy|late|early|soon)\b",
                         re.IGNORECASE)
# A question that opens "How" and an adjective or adverb asks for a degree, a value ("How fast is it
# growing?"); one that opens "How" and a verb asks for a manner, an explanation ("How are they regulated?").
_DEGREE = re.compile(r"^\s*how (?!(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|"
                     r"may|might|must|else|come|to)\b)[a-z]+\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(not|never|no|n't|without|none|neither|nor)\b|n't\b", re.IGNORECASE)
# What a sentence holding each kind of answer tends to contain.
CUES = {
    "digits": re.compile(r"\d"),
    "year": re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b"),
    "date": re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|"
                       r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Monday|Tuesday|Wednesday|"
                       r"Thursday|Friday|Saturday|Sunday)\b\.?"),
    "quantity": re.compile(r"\d\s?%|\bper ?cent\b|[$£€¥]\s?\d|\b(hundred|thousand|million|billion|dozens?|"
                           r"one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|half)\b", re.IGNORECASE),
    "age": re.compile(r"\b[A-Z][\w'’-]+, \d{1,3},|\baged \d{1,3}\b|\b\d{1,3}-year-old\b|\b\d{1,3} years old\b"),
    "cause": re.compile(r"\b(because|due to|in protest|as a result|so that|in order to|since|owing to|led to|"
                        r"caused|reason|thanks to|after)\b", re.IGNORECASE),
    "naming": re.compile(r"\b(called|known as|named|referred to|nicknamed|term|means)\b", re.IGNORECASE),
    "place": re.compile(r"\b(in|at|from|near|to) (the )?[A-Z]"),
    "speech": re.compile(r"[\"“”]|\b(said|says|told|wrote|asked)\b"),
}
# The cues of the kind of value each kind of question asks for.
KIND_CUES = {"how_many": ("digits", "quantity"), "how_much": ("digits", "quantity"), "how_old": ("age",),
             "how_long": ("digits", "quantity"), "when": ("year", "date"), "where": ("place",), "why": ("cause",)}

@dataclass(frozen=True)
class Query:
    """A question as the features see it."""
    text: str
    asked: tuple[tuple[str, str], ...]  # its content words and their stems, in order
    names: tuple[str, ...]  # its capitalised words, but a common word that opens it (terms.names)
    kind: str

    @cached_property
    def bigrams(self) -> frozenset[tuple[str, str]]:
        stems_ = [t for _, t in self.asked]
        return frozenset(zip(stems_, stems_[1:]))

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\d+", self.text))

    @property
    def explained(self) -> bool:
        """Whether it asks for an explanation (why, how, yes or no) rather than a value."""
        return self.kind in ("why", "yes_no") or (self.kind == "how" and not _DEGREE.match(self.text))

    @cached_property
    def named(self) -> frozenset[str]:
        return frozenset(t for n in self.names for t in terms(n))


# Markup typed or pasted into a question: tags, and the code of scripts and styles, are not words asked.
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)|<[^>]*>", re.IGNORECASE | re.DOTALL)


def parse(question: str) -> Query:
    question = " ".join(_MARKUP.sub(" ", question).split())
    # "how old", "how long", "how many": the word after "how" asks for a value, the answer need not hold it
    value_words = set(words(" ".join(_VALUE_WORD.findall(question))))
    asked = [(w, t) for w, t in asked_terms(question) if w not in value_words]
    kind = next((name for name, pattern in _KINDS if pattern.search(question)), "other")
    return Query(question, tuple(asked), names(question), kind)


def asked_terms(text: str) -> list[tuple[str, str]]:
    """The words of `text` that carry its content, with their stems."""
    unique = list(dict.fromkeys(words(text)))
    return [(w, t) for w, t in zip(unique, stems(unique)) if t not in FRAMING]
