"""The store: the embedded index and a real Chroma server (`chroma run`) give the same answers."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant import Assistant, IndexMissingError, Settings
from assistant.cli import main
from assistant.serve.api import create_app

from .support import QUESTIONS, SEEDS, free_port, shared, wait_for

pytestmark = [pytest.mark.server]


def question_set() -> list[str]:
    return [json.loads(line)["question"] for line in shared(QUESTIONS).read_text().splitlines() if line.strip()]


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
    assert "2 added" in capsys.readouterr().out
    assert main(["documents", *flags]) == 0
    assert "002_41f72d074bf60d22.txt" in capsys.readouterr().out
    served = Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url))
    for question in question_set():
        assert served.ask(question) == seeded.ask(question), question
    assert main(["eval", str(shared(QUESTIONS)), *flags]) == 0
    assert "answer hit" in capsys.readouterr().out


def test_web_app_over_the_chroma_server(chroma_url, seeded, tmp_path):
    Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url)).ingest([SEEDS])
    with TestClient(create_app(Assistant(settings=Settings(index=tmp_path / "cache", chroma_url=chroma_url)))) as api:
        health = api.get("/api/health").json()
        assert health["index"] == chroma_url and health["documents"] == 2
        answer = api.post("/api/ask", json={"question": question_set()[0]}).json()
        assert answer == seeded.ask(question_set()[0]).to_dict()


def test_an_article_written_through_one_process_is_answered_by_every_other(chroma_url, tmp_path):
    """Each process keeps its own lexical index; the Chroma server is what they share."""
    first, second = (Assistant(settings=Settings(index=tmp_path / name, chroma_url=chroma_url))
                     for name in ("first", "second"))
    first.ingest([SEEDS])
    question = "How many lanterns did the Zorbulan festival open with?"
    assert not _cites(second, question, "zorbulan")  # its lexical index is made now, before the article
    added = first.add_text("The Zorbulan festival opened in Kestrel Bay with 412 lanterns on Tuesday.",
                           title="Zorbulan festival")
    assert _cites(first, question, added.id)
    assert _within_seconds(5, lambda: _cites(second, question, added.id))
    assert first.remove(added.id)
    assert _within_seconds(5, lambda: not _cites(second, question, added.id))
    again = first.add_text(added.text, title=added.title)
    third = Assistant(settings=Settings(index=tmp_path / "third", chroma_url=chroma_url))
    assert _cites(third, question, again.id)
    # one sharing the first's cache folder (a server and a command line on one machine) reads and writes it too
    beside = Assistant(settings=Settings(index=tmp_path / "first", chroma_url=chroma_url))
    assert _cites(beside, question, again.id)
    assert beside.remove(again.id) and _within_seconds(5, lambda: not _cites(first, question, again.id))
    again = beside.add_text(added.text, title=added.title)
    # the second, started again on its ranking from before the article came back, catches up
    assert _cites(Assistant(settings=Settings(index=tmp_path / "second", chroma_url=chroma_url)), question, again.id)


def _cites(assistant: Assistant, question: str, doc_id: str) -> bool:
    return any(c.source.startswith(doc_id) for c in assistant.ask(question).citations)


def _within_seconds(seconds: float, check) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True
