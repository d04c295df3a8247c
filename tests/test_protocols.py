"""The protocols other tools speak, against a real server: OpenAI's Chat Completions (through the
official `openai` client and LangChain's ChatOpenAI), MCP (the official client, over streamable
HTTP and over stdio from `assistant mcp`), the JSON API as schemathesis fuzzes it, and the token
that guards all three."""

import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import httpx2
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from .support import ROOT, serving

pytestmark = [pytest.mark.server]

QUESTION = "What did Bondarev rail against at the Foreign Ministry?"
FIRST = "Why did Boris Bondarev resign?"
FOLLOW_UP = "When was his resignation letter delivered?"
AGE = "How old is he?"
TOOLS = {"ask", "search", "get_document", "list_documents"}
TOKEN = "s3cret"  # the server runs guarded, as a newsroom deploys it
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def url(server_index):
    with serving(server_index, ASSISTANT_API_TOKEN=TOKEN) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key=TOKEN, max_retries=0)


def api_ask(url: str, question: str, history: list[dict] | None = None) -> dict:
    response = httpx.post(f"{url}/api/ask", json={"question": question, "history": history or []}, headers=AUTH,
                          timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def assert_verbatim(url: str, citations: list[dict]) -> None:
    for c in citations:
        text = httpx.get(f"{url}/api/documents/{c['source']}", headers=AUTH, timeout=30).json()["text"]
        assert text[c["start"]:c["end"]] == c["quote"]


def test_models_lists_the_extractive_model(client):
    assert [m.id for m in client.models.list()] == ["assistant"]


def test_completion_equals_api_ask_with_sources_in_the_text(client, url):
    reply = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": QUESTION}])
    expected = api_ask(url, QUESTION)
    message = reply.choices[0].message
    assert message.content.replace("**", "").startswith(expected["answer"])
    assert message.model_extra["citations"] == expected["citations"] and expected["citations"]
    assert message.model_extra["short_answer"] == expected["short_answer"]
    assert (message.model_extra["outcome"], message.model_extra["confidence"]) == (expected["outcome"], expected["confidence"])
    for c in expected["citations"]:
        assert f"[{c['n']}] {c['title']}" in message.content
        assert f"version {c['version']}, characters {c['start']}-{c['end']}): “{c['quote']}”" in message.content
    assert_verbatim(url, message.model_extra["citations"])
    assert reply.choices[0].finish_reason == "stop" and reply.model == "assistant"
    assert reply.usage.prompt_tokens > 0 and reply.usage.total_tokens == reply.usage.prompt_tokens + \
        reply.usage.completion_tokens


def test_streamed_follow_up_equals_api_ask_with_history(client, url):
    history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "He protested the invasion."}]
    chunks = list(client.chat.completions.create(
        model="assistant", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "Be brief."}, *history, {"role": "user", "content": AGE}]))
    expected = api_ask(url, AGE, history)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.replace("**", "").startswith(expected["answer"]) and "Bondarev, **41**," in content
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.choices[0].delta.model_extra["citations"] == expected["citations"]
    assert last.choices[0].delta.model_extra["short_answer"]["text"] == "41"
    assert chunks[-1].usage.completion_tokens > 0


def test_a_decline_is_an_ordinary_reply(client):
    reply = client.chat.completions.create(model="assistant",
                                           messages=[{"role": "user", "content": "What is the capital of Cambodia?"}])
    message = reply.choices[0].message
    assert message.content.startswith("The articles do not say.")
    assert message.model_extra["citations"] == [] and message.model_extra["abstained"] is True
    assert message.model_extra["outcome"] == "declined"
    assert "Cambodia" in message.model_extra["notice"] and message.model_extra["notice"] in message.content


def test_langchain_chat_openai_gets_the_same_answer(url):
    model = ChatOpenAI(base_url=f"{url}/v1", api_key=TOKEN, model="assistant", max_retries=0)
    reply = model.invoke([HumanMessage(FIRST), AIMessage("He protested."), HumanMessage(FOLLOW_UP)])
    history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "He protested."}]
    expected = api_ask(url, FOLLOW_UP, history)
    assert reply.content.replace("**", "").startswith(expected["answer"]) and expected["citations"]
    for c in expected["citations"]:  # the sources travel in the text, where any chain can read them
        assert f"[{c['n']}] {c['title']} ({c['source']}, version {c['version']}, characters {c['start']}-{c['end']}): " \
            f"\u201c{c['quote']}\u201d" in reply.content


@pytest.mark.parametrize("body, status, wrong", [
    ({"model": "assistant", "messages": []}, 400, "messages"),
    ({"model": "assistant", "messages": [{"role": "system", "content": "hi"}]}, 400, "no user message"),
    ({"model": "assistant", "messages": [{"role": "user", "content": 5}]}, 400, "content"),
    ({"model": "assistant", "messages": [{"role": "user", "content": "  "}]}, 400, "content"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}, 404, "gpt-4o"),
    ({"messages": [{"role": "user", "content": QUESTION}]}, 400, "model"),
])
def test_bad_requests_get_openai_shaped_errors(url, body, status, wrong):
    response = httpx.post(f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=60)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"} and wrong in error["message"]
    assert error["type"] == "invalid_request_error"


