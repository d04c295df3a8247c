"""The big reader run, resumable: the reader fine-tuned further on every window of
reader_windows.py (222,855 windows of 60,000 questions), in chunks that fit a session on two CPU
cores (`make train-reader`, `python -m assistant.training.reader_run --minutes 110`).

Each chunk starts from the checkpoint in `checkpoint/` (the first from the committed reader),
trains the next steps of one fixed plan (the data order seeded by epoch, the learning rate a
function of the global step) and writes the checkpoint again every SAVE_EVERY steps and at the end:
the weights in fp16 as the product stores them, and state.json (the plan, the step, each chunk's
speed and figures on the validation windows). The optimizer's moments are not kept (they would
be 176 MB): each chunk starts them afresh and warms its learning rate up over REWARM steps. On a
GPU the same plan runs in one chunk (`--minutes 0`: no limit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

from ..answer.reader import WORD_PIECES, encode, readings
from ..answer.reader import model as read_model
from ..answer.scorer import MODELS
from ..config import DEFAULT_MODEL
from ..store.embeddings import resolve
from . import reader_windows
from .train_reader import BATCH, batches, bf16, train_step, weights

CHECKPOINT = Path(__file__).resolve().parent / "checkpoint"
EPOCHS = 1
LEARNING_RATE = 3e-5  # as the silence stage: the run starts from a trained reader
WARMUP = 200  # steps of the plan's warm-up
REWARM = 30  # steps each chunk warms up over, its optimizer new
SAVE_EVERY = 150
SEED = 11


def fingerprint(rows: list[dict]) -> str:
    """The windows' sha256: a chunk refuses to continue a plan made of other windows."""
    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps([r["id"], r["question"], r["context"], r["answer"]]).encode())
    return digest.hexdigest()


def order(n: int, epoch: int) -> list[int]:
    """The plan's order of the windows in `epoch`: the same in every session."""
    return random.Random(SEED + epoch).sample(range(n), n)


def learning_rate(step: int, total: int, chunk_step: int, peak: float = LEARNING_RATE) -> float:
    """Linear warm-up over WARMUP steps then linear decay to 0 at `total`, warmed up again over
    the first REWARM steps of each chunk (`chunk_step` counts them)."""
    plan = min(1.0, (step + 1) / WARMUP) * max(0.0, (total - step) / max(1, total - WARMUP))
    return peak * min(plan, 1.0) * min(1.0, (chunk_step + 1) / REWARM)


