"""Embedding backends side by side in one run: PyTorch fp32, OpenVINO, ONNX Runtime fp32 and int8.

    .venv/bin/python bench/embed.py [--sample 300] [--squad]

For each backend, on the same --sample archive articles: the encoder alone and the whole ingest
(passages/s, and the ratio to PyTorch's); the cosine of its vectors to PyTorch's (mean, lowest);
the question embedding alone (p50/p95 ms over the seeds questions); and on an index of seeds/ made
with it, the seeds question set (quality and warm latency through the Python API). --squad adds
../shared/eval/squad-dev (its ten articles indexed per backend: minutes). The ONNX exports are
made before any timing. Results: bench/results/embed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "eval" / "squad-dev"
RESULTS = ROOT / "bench" / "results" / "embed.json"
sys.path.insert(0, str(ROOT / "bench"))
from archive import QUESTIONS, ingest_rate, sample_articles  # noqa: E402
from run import percentile  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.config import EMBEDDING_BACKENDS  # noqa: E402
from assistant.evaluation.eval import load_questions, run  # noqa: E402
from assistant.ingest.chunking import split  # noqa: E402
from assistant.ingest.sources import Document, load  # noqa: E402
from assistant.store.embeddings import get_embedder  # noqa: E402
from assistant.store.ingest import embedding_text  # noqa: E402

TOTALS = ("answer_hit", "evidence_hit", "declined_unanswerable", "declined_answerable", "mean_cited_chars",
          "latency_p50_ms", "latency_p95_ms")


def embedder(backend: str):
    settings = Settings(embedding_backend=backend)
    return get_embedder(settings.embedding_model, settings.device, backend, settings.model_cache)


def agreement(texts: list[str]) -> dict[str, dict]:
    reference = embedder("torch").embed(texts)
    out = {}
    for backend in EMBEDDING_BACKENDS:
        cosine = (embedder(backend).embed(texts) * reference).sum(axis=1)
        out[backend] = {"cosine_mean": round(float(cosine.mean()), 5), "cosine_min": round(float(cosine.min()), 5)}
    return out


def question_embedding(backend: str, questions: list[str], repeat: int = 5) -> dict:
    model = embedder(backend)
    times = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            model.embed_query(q)
            times.append(1000 * (time.perf_counter() - started))
    return {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2)}


def question_set(backend: str, docs: Path, questions: Path, folder: Path) -> dict:
    assistant = Assistant(settings=Settings(index=folder / f"{backend}-{docs.name}", embedding_backend=backend))
    assistant.ingest([docs])
    assistant.warm()
    totals = run(assistant, load_questions(questions)).totals()
    return {key: totals[key] for key in TOTALS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="archive articles for the ingest rates")
    parser.add_argument("--squad", action="store_true", help="also the squad-dev question set")
    args = parser.parse_args()
    seeds_questions = [q.question for q in load_questions(QUESTIONS)]
    results: dict = {"backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        part = sample_articles(args.sample, Path(tmp))
        texts = [embedding_text(d, c) for d in load([part]) if isinstance(d, Document) for c in split(d)]
        for backend in EMBEDDING_BACKENDS:
            embedder(backend).embed(texts[:8])  # loaded, and exported when it is new, before any timing
        cosines = agreement(texts[:2000])
        for backend in EMBEDDING_BACKENDS:
            row = ingest_rate(args.sample, backend) | cosines[backend]
            row["question_embedding"] = question_embedding(backend, seeds_questions)
            row["seeds"] = question_set(backend, ROOT / "seeds", QUESTIONS, Path(tmp))
            if args.squad:
                row["squad_dev"] = question_set(backend, SQUAD / "docs", SQUAD / "questions.jsonl", Path(tmp))
            results["backends"][backend] = row
            print(json.dumps(row), flush=True)
    torch = results["backends"]["torch"]
    for backend, row in results["backends"].items():
        row["encoder_vs_torch"] = round(row["encoder_passages_per_s"] / torch["encoder_passages_per_s"], 2)
        row["ingest_vs_torch"] = round(row["ingest_passages_per_s"] / torch["ingest_passages_per_s"], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'backend':10} {'encoder/s':>9} {'ingest/s':>8} {'x torch':>7} {'cos mean':>8} {'cos min':>7} "
          f"{'q emb p50':>9} {'seeds ev':>8} {'ask p95':>7}")
    for backend, row in results["backends"].items():
        print(f"{backend:10} {row['encoder_passages_per_s']:9.1f} {row['ingest_passages_per_s']:8.1f} "
              f"{row['ingest_vs_torch']:7.2f} {row['cosine_mean']:8.4f} {row['cosine_min']:7.4f} "
              f"{row['question_embedding']['p50_ms']:9.2f} {row['seeds']['evidence_hit']:8.3f} "
              f"{row['seeds']['latency_p95_ms']:7.1f}")
    print(f"-> {RESULTS}")


if __name__ == "__main__":
    main()
