"""Archive scale: seeds/ among the ../shared/corpus/news.jsonl archive (6,925 articles).

    .venv/bin/python bench/archive.py [--index DIR] [--sample 300]

1. Ingest speed beside its limit, side by side in one process: the encoder alone over the passages
   of --sample archive articles spread over the file, then the whole ingest of the same articles.
2. The archive index at --index (built by `assistant ingest seeds news.jsonl` when missing: time,
   passages/s and peak memory of that run).
3. A fresh process: time to the first answer and its resident memory (nothing rebuilt).
4. The test question set on the archive index (the core floors), HNSW recall against exact search,
   warm latency through the Python API (and each step of an answer timed alone) and the HTTP API.
5. Upload to answerable: `Assistant.add_text` of a short article until `ask` cites it (median of
   three; each removed again).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news.jsonl"
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results" / "archive.json"
sys.path.insert(0, str(ROOT / "bench"))
from load import free_port, start_server  # noqa: E402
from run import percentile  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.evaluation.eval import load_questions, run  # noqa: E402
from assistant.ingest.chunking import split  # noqa: E402
from assistant.ingest.sources import Document, load  # noqa: E402
from assistant.store.embeddings import get_embedder  # noqa: E402
from assistant.store.index import Index  # noqa: E402
from assistant.store.ingest import embedding_text  # noqa: E402

FIRST_ANSWER = """
import resource, sys, time
started = time.perf_counter()
from assistant import Assistant
answer = Assistant(index=sys.argv[1]).ask("What did Bondarev rail against at the Foreign Ministry?")
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, answer.text[:60])
"""


def sample_articles(sample: int, folder: Path) -> Path:
    """--sample archive articles spread over the file (its outlets write differently), as JSONL."""
    part = folder / "part.jsonl"
    with open(CORPUS) as lines:
        every = lines.readlines()
    part.write_text("".join(every[:: max(1, len(every) // sample)][:sample]))
    return part


def ingest_rate(sample: int, backend: str | None = None) -> dict:
    """Encoder-only passages/s and whole-ingest passages/s on the same articles, with `backend`
    (None: the default one)."""
    settings = Settings() if backend is None else Settings(embedding_backend=backend)
    with tempfile.TemporaryDirectory() as tmp:
        part = sample_articles(sample, Path(tmp))
        documents = [d for d in load([part]) if isinstance(d, Document)]
        texts = [embedding_text(d, c) for d in documents for c in split(d)]
        embedder = get_embedder(settings.embedding_model, settings.device, settings.backend,
                                settings.model_cache)
        embedder.embed(texts[:64])  # warm
        started = time.perf_counter()
        embedder.embed(texts)
        encoder = len(texts) / (time.perf_counter() - started)
        started = time.perf_counter()
        Assistant(settings=replace(settings, index=Path(tmp) / "ix")).ingest([part])
        whole = len(texts) / (time.perf_counter() - started)
    return {"backend": settings.backend, "sample_articles": sample, "passages": len(texts),
            "encoder_passages_per_s": round(encoder, 1), "ingest_passages_per_s": round(whole, 1),
            "ratio": round(whole / encoder, 3)}


def build(index: Path) -> dict:
    started = time.perf_counter()
    run_ = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(ROOT / "seeds"), str(CORPUS),
                           "--index", str(index)], capture_output=True, text=True, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "passages_per_s": round(Index(Settings(index=index)).count() / seconds, 1),
            "peak_rss_mb": round(peak), "summary": run_.stdout.strip()}


def first_answer(index: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", FIRST_ANSWER, str(index)], capture_output=True, text=True, check=True)
    seconds, rss, text = out.stdout.split(" ", 2)
    return {"seconds": round(float(seconds), 2), "peak_rss_mb": round(float(rss)), "answer": text.strip()}


def hnsw_recall(assistant: Assistant, queries: list[str], n: int = 50) -> dict:
    """Share of the exact n nearest passages (brute force) that Chroma's HNSW index returns."""
    ids, matrix = assistant.index.vectors()
    vectors = assistant.embedder.embed(queries)
    recall = {10: [], n: []}
    for query in vectors:
        exact = [ids[i] for i in np.argsort(-(matrix @ query))[:n]]
        found = [c.id for c, _ in assistant.index.nearest(query, n)]
        for k in recall:
            recall[k].append(len(set(exact[:k]) & set(found[:k])) / k)
    return {f"recall@{k}": round(float(np.mean(v)), 4) for k, v in recall.items()} | {"queries": len(queries)}


