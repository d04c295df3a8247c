"""Training data for the decline: the questions of ../shared/train asked of folders made from
its articles, each labelled with its kind and the group its folds keep whole.

The kinds of question the product must tell apart (docs/method.md):

- answerable: the folder holds the answer;
- silent: its article is in the folder, but the paragraphs that held the answer were removed and
  the answer occurs nowhere else (as ../shared/eval/squad-dev-silent was made from squad-dev);
- other: no article of the folder covers it (news questions of the week that no loaded article
  answers; Wikipedia questions whose article was left out of the folder).

A silent Wikipedia folder keeps the first paragraph of each article and a seeded half of the
rest; a silent news folder loses every paragraph holding the answer of a seeded half of the
questions. A question is answerable there when a paragraph holding its answer (or its evidence) is kept,
silent when none is and no answer text occurs anywhere in the folder (case-insensitive), and is
left out otherwise.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TRAIN = Path(__file__).resolve().parents[3] / "shared" / "train"
SEED = 20261202
KINDS = ("answerable", "silent", "other")
READER_AFTER = 200  # the decline's SQuAD 1.1 articles once the big reader run's reader is adopted


@dataclass(frozen=True)
class Example:
    """A training question as asked of one folder."""
    id: str
    question: str
    kind: str  # one of KINDS
    group: str  # the article (Wikipedia) or the quiz week (news): folds never split one
    spans: tuple[tuple[str, int, int], ...]  # where its answer, or its evidence, lies in the folder


@dataclass(frozen=True)
class Folder:
    """Articles (file name -> text) and the questions asked of them."""
    name: str
    source: str  # the training set they come from: folds keep an article or week whole across folders
    docs: dict[str, str]
    examples: tuple[Example, ...]

    def write(self, out: Path) -> Path:
        """The articles as files under `out`/docs, for the product's own ingest."""
        docs = out / "docs"
        docs.mkdir(parents=True, exist_ok=True)
        for stale in {p.name for p in docs.iterdir()} - set(self.docs):
            (docs / stale).unlink()
        for name, text in self.docs.items():
            path = docs / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        return docs


@dataclass(frozen=True)
class Question:
    """A line of a training set's questions.jsonl, its answer located in its article."""
    id: str
    question: str
    answers: tuple[str, ...] | None
    spans: tuple[tuple[str, int, int], ...]  # the gold spans, or else the evidence quotes located
    group: str


