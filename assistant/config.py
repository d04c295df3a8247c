"""Settings: every knob in one frozen dataclass, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_BACKENDS = ("torch", "openvino", "onnx", "onnx-int8")  # PyTorch; OpenVINO; ONNX Runtime fp32, int8
CPU_BACKEND = "openvino"  # the fastest measured on the CPU with PyTorch's vectors (docs/scaling.md)
SECONDS = ("llm_timeout", "sync_seconds")  # the float settings that are not shares
MODEL_CACHE = Path.home() / ".cache" / "assistant"  # models exported from the packaged weights


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")  # the embedded Chroma index; with chroma_url, only the local caches
    chroma_url: str | None = None  # a Chroma server (http://HOST:PORT) as the store instead
    embedding_model: str = DEFAULT_MODEL  # a name, a local path, or the packaged default
    device: str | None = None  # None: the CPU (torch alone picks cuda when present)
    embedding_backend: str | None = None  # one of EMBEDDING_BACKENDS; None: see `backend`
    model_cache: Path = MODEL_CACHE  # where the ONNX exports of the embedding model are kept
    k: int = 20  # passages retrieved per question: the answer scorer was trained on 20 (docs/method.md)
    candidates: int = 50  # per ranking (dense and lexical) before they are merged
    articles: int = 2  # the leading articles, re-ranked by their own term statistics (docs/method.md)
    dense_weight: float = 0.5  # share of the dense score in the hybrid mix (0.3-0.5 measured best)
    decline: float | None = None  # decline at this probability that no sentence answers; None: the trained one
    paraphrase_floor: float = 0.6  # word similarity that counts as a paraphrase ("worried"~"concerned")
    trim_chars: int = 250  # sentences longer than this are cut to the clauses that answer
    llm: str | None = None  # PROVIDER:MODEL for init_chat_model; None: the extractive answerer
    llm_timeout: float = 20.0  # seconds before a model counts as down and the extractive answer is given
    verify_coverage: float = 0.6  # share of a model sentence's term weight its cited passages must carry
    verify_unmatched: int = 1  # words of a model sentence allowed to be in no cited passage at all
    max_question_chars: int = 2000
    max_file_bytes: int = 20_000_000  # larger files and uploads are refused
    api_token: str | None = None  # when set, /api requests need "Authorization: Bearer <token>"
    cors_origins: str | None = None  # comma-separated origins allowed to call /api from a browser
    batch_size: int = 64
    sync_seconds: float = 1.0  # with chroma_url: how often an answer first applies other processes' writes

    @property
    def backend(self) -> str:
        """What runs the embedding model: embedding_backend, or by default OpenVINO on the CPU and
        PyTorch on a GPU (--device cuda)."""
        if self.embedding_backend:
            return self.embedding_backend
        return "torch" if self.device and self.device != "cpu" else CPU_BACKEND

    @property
    def location(self) -> str:
        """Where the passages are stored: the Chroma server's URL or the index folder."""
        return self.chroma_url or str(self.index)

    @property
    def cache(self) -> Path:
        """A local folder for what is derived from the store (the BM25 ranking)."""
        if not self.chroma_url:
            return self.index
        return self.index / ("server-" + "".join(ch if ch.isalnum() else "-" for ch in self.chroma_url))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Defaults overridden by ASSISTANT_<FIELD> variables (ASSISTANT_INDEX, ASSISTANT_K, ...)."""
        environ = os.environ if environ is None else environ
        changes = {}
        if environ.get("CHROMA_URL"):  # Chroma's own name for it, also honoured
            changes["chroma_url"] = environ["CHROMA_URL"]
        for field in fields(cls):
            raw = environ.get(f"ASSISTANT_{field.name.upper()}")
            if raw is not None:
                changes[field.name] = _parse(field.name, raw)
        return replace(cls(), **changes)


def parse_changes(spec: str) -> dict:
    """Settings changes written `name=value,name=value` (names as in Settings)."""
    names = {f.name for f in fields(Settings)}
    changes = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, raw = part.partition("=")
        if not sep or name.strip() not in names:
            raise ConfigError(f"{part!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(names))}")
        changes[name.strip()] = _parse(name.strip(), raw.strip())
    return changes


def _parse(name: str, raw: str):
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "int":
            return _within(name, raw, int(raw), low=0 if name == "verify_unmatched" else 1)
        if kind == "float | None" and not raw:
            return None
        if kind in ("float", "float | None"):  # seconds, or a share of something
            return _within(name, raw, float(raw), low=0, high=None if name in SECONDS else 1)
    except ValueError as exc:
        raise ConfigError(f"ASSISTANT_{name.upper()}={raw!r}: expected {kind}") from exc
    return raw or None if kind == "str | None" else raw


def _within(name: str, raw: str, value: float, low: float, high: float | None = None) -> float:
    if value < low or high is not None and value > high:
        bounds = f"{low} or more" if high is None else f"between {low} and {high}"
        raise ConfigError(f"ASSISTANT_{name.upper()}={raw!r}: expected a number {bounds}")
    return value
