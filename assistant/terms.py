"""Terms: the words of a text as the lexical ranking and the answerer compare them."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_WORD = re.compile(r"\w\w+|\d")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words without stop words, unstemmed."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Stemmed content words: 'delivered' and 'delivery' both become 'deliv'."""
    return _stemmer().stemWords(words(text))
