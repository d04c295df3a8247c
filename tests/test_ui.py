"""The web chat in a real browser: Debian's Chromium driven by Playwright, against a real server."""

import json
import time
from pathlib import Path

import httpx
import pytest

from .support import serving

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = "/usr/bin/chromium"
QUESTION = "What did Bondarev rail against at the Foreign Ministry?"
HOSTILE = '<img src=x onerror="window.hostile = 1">'


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def chat(browser, server_index):
    """The chat page, with every request that would leave the machine blocked and recorded."""
    with serving(server_index) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.outside = []

        def only_local(route):
            if route.request.url.startswith(url):
                return route.continue_()
            page.outside.append(route.request.url)
            return route.abort()

        page.route("**/*", only_local)
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.url_base = url
        yield page
        page.close()


BOT = "#chat [data-testid='bot']"
ANSWERED = f"""n => {{
    const bots = document.querySelectorAll("{BOT}");
    return bots.length > n && !bots[bots.length - 1].innerText.includes("Loading content");
}}"""


def ask(page, question: str) -> str:
    """Ask and return the answer's text once it is on screen."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(ANSWERED, arg=before)
    return page.locator(BOT).last.inner_text()


def test_answer_with_markers_and_the_cited_span_highlighted(chat):
    started = time.monotonic()
    answer = ask(chat, QUESTION)
    print(f"\nanswer on screen {time.monotonic() - started:.2f} s after Enter")
    assert "Lavrov" in answer and "[1]" in answer
    quote = first_quote(chat, QUESTION)
    chat.locator("#chat a[href^='#cite-']").last.click()
    chat.wait_for_selector("#article mark")
    assert chat.inner_text("#article mark") == quote
    assert f"“{quote}”" in chat.input_value("#plain textarea")  # the copyable plain text


def test_the_words_that_answer_are_marked_inside_the_quote_and_the_article(chat, screenshots):
    ask(chat, "How old is Bondarev?")
    last = chat.locator(BOT).last
    assert [t.strip() for t in last.locator("strong").all_inner_texts() if t.strip() == "41"] == ["41", "41"]
    last.locator("a[href^='#cite-']").first.click()  # [1], the citation that holds it
    chat.wait_for_function("() => document.querySelector('#article mark b')?.innerText === '41'")
    chat.screenshot(path=str(screenshots / "short-answer.png"), full_page=True)


def test_citation_list_and_earlier_markers_show_their_own_span(chat):
    later = "When was the letter delivered?"
    ask(chat, later)
    chat.locator("#citations label").first.click()
    chat.wait_for_function("q => document.querySelector('#article mark')?.innerText === q", arg=first_quote(chat, later))
    chat.locator("#chat a[href='#cite-0-1']").first.click()  # the first answer's marker
    chat.wait_for_function("q => document.querySelector('#article mark')?.innerText === q", arg=first_quote(chat, QUESTION))


def test_the_article_panel_follows_the_latest_answer(chat):
    ask(chat, QUESTION)
    chat.locator("#citations label").first.click()
    chat.wait_for_function("q => document.querySelector('#article mark')?.innerText === q", arg=first_quote(chat, QUESTION))
    later = "How old is Bondarev?"
    ask(chat, later)  # the panel shows the new answer's first citation, not the last one clicked
    chat.wait_for_function("q => document.querySelector('#article mark')?.innerText === q", arg=first_quote(chat, later))
    assert chat.locator("#chat label:text-is('Chatbot')").count() == 0  # no label over the scrolled text


def test_the_articles_list_shows_what_other_clients_added_and_removes_an_article(chat):
    added = httpx.post(f"{chat.url_base}/api/documents", json={"id": "ferry.txt", "text": "Ferry service resumes. "
                       "The ferry to Ilha Verde sailed again on Monday after repairs."}).json()
    assert added["id"] == "ferry.txt"
    chat.get_by_role("tab", name="Articles").click()
    chat.wait_for_function("() => document.querySelector('#listing').innerText.includes('ferry.txt')")
    chat.click("#remove-id input")
    chat.get_by_role("option", name="ferry.txt").click()
    chat.click("#remove")
    chat.wait_for_selector("#status :text('Removed')")
    assert "ferry.txt" not in chat.inner_text("#listing")
    ids = [d["id"] for d in httpx.get(f"{chat.url_base}/api/documents").json()]
    assert "ferry.txt" not in ids and "002_41f72d074bf60d22.txt" in ids
    chat.get_by_role("tab", name="Chat").click()


def test_an_unsure_answer_looks_unsure_and_marks_no_words(chat, screenshots):
    asked = "What was the weather in Geneva on the day Bondarev resigned?"  # the seeds never say
    reply = httpx.post(f"{chat.url_base}/api/ask", json={"question": asked}).json()
    assert reply["outcome"] == "unsure" and reply["short_answer"] is None, reply
    shown = ask(chat, asked)
    assert f"Unsure (confidence {reply['confidence']:.2f})" in shown and "The articles may not say this" in shown
    bold = {t.strip() for t in chat.locator(BOT).last.locator("strong").all_inner_texts()}
    assert bold == {"Unsure"} | {c["title"] for c in reply["citations"]}  # the titles, no words as the answer
    warning, box = chat.locator(BOT).last.locator("strong").first, chat.locator("#chat")
    chat.wait_for_timeout(300)  # the answer is scrolled to its start
    assert box.bounding_box()["y"] <= warning.bounding_box()["y"] <= box.bounding_box()["y"] + 200
    chat.screenshot(path=str(screenshots / "unsure.png"), full_page=True)
    answered = ask(chat, "How old is Bondarev?")
    assert "Unsure" not in answered and "Confidence 0." in answered


def first_quote(page, question: str) -> str:
    return httpx.post(f"{page.url_base}/api/ask", json={"question": question}).json()["citations"][0]["quote"]


def test_follow_up_is_read_in_the_conversation(chat):
    ask(chat, "Why did Boris Bondarev resign?")
    assert "Monday" in ask(chat, "When was his resignation letter delivered?")


def test_markup_in_a_question_is_shown_as_text_and_never_runs(chat):
    ask(chat, HOSTILE)
    assert chat.evaluate("window.hostile") is None
    assert HOSTILE in chat.locator("#chat [data-testid='user']").last.inner_text()


def test_uploaded_article_is_listed_and_answerable(chat, tmp_path):
    article = tmp_path / "harbour.txt"
    article.write_text("Harbour reopens\n\nThe harbour of Porto Lindo reopened on Tuesday after a storm closed "
                       f"it for nine days. A sign at the gate read {HOSTILE} in chalk.", encoding="utf-8")
    chat.get_by_role("tab", name="Articles").click()
    chat.locator("#upload input[type=file]").set_input_files(str(article))
    chat.wait_for_selector("#status :text('Added')")
    assert "harbour.txt" in chat.inner_text("#listing")
    chat.get_by_role("tab", name="Chat").click()
    answer = ask(chat, "How long was the harbour of Porto Lindo closed?")
    assert "nine days" in answer
    chat.locator("#citations label").first.click()
    chat.wait_for_function("() => document.querySelector('#article mark')?.innerText.includes('nine days')")
    assert HOSTILE in chat.inner_text("#article") and chat.evaluate("window.hostile") is None


def test_bad_upload_gets_a_clear_message(chat, tmp_path):
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    chat.get_by_role("tab", name="Articles").click()
    chat.locator("#upload input[type=file]").set_input_files(str(bad))
    chat.wait_for_selector("#status :text('scan.pdf')")
    assert "unreadable PDF" in chat.inner_text("#status")
    chat.get_by_role("tab", name="Chat").click()


def test_editor_marks_an_answer_and_downloads_the_question_set(chat):
    ask(chat, QUESTION)
    chat.click("#marking button, #marking .label-wrap")
    chat.locator("#verdict label", has_text="right").click()
    chat.fill("#expected textarea", "Lavrov")
    chat.click("#mark")
    chat.wait_for_selector("#mark-status :text('1 question(s) marked')")
    with chat.expect_download() as download:
        chat.click("#download")
    [line] = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["question"] == QUESTION and record["answers"] == ["Lavrov"]
    assert record["evidence"] == [{"source": "002_41f72d074bf60d22.txt", "quote": first_quote(chat, QUESTION)}]


def test_evaluate_tab_reports_on_the_marked_questions(chat, screenshots):
    chat.get_by_role("tab", name="Evaluate").click()
    chat.click("#run-marked")
    chat.wait_for_selector("#report-status :text('Evaluated 1 question(s)')")
    report = chat.frame_locator("#report iframe")
    assert report.locator("#totals").inner_text().count("1.0") >= 2  # answer hit and evidence hit
    assert "pass" in report.locator("#questions").inner_text()
    chat.screenshot(path=str(screenshots / "evaluate-tab.png"), full_page=True)
    chat.get_by_role("tab", name="Chat").click()


def test_new_conversation_starts_clean_and_nothing_left_the_machine(chat, screenshots):
    ask(chat, "Why did Boris Bondarev resign?")
    chat.locator("#citations label").first.click()
    chat.wait_for_selector("#article mark")
    chat.screenshot(path=str(screenshots / "web-chat.png"), full_page=True)
    chat.click("#new")
    chat.wait_for_function(f"() => !document.querySelector(\"{BOT}\")")
    assert "The articles do not say" in ask(chat, "How old is he?")
    assert "They mention Bondarev, but not “wife”." in ask(chat, "What is the name of Bondarev's wife?")
    assert chat.outside == []


def test_api_docs_page_works_offline_and_lists_the_endpoints(browser, chat):
    page = browser.new_page()
    outside = []

    def only_local(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_local)
    page.goto(f"{chat.url_base}/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    page.close()
    assert {"/api/ask", "/api/documents", "/v1/chat/completions", "/v1/models"} <= {p.replace("\u200b", "") for p in paths}
    assert outside == []
