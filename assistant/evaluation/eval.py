"""Eval: run a test question set and score answers, evidence, citations and abstentions.

Format (one JSON object a line): {"question", "answers": [str] | null, "evidence": [{"source", "quote"}]}.
`answers: null` means the sources do not say: the right reply is an abstention. An optional
`type` names the kind of question ("silent", "null", "answerable", "entity"...): declines are
then counted per kind as well.

Each answer's confidence is checked against what happened: the reliability of the confidence (per
bin, the mean confidence beside the share of answers that cite the expected evidence), its expected
calibration error, and the risk-coverage curve (answering only the surest, how many are wrong).
"""

from __future__ import annotations

import json
import re
import string
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..answer.cited import Answer
from ..errors import ConfigError, SourceError
from ..pipeline import Assistant

BINS = 10  # equal-width bins of confidence for the reliability diagram and the calibration error


@dataclass(frozen=True)
class Evidence:
    source: str
    quote: str


@dataclass(frozen=True)
class Question:
    line: int
    question: str
    answers: tuple[str, ...] | None  # None: unanswerable
    evidence: tuple[Evidence, ...] = ()
    kind: str | None = None  # the set's own label of the kind of question (`type`)


@dataclass(frozen=True)
class Result:
    question: Question
    answer: Answer
    seconds: float
    answer_hit: bool
    evidence_hit: bool
    valid: int  # citations whose quote equals the source text at their offsets
    problem: str | None = None  # why the question could not be scored
    phrase_em: float = 0.0  # the short answer against the gold answers (SQuAD's exact match and F1)
    phrase_f1: float = 0.0

    @property
    def passed(self) -> bool:
        if self.question.answers is None:
            return self.answer.abstained
        return self.problem is None and self.answer_hit and self.evidence_hit

    @property
    def why(self) -> str:
        """Why it passed or failed, in a few words."""
        if self.problem:
            return f"bad question: {self.problem}"
        if self.question.answers is None:
            return "declined, as it should" if self.answer.abstained else "answered, but the sources do not say"
        if self.answer.abstained:
            return "wrongly declined"
        return f"answer {'hit' if self.answer_hit else 'miss'}, evidence {'hit' if self.evidence_hit else 'miss'}"

    @property
    def cites_answer(self) -> bool:
        """What the confidence predicts: the answer cites a passage holding the answer."""
        return self.question.answers is not None and self.evidence_hit


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    def _scored(self, answerable: bool) -> list[Result]:
        return [r for r in self.results if r.problem is None and (r.question.answers is not None) == answerable]

    @property
    def answer_hit(self) -> float:
        return _mean(r.answer_hit for r in self._scored(True))

    @property
    def evidence_hit(self) -> float:
        return _mean(r.evidence_hit for r in self._scored(True))

    @property
    def citation_validity(self) -> float:
        total = sum(len(r.answer.citations) for r in self.results)
        return sum(r.valid for r in self.results) / total if total else 1.0

    @property
    def mean_cited_chars(self) -> float:
        answered = [r for r in self.results if not r.answer.abstained]
        cited = [sum(c.end - c.start for c in r.answer.citations) for r in answered]
        return sum(cited) / len(cited) if cited else 0.0

    @property
    def declined_right(self) -> tuple[int, int]:
        unanswerable = self._scored(False)
        return sum(r.answer.abstained for r in unanswerable), len(unanswerable)

    @property
    def declined_wrong(self) -> tuple[int, int]:
        answerable = self._scored(True)
        return sum(r.answer.abstained for r in answerable), len(answerable)

    @property
    def misses(self) -> list[Result]:
        return [r for r in self.results if r.problem or not r.passed]

    @property
    def phrase(self) -> tuple[float, float, float]:
        """The short answer's exact match and F1 over the answerable questions (a decline or no
        phrase counts 0), and the share of answered answerable questions that have one."""
        scored = self._scored(True)
        answered = [r for r in scored if not r.answer.abstained]
        return (_mean(r.phrase_em for r in scored), _mean(r.phrase_f1 for r in scored),
                _mean(r.answer.short_answer is not None for r in answered))

    @property
    def declined_by_kind(self) -> dict[str, str]:
        """Declined / asked per kind of question, for sets that label them (`type`)."""
        kinds: dict[str, list[bool]] = {}
        for r in self.results:
            if r.problem is None and r.question.kind is not None:
                kinds.setdefault(r.question.kind, []).append(r.answer.abstained)
        return {kind: f"{sum(flags)}/{len(flags)}" for kind, flags in sorted(kinds.items())}

    @property
    def outcomes_by_kind(self) -> dict[str, str]:
        """Answered / unsure / declined per kind: "answerable" and "unanswerable", and the set's
        own kinds (`type`) where it labels them."""
        kinds: dict[str, Counter] = {}
        for r in self.results:
            if r.problem is None:
                for kind in {"answerable" if r.question.answers is not None else "unanswerable", r.question.kind} - {None}:
                    kinds.setdefault(kind, Counter())[r.answer.outcome] += 1
        return {kind: "/".join(str(c[o]) for o in ("answered", "unsure", "declined")) for kind, c in sorted(kinds.items())}

    def _judged(self) -> list[Result]:
        return [r for r in self.results if r.problem is None and r.answer.confidence is not None]

    def reliability(self) -> list[tuple[float, float, int]]:
        """`reliability` of the answers' confidence, right where the answer cites the answer."""
        return reliability((r.answer.confidence, r.cites_answer) for r in self._judged())

    @property
    def calibration_error(self) -> float | None:
        """`calibration_error` of the answers' confidence; None when no answer carries one."""
        return calibration_error(self.reliability())

    def risk_coverage(self) -> list[tuple[float, float]]:
        """Answering only the surest: for each share of the questions answered (coverage), the
        share of those whose answer does not cite the answer (risk)."""
        ordered = sorted(self._judged(), key=lambda r: -r.answer.confidence)
        wrong, curve = 0, []
        for n, r in enumerate(ordered, 1):
            wrong += not r.cites_answer
            curve.append((n / len(ordered), wrong / n))
        return curve

    def totals(self) -> dict:
        right, unanswerable = self.declined_right
        wrong, answerable = self.declined_wrong
        latencies = sorted(1000 * r.seconds for r in self.results)
        by_kind = {"declined_by_kind": self.declined_by_kind} if self.declined_by_kind else {}
        em, f1, with_phrase = self.phrase
        ece = self.calibration_error
        return {"questions": len(self.results), "answer_hit": round(self.answer_hit, 3),
                "evidence_hit": round(self.evidence_hit, 3), "citation_validity": round(self.citation_validity, 3),
                "mean_cited_chars": round(self.mean_cited_chars, 1),
                "short_answer_em": round(em, 3), "short_answer_f1": round(f1, 3),
                "short_answer_share": round(with_phrase, 3),
                "declined_unanswerable": f"{right}/{unanswerable}", "declined_answerable": f"{wrong}/{answerable}",
                "latency_p50_ms": round(_percentile(latencies, 50), 1) if latencies else None,
                "latency_p95_ms": round(_percentile(latencies, 95), 1) if latencies else None,
                "calibration_error": None if ece is None else round(ece, 3),
                "outcomes_by_kind": self.outcomes_by_kind,
                "bad_questions": sum(r.problem is not None for r in self.results), **by_kind}


