"""The web chat (Gradio, mounted at / on the API's FastAPI app).

Ask, follow up, click a marker or a citation to see the article with the quoted span highlighted
(the panel follows the latest answer); list the articles (read again whenever the tab is shown),
upload, paste or remove one. Every text from a question or an article is escaped before
it is rendered: markup in them shows as text, it never runs.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from ..answer.cited import quoted
from ..errors import AnswerError, AssistantError
from ..evaluation.eval import load_questions, questions_from, run
from ..evaluation.report import render
from ..ingest.sources import ARTICLES
from ..pipeline import Assistant
from . import view

EMPTY_PANEL = "<p class='hint'>Click a marker such as [1] or a citation to see the quote in its article.</p>"
# Markers are links to #cite-TURN-N; a click on one clicks the hidden #marker button, whose event
# reads the marker back (MARKER_JS) and shows that citation.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#cite-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  window.citedMarker = link.getAttribute("href").slice(6);
  document.querySelector("#marker").click();
}, true);
</script>"""
MARKER_JS = "(_, answers) => [window.citedMarker, answers]"
CSS = """
#article .text { white-space: pre-wrap; max-height: 70vh; overflow-y: auto; line-height: 1.5; }
#article mark { background: #ffe066; padding: 0 2px; }
#article .meta, #article .hint { color: #666; font-size: 0.9em; }
"""
SCROLL = "() => { setTimeout(() => document.querySelector('#article mark')?.scrollIntoView({block: 'center'}), 50); }"
# A new answer is shown from its start (an unsure warning, the words that answer), not scrolled to its last source.
ANSWER_SCROLL = """() => { setTimeout(() => {
  const bots = document.querySelectorAll("#chat [data-testid='bot']");
  const last = bots[bots.length - 1];
  let box = last?.parentElement;
  while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
  if (last && box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  document.querySelector('#article mark')?.scrollIntoView({block: 'center'});
}, 50); }"""
# Fonts the machine has: the page must not reach out to a font CDN.
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])


def mount(app: FastAPI, assistant: Assistant) -> FastAPI:
    """Mount the web chat for `assistant` at / on `app`."""
    return gr.mount_gradio_app(app, build(assistant), path="/", head=HEAD, css=CSS, theme=THEME,
                               footer_links=[], max_file_size=assistant.settings.max_file_bytes)


