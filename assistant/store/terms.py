"""Terms: the words of a text as the lexical ranking and the answerer compare them."""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS
from lemminflect import getAllInflections, getAllLemmas

STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# Words of two letters or more, digits, and a capital letter standing alone: the letter "Z",
# "Plan B" (not the U and S of "U.S.").
_WORD = re.compile(r"\w\w+|\d|(?<![\w.'’])[A-Z](?![\w'’]|\.\w)")
VERSION = "3"  # of what words() returns: a lexical ranking saved with another is rebuilt


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # combining
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def fold(text: str) -> str:
    """Accents and typographic quotes folded to plain letters and quotes: café = cafe, Genève =
    Geneve, ’ = '."""
    if text.isascii():
        return text
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).translate(_QUOTES)


def words(text: str) -> list[str]:
    """Lower-cased words without stop words, unstemmed, accents and quote styles folded."""
    return [w for w in map(str.lower, _WORD.findall(fold(text))) if w not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Stemmed content words: 'delivered' and 'delivery' both become 'deliv'."""
    return stems(words(text))


NAME = re.compile(r"\b[A-Z][\w'’-]*")


def names(question: str) -> tuple[str, ...]:
    """The capitalised words of a question, folded, without a possessive 's; the word that opens
    it only when no dictionary has it as a common word ("Bondarev's age?", not "What" or "Did")."""
    text = fold(question)
    opening = len(text) - len(text.lstrip(" \"'(¿¡"))
    found = [(m.start(), re.sub(r"'s$", "", m.group())) for m in NAME.finditer(text)]
    return tuple(n for at, n in found if n != "I" and (at != opening or _proper(n)))


def _proper(word: str) -> bool:
    """A word no dictionary has in lower case: a name, not a word capitalised to open a sentence."""
    lower = word.lower()
    return lower not in STOPWORDS and not getAllLemmas(lower)


def holds(text: str, name: str) -> bool:
    """`text` (folded) has a word that starts with `name`: Russia in Russian, not in Prussia."""
    return re.search(rf"\b{re.escape(name)}", text) is not None


def stems(words: list[str]) -> list[str]:
    return _stemmer().stemWords(words)


@lru_cache(maxsize=1 << 16)
def forms(word: str) -> frozenset[str]:
    """The stems of every inflection of a word's lemmas, irregular ones included (lemminflect's
    tables): 'leave' gives leav and left, 'went' gives go, went and gone."""
    lemmas = {lemma for found in getAllLemmas(word).values() for lemma in found} | {word}
    inflected = {form for lemma in lemmas for found in getAllInflections(lemma).values() for form in found}
    return frozenset(stems(sorted(lemmas | inflected)))


def matches(word: str, term: str, have: frozenset[str]) -> bool:
    """`have` holds the term (the stem of `word`), another form of the word or one of its word
    family (left/leave, Russia/Russian, respond/response)."""
    return any(related(word, term, h) for h in have)


def related(word: str, term: str, stem: str) -> bool:
    """`stem` is the term (the stem of `word`), the stem of another of its forms, or of its family."""
    return stem == term or stem in forms(word) or family(term, stem)


def family(a: str, b: str) -> bool:
    """Stems of one word family: one starts the other (russia/russian) or they part only near
    the end (respond/respons)."""
    short, long = sorted((a, b), key=len)
    if len(short) < 4 or a[:4] != b[:4]:  # both ways below need the first four letters shared
        return False
    if long.startswith(short):
        return True
    shared = len(os.path.commonprefix((a, b)))
    return shared >= 5 and shared >= 0.8 * len(short)


def in_vocabulary(word: str, term: str, vocabulary: frozenset[str]) -> bool:
    return term in vocabulary or bool(forms(word) & vocabulary) \
        or any(family(term, v) for v in vocabulary if v[:3] == term[:3])