FLOORED = ("answer_hit", "evidence_hit", "citation_validity")


def parse_floors(spec: str) -> dict[str, float]:
    """`answer_hit=0.85,evidence_hit=0.9` as a dict; unknown names and non-numbers are errors."""
    floors = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name not in FLOORED:
            raise ConfigError(f"--fail-under {part!r}: use {', '.join(FLOORED)}")
        try:
            floors[name] = float(value)
        except ValueError as exc:
            raise ConfigError(f"--fail-under {part!r}: {value!r} is not a number") from exc
    return floors


def below(report: Report, floors: dict[str, float]) -> list[str]:
    """The totals under their floor, as 'name 0.800 < 0.850'."""
    totals = report.totals()
    return [f"{name} {totals[name]:.3f} < {floor}" for name, floor in floors.items() if totals[name] < floor]


def load_questions(path: str | Path) -> list[Question]:
    """Parse a question file; a malformed line raises SourceError naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the question file ({exc})") from exc
    return [_question(path, n, line) for n, line in enumerate(lines, 1) if line.strip()]


def questions_from(records: list[dict]) -> list[Question]:
    """Questions from parsed records (e.g. marked in the web chat), numbered from 1."""
    return [_question(Path("marked"), n, json.dumps(r)) for n, r in enumerate(records, 1)]


def _question(path: Path, n: int, line: str) -> Question:
    try:
        raw = json.loads(line)
        answers = raw.get("answers")
        if not isinstance(raw["question"], str) or not raw["question"].strip():
            raise ValueError("'question' must be a non-empty string")
        if answers is not None and not (isinstance(answers, list) and all(isinstance(a, str) for a in answers)):
            raise ValueError("'answers' must be a list of strings or null")
        evidence = tuple(Evidence(e["source"], e["quote"]) for e in raw.get("evidence") or [])
        if raw.get("type") is not None and not isinstance(raw["type"], str):
            raise ValueError("'type' must be a string")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SourceError(f"{path}:{n}: malformed question ({exc})") from exc
    return Question(n, raw["question"], None if answers is None else tuple(answers), evidence, raw.get("type"))


def run(assistant: Assistant, questions: list[Question], progress: bool = False) -> Report:
    report = Report()
    for q in tqdm(questions, unit=" question", desc="eval", disable=not progress, delay=0.5):
        started = time.perf_counter()
        answer = assistant.ask(q.question)
        report.results.append(score(assistant, q, answer, time.perf_counter() - started))
    return report


def score(assistant: Assistant, q: Question, answer: Answer, seconds: float) -> Result:
    texts = {c.source: assistant.document(c.source) for c in answer.citations}
    valid = sum(1 for c in answer.citations if texts[c.source] and texts[c.source].text[c.start:c.end] == c.quote)
    spans, problem = _evidence_spans(assistant, q)
    answer_hit = q.answers is not None and not answer.abstained and any(
        a.lower() in answer.text.lower() for a in q.answers)
    evidence_hit = any(c.source == s and c.start < e and b < c.end for c in answer.citations for s, b, e in spans)
    em, f1 = phrase_scores(answer.short_answer.text if answer.short_answer else None, q.answers or ())
    return Result(q, answer, seconds, answer_hit, evidence_hit, valid, problem, em, f1)


def phrase_scores(phrase: str | None, answers: tuple[str, ...]) -> tuple[float, float]:
    """SQuAD's exact match and F1 of a short answer against the best of the gold answers (0 for none)."""
    if not phrase or not answers:
        return 0.0, 0.0
    return max(float(_normal(phrase) == _normal(a)) for a in answers), max(token_f1(phrase, a) for a in answers)


