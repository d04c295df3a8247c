"""The whole-archive lexical ranking: three engines side by side on the archive's passages.

    .venv/bin/python bench/lexical.py [--index bench/results/archive-index]

bm25s rebuilt on every change (the product before), SQLite FTS5 written per article and Tantivy
written per article (the product's `LexicalIndex`), each in a fresh process over the
same passages (the archive index's, built by bench/archive.py): bulk build, adding one article and
removing it until the ranking shows it (median of three), top-50 query time over the seed and
squad-dev questions, resident memory the engine adds, disk, and how many of bm25s's top 50 each
returns. `--copies N` repeats the archive N times under new article ids (a synthetic archive N
times the size: the same words, so the same ranking work per passage). Results go to
bench/results/lexical.json (lexical-xN.json with copies).
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
QUESTION_SETS = (SHARED / "eval" / "questions.jsonl", SHARED / "eval" / "squad-dev" / "questions.jsonl")
RESULTS = ROOT / "bench" / "results" / "lexical.json"
ENGINES = ("bm25s", "fts5", "tantivy")
TOP = 50
ARTICLE = ("The Zorbulan festival opened in Kestrel Bay with 412 lanterns on Tuesday. Organisers said the "
           "festival draws visitors from the whole coast.")
QUESTION = "How many lanterns did the Zorbulan festival open with?"

sys.path.insert(0, str(ROOT))
from assistant.config import Settings  # noqa: E402
from assistant.ingest.chunking import split  # noqa: E402
from assistant.ingest.sources import document_from_text  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.store.lexical import LexicalIndex, Ranking  # noqa: E402
from assistant.store.terms import terms  # noqa: E402


def passages(index: Path, copies: int) -> list:
    store = Index(Settings(index=index))
    ids = [d.id for d in store.documents()]
    rows = [c for at in range(0, len(ids), 500) for chunks in store.passages(ids[at : at + 500]).values() for c in chunks]
    return [replace(c, doc_id=f"{c.doc_id}#{n}") if n else c for n in range(copies) for c in rows]


class Bm25s:
    """The whole ranking rebuilt from every passage on each change."""

    def __init__(self, chunks, folder: Path):
        self.chunks, self.folder = list(chunks), folder
        self.build()

    def build(self):
        self.ranking = Ranking(self.chunks)
        self.ranking._bm25.save(str(self.folder))

    def add(self, chunks):
        self.chunks += chunks
        self.build()

    def remove(self, doc_id):
        self.chunks = [c for c in self.chunks if c.doc_id != doc_id]
        self.build()

    def top(self, query):
        scores = self.ranking.scores(query)
        return [self.chunks[i].id for i in (-scores).argsort(kind="stable")[:TOP] if scores[i] > 0]


class Fts5:
    """SQLite FTS5 (its bm25(): k1 1.2, b 0.75), a row per passage, written per article."""

    def __init__(self, chunks, folder: Path):
        self.db = sqlite3.connect(folder / "fts5.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE passages (row INTEGER PRIMARY KEY, doc_id TEXT, start INT, end INT, text TEXT)")
        self.db.execute("CREATE INDEX passages_in_order ON passages (doc_id, start)")
        self.db.execute("CREATE VIRTUAL TABLE passage_terms USING fts5 (terms, tokenize = \"ascii tokenchars '_'\")")
        self.add(chunks)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def add(self, chunks):
        self.db.execute("BEGIN IMMEDIATE")
        first = self.db.execute("SELECT coalesce(max(row), 0) + 1 FROM passages").fetchone()[0]
        self.db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
                            [(first + i, c.doc_id, c.start, c.end, c.text) for i, c in enumerate(chunks)])
        self.db.executemany("INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)",
                            [(first + i, " ".join(terms(c.text))) for i, c in enumerate(chunks)])
        self.db.execute("COMMIT")

    def remove(self, doc_id):
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("DELETE FROM passage_terms WHERE rowid IN (SELECT row FROM passages WHERE doc_id = ?)", (doc_id,))
        self.db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        self.db.execute("COMMIT")

    def top(self, query):
        match = " OR ".join(f'"{t}"' for t in terms(query))
        if not match:
            return []
        found = self.db.execute(
            "SELECT p.doc_id, p.start, p.end FROM (SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? "
            "ORDER BY rank LIMIT ?) AS t JOIN passages AS p ON p.row = t.rowid", (match, TOP)).fetchall()
        return [f"{d}@{s}-{e}" for d, s, e in found]


class Tantivy:
    """The product's LexicalIndex."""

    def __init__(self, chunks, folder: Path):
        self.lexical = LexicalIndex(folder, "bench")
        by_doc: dict[str, list] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        articles = list(by_doc.items())
        for at in range(0, len(articles), 2000):  # as an ingest writes, a batch at a time
            self.lexical.put([(doc_id, "1", cs) for doc_id, cs in articles[at : at + 2000]])

    def add(self, chunks):
        self.lexical.put([(chunks[0].doc_id, "1", chunks)])

    def remove(self, doc_id):
        self.lexical.remove([doc_id])

    def top(self, query):
        return [c.id for c, _ in self.lexical.top(query, TOP)]


