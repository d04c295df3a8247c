"""Embedding backends: PyTorch, OpenVINO and ONNX Runtime (fp32, int8) embed alike, and an index refuses
a backend whose vectors differ from those it holds."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.errors import ConfigError
from assistant.ingest.chunking import split
from assistant.ingest.sources import load
from assistant.store.embeddings import Embedder, get_embedder

from .support import SEEDS

QUESTION = "What did Bondarev rail against at the Foreign Ministry?"


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    """The ONNX exports, made once for the module in a folder of its own; the distilled word
    vectors, not under test here, copied from the default cache where `make install` made them."""
    folder = tmp_path_factory.mktemp("model-cache")
    words = Settings().model_cache / "words"
    if words.is_dir():
        shutil.copytree(words, folder / "words")
    return folder


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return [c.text for d in load([SEEDS]) for c in split(d)]


# (mean, lowest) cosine to PyTorch's vectors. OpenVINO (bfloat16 on this CPU): mean 1.0000, the
# lowest 0.9999. int8: mean 0.993 on 2,000 archive passages, the lowest near 0.98, for short
# sentences ("I pointed out."): bench/embed.py
AGREEMENT = {"torch": (0.9999, 0.9999), "openvino": (0.9999, 0.999), "onnx": (0.9999, 0.9999),
             "onnx-int8": (0.99, 0.97)}


@pytest.mark.parametrize("backend", AGREEMENT)
def test_each_backend_embeds_as_torch_does(backend, model_cache, sentences):
    reference = get_embedder().embed(sentences)
    vectors = Embedder(backend=backend, cache=model_cache).embed(sentences)
    assert vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosine = (vectors * reference).sum(axis=1)
    mean, lowest = AGREEMENT[backend]
    assert cosine.mean() >= mean and cosine.min() >= lowest, f"{backend}: {cosine.mean():.4f}, {cosine.min():.4f}"


def test_the_export_is_made_once_and_reused(model_cache):
    exported = sorted(model_cache.rglob("*.onnx"))
    stamps = [p.stat().st_mtime_ns for p in exported]
    Embedder(backend="onnx-int8", cache=model_cache).embed(["again"])
    assert [p.name for p in exported] == ["model-int8.onnx", "model.onnx"]
    assert [p.stat().st_mtime_ns for p in exported] == stamps


def test_word_vectors_are_the_models_own_for_a_word_alone(sentences):
    embedder = get_embedder()
    words = sorted({w.lower() for s in sentences for w in s.split() if w.isalpha()})
    single = [w for w in words if len(embedder.tokenizer.tokenize(w)) == 1]
    assert len(single) > 200
    cosine = (embedder.embed_words(single) * embedder.embed(single)).sum(axis=1)
    assert cosine.min() >= 0.999
    close = embedder.embed_words(["worried", "concerned", "ferry"])
    assert close[0] @ close[1] >= 0.6 > close[0] @ close[2]


def test_a_word_has_one_vector_whether_met_before_or_not(sentences):
    embedder = get_embedder()
    words = sorted({w.lower() for s in sentences for w in s.split() if w.isalpha()})[:40]
    looked_up = embedder.words.encode(words, use_multiprocessing=False)
    again = embedder.embed_words(words[::-1] + ["sanity", words[0], "tough"])  # met, unmet, repeated
    assert np.array_equal(again[: len(words)], looked_up[::-1])
    assert np.array_equal(again[len(words) + 1], looked_up[0])
    assert embedder.embed_words([]).shape == (0, looked_up.shape[1])


def test_an_unknown_backend_or_a_gpu_with_onnx_is_a_clear_error(model_cache):
    with pytest.raises(ConfigError, match="expected one of torch, openvino, onnx, onnx-int8"):
        Embedder(backend="tensorrt", cache=model_cache)
    with pytest.raises(ConfigError, match="use the torch backend"):
        Embedder(backend="onnx", device="cuda", cache=model_cache)


@pytest.mark.slow
def test_an_index_records_its_backend_and_refuses_one_whose_vectors_differ(tmp_path, model_cache, capsys):
    index = tmp_path / "index"
    int8 = Assistant(settings=Settings(index=index, embedding_backend="onnx-int8", model_cache=model_cache))
    int8.ingest([SEEDS])
    assert int8.index.embedding == {"embedding_model": "all-MiniLM-L6-v2", "embedding_backend": "onnx-int8"}
    assert int8.ask(QUESTION).citations
    with pytest.raises(ConfigError, match="ASSISTANT_EMBEDDING_BACKEND=onnx-int8"):
        Assistant(settings=Settings(index=index)).index
    assert main(["ask", "--index", str(index), QUESTION]) == 2
    assert "made by all-MiniLM-L6-v2 with the onnx-int8 embedding backend" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_fp32_backends_are_accepted_on_an_openvino_index_with_the_same_answer(backend, seeded_index, seeded, tmp_path,
                                                                             model_cache):
    index = tmp_path / "index"
    shutil.copytree(seeded_index, index)
    other = Assistant(settings=Settings(index=index, embedding_backend=backend, model_cache=model_cache))
    assert seeded.index.embedding["embedding_backend"] == other.index.embedding["embedding_backend"] == "openvino"
    assert other.ask(QUESTION).citations == seeded.ask(QUESTION).citations


def test_words_met_before_are_found_when_the_kept_vectors_start_afresh(monkeypatch):
    embedder = get_embedder()
    embedder.embed_words(["harbour", "ferry"])
    monkeypatch.setattr("assistant.store.embeddings.WORDS_KEPT", len(embedder._word_vectors) + 1)
    vectors = embedder.embed_words(["harbour", "council", "winter"])  # one met before, two new: over the limit
    assert vectors.shape[0] == 3 and np.array_equal(vectors[0], embedder.embed_words(["harbour"])[0])