def new_state(rows: list[dict], start: Path) -> dict:
    steps = EPOCHS * -(-len(rows) // BATCH)
    return {"plan": {"windows": len(rows), "windows_sha256": fingerprint(rows), "epochs": EPOCHS, "batch": BATCH,
                     "steps": steps, "learning_rate": LEARNING_RATE, "warmup": WARMUP, "rewarm": REWARM,
                     "seed": SEED, "started_from_sha256": _sha256(start)},
            "step": 0, "chunks": []}


def run_chunk(rows: list[dict], held: list[dict], checkpoint: Path, seconds: float = 0, steps: int = 0,
              device: str = "cpu") -> dict:
    """Train the plan's next steps (until `seconds` pass or `steps` are done; 0: no limit) from
    the checkpoint in `checkpoint`, save it there and return its state."""
    base = resolve(DEFAULT_MODEL)
    state_path, weights_path = checkpoint / "state.json", checkpoint / "reader.safetensors"
    start = weights_path if weights_path.is_file() else MODELS / "reader.safetensors"
    if state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
    else:
        state = new_state(rows, start)
    if state["plan"]["windows_sha256"] != fingerprint(rows):
        raise SystemExit(f"{state_path}: its plan was made of other windows; remove {checkpoint} to start afresh")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = read_model(start, base).float().to(device)
    model.get_parameter(WORD_PIECES).requires_grad_(False)
    if not state["chunks"]:
        state["before"] = validate(tokenizer, model, held, device)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=0.0, weight_decay=0.01)
    total, first, began = state["plan"]["steps"], state["step"], time.time()
    model.train()
    losses = []
    while state["step"] < total and not (steps and state["step"] - first >= steps) \
            and not (seconds and time.time() - began > seconds):
        step = state["step"]
        per_epoch = -(-len(rows) // BATCH)
        at = (step % per_epoch) * BATCH
        chosen = order(len(rows), step // per_epoch)[at : at + BATCH]
        losses.append(_train_step(model, optimizer, trained, tokenizer, [rows[i] for i in chosen], device,
                                  learning_rate(step, total, step - first)))
        state["step"] = step + 1
        if state["step"] % 50 == 0:
            print(f"step {state['step']}/{total} loss {np.mean(losses[-50:]):.3f} "
                  f"{(state['step'] - first) * BATCH / (time.time() - began):.1f} windows/s", flush=True)
        if state["step"] % SAVE_EVERY == 0:
            _save(model, state, checkpoint)
    model.eval()
    done = state["step"] - first
    state["chunks"].append({"steps": [first, state["step"]], "seconds": round(time.time() - began),
                            "windows_per_second": round(done * BATCH / max(1e-9, time.time() - began), 2),
                            "loss": round(float(np.mean(losses)), 4) if losses else None, "cpu": cpu_name(), "bf16": bf16(device),
                            "validation": validate(tokenizer, model, held, device)})
    _save(model, state, checkpoint)
    return state


def _train_step(model, optimizer, trained, tokenizer, rows: list[dict], device: str, lr: float) -> float:
    for group in optimizer.param_groups:
        group["lr"] = lr
    enc = encode(tokenizer, [r["question"] for r in rows], [r["context"] for r in rows], [r["answer"] for r in rows])
    _, batch = next(batches(enc, list(range(len(rows))), len(rows), tokenizer, labels=True))
    return train_step(model, optimizer, trained, batch, device)


@torch.no_grad()
def validate(tokenizer, model, held: list[dict], device: str) -> dict:
    """The reader's figures on `held` windows, per question: the F1 of the span of its surest
    window against the answer (answerable questions), and how well its surest margin tells a
    question read with its answer's window from the same question read without it, or one
    with no answer (ROC AUC)."""
    from sklearn.metrics import roc_auc_score

    from ..evaluation.eval import token_f1

    enc = encode(tokenizer, [r["question"] for r in held], [r["context"] for r in held])
    read = []
    for chosen, batch in batches(enc, list(range(len(held))), 64, tokenizer, labels=False):
        out = model(**{k: v.to(device) for k, v in batch.items()})
        read += readings(enc, out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy(), chosen)
    by_question: dict[str, list[int]] = {}
    for i, r in enumerate(held):
        by_question.setdefault(r["id"], []).append(i)
    f1s, scores, labels = [], [], []
    for rows in by_question.values():
        answered = [i for i in rows if held[i]["answer"]]
        plain = [i for i in rows if not held[i]["answer"]]
        if answered:
            best = max(rows, key=lambda i: read[i].margin)
            gold = held[answered[0]]
            f1s.append(token_f1(held[best]["context"][read[best].start:read[best].end],
                                gold["context"][gold["answer"][0]:gold["answer"][1]]))
            scores.append(max(read[i].margin for i in rows))
            labels.append(1)
        if plain:
            scores.append(max(read[i].margin for i in plain))
            labels.append(0)
    return {"questions": len(by_question), "answer_f1": round(float(np.mean(f1s)), 4) if f1s else None,
            "auc": round(float(roc_auc_score(labels, scores)), 4) if len(set(labels)) == 2 else None}


def _save(model, state: dict, checkpoint: Path) -> None:
    """The weights (fp16) and the state, each replaced whole."""
    from safetensors.torch import save_file

    checkpoint.mkdir(parents=True, exist_ok=True)
    partial = checkpoint / "reader.safetensors.partial"
    save_file(weights(model), str(partial))
    partial.replace(checkpoint / "reader.safetensors")
    state["weights_sha256"] = _sha256(checkpoint / "reader.safetensors")
    (checkpoint / "state.json.partial").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    (checkpoint / "state.json.partial").replace(checkpoint / "state.json")


def cpu_name() -> str:
    """The CPU's model name (lscpu's), beside every speed figure."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    names = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
    return f"{names[0]}, {len(names)} cores" if names else platform.machine()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=110, help="this chunk's time (0: run the plan to its end)")
    parser.add_argument("--steps", type=int, default=0, help="at most this many steps (0: no limit)")
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--train", type=Path, default=reader_windows.TRAIN)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    rows, held = reader_windows.windows(args.train), reader_windows.validation(args.train)
    print(f"{len(rows)} windows, {len(held)} held out, on {args.device}", flush=True)
    state = run_chunk(rows, held, args.checkpoint, args.minutes * 60, args.steps, args.device)
    print(json.dumps({"step": state["step"], "of": state["plan"]["steps"], "before": state.get("before"),
                      "chunk": state["chunks"][-1]}, indent=2))


if __name__ == "__main__":
    main()