def latencies(ask, questions: list[str], repeat: int = 3) -> dict:
    times = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            ask(q)
            times.append(1000 * (time.perf_counter() - started))
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1), "asks": len(times)}


def upload_to_answerable(assistant: Assistant, repeat: int = 3) -> dict:
    """Seconds from `add_text` of a short new article until an answer cites it; removed after."""
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        added = assistant.add_text(f"The Zorbulan festival number {n} opened in Kestrel Bay with {400 + n} lanterns.",
                                   title=f"Zorbulan festival {n}")
        answer = assistant.ask(f"How many lanterns did Zorbulan festival number {n} open with?")
        times.append(time.perf_counter() - started)
        assert any(c.source == added.id for c in answer.citations), answer.text
        assistant.remove(added.id)
    return {"median_s": round(float(np.median(times)), 3), "worst_s": round(max(times), 3)}


def steps(assistant: Assistant, questions: list[str], repeat: int = 3) -> dict:
    """Where a warm answer's time goes: each step of it timed alone."""
    searcher = assistant.retriever.searcher
    times: dict[str, list[float]] = {}

    def timed(name, step):
        started = time.perf_counter()
        result = step()
        times.setdefault(name, []).append(1000 * (time.perf_counter() - started))
        return result

    for q in questions * repeat:
        vector = timed("embed the question", lambda: assistant.embedder.embed_query(q))
        timed("BM25 top 50, whole index (Tantivy)", lambda: assistant.lexical.top(q, assistant.settings.candidates))
        timed("HNSW nearest 50", lambda: assistant.index.nearest(vector, assistant.settings.candidates))
        passages = timed("retrieval (the above, merged, leading articles re-ranked)", lambda: searcher.search(q))
        timed("answer from the passages", lambda: assistant.answerer.answer(q, passages))
        timed("whole ask", lambda: assistant.ask(q))
    return {name: {"p50_ms": round(percentile(t, 50), 1), "p95_ms": round(percentile(t, 95), 1)}
            for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "bench" / "results" / "archive-index")
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    results = {"ingest_rate": ingest_rate(args.sample)}
    print(json.dumps(results["ingest_rate"]))
    if not (args.index / "chroma.sqlite3").exists():
        results["build"] = build(args.index)
        results["build"]["ratio_to_encoder"] = round(
            results["build"]["passages_per_s"] / results["ingest_rate"]["encoder_passages_per_s"], 3)
        print(json.dumps(results["build"]))
    results["first_answer"] = first_answer(args.index)
    assistant = Assistant(index=args.index)
    questions = load_questions(QUESTIONS)
    report = run(assistant, questions)
    results["eval"] = report.totals()
    results["documents"] = len(assistant.documents())
    results["passages"] = assistant.index.count()
    asked = [q.question for q in questions]
    listed = assistant.documents()
    sampled = [assistant.lexical.passages_of(d.id)[0].text for d in listed[:: max(1, len(listed) // 63)][:63]]
    results["hnsw"] = hnsw_recall(assistant, asked + sampled)
    results["python_api"] = latencies(assistant.ask, asked)
    results["steps"] = steps(assistant, asked)
    results["upload_to_answerable"] = upload_to_answerable(assistant)
    del assistant  # the server process owns the index next
    port = free_port()
    server = start_server(args.index, port)
    try:
        with httpx.Client(timeout=60) as client:
            def ask(q):
                client.post(f"http://127.0.0.1:{port}/api/ask", json={"question": q}).raise_for_status()

            latencies(ask, asked, repeat=1)  # warm, as the Python API is after the eval
            results["http_api"] = latencies(ask, asked)
            rss = int(next(line.split()[1] for line in open(f"/proc/{server.pid}/status") if line.startswith("VmRSS")))
            results["server_rss_mb"] = round(rss / 1024)
    finally:
        server.terminate()
        server.wait(timeout=30)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "ingest_rate"}, indent=2))


if __name__ == "__main__":
    main()
