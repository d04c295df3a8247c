"""How well the sentence verifier separates supported from invented sentences.

    .venv/bin/python bench/verify.py

The labelled set (bench/data/verification.jsonl) holds sentences written from the seed articles:
paraphrases of what they say, and invented ones (a birthplace, a country, a changed number or
verb). Each names the passage it would cite. Reported: precision and recall of "supported" for
the product's verifier, and for sentence-embedding similarity alone at its best threshold.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.verify import Verifier

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "bench" / "data" / "verification.jsonl"


def scores(predicted: list[bool], truth: list[bool]) -> dict:
    tp = sum(p and t for p, t in zip(predicted, truth))
    precision = tp / max(1, sum(predicted))
    recall = tp / max(1, sum(truth))
    invented_caught = sum(not p and not t for p, t in zip(predicted, truth)) / max(1, truth.count(False))
    return {"precision": round(precision, 3), "recall": round(recall, 3), "invented_caught": round(invented_caught, 3)}


def main() -> None:
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        a = Assistant(index=Path(tmp) / "ix")
        a.ingest([ROOT / "seeds"])
        verifier = Verifier(ExtractiveAnswerer(a.lexical, a.embedder, a.document, a.settings), a.settings)
        truth, ours, similarity = [], [], []
        for r in rows:
            cited = [c for c in a.lexical.passages_of(r["source"]) if r["passage"] in c.text]
            retrieved = [p.chunk for p in a.retriever.searcher.search(r["sentence"])]
            why = verifier.check(r["sentence"], cited, retrieved)
            truth.append(r["supported"])
            ours.append(why is None)
            similarity.append(float(a.embedder.embed_query(r["sentence"]) @ a.embedder.embed_query(cited[0].text)))
            if (why is None) != r["supported"]:
                print(f"wrong: {r['sentence']!r} -> {why or 'supported'}")
    best = max((scores([s >= t for s in similarity], truth) | {"threshold": t}
                for t in np.arange(0.3, 0.9, 0.01).round(2)),
               key=lambda x: x["precision"] + x["recall"])
    print(json.dumps({"sentences": len(rows), "supported": truth.count(True), "invented": truth.count(False),
                      "verifier": scores(ours, truth), "similarity_alone_best": best}, indent=2))


if __name__ == "__main__":
    main()
