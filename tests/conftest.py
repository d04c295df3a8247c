import json
import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings

from .support import CORPUS, SEEDS, shared


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No ASSISTANT_* from the developer's shell; the default index lives in tmp_path."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def screenshots(request, tmp_path_factory) -> Path:
    """Where the browser tests save what they saw: $ASSISTANT_SCREENSHOTS, relative to the
    repository (`make screenshots` writes docs/), else a temporary folder: a test run writes
    nothing into the repository."""
    chosen = os.environ.get("ASSISTANT_SCREENSHOTS")
    folder = request.config.rootpath / chosen if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory) -> Path:
    """An index of seeds/, built once per test session with the real model and Chroma."""
    index = tmp_path_factory.mktemp("seeded") / "index"
    Assistant(index=index).ingest([SEEDS])
    return index


@pytest.fixture(scope="session")
def seeded(seeded_index) -> Assistant:
    return Assistant(index=seeded_index)


@pytest.fixture(scope="session")
def seeds_among_stories_that_share_the_words(tmp_path_factory) -> Assistant:
    """seeds/ with archive stories that hold a question's other words but not what it is about:
    a Manchester United bid and a Norwich transfer (football club, supporters), a laptop plan in
    Cambodia and a bank's capital increase."""
    folder = tmp_path_factory.mktemp("sharing")
    wanted = {"bbc-business-209", "bbc-sport-186", "bbc-tech-004", "reuters-17991"}
    with open(shared(CORPUS), encoding="utf-8") as lines:
        stories = [line for line in lines if json.loads(line)["id"] in wanted]
    (folder / "news.jsonl").write_text("".join(stories), encoding="utf-8")
    assistant = Assistant(settings=Settings(index=folder / "index"))
    assistant.ingest([SEEDS, folder / "news.jsonl"])
    return assistant


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index=tmp_path / "index")


@pytest.fixture(scope="module")
def server_index(seeded_index, tmp_path_factory) -> Path:
    """A copy of the seeded index for a server process to own (one process per index)."""
    copy = tmp_path_factory.mktemp("served") / "index"
    shutil.copytree(seeded_index, copy)
    return copy