def _normal(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def token_f1(phrase: str, gold: str) -> float:
    """SQuAD's F1: the harmonic mean of word precision and recall after `_normal`."""
    ours, theirs = _normal(phrase).split(), _normal(gold).split()
    common = sum((Counter(ours) & Counter(theirs)).values())
    if not common:
        return 0.0
    precision, recall = common / len(ours), common / len(theirs)
    return 2 * precision * recall / (precision + recall)


def _evidence_spans(assistant: Assistant, q: Question) -> tuple[list[tuple[str, int, int]], str | None]:
    spans = []
    for e in q.evidence:
        document = assistant.document(e.source)
        if document is None:
            return [], f"evidence source {e.source!r} is not in the index"
        found = [i for i in _find_all(document.text, e.quote)]
        if not found:
            return [], f"evidence {e.quote!r} is not verbatim in {e.source}"
        spans += [(e.source, i, i + len(e.quote)) for i in found]
    return spans, None


def _find_all(text: str, quote: str):
    at = text.find(quote)
    while at >= 0:
        yield at
        at = text.find(quote, at + 1)


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def reliability(judged: Iterable[tuple[float, bool]], bins: int = BINS) -> list[tuple[float, float, int]]:
    """Per equal-width bin of confidence that holds any of the (confidence, right) pairs `judged`:
    their mean confidence, the share of them right, and how many they are."""
    binned: dict[int, list[tuple[float, bool]]] = {}
    for confidence, right in judged:
        binned.setdefault(min(int(confidence * bins), bins - 1), []).append((confidence, right))
    return [(_mean(c for c, _ in pairs), _mean(r for _, r in pairs), len(pairs)) for _, pairs in sorted(binned.items())]


def calibration_error(bins: list[tuple[float, float, int]]) -> float | None:
    """The expected calibration error: the gap between confidence and what happened, per bin of
    `reliability`, weighted by the answers in it; None for no bins."""
    total = sum(n for _, _, n in bins)
    return sum(n * abs(c - o) for c, o, n in bins) / total if total else None


def _mean(values) -> float:
    """The mean of numbers, or of flags (their share that is true); 0 for none."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0