def read_set(folder: Path) -> tuple[dict[str, str], list[Question]]:
    """A training set's articles and questions."""
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "docs").iterdir())}
    questions = []
    for n, line in enumerate((folder / "questions.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        spans = tuple((s["source"], s["start"], s["end"]) for s in raw.get("spans") or [])
        if not spans:
            spans = tuple(_located(docs, e["source"], e["quote"], f"{folder}:{n}") for e in raw.get("evidence") or [])
        answers = tuple(raw["answers"]) if raw.get("answers") is not None else None
        group = raw["id"][:8] if raw.get("type") else (spans[0][0] if spans else "")  # the week, or the article
        questions.append(Question(raw["id"], raw["question"], answers, spans, group))
    return docs, questions


def _located(docs: dict[str, str], source: str, quote: str, where: str) -> tuple[str, int, int]:
    at = docs[source].find(quote) if source in docs else -1
    if at < 0:
        raise ValueError(f"{where}: evidence {quote[:60]!r} is not verbatim in {source}")
    return source, at, at + len(quote)


def as_asked(name: str, source: str, docs: dict[str, str], questions: Iterable[Question]) -> Folder:
    """The questions asked of the whole articles: answerable, or, with no answer, other news."""
    examples = tuple(Example(q.id, q.question, "other" if q.answers is None else "answerable", q.group, q.spans)
                     for q in questions)
    return Folder(name, source, docs, examples)


def silenced(name: str, source: str, docs: dict[str, str], questions: Iterable[Question], seed: int = SEED,
             targeted: bool = False) -> Folder:
    """The articles with paragraphs removed, and the answerable questions sorted by what is left:
    answerable or silent (module docstring). Removed: a seeded half of each article's paragraphs
    after the first; or, `targeted`, every paragraph holding the answer of a seeded half of the
    questions (news stories repeat their facts across articles: a random half silences few)."""
    rng = random.Random(seed)
    questions = [q for q in questions if q.answers is not None]
    targets = [a.lower() for q in questions if rng.random() < 0.5 for a in q.answers] if targeted else []
    kept_docs, moved = {}, {}
    for doc, text in docs.items():
        paragraphs = _paragraphs(text)[1]
        if targeted:
            removed = {i for i, p in enumerate(paragraphs) if any(a in p.lower() for a in targets)}
        else:
            removed = set(rng.sample(range(1, len(paragraphs)), (len(paragraphs) - 1) // 2))
        kept_docs[doc], moved[doc] = _without(text, removed)
    folded = [t.lower() for t in kept_docs.values()]
    examples = []
    for q in questions:
        spans = tuple((s, moved[s](b), moved[s](e - 1) + 1) for s, b, e in q.spans
                      if s in moved and moved[s](b) is not None and moved[s](e - 1) is not None)
        if spans:
            examples.append(Example(q.id, q.question, "answerable", q.group, spans))
        elif not any(a.lower() in t for a in q.answers for t in folded):
            examples.append(Example(q.id, q.question, "silent", q.group, ()))
    return Folder(name, source, kept_docs, tuple(examples))


def _paragraphs(text: str) -> tuple[str, list[str]]:
    """An article's title and its paragraphs (the format of ../shared/train's docs)."""
    title, _, body = text.partition("\n\n")
    return title, body.rstrip("\n").split("\n\n")


def _without(text: str, removed: set[int]):
    """The text without the paragraphs numbered in `removed`, and a function that maps an offset
    of the text to the new one (None where it was removed)."""
    title, paragraphs = _paragraphs(text)
    starts, at = [], len(title) + 2
    for p in paragraphs:
        starts.append(at)
        at += len(p) + 2
    shift, kept_at, pieces = {}, len(title) + 2, []
    for i, p in enumerate(paragraphs):
        if i in removed:
            continue
        shift[i] = kept_at - starts[i]
        kept_at += len(p) + 2
        pieces.append(p)

    def moved(offset: int) -> int | None:
        i = max((j for j, s in enumerate(starts) if s <= offset), default=None)
        if i is None or i not in shift or offset >= starts[i] + len(paragraphs[i]):
            return None
        return offset + shift[i]

    return f"{title}\n\n" + "\n\n".join(pieces) + "\n", moved


def sample(questions: list[Question], per_group: int, seed: int = SEED) -> list[Question]:
    """At most `per_group` questions of each article or week, seeded: no article outweighs the rest."""
    rng = random.Random(seed)
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(q.group, []).append(q)
    return [q for g in groups.values() for q in (rng.sample(g, per_group) if len(g) > per_group else g)]


def folders(train: Path = TRAIN, articles: int = 250, left_out: int = 60, per_article: int = 48,
            size: int = 10) -> list[Folder]:
    """The decline's training folders, small and large as a newsroom loads them: SQuAD 1.1
    articles halved, `size` to a folder (answerable and silent), with questions of articles left
    out (other); each quiz week's news articles whole (answerable and other news) and silenced
    (answerable and silent); and all the news articles whole, as an archive."""
    squad_docs, squad_questions = read_set(train / "squad11")
    chosen = _decline_articles(squad_docs, articles + left_out)
    inside, outside = chosen[:articles], chosen[articles:]
    asked = sample([q for q in squad_questions if q.group in set(chosen)], per_article)
    out = []
    for n, at in enumerate(range(0, articles, size)):
        names = set(inside[at : at + size])
        elsewhere = set(outside[n :: len(range(0, articles, size))])
        wiki = silenced(f"squad11-{n:02d}", "squad11", {name: squad_docs[name] for name in sorted(names)},
                        [q for q in asked if q.group in names])
        others = tuple(Example(q.id, q.question, "other", q.group, ()) for q in asked if q.group in elsewhere)
        out.append(Folder(wiki.name, wiki.source, wiki.docs, wiki.examples + others))
    news_docs, news_questions = read_set(train / "news")
    for week, questions in _weeks(news_questions).items():
        docs = {name: news_docs[name] for name in sorted({s for q in questions for s, _, _ in q.spans})}
        if docs:
            out += [as_asked(f"news-{week}", "news", docs, questions),
                    silenced(f"news-silent-{week}", "news", docs, questions, targeted=True)]
    return [*out, as_asked("news", "news", news_docs, news_questions)]


def reader_folders(train: Path = TRAIN, per_article: int = 80, size: int = 10, decline_articles: int = 310
                   ) -> list[Folder]:
    """The reader's silent windows: the SQuAD 1.1 articles the decline's folders leave unused
    (their first `decline_articles` of the seeded order), halved, `size` to a folder, each asked
    at most `per_article` of its questions (answerable and silent)."""
    docs, questions = read_set(train / "squad11")
    unused = sorted(set(docs) - set(_decline_articles(docs, decline_articles)))
    asked = sample([q for q in questions if q.group in set(unused)], per_article)
    out = []
    for n, at in enumerate(range(0, len(unused), size)):
        names = set(unused[at : at + size])
        out.append(silenced(f"reader-{n:02d}", "squad11", {name: docs[name] for name in sorted(names)},
                            [q for q in asked if q.group in names]))
    return out


def reader_articles(train: Path = TRAIN) -> list[str]:
    """The SQuAD 1.1 articles the big reader run learns from (reader_windows.py): all but the first
    READER_AFTER of the seeded order, which stay the decline's, never read by its reader."""
    docs = {p.name: "" for p in (train / "squad11" / "docs").iterdir()}
    return sorted(set(docs) - set(_decline_articles(docs, READER_AFTER)))


def reader_weeks(train: Path = TRAIN) -> list[str]:
    """The news quiz weeks the reader learns from: a seeded half; the decline learns from the others."""
    weeks = sorted({q.group for q in read_set(train / "news")[1]})
    return sorted(random.Random(SEED).sample(weeks, len(weeks) // 2))


def _decline_articles(docs: dict[str, str], n: int) -> list[str]:
    """The first `n` SQuAD 1.1 articles of a seeded order: those the decline learns from."""
    return random.Random(SEED).sample(sorted(docs), n)


def group_folds(groups: list[str], n: int) -> list[set[str]]:
    """`n` folds of whole groups (articles, weeks), balanced by how many items each has."""
    from sklearn.model_selection import GroupKFold

    return [{groups[i] for i in held} for _, held in GroupKFold(n_splits=n).split(groups, groups=groups)]


def _weeks(questions: list[Question]) -> dict[str, list[Question]]:
    weeks: dict[str, list[Question]] = {}
    for q in questions:
        weeks.setdefault(q.group, []).append(q)
    return weeks
