"""Reader: the packaged MiniLM fine-tuned to find an answer span in a window of text, or that the
window holds none (assistant/training/train_reader.py). The decline model weighs how sure it is.

It reads a question against the windows of the candidates the sentence model rates best (each
with its neighbours) and says, per window, how far the best span outscores "no answer". The
committed weights (models/reader.safetensors, fp16) are all but the word-piece table, which is
the packaged model's: on first use the two make one model, exported to ONNX into the model
cache, which OpenVINO runs on the CPU (bf16 where the CPU has it), as it runs the embedder.
Nothing but numpy and the tokenizer at import: train_reader.py imports this module where the
product's other parts are not installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # question and window, in word pieces
MAX_ANSWER = 30  # longest answer span, in word pieces
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WORD_PIECES = "bert.embeddings.word_embeddings.weight"  # the packaged model's, never fine-tuned


@dataclass(frozen=True)
class Reading:
    """The reader's best span and its margin over "no answer" (above 0: the reader takes it for
    the answer). Offsets are the window's as read, the article's once `within` has placed it."""

    margin: float
    start: int
    end: int
    doc_id: str | None = None  # the article, once placed in it

    def within(self, doc_id: str, window_start: int) -> Reading:
        """The same span in offsets of the article whose text at `window_start` was read."""
        return Reading(self.margin, window_start + self.start, window_start + self.end, doc_id)


def encode(tokenizer, questions: Sequence[str], windows: Sequence[str], answers: Sequence | None = None) -> dict:
    """Word pieces of each question and window; with `answers` (character spans of the window,
    or None), the answer's first and last piece (0, 0 where there is none, or it was cut off)."""
    enc = tokenizer(list(questions), list(windows), truncation="only_second", max_length=MAX_TOKENS,
                    return_offsets_mapping=True)
    if answers is None:
        return enc
    starts, ends = [], []
    for i, answer in enumerate(answers):
        offsets, seq = enc["offset_mapping"][i], enc.sequence_ids(i)
        context = [t for t, s in enumerate(seq) if s == 1]
        start = end = 0
        if answer and context and offsets[context[0]][0] <= answer[0] and answer[1] <= offsets[context[-1]][1]:
            start = next(t for t in context if offsets[t][1] > answer[0])
            end = max(t for t in context if offsets[t][0] < answer[1])
        starts.append(start)
        ends.append(end)
    enc["start_positions"], enc["end_positions"] = starts, ends
    return enc


def best_span(start: np.ndarray, end: np.ndarray, context: np.ndarray,
              sentence: np.ndarray | None = None) -> tuple[float, int, int]:
    """The best span's score less the null score (the first piece's), and its first and last
    piece, over pieces of the window at most MAX_ANSWER long and, where each piece's `sentence`
    is given, within one sentence."""
    n = len(start)
    grid = np.where(context, start, -np.inf)[:, None] + np.where(context, end, -np.inf)[None, :]
    allowed = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), MAX_ANSWER)
    if sentence is not None:
        allowed &= sentence[:, None] == sentence[None, :]
    grid = np.where(allowed, grid, -np.inf)
    i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return float(grid[i, j] - start[0] - end[0]), int(i), int(j)


def readings(enc: dict, starts: np.ndarray, ends: np.ndarray, rows: Sequence[int],
             breaks: Sequence[Sequence[int]] | None = None) -> list[Reading]:
    """What the logits of a batch (the encoded rows `rows`) say of each window; with `breaks`
    (where each window's sentences after its first begin, in characters), spans within one sentence."""
    out = []
    for b, j in enumerate(rows):
        seq = enc.sequence_ids(j)
        n = len(seq)
        offsets = enc["offset_mapping"][j]
        sentence = None if breaks is None else np.searchsorted(breaks[b], [a for a, _ in offsets[:n]], side="right")
        margin, i, k = best_span(starts[b][:n], ends[b][:n], np.array([s == 1 for s in seq]), sentence)
        out.append(Reading(round(margin, 4), offsets[i][0], offsets[k][1]))
    return out


class Reader:
    """The reader made of `weights` and the packaged model in `base` (its word pieces and
    tokenizer), exported once into `cache` under the weights' `sha256`."""

    def __init__(self, weights: Path, base: str, cache: Path, sha256: str):
        import openvino
        from transformers import AutoTokenizer

        path = _exported(weights, base, cache, sha256)
        core = openvino.Core()
        core.set_property({"CACHE_DIR": str(path.parent / "openvino")})
        self.compiled = core.compile_model(str(path), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        self.tokenizer = AutoTokenizer.from_pretrained(base)

    def read(self, question: str, windows: Sequence[str], breaks: Sequence[Sequence[int]] | None = None
             ) -> list[Reading]:
        """The best span of each window (within one of its sentences, where `breaks` says where
        they begin) and its margin over "no answer"."""
        if not windows:
            return []
        enc = encode(self.tokenizer, [question] * len(windows), windows)
        padded = self.tokenizer.pad({k: enc[k] for k in INPUTS}, return_tensors="np")
        out = self.compiled.create_infer_request().infer({k: padded[k].astype(np.int64) for k in INPUTS})
        return readings(enc, out[0], out[1], range(len(windows)), breaks)


def model(weights: Path, base: str):
    """The reader as a torch model: the packaged word-piece table and the fine-tuned rest."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    reader = AutoModelForQuestionAnswering.from_config(AutoConfig.from_pretrained(base))
    state = {name: t.float() for name, t in load_file(str(weights)).items()}
    table = load_file(str(Path(base) / "model.safetensors"))["embeddings.word_embeddings.weight"]
    state[WORD_PIECES] = table.half().float()  # as it was trained (train_reader.fine_tune)
    missing = set(reader.load_state_dict(state, strict=False).missing_keys) - {"bert.embeddings.position_ids"}
    if missing:
        raise ValueError(f"{weights}: not the reader's weights (lacks {', '.join(sorted(missing)[:3])})")
    return reader.eval()


def _exported(weights: Path, base: str, cache: Path, sha256: str) -> Path:
    """The reader's ONNX file: made once per weights file (named by its `sha256`), then reused."""
    import torch

    path = cache / "reader" / sha256[:16] / "reader.onnx"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = model(weights, base)

    class Logits(torch.nn.Module):  # positional inputs, the start and end logits
        def __init__(self):
            super().__init__()
            self.reader = reader

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.reader(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    from transformers import AutoTokenizer

    sample = AutoTokenizer.from_pretrained(base)(["a question"], ["a window of text"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "start_logits", "end_logits")}
    partial = path.with_suffix(".partial")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on the model's Python branches
        torch.onnx.export(Logits().eval(), tuple(sample[n] for n in INPUTS), str(partial), input_names=list(INPUTS),
                          output_names=["start_logits", "end_logits"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    partial.replace(path)  # whole files only: an export killed midway is made again
    return path
