"""Chat: follow-up questions made standalone from the conversation before them.

"How old is he?" after "Why did Boris Bondarev resign?" is asked of the index as "How old is
Bondarev?". The extractive answerer cannot read a conversation, so the subject is carried
over explicitly: third-person pronouns are replaced by the last person or group named by the user
(or, failing that, by the assistant).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import AnswerError

ROLES = ("user", "assistant")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")
_PERSON = re.compile(r"\b(he|she|him|his|her)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(they|them|their)\b", re.IGNORECASE)
_POSSESSIVE = frozenset({"his", "her", "their"})
_OPENER = re.compile(r"^\s*(and|so|also|then|but)\b[,\s]*", re.IGNORECASE)
# Capitalised words that name nothing in particular.
_NOT_NAMES = frozenset("I I'm I've Mr Mrs Ms Dr The A An In On At And But What Who Why How When Where Which".split())


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: the one definition, validated as it is by /api and MCP."""

    role: Literal["user", "assistant"]
    content: str


def turns(history: Sequence[Turn | dict] | None) -> list[Turn]:
    """History as Turns: dicts with role and content are accepted from the API and the UI."""
    result = []
    for i, item in enumerate(history or ()):
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
        else:
            role, content = getattr(item, "role", None), getattr(item, "content", None)
        if role not in ROLES or not isinstance(content, str):
            raise AnswerError(f"history[{i}]: expected a role ({' or '.join(ROLES)}) and text content")
        result.append(Turn(role, content))
    return result


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The question with its pronouns replaced by the conversation's subject; as asked when it
    names its own subject or there is no conversation."""
    subject = _subject(history)
    if not subject or named_subjects(question) or not (_PERSON.search(question) or _GROUP.search(question)):
        return question
    # News style names a person by surname after the first mention; a group by its full name.
    question = _OPENER.sub("", question)
    question = _PERSON.sub(lambda m: _refer(subject.split()[-1], m.group()), question)
    question = _GROUP.sub(lambda m: _refer(subject, m.group()), question)
    return question[0].upper() + question[1:]


def _refer(name: str, pronoun: str) -> str:
    return f"{name}'s" if pronoun.lower() in _POSSESSIVE else name


def named_subjects(text: str) -> list[str]:
    """Runs of capitalised words that do not start a sentence: the people, places and bodies a
    conversation can be about ("Boris Bondarev", "Foreign Ministry"), whole, as a pronoun refers to them."""
    found = []
    for match in _NAME.finditer(text.strip()):
        words = [w for w in match.group().split() if w.rstrip("'’s") not in _NOT_NAMES]
        if words:
            found.append(" ".join(words))
    return found


def _subject(history: Sequence[Turn]) -> str | None:
    for role in ROLES:
        for turn in reversed(history):
            if turn.role == role and (found := named_subjects(turn.content)):
                return found[0]
    return None
