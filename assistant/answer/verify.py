"""Verify: is a sentence written by a model supported by the passages it cites?

Chosen by measurement on bench/data/verification.jsonl (supported paraphrases and invented
sentences written from the seed articles; bench/verify.py): a sentence is supported when
  1. every name and number in it occurs in the cited passages (with their neighbours) or in the
     retrieved set, so an invented birthplace, country or figure fails outright;
  2. the cited passages carry most of its IDF-weighted terms, literally or as a close paraphrase
     (Settings.verify_coverage), and at most Settings.verify_unmatched of its words are carried in
     neither way.
Sentence-embedding similarity alone separated the two kinds far worse (see docs/method.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..config import Settings
from ..ingest.chunking import Chunk
from .extractive import ExtractiveAnswerer

_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w-]+")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
_COMMON = frozenset("I The A An In On At And But He She It They We His Her Their This That".split())
MONTHS = ("January February March April May June July August September October November December").split()


class Verifier:
    def __init__(self, extractive: ExtractiveAnswerer, settings: Settings):
        self.extractive, self.settings = extractive, settings

    def check(self, sentence: str, cited: Sequence[Chunk], retrieved: Sequence[Chunk]) -> str | None:
        """None when `sentence` is supported; else why not, in a few words."""
        context = " ".join(self.extractive.context(c) for c in cited)
        everywhere = " ".join([context, *(c.text for c in retrieved)])
        absent = [f for f in facts(sentence) if not _occurs(f, everywhere)]
        if absent:
            return f"{', '.join(absent)}: not in the sources"
        if not cited:
            return "cites no passage"
        coverage, unmatched = self.extractive.grounding(sentence, context)
        if coverage < self.settings.verify_coverage or len(unmatched) > self.settings.verify_unmatched:
            said = f" (says {', '.join(repr(w) for w in unmatched)})" if unmatched else ""
            return f"not supported by the cited passages{said}"
        return None


def facts(sentence: str) -> list[str]:
    """The names and numbers a sentence asserts."""
    names = [n.removesuffix("'s") for n in _NAME.findall(sentence.strip())]
    numbers = [n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(sentence)]
    return list(dict.fromkeys([n for n in names if n not in _COMMON] + numbers))


def _occurs(fact: str, text: str) -> bool:
    if fact in MONTHS:  # "February" is "Feb." in much news copy
        return bool(re.search(rf"\b{fact[:3]}", text))
    if fact.isdigit():
        return bool(re.search(rf"(?<![\d,.]){fact}(?![\d])", text.replace(",", "")))
    return bool(re.search(rf"\b{re.escape(fact)}", text))
