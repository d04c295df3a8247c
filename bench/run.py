"""Benchmark: this product beside the stock LangChain RAG recipe, in one process, same questions.

Stock recipe: RecursiveCharacterTextSplitter(1000, 200), Chroma, the same embedding model, top-4
similarity search, the top chunk taken as the cited evidence.

    .venv/bin/python bench/run.py [--questions FILE] [--seeds DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import chromadb
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant import Assistant
from assistant.evaluation.eval import Question, load_questions, phrase_scores
from assistant.ingest.sources import Document, load
from assistant.store.embeddings import get_embedder

ROOT = Path(__file__).resolve().parent.parent


class SameEmbeddings(Embeddings):
    """The product's embedding model behind LangChain's Embeddings interface."""

    def __init__(self):
        self.embedder = get_embedder()

    def embed_documents(self, texts):
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text):
        return self.embedder.embed_query(text).tolist()


def overlaps(source: str, start: int, end: int, q: Question, texts: dict[str, str]) -> bool:
    for e in q.evidence:
        at = texts[e.source].find(e.quote)
        while at >= 0:
            if e.source == source and start < at + len(e.quote) and at < end:
                return True
            at = texts[e.source].find(e.quote, at + 1)
    return False


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def bench_ours(seeds: Path, questions: list[Question], texts: dict, repeat: int, tmp: Path) -> dict:
    started = time.perf_counter()
    assistant = Assistant(index=tmp / "ours")
    assistant.ingest([seeds])
    ingest_s = time.perf_counter() - started
    answerable = [q for q in questions if q.answers is not None]
    hits, cited, phrases = 0, [], []
    for q in answerable:
        answer = assistant.ask(q.question)
        first = answer.citations[0] if answer.citations else None
        hits += bool(first and overlaps(first.source, first.start, first.end, q, texts))
        cited.append(sum(c.end - c.start for c in answer.citations))
        phrases.append(phrase_scores(answer.short_answer.text if answer.short_answer else None, q.answers))
    latencies = timed(lambda text: assistant.ask(text), questions, repeat)
    em, f1 = (statistics.mean(score[i] for score in phrases) for i in (0, 1))
    print(f"short answer over {len(answerable)} answerable questions: exact match {em:.3f}, F1 {f1:.3f} "
          f"(MiniLM-L6 fine-tuned on all 130k SQuAD 2.0 questions, published: F1 0.756)")
    return {"evidence hit@1": hits / len(answerable), "cited chars / answer": statistics.mean(cited),
            **latencies, "ingest s": ingest_s}


def bench_stock(seeds: Path, questions: list[Question], texts: dict, repeat: int, tmp: Path) -> dict:
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs = splitter.create_documents([d.text for d in load([seeds]) if isinstance(d, Document)],
                                     metadatas=[{"source": d.id} for d in load([seeds]) if isinstance(d, Document)])
    store = Chroma(collection_name="stock", embedding_function=SameEmbeddings(),
                   persist_directory=str(tmp / "stock"),
                   client_settings=chromadb.Settings(anonymized_telemetry=False))
    store.add_documents(docs)
    ingest_s = time.perf_counter() - started
    answerable = [q for q in questions if q.answers is not None]
    hits, cited = 0, []
    for q in answerable:
        top = store.similarity_search(q.question, k=4)[0]
        start = top.metadata["start_index"]
        hits += overlaps(top.metadata["source"], start, start + len(top.page_content), q, texts)
        cited.append(len(top.page_content))
    latencies = timed(lambda text: store.similarity_search(text, k=4), questions, repeat)
    return {"evidence hit@1": hits / len(answerable), "cited chars / answer": statistics.mean(cited),
            **latencies, "ingest s": ingest_s}


def timed(call, questions: list[Question], repeat: int) -> dict:
    for q in questions:  # warm: model, caches, Chroma segments
        call(q.question)
    seconds = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            call(q.question)
            seconds.append(time.perf_counter() - started)
    ms = [1000 * s for s in seconds]
    return {"latency p50 ms": percentile(ms, 50), "latency p95 ms": percentile(ms, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=ROOT.parent / "shared" / "eval" / "questions.jsonl", type=Path)
    parser.add_argument("--seeds", default=ROOT / "seeds", type=Path)
    parser.add_argument("--repeat", default=5, type=int)
    args = parser.parse_args()
    questions = load_questions(args.questions)
    texts = {d.id: d.text for d in load([args.seeds]) if isinstance(d, Document)}
    with tempfile.TemporaryDirectory() as tmp:
        get_embedder()  # loaded once, outside both ingest timings
        stock = bench_stock(args.seeds, questions, texts, args.repeat, Path(tmp))
        ours = bench_ours(args.seeds, questions, texts, args.repeat, Path(tmp))
    print(f"{len(questions)} questions, {args.repeat} warm repeats each; {args.seeds}")
    print(f"{'':24}{'ours':>12}{'stock recipe':>14}{'ours/stock':>12}")
    for key in ours:
        ratio = ours[key] / stock[key] if stock[key] else float("nan")
        print(f"{key:24}{ours[key]:12.3f}{stock[key]:14.3f}{ratio:12.2f}")


if __name__ == "__main__":
    main()
