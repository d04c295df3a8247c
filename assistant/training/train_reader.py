"""Fine-tune the packaged MiniLM as an extractive reader: given a question and a window of text
(a candidate sentence with its neighbours), where the answer starts and ends in it, or that it
holds none (the first token, as SQuAD 2.0 readers do).

Its training rows are windows such as the product reads (it reads the best rated candidate's):
those of the three candidates the held-out sentence model rates best for each training question,
labelled with the gold answer span they hold (rows made by train.reading_rows). It
needs torch and transformers alone (no index, no other part of the product), so that it runs
where a GPU is: `python assistant/training/train_reader.py WINDOWS OUT --fold N` trains without fold N's
articles and scores that fold's windows (out-of-fold scores for the decline model);
`--fold -1` trains on every window and saves its weights in pieces small enough to carry back.

The word-piece table stays the packaged model's (frozen): the weights saved are the rest, in
fp16 (22 MB), and the product rebuilds the reader from the two (assistant/answer/reader.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import time
from pathlib import Path

import torch

if __package__:
    from ..answer.reader import WORD_PIECES, encode, readings
    from ..answer.reader import model as read_model
else:  # run as a script, where torch and transformers are and the product's other parts are not
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "answer"))
    from reader import WORD_PIECES, encode, readings
    from reader import model as read_model

EPOCHS = 3
BATCH = 32
LEARNING_RATE = 8e-5
WARMUP = 0.1
SEED = 7


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def batches(enc: dict, order: list[int], size: int, tokenizer, labels: bool):
    keys = ["input_ids", "attention_mask", "token_type_ids"]
    for i in range(0, len(order), size):
        chosen = order[i : i + size]
        batch = tokenizer.pad({k: [enc[k][j] for j in chosen] for k in keys}, return_tensors="pt")
        if labels:
            batch["start_positions"] = torch.tensor([enc["start_positions"][j] for j in chosen])
            batch["end_positions"] = torch.tensor([enc["end_positions"][j] for j in chosen])
        yield chosen, batch


def bf16(device: str) -> bool:
    """Whether to train in bf16: on a GPU, and on a CPU that computes it natively (AVX-512 BF16 or
    AMX; elsewhere emulated bf16 is slower than fp32)."""
    if device != "cpu":
        return True
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def fine_tune(base: Path, rows: list[dict], device: str, epochs: int = EPOCHS, budget: float = math.inf,
              learning_rate: float = LEARNING_RATE, start: Path | None = None):
    """The base model with a span head, trained on `rows` (stopped early after `budget` seconds);
    from the reader whose weights are `start`, when given, rather than a new span head."""
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    random.seed(SEED)
    torch.manual_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(base)
    reader = read_model(start, str(base)) if start else AutoModelForQuestionAnswering.from_pretrained(base)
    reader = reader.float().to(device)
    table = reader.get_parameter(WORD_PIECES).requires_grad_(False)
    table.data = table.data.half().float()  # as the product rebuilds it, wherever the base came from
    enc = encode(tokenizer, [r["question"] for r in rows], [r["context"] for r in rows], [r["answer"] for r in rows])
    steps = epochs * math.ceil(len(rows) / BATCH)
    trained = [p for p in reader.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(WARMUP * steps), steps)
    reader.train()
    began, done = time.time(), 0
    for epoch in range(epochs):
        order = list(range(len(rows)))
        random.shuffle(order)
        for _, batch in batches(enc, order, BATCH, tokenizer, labels=True):
            loss = train_step(reader, optimizer, trained, batch, device)
            schedule.step()
            done += 1
            if time.time() - began > budget:
                print(f"stopped at step {done}/{steps}: over {budget:.0f} s", flush=True)
                reader.eval()
                return tokenizer, reader
            if done % 200 == 0 or done == steps:
                print(f"step {done}/{steps} loss {loss:.3f} {done / (time.time() - began):.1f} steps/s",
                      flush=True)
    reader.eval()
    return tokenizer, reader


def train_step(model, optimizer, trained: list, batch: dict, device: str) -> float:
    """One optimizer step on `batch` (bf16 where `bf16` says), gradients clipped at 1; its loss."""
    batch = {k: v.to(device) for k, v in batch.items()}
    with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=bf16(device)):
        loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trained, 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.item())


@torch.no_grad()
def score(tokenizer, model, rows: list[dict], device: str) -> list[dict]:
    """What the model makes of each window: the margin of its best span over "no answer", and
    that span in characters of the window."""
    enc = encode(tokenizer, [r["question"] for r in rows], [r["context"] for r in rows])
    out = []
    for chosen, batch in batches(enc, list(range(len(rows))), 128, tokenizer, labels=False):
        logits = model(**{k: v.to(device) for k, v in batch.items()})
        starts, ends = logits.start_logits.float().cpu().numpy(), logits.end_logits.float().cpu().numpy()
        for j, reading in zip(chosen, readings(enc, starts, ends, chosen)):
            out.append({"id": rows[j]["id"], "cand": rows[j]["cand"], "margin": reading.margin,
                        "span": [reading.start, reading.end]})
    return out


def weights(model) -> dict[str, torch.Tensor]:
    """What fine-tuning changed, in fp16: every weight but the packaged word-piece table."""
    return {name: t.detach().to(torch.float16).contiguous().cpu() for name, t in model.state_dict().items()
            if name != WORD_PIECES and t.is_floating_point()}


def save_pieces(tensors: dict[str, torch.Tensor], folder: Path, piece_bytes: int = 16_000_000) -> None:
    """`tensors` as safetensors files of at most `piece_bytes`, to carry back from a GPU machine."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    piece, size, n = {}, 0, 0
    for name, t in tensors.items():
        if piece and size + t.numel() * t.element_size() > piece_bytes:
            save_file(piece, str(folder / f"reader-{n}.safetensors"))
            piece, size, n = {}, 0, n + 1
        piece[name] = t
        size += t.numel() * t.element_size()
    save_file(piece, str(folder / f"reader-{n}.safetensors"))


