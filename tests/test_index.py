"""The store: the embedded index and a real Chroma server (`chroma run`) give the same answers."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, IndexMissingError, Settings
from assistant.cli import main

from .conftest import QUESTIONS, SEEDS, free_port, serving, wait_for

QUESTION_SET = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server from the installed chromadb, on a free loopback port."""
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma")
    log = folder / "chroma.log"
    with open(log, "w") as out:
        server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder / "data"),
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{url}/api/v2/heartbeat", server, log)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_missing_index_on_the_server_says_how_to_make_one(chroma_url, tmp_path):
    with pytest.raises(IndexMissingError, match=f"run `assistant ingest seeds --chroma-url {chroma_url}`"):
        Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url)).ask("Who?")


def test_server_store_answers_as_the_embedded_index_does(chroma_url, seeded, tmp_path, capsys):
    flags = ["--chroma-url", chroma_url, "--index", str(tmp_path / "cache")]
    assert main(["ingest", str(SEEDS), *flags]) == 0
    assert f"2 added" in capsys.readouterr().out
    assert main(["documents", *flags]) == 0
    assert "002_41f72d074bf60d22.txt" in capsys.readouterr().out
    served = Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url))
    for question in QUESTION_SET:
        assert served.ask(question) == seeded.ask(question), question
    assert main(["eval", str(QUESTIONS), *flags]) == 0
    assert "answer hit" in capsys.readouterr().out


def test_web_server_over_the_chroma_server(chroma_url, seeded, tmp_path):
    Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url)).ingest([SEEDS])
    with serving(tmp_path / "cache", CHROMA_URL=chroma_url) as url:
        health = httpx.get(f"{url}/api/health").json()
        assert health["index"] == chroma_url and health["documents"] == 2
        answer = httpx.post(f"{url}/api/ask", json={"question": QUESTION_SET[0]}).json()
        assert answer == seeded.ask(QUESTION_SET[0]).to_dict()
