"""The JSON API in process: FastAPI's TestClient on the app `assistant serve` runs (the real
server's JSON API is tested in test_protocols.py, schemathesis included)."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.serve.api import create_app

ARTICLE = ("Harbour reopens\n\nThe harbour of Porto Lindo reopened on Tuesday after a storm closed it for "
           "nine days. Fishing crews returned to the docks at dawn.")


@pytest.fixture(scope="module")
def api(server_index):
    with TestClient(create_app(Assistant(index=server_index))) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def test_health_names_the_index_counts_and_model(api, server_index):
    health = _ok(api.get("/api/health"))
    assert health == {"index": str(server_index), "documents": 2, "passages": health["passages"],
                      "model": "all-MiniLM-L6-v2"}
    assert health["passages"] > 20


def test_citations_are_verbatim_in_the_served_documents(api):
    answer = _ok(api.post("/api/ask", json={"question": "What did Bondarev rail against at the Foreign Ministry?"}))
    assert list(answer) == ["question", "answer", "abstained", "outcome", "confidence", "mode", "notice", "unsupported", "short_answer",
                            "citations"]
    assert "Lavrov" in answer["answer"] and answer["citations"]
    for c in answer["citations"]:
        document = _ok(api.get(f"/api/documents/{c['source']}"))
        assert document["text"][c["start"]:c["end"]] == c["quote"]


def test_follow_up_with_history(api):
    history = [{"role": "user", "content": "Why did Boris Bondarev resign?"},
               {"role": "assistant", "content": "He protested the invasion."}]
    answer = _ok(api.post("/api/ask", json={"question": "When was his resignation letter delivered?", "history": history}))
    assert "Monday" in answer["answer"]


def test_k_limits_the_passages_considered(api):
    question = "What was Bondarev's diplomatic rank?"  # its answer is not the best retrieved passage
    one = _ok(api.post("/api/ask", json={"question": question, "k": 1}))
    every = _ok(api.post("/api/ask", json={"question": question}))
    assert "counselor" in every["answer"] and "counselor" not in one["answer"]


def test_documents_lists_the_seeds(api):
    listed = _ok(api.get("/api/documents"))
    assert {d["id"] for d in listed} >= {"000_dec2564058fc4657.txt", "002_41f72d074bf60d22.txt"}
    assert all(set(d) == {"id", "title", "chars", "passages", "versions"} for d in listed)


def test_add_ask_remove_a_pasted_article(api):
    before = _ok(api.get("/api/health"))["passages"]
    added = _ok(api.post("/api/documents", json={"title": "Harbour reopens", "text": ARTICLE, "id": "harbour"}), 201)
    assert added["id"] == "harbour" and added["text"] == ARTICLE
    answer = _ok(api.post("/api/ask", json={"question": "How long was the harbour of Porto Lindo closed?"}))
    assert answer["citations"][0]["source"] == "harbour" and "nine days" in answer["answer"]
    assert _ok(api.delete("/api/documents/harbour")) == {"removed": "harbour"}
    assert api.get("/api/documents/harbour").status_code == 404
    assert _ok(api.get("/api/health"))["passages"] == before


def test_upload_an_html_file(api):
    page = f"<html><head><script>evil()</script></head><body><nav>Menu</nav><article><h1>Harbour reopens</h1>" \
           f"<p>{ARTICLE.split(chr(10))[-1]}</p></article></body></html>"
    added = _ok(api.post("/api/documents", files={"file": ("harbour.html", page.encode(), "text/html")}), 201)
    assert added["id"] == "harbour.html" and "evil" not in added["text"] and "nine days" in added["text"]
    api.delete("/api/documents/harbour.html")


@pytest.mark.parametrize("method, path, kwargs, status, message", [
    ("post", "/api/ask", {"json": {}}, 422, "question: Field required"),
    ("post", "/api/ask", {"json": {"question": ""}}, 422, "question: blank"),
    ("post", "/api/ask", {"json": {"question": "  \n "}}, 422, "question: blank"),
    ("post", "/api/ask", {"json": {"question": 42}}, 422, "question: Input should be a valid string"),
    ("post", "/api/ask", {"content": b"{bad", "headers": {"content-type": "application/json"}}, 422, "JSON"),
    ("post", "/api/ask", {"json": {"question": "x" * 2001}}, 413, "limit is 2000"),
    ("post", "/api/ask", {"json": {"question": "Who?", "k": 0}}, 422, "k:"),
    ("post", "/api/ask", {"json": {"question": "Who?", "history": [{"role": "system", "content": "x"}]}}, 422,
     "history.0.role"),
    ("get", "/api/documents/nope.txt", {}, 404, "no document 'nope.txt'"),
    ("get", "/api/documents/..%2F..%2Fetc%2Fpasswd", {}, 404, "no document '../../etc/passwd'"),
    ("get", "/api/documents/%2e%2e/%2e%2e/etc/passwd", {}, 404, "no document"),
    ("delete", "/api/documents/nope.txt", {}, 404, "no document 'nope.txt'"),
    ("post", "/api/documents", {"json": {"text": "   "}}, 422, "text: blank"),
    ("post", "/api/documents", {"json": {"title": "No text"}}, 422, "text: Field required"),
    ("post", "/api/documents", {"files": {"file": ("tool.exe", b"MZ\x90", "application/octet-stream")}}, 400,
     "tool.exe: unsupported file type"),
    ("post", "/api/documents", {"files": {"file": ("empty.txt", b"", "text/plain")}}, 400, "empty.txt: empty file"),
    ("post", "/api/documents", {"files": {"file": ("big.txt", b"word " * 4_100_000, "text/plain")}}, 413,
     "over the limit"),
    ("post", "/api/documents", {"files": {"other": ("a.txt", b"text", "text/plain")}}, 400, "unknown part 'other'"),
    ("post", "/api/documents", {"files": {"file": ("a.txt", b"text", "text/plain")}, "data": {"id": "x"}}, 400,
     "unknown part 'id'"),
])
def test_bad_input_is_a_4xx_with_a_json_error(api, method, path, kwargs, status, message):
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_answers_go_on_while_an_article_is_ingested(api):
    long_text = "Archive piece\n\n" + " ".join(f"Report {i} says the river rose by {i} centimetres." for i in range(400))
    long_text += " The flood gauge at Tirlo was painted blue in 1987."
    with ThreadPoolExecutor(4) as pool:
        adding = pool.submit(api.post, "/api/documents", json={"text": long_text, "id": "river"})
        asks = [pool.submit(api.post, "/api/ask", json={"question": "What did Bondarev rail against at the Foreign Ministry?"})
                for _ in range(8)]
        assert all("Lavrov" in _ok(a.result())["answer"] for a in asks)
        assert _ok(adding.result(), 201)["id"] == "river"
    answer = _ok(api.post("/api/ask", json={"question": "When was the flood gauge at Tirlo painted blue?"}))
    assert "1987" in answer["answer"]
    _ok(api.delete("/api/documents/river"))


def test_no_cors_unless_configured(api):
    response = api.options("/api/ask", headers={"Origin": "http://elsewhere.example",
                                                "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_lets_the_configured_origins_in_and_no_other(seeded):
    app = create_app(Assistant(settings=replace(seeded.settings, cors_origins="http://newsroom.example")))
    with TestClient(app) as client:
        def allowed(origin: str) -> str | None:
            return client.options("/api/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
                                  ).headers.get("access-control-allow-origin")

        assert allowed("http://newsroom.example") == "http://newsroom.example"
        assert allowed("http://elsewhere.example") is None