def join_pieces(folder: Path, out: Path) -> None:
    """`save_pieces`' files as the one weights file the product loads."""
    from safetensors.torch import load_file, save_file

    tensors = {k: v for path in sorted(folder.glob("reader-*.safetensors")) for k, v in load_file(path).items()}
    save_file(dict(sorted(tensors.items())), str(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("windows", type=Path, help="training windows (.jsonl.gz)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--base", type=Path, required=True, help="the MiniLM model folder to start from")
    parser.add_argument("--start", type=Path, help="a reader's weights to train further (default: a new span head)")
    parser.add_argument("--fold", type=int, default=-1, help="hold out this fold and score it; -1: train on all, save")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--budget", type=float, default=math.inf, help="stop training after this many seconds")
    parser.add_argument("--limit", type=int, default=0, help="train on this many windows only (a smoke run)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    rows = load(args.windows)
    train = [r for r in rows if r["fold"] != args.fold]
    if args.limit:
        train = random.Random(SEED).sample(train, args.limit)
    print(f"fold {args.fold}: {len(train)} training windows on {args.device}", flush=True)
    tokenizer, model = fine_tune(args.base, train, args.device, args.epochs, args.budget, args.learning_rate,
                                 args.start)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.fold >= 0:
        held = [r for r in rows if r["fold"] == args.fold]
        if args.limit:
            held = held[: args.limit]
        with gzip.open(args.out / f"scores-{args.fold}.jsonl.gz", "wt", encoding="utf-8") as f:
            for s in score(tokenizer, model, held, args.device):
                f.write(json.dumps(s) + "\n")
    else:
        save_pieces(weights(model), args.out / "reader")


if __name__ == "__main__":
    main()
