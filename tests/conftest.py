import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.jsonl"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No ASSISTANT_* from the developer's shell; the default index lives in tmp_path."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory) -> Path:
    """An index of seeds/, built once per test session with the real model and Chroma."""
    index = tmp_path_factory.mktemp("seeded") / "index"
    Assistant(index=index).ingest([SEEDS])
    return index


@pytest.fixture(scope="session")
def seeded(seeded_index) -> Assistant:
    return Assistant(index=seeded_index)


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index=tmp_path / "index")
