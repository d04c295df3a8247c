"""The LLM answerer, with LangChain's fake chat model and a real OpenAI-compatible server on loopback
whose model invents facts: invented sentences are caught, citations stay verbatim, failures fall back."""

import json
import re
import threading
import time
from dataclasses import replace

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.serve.api import create_app

from .support import free_port

AGE = "How old is Bondarev?"
INVENTED = ["He was born in Novosibirsk, Russia", "He moved to Canada in 2019"]


def _number_of(passages_text: str, needle: str) -> int:
    return int(re.search(rf"\[(\d+)\] [^\n]*{re.escape(needle)}", passages_text).group(1))


def _reply_inventing(prompt: str) -> str:
    """What the test model says: one supported sentence, two invented ones, one made-up number."""
    n = _number_of(prompt, "Boris Bondarev, 41")
    return f"Bondarev is 41 years old [{n}]. {INVENTED[0]} [{n}]. {INVENTED[1]} [{n}][42]."


def _fake(seeded, *replies: str) -> Assistant:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))
    return Assistant(settings=seeded.settings, chat_model=model)


def _prompt_for(seeded, question: str) -> str:
    return "\n".join(f"[{i}] {p.chunk.text}" for i, p in enumerate(seeded.retriever.searcher.search(question), 1))


def _assert_checked(answer: dict, assistant: Assistant) -> None:
    assert answer["mode"] == "llm" and "Bondarev is 41 years old" in answer["answer"]
    assert not any(s in answer["answer"] for s in INVENTED)
    assert [u.split(" (")[0].rstrip(".") for u in answer["unsupported"]] == INVENTED
    assert "Novosibirsk" in answer["unsupported"][0] and "not in the sources" in answer["unsupported"][0]
    assert "[42]" in answer["notice"]
    [citation] = answer["citations"]
    assert "Boris Bondarev, 41," in citation["quote"]
    assert assistant.document(citation["source"]).text[citation["start"]:citation["end"]] == citation["quote"]


def test_fake_model_invented_sentences_are_listed_and_removed(seeded):
    assistant = _fake(seeded, _reply_inventing(_prompt_for(seeded, AGE)))
    _assert_checked(assistant.ask(AGE).to_dict(), assistant)


def test_streamed_text_comes_first_then_the_checked_answer(seeded):
    reply = _reply_inventing(_prompt_for(seeded, AGE))
    *partial, answer = _fake(seeded, reply).stream(AGE)
    assert len(partial) > 1 and partial[-1] == reply and all(isinstance(p, str) for p in partial)
    assert answer.mode == "llm" and len(answer.unsupported) == 2


@pytest.mark.parametrize("reply, notice", [
    ("", "the language model failed (ValueError)"),  # the fake model streams nothing at all
    ("   ", "the language model returned no usable text"),
])
def test_garbage_from_the_model_gives_the_extractive_answer_with_a_notice(seeded, reply, notice):
    answer = _fake(seeded, reply).ask(AGE)
    assert answer.mode == "extractive" and notice in answer.notice and answer.text == seeded.ask(AGE).text


def test_model_declining_is_an_abstention(seeded):
    answer = _fake(seeded, "The articles do not say.").ask("What is the capital of Cambodia?")
    assert answer.abstained and answer.mode == "llm" and answer.citations == ()


def test_nothing_supported_is_an_abstention(seeded):
    answer = _fake(seeded, "Bondarev was granted asylum in Sweden in June [1].").ask(AGE)
    assert answer.abstained and answer.mode == "llm" and "Sweden" in answer.unsupported[0]


class LoopbackModel:
    """An OpenAI-compatible chat completions server on loopback, answering with `reply(prompt)`."""

    def __init__(self, reply, delay: float = 0.0):
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def complete(request: Request):
            body = await request.json()
            time.sleep(delay)
            text = reply("\n".join(m["content"] for m in body["messages"] if isinstance(m["content"], str)))
            head = {"id": "chatcmpl-test", "created": int(time.time()), "model": body["model"]}
            if not body.get("stream"):
                return {**head, "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text}}]}

            def events():  # server-sent events, a word at a time, as OpenAI streams
                for i, word in enumerate(re.findall(r"\S+\s*", text)):
                    delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
                    chunk = {**head, "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    yield f"data: {json.dumps(chunk)}\n\n"
                done = {**head, "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> str:
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True


@pytest.fixture
def openai_env(monkeypatch):
    def use(base_url: str) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    return use


def test_openai_compatible_server_through_the_cli_json(seeded_index, seeded, openai_env, capsys):
    with LoopbackModel(_reply_inventing) as base_url:
        openai_env(base_url)
        assert main(["ask", AGE, "--index", str(seeded_index), "--llm", "openai:invents-facts", "--json"]) == 0
    _assert_checked(json.loads(capsys.readouterr().out), seeded)


def test_openai_compatible_server_through_the_http_api(server_index, seeded, monkeypatch):
    """The app `assistant serve` runs, in process, configured from the environment as it is."""
    with LoopbackModel(_reply_inventing) as base_url:
        for name, value in {"ASSISTANT_LLM": "openai:invents-facts", "OPENAI_BASE_URL": base_url,
                            "OPENAI_API_KEY": "k"}.items():
            monkeypatch.setenv(name, value)
        app = create_app(Assistant(settings=replace(Settings.from_env(), index=server_index)))
        with TestClient(app) as client:
            answer = client.post("/api/ask", json={"question": AGE}).json()
            _assert_checked(answer, seeded)
            # the OpenAI-compatible endpoint offers both: the checked model answer and the extracts
            assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["assistant", "assistant-llm"]
            replies = {model: client.post("/v1/chat/completions", json={
                "model": model, "messages": [{"role": "user", "content": AGE}]}).json()["choices"][0]["message"]
                for model in ("assistant", "assistant-llm")}
        assert replies["assistant-llm"]["citations"] == answer["citations"]
        assert replies["assistant-llm"]["content"].startswith(answer["answer"])
        assert replies["assistant"]["citations"] == seeded.ask(AGE).to_dict()["citations"]


@pytest.mark.parametrize("slow", [False, True])
def test_dead_or_slow_model_falls_back_within_the_timeout(seeded, openai_env, slow):
    settings = Settings(index=seeded.settings.index, llm="openai:gone", llm_timeout=2.0)
    with LoopbackModel(_reply_inventing, delay=6.0) as base_url:
        openai_env(base_url if slow else f"http://127.0.0.1:{free_port()}/v1")  # a port nobody listens on
        started = time.monotonic()
        answer = Assistant(settings=settings).ask(AGE)
    assert time.monotonic() - started < settings.llm_timeout + 3
    assert answer.mode == "extractive" and "the language model failed" in answer.notice
    assert answer.text == seeded.ask(AGE).text


@pytest.mark.parametrize("llm", ["gpt-4o", "nosuchprovider:model"])
def test_bad_llm_names_are_a_clear_error(seeded_index, llm, capsys):
    assert main(["ask", AGE, "--index", str(seeded_index), "--llm", llm]) == 2
    assert "--llm" in capsys.readouterr().err