def test_openai_client_raises_its_own_errors(client):
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="assistant", messages=[])


def test_other_methods_get_405_with_allow(url):
    for method, path, allow in (("GET", "/v1/chat/completions", "POST"), ("DELETE", "/v1/models", "GET"),
                                ("TRACE", "/api/ask", "POST")):
        response = httpx.request(method, f"{url}{path}", headers=AUTH, timeout=30)
        assert response.status_code == 405 and response.headers["allow"] == allow, (method, path)


def call(target, steps):
    """Run `steps(client)` against an MCP server through the official client."""
    async def run():
        async with Client(target) as mcp_client:
            return await steps(mcp_client)
    return anyio.run(run)


async def tour(mcp_client) -> dict:
    """Every tool once, with the results the tests look at."""
    listed = await mcp_client.list_tools()
    asked = await mcp_client.call_tool("ask", {"question": QUESTION})
    followed = await mcp_client.call_tool("ask", {"question": FOLLOW_UP, "history": [
        {"role": "user", "content": FIRST}, {"role": "assistant", "content": "He protested."}]})
    searched = await mcp_client.call_tool("search", {"query": "Lavrov", "k": 3})
    documents = await mcp_client.call_tool("list_documents", {})
    source = asked.structured_content["citations"][0]["source"]
    document = await mcp_client.call_tool("get_document", {"id": source})
    unknown = await mcp_client.call_tool("get_document", {"id": "no-such-article"})
    blank = await mcp_client.call_tool("ask", {"question": "  "})
    return {"tools": {t.name: t for t in listed.tools}, "ask": asked, "follow_up": followed, "search": searched,
            "documents": documents, "document": document, "unknown": unknown, "blank": blank}


def check_tour(seen: dict, expected: dict, texts: dict[str, str]) -> None:
    assert set(seen["tools"]) == TOOLS
    assert "decline" in seen["tools"]["ask"].description and "verbatim" in seen["tools"]["ask"].description
    asked = seen["ask"].structured_content
    assert not seen["ask"].is_error and asked["citations"]
    assert asked["answer"] in seen["ask"].content[0].text.replace("**", "") and "Sources:" in seen["ask"].content[0].text
    assert asked == expected
    assert "Monday" in seen["follow_up"].structured_content["answer"]
    passages = seen["search"].structured_content["passages"]
    assert 1 <= len(passages) <= 3 and any("Lavrov" in p["quote"] for p in passages)
    for p in passages:
        assert texts[p["source"]][p["start"]:p["end"]] == p["quote"]
    listed = {d["id"] for d in seen["documents"].structured_content["documents"]}
    assert listed == set(texts)
    document = seen["document"].structured_content
    for c in asked["citations"]:
        assert document["text"][c["start"]:c["end"]] == c["quote"]
    assert seen["unknown"].is_error and "no-such-article" in seen["unknown"].content[0].text
    assert seen["blank"].is_error and "empty question" in seen["blank"].content[0].text


def test_mcp_over_http(url):
    texts = {d["id"]: httpx.get(f"{url}/api/documents/{d['id']}", headers=AUTH).json()["text"]
             for d in httpx.get(f"{url}/api/documents", headers=AUTH).json()}
    mcp = streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(headers=AUTH))
    check_tour(call(mcp, tour), api_ask(url, QUESTION), texts)


@pytest.mark.slow
def test_mcp_over_stdio(seeded_index, seeded, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seeded_index, index)
    command = str(Path(sys.executable).parent / "assistant")
    texts = {d.id: seeded.document(d.id).text for d in seeded.documents()}
    seen = call(StdioServerParameters(command=command, args=["mcp", "--index", str(index)]), tour)
    check_tour(seen, seeded.ask(QUESTION).to_dict(), texts)


def test_token_guards_api_v1_and_mcp_but_not_the_web_chat(url):
    assert httpx.get(f"{url}/api/health").status_code == 401
    assert httpx.get(f"{url}/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "error" in httpx.get(f"{url}/api/documents").json()
    assert httpx.get(f"{url}/api/health", headers=AUTH).status_code == 200
    assert httpx.get(f"{url}/").status_code == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
    assert httpx.post(f"{url}/mcp", json={}).status_code == 401  # test_mcp_over_http: with the token, every tool


@pytest.mark.slow
def test_schemathesis_all_checks_find_nothing(url):
    """Property-based requests to a real server from its /openapi.json with every check (the
    schema tells the truth: what is refused is declared, other methods get 405), bounded in
    examples and time. Last in this module: it adds documents."""
    config = ROOT / "bench" / "schemathesis.toml"
    run = subprocess.run([str(Path(sys.executable).parent / "st"), "--config-file", str(config), "run",
                          f"{url}/openapi.json", "--header", f"Authorization: Bearer {TOKEN}", "--checks", "all",
                          "--max-examples", "20",
                          "--max-time", "25", "--seed", "1", "--generation-database", "none"],
                         capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "passed" in run.stdout