def build(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="Source-grounded assistant", analytics_enabled=False) as blocks:
        turns = gr.State([])  # the conversation as plain text, for follow-ups
        cited = gr.State([])  # per answer: its citations as dicts
        gr.Markdown("### Ask the articles\nEvery answer quotes its sources; click a marker to check the quote "
                    "in its article. Where the articles are silent, the assistant says so.")
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(elem_id="chat", height=480, feedback_options=None, buttons=[], show_label=False,
                                      autoscroll=False, placeholder="Ask a question about the loaded articles.")
                    question = gr.Textbox(elem_id="question", show_label=False, submit_btn=True,
                                          placeholder="Ask about the articles, then follow up…")
                    citations = gr.Radio(elem_id="citations", label="Citations: click one to see it in its article",
                                         choices=[])
                    plain = gr.Textbox(elem_id="plain", label="Answer with citations, as plain text",
                                       buttons=["copy"], interactive=False, lines=3)
                    restart = gr.Button("New conversation", elem_id="new", size="sm")
                    with gr.Accordion("Editors: mark the last answer for a question set", open=False,
                                      elem_id="marking"):
                        verdict = gr.Radio(["right", "wrong", "should decline"], label="The last answer is",
                                           elem_id="verdict")
                        expected = gr.Textbox(label="Words a right answer contains (comma-separated, any one counts)",
                                              elem_id="expected")
                        with gr.Row():
                            evidence = gr.Textbox(label="Right evidence: a verbatim quote (blank: the answer's "
                                                  "citations, when it is right)", elem_id="evidence", scale=3)
                            source = gr.Textbox(label="in article id", elem_id="evidence-source", scale=1)
                        mark = gr.Button("Add to the question set", elem_id="mark", size="sm")
                        mark_status = gr.Markdown(elem_id="mark-status")
                        download = gr.DownloadButton("Download the marked questions (.jsonl)", elem_id="download",
                                                     visible=False)
                with gr.Column(scale=2):
                    article = gr.HTML(EMPTY_PANEL, elem_id="article", js_on_load=None)
            marker = gr.Button(elem_id="marker", visible="hidden")
            clicked_marker = gr.Textbox(visible="hidden")  # carries the marker from MARKER_JS
        with gr.Tab("Evaluate"):
            gr.Markdown("Run a question set (the JSONL format of `assistant eval`, or the questions marked in "
                        "the chat) and read the report.")
            with gr.Row():
                question_set = gr.File(label="Question set (.jsonl)", file_types=[".jsonl"], elem_id="question-set")
                with gr.Column():
                    run_file = gr.Button("Evaluate the uploaded set", elem_id="run-set")
                    run_marked = gr.Button("Evaluate the marked questions", elem_id="run-marked")
                    report_file = gr.DownloadButton("Download the report (.html)", visible=False,
                                                    elem_id="report-download")
            report_status = gr.Markdown(elem_id="report-status")
            report_view = gr.HTML(elem_id="report", js_on_load=None)
        with gr.Tab("Articles") as articles:
            listing = gr.Dataframe(_listing(assistant), headers=["Title", "Id", "Passages", "Characters"],
                                   elem_id="listing", interactive=False)
            status = gr.Markdown(elem_id="status")
            with gr.Row():
                removed = gr.Dropdown(_ids(assistant), label="Remove an article", elem_id="remove-id", scale=3)
                remove = gr.Button("Remove", elem_id="remove", size="sm", variant="stop", scale=1)
            with gr.Row():
                upload = gr.File(label=f"Upload an article ({', '.join(ARTICLES)})", file_types=list(ARTICLES),
                                 elem_id="upload")
                with gr.Column():
                    title = gr.Textbox(label="Or paste: title", elem_id="paste-title")
                    text = gr.Textbox(label="Text", lines=6, elem_id="paste-text")
                    paste = gr.Button("Add pasted text", elem_id="paste")

        def respond(asked: str, messages: list, history: list, answers: list):
            """Streams a language model's text as it comes (marked unchecked), then the checked answer."""
            if not asked.strip():
                yield (gr.skip(),) * 7
                return
            try:
                for item in assistant.stream(asked, history):
                    if isinstance(item, str):
                        partial = messages + _exchange(asked, f"{view.escape(item)}\n\n*…checking against the sources*")
                        yield "", partial, history, answers, gr.skip(), gr.skip(), EMPTY_PANEL
                        continue
                    turn, answer = len(answers), item
            except AssistantError as exc:
                reply = f"⚠ {view.escape(str(exc))}"
                yield "", messages + _exchange(asked, reply), history, answers, gr.skip(), gr.skip(), gr.skip()
                return
            messages = messages + _exchange(asked, view.markdown(answer, turn))
            history = history + [{"role": "user", "content": asked}, {"role": "assistant", "content": answer.text}]
            answers = answers + [[asdict(c) | {"phrase": view.phrase(answer, c)} for c in answer.citations]]
            first = f"{turn}-1" if answer.citations else None  # the article panel follows the new answer
            yield "", messages, history, answers, _choices(answers, turn, first), answer.as_text(), show(first, answers)

        def show(choice: str | None, answers: list) -> str:
            if not choice:
                return EMPTY_PANEL
            turn, n = (int(x) for x in choice.split("-")[:2])
            if turn >= len(answers) or not 1 <= n <= len(answers[turn]):
                return EMPTY_PANEL
            citation = answers[turn][n - 1]
            return view.article(assistant.document(citation["source"], citation["version"]), citation)

        def clicked(choice: str, answers: list):
            return _choices(answers, int(choice.split("-")[0]), choice), show(choice, answers)

        def add_file(path: str | None):
            if not path:
                return gr.skip(), "Choose a file first.", None
            # The file box is emptied either way, ready for the next file.
            return *_added(assistant, lambda: assistant.add_file(Path(path).name, Path(path).read_bytes())), None

        def add_text(heading: str, body: str):
            return _added(assistant, lambda: assistant.add_text(body, heading or None))

        def remove_article(doc_id: str | None):
            if not doc_id:
                return gr.skip(), "Choose an article to remove first.", gr.skip()
            done = assistant.remove(doc_id)
            said = f"Removed **{view.escape(doc_id)}**." if done else f"⚠ {view.escape(doc_id)} is no longer in the index."
            return _listing(assistant), said, gr.update(choices=_ids(assistant), value=None)

        def add_mark(choice: str | None, words: str, quote: str, doc_id: str, history: list, answers: list,
                     marked: list):
            try:
                record = marked_question(assistant, choice, words, quote, doc_id, history, answers)
            except AssistantError as exc:
                return gr.skip(), f"⚠ {view.escape(str(exc))}", gr.skip()
            marked = marked + [record]
            path = _write_jsonl(marked)
            return marked, f"{len(marked)} question(s) marked.", gr.update(value=path, visible=True)

        def evaluate(path: str | None, marked: list | None = None):
            try:
                questions = load_questions(path) if path else questions_from(marked or [])
                if not questions:
                    raise AnswerError("no questions to evaluate: upload a set or mark answers in the chat")
                page = render([("this assistant", run(assistant, questions))], assistant.document,
                              title=f"Evaluation of {len(questions)} question(s)")
            except AssistantError as exc:
                return f"⚠ {view.escape(str(exc))}", "", gr.skip()
            out = Path(tempfile.mkdtemp(prefix="report-")) / "report.html"
            out.write_text(page, encoding="utf-8")
            frame = f"<iframe title='report' srcdoc='{html.escape(page, quote=True)}' style='width:100%;height:80vh;border:0'></iframe>"
            return f"Evaluated {len(questions)} question(s).", frame, gr.update(value=str(out), visible=True)

        marked = gr.State([])
        mark.click(add_mark, [verdict, expected, evidence, source, turns, cited, marked], [marked, mark_status, download])
        run_file.click(evaluate, question_set, [report_status, report_view, report_file])
        run_marked.click(lambda m: evaluate(None, m), marked, [report_status, report_view, report_file])
        outputs = [question, chat, turns, cited, citations, plain, article]
        question.submit(respond, [question, chat, turns, cited], outputs).then(None, js=ANSWER_SCROLL)
        citations.input(show, [citations, cited], article).then(None, js=SCROLL)
        marker.click(clicked, [clicked_marker, cited], [citations, article], js=MARKER_JS).then(None, js=SCROLL)
        restart.click(lambda: ("", [], [], [], gr.update(choices=[], value=None), "", EMPTY_PANEL), None, outputs)

        def ids():
            return gr.update(choices=_ids(assistant))

        upload.upload(add_file, upload, [listing, status, upload]).then(ids, None, removed)
        paste.click(add_text, [title, text], [listing, status]).then(ids, None, removed)
        remove.click(remove_article, removed, [listing, status, removed])
        # Other clients (the API, the CLI) add and remove articles too: the list is read when shown.
        articles.select(lambda: (_listing(assistant), ids()), None, [listing, removed])
    return blocks