def rss_mb() -> float:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024


def measure(engine: str, index: Path, copies: int, questions: list[str]) -> dict:
    chunks = passages(index, copies)
    before = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / engine
        folder.mkdir()
        started = time.perf_counter()
        ranking = {"bm25s": Bm25s, "fts5": Fts5, "tantivy": Tantivy}[engine](chunks, folder)
        built = time.perf_counter() - started
        memory = rss_mb() - before
        disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
        added, removed, found = [], [], []
        for n in range(3):
            article = split(document_from_text(f"zorbulan-{n}", ARTICLE, "Zorbulan festival"))
            started = time.perf_counter()
            ranking.add(article)
            found.append(any(found_id.startswith(f"zorbulan-{n}@") for found_id in ranking.top(QUESTION)))
            added.append(time.perf_counter() - started)
            started = time.perf_counter()
            ranking.remove(f"zorbulan-{n}")
            found.append(not any(found_id.startswith("zorbulan") for found_id in ranking.top(QUESTION)))
            removed.append(time.perf_counter() - started)
        times, tops = [], {}
        for q in questions:
            started = time.perf_counter()
            tops[q] = ranking.top(q)
            times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {"engine": engine, "passages": len(chunks), "build_s": round(built, 1),
            "add_article_s": round(statistics.median(added), 3), "remove_article_s": round(statistics.median(removed), 3),
            "add_and_remove_seen": all(found), "query_p50_ms": round(times[len(times) // 2], 1),
            "query_p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "memory_mb": round(memory),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "disk_mb": round(disk, 1),
            "tops": tops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "bench" / "results" / "archive-index")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--engines", default=",".join(ENGINES), help="which, comma-separated (bm25s first)")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)  # one engine, in this process
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for path in QUESTION_SETS
                 for line in path.read_text().splitlines() if line.strip()]
    if args.engine:
        print(json.dumps(measure(args.engine, args.index, args.copies, questions)))
        return
    if not (args.index / "chroma.sqlite3").is_file():
        raise SystemExit(f"no archive index at {args.index}: run bench/archive.py first")
    results = []
    for engine in args.engines.split(","):
        run = subprocess.run([sys.executable, __file__, "--engine", engine, "--index", str(args.index),
                              "--copies", str(args.copies)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(run.stdout))
    reference = results[0]["tops"]  # the first engine's
    for r in results:
        tops = r.pop("tops")
        r[f"top50_shared_with_{results[0]['engine']}"] = round(statistics.mean(
            len(set(tops[q]) & set(reference[q])) / len(reference[q]) for q in reference if reference[q]), 3)
        print(json.dumps(r))
    results_file = RESULTS if args.copies == 1 else RESULTS.with_name(f"lexical-x{args.copies}.json")
    results_file.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