def marked_question(assistant: Assistant, verdict: str | None, words: str, quote: str, doc_id: str,
                    history: list, answers: list) -> dict:
    """A question-set line for the last answer, as an editor marked it; its evidence checked verbatim."""
    if not answers:
        raise AnswerError("ask a question first, then mark its answer")
    if verdict not in ("right", "wrong", "should decline"):
        raise AnswerError("choose whether the last answer is right, wrong, or should have been declined")
    question = history[-2]["content"]
    if verdict == "should decline":
        return {"question": question, "answers": None, "evidence": []}
    expected = [w.strip() for w in words.split(",") if w.strip()]
    if not expected:
        raise AnswerError("type the words a right answer contains")
    if quote.strip():
        evidence = [{"source": doc_id.strip(), "quote": quote.strip()}]
    elif verdict == "right" and answers[-1]:
        evidence = [{"source": c["source"], "quote": c["quote"]} for c in answers[-1]]
    else:
        raise AnswerError("give the right evidence: a verbatim quote and its article id")
    for e in evidence:
        document = assistant.document(e["source"])
        if document is None or e["quote"] not in document.text:
            raise AnswerError(f"evidence {e['quote'][:60]!r} is not verbatim in {e['source'] or '(no article id)'}")
    return {"question": question, "answers": expected, "evidence": evidence}


def _write_jsonl(records: list[dict]) -> str:
    path = Path(tempfile.mkdtemp(prefix="marked-")) / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def _exchange(asked: str, reply: str) -> list[dict]:
    return [{"role": "user", "content": view.escape(asked)}, {"role": "assistant", "content": reply}]


def _choices(answers: list, turn: int, value: str | None = None):
    labels = [(f"[{c['n']}] {c['title']}: {quoted(_shorten(c['quote']))}", f"{turn}-{c['n']}") for c in answers[turn]]
    return gr.update(choices=labels, value=value)


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _listing(assistant: Assistant) -> list[list]:
    return [[d.title, d.id, d.passages, d.chars] for d in assistant.documents()]


def _ids(assistant: Assistant) -> list[str]:
    return [d.id for d in assistant.documents()]


def _added(assistant: Assistant, add) -> tuple:
    try:
        document = add()
    except AssistantError as exc:
        return gr.skip(), f"⚠ {view.escape(str(exc))}"
    return _listing(assistant), f"Added **{view.escape(document.title)}** ({view.escape(document.id)}): ask about it now."
