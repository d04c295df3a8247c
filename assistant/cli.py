"""The command line: `assistant ingest | ask | eval | documents | remove | serve`, a thin layer over Assistant."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

from .config import EMBEDDING_BACKENDS, Settings
from .errors import AssistantError, SourceError

log = logging.getLogger("assistant")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        flags = {"index": args.index and Path(args.index), "chroma_url": args.chroma_url, "device": args.device,
                 "embedding_backend": args.embedding_backend, "llm": getattr(args, "llm", None)}
        settings = replace(settings, **{k: v for k, v in flags.items() if v})
        return args.run(args, settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--index", help="index folder (default: ./index or ASSISTANT_INDEX)")
        sub.add_argument("--chroma-url", help="a Chroma server as the store, http://HOST:PORT (or CHROMA_URL)")
        sub.add_argument("--device", help="where to embed: cpu, cuda, cuda:1, mps (default: the CPU; with "
                         "--embedding-backend torch, cuda when present)")
        sub.add_argument("--embedding-backend", choices=EMBEDDING_BACKENDS,
                         help="what runs the embedding model (or ASSISTANT_EMBEDDING_BACKEND; the index records it)")
        sub.set_defaults(run=run)
        return sub

    ingest = command("ingest", _ingest, "add articles (files or folders) to the index")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ask = command("ask", _ask, "answer questions with cited quotes (no question: read them from the terminal)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--file", help="a file with one question a line")
    ask.add_argument("--json", action="store_true", help="one JSON object a line")
    evaluate = command("eval", _eval, "score a test question set (JSONL)")
    evaluate.add_argument("questions", metavar="QUESTIONS.jsonl")
    evaluate.add_argument("--json", action="store_true", help="print the totals and results as JSON")
    evaluate.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report")
    evaluate.add_argument("--compare", metavar="SETTING=VALUE,...",
                          help="also run with these settings changed (e.g. k=4 or index=/data/archive), side by side")
    evaluate.add_argument("--fail-under", metavar="NAME=FLOOR,...",
                          help="exit 1 when a total is below its floor, e.g. answer_hit=0.85,evidence_hit=0.9")
    documents = command("documents", _documents, "list the articles in the index, or print one's text")
    documents.add_argument("id", nargs="?", metavar="ID", help="print this article's stored text")
    documents.add_argument("--version", help="an earlier version's text (a citation's version)")
    remove = command("remove", _remove, "remove articles, their passages and earlier versions")
    remove.add_argument("ids", nargs="+", metavar="ID")
    serve = command("serve", _serve, "serve the web chat at /, the JSON API at /api, OpenAI-compatible chat at "
                                     "/v1 and MCP at /mcp")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    command("mcp", _mcp, "serve the MCP tools (ask, search, get_document, list_documents) over stdin/stdout")
    for sub in (ask, evaluate, serve):
        sub.add_argument("--llm", metavar="PROVIDER:MODEL",
                         help="a chat model writes the answers, checked against the sources (or ASSISTANT_LLM)")
    return parser


def _assistant(settings: Settings):
    from .pipeline import Assistant  # heavy imports only once the arguments are known

    return Assistant(settings=settings)


def _ingest(args, settings: Settings) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise SourceError(f"{missing[0]}: no such file or folder")
    report = _assistant(settings).ingest(args.paths, progress=sys.stderr.isatty())
    for skipped in report.skipped:
        print(f"skipped {skipped}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{report.summary()} -> {settings.location}")
    return 0 if report.added or report.updated or report.unchanged else 2


def _ask(args, settings: Settings) -> int:
    assistant = _assistant(settings)
    assistant.index  # fail now, before any question, when there is no index
    if args.question is not None:
        questions = [args.question]
    elif args.file:
        questions = _lines(args.file)
    else:
        return _loop(assistant, args.json)
    from tqdm import tqdm

    with tqdm(questions, unit=" question", desc="ask", delay=0.5,
              disable=len(questions) < 2 or not sys.stderr.isatty()) as bar:
        for question in bar:
            answer = assistant.ask(question)
            bar.clear()  # the answers go to the terminal too: the bar is drawn again below them
            _print_answer(answer, args.json)
    return 0


def _loop(assistant, as_json: bool) -> int:
    """One conversation: each question is read in the light of the ones before it."""
    interactive = sys.stdin.isatty()
    history: list[dict] = []
    while True:
        try:
            question = input("question> " if interactive else "")
        except EOFError:
            return 0
        if not question.strip():
            continue
        try:
            answer = assistant.ask(question, history)
        except AssistantError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        _print_answer(answer, as_json)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def _lines(path: str) -> list[str]:
    try:
        lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from exc
    return [line for line in lines if line]


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        return
    print(answer.as_text(), end="\n\n", flush=True)


def _eval(args, settings: Settings) -> int:
    from .evaluation.eval import below, load_questions, parse_floors, run

    floors = parse_floors(args.fail_under or "")
    questions = load_questions(args.questions)
    progress = sys.stderr.isatty()
    runs = [(_label(settings), run(_assistant(settings), questions, progress))]
    if args.compare:
        other = _configured(settings, args.compare)
        runs.append((args.compare, run(_assistant(other), questions, progress)))
    if args.report:
        from .evaluation.report import render

        page = render(runs, _assistant(settings).document, title=f"Evaluation of {args.questions}")
        Path(args.report).write_text(page, encoding="utf-8")
    for label, report in runs:
        _print_run(label if len(runs) > 1 else None, report, args.json)
    if args.report:
        print(f"report: {args.report}", file=sys.stderr)
    failed = [f"{label}: {line}" for label, report in runs for line in below(report, floors)]
    for line in failed:
        print(f"below the floor: {line}", file=sys.stderr)
    return 1 if failed else 0


def _label(settings: Settings) -> str:
    return f"k={settings.k} at {settings.location}"


def _configured(settings: Settings, spec: str) -> Settings:
    """`settings` with the changes of `spec`, e.g. "k=4,index=/data/archive"."""
    from .config import parse_changes

    return replace(settings, **parse_changes(spec))


def _print_run(label: str | None, report, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"run": label, "totals": report.totals(), "results": [
            {"line": r.question.line, "question": r.question.question, "passed": r.passed, "why": r.why,
             "answer_hit": r.answer_hit, "evidence_hit": r.evidence_hit, "problem": r.problem,
             **{k: v for k, v in r.answer.to_dict().items() if k != "question"}} for r in report.results]}))
        return
    if label:
        print(f"== {label}")
    for r in report.misses:
        print(f"miss  line {r.question.line}: {r.question.question}  [{r.why}]\n      -> {r.answer.text[:200]}")
    t = report.totals()
    print(f"\n{t['questions']} questions, latency p50 {t['latency_p50_ms']} ms, p95 {t['latency_p95_ms']} ms, "
          f"{t['bad_questions']} bad questions")
    print(f"answer hit {t['answer_hit']:.3f}  evidence hit {t['evidence_hit']:.3f}")
    print(f"short answer exact match {t['short_answer_em']:.3f}  F1 {t['short_answer_f1']:.3f}  "
          f"on {100 * t['short_answer_share']:.0f}% of answered answerable questions")
    print(f"citation validity {100 * t['citation_validity']:.1f}%  mean cited characters {t['mean_cited_chars']}")
    print(f"abstentions: {t['declined_unanswerable']} unanswerable declined, "
          f"{t['declined_answerable']} answerable wrongly declined")
    if "declined_by_kind" in t:
        print("declined by kind: " + ", ".join(f"{kind} {share}" for kind, share in t["declined_by_kind"].items()))
    print("answered/unsure/declined: " + ", ".join(f"{kind} {n}" for kind, n in t["outcomes_by_kind"].items()))
    if t["calibration_error"] is not None:
        print(f"confidence: expected calibration error {t['calibration_error']:.3f}")


def _documents(args, settings: Settings) -> int:
    assistant = _assistant(settings)
    if args.id:
        document = assistant.document(args.id, args.version)
        if document is None:
            at = f" at version {args.version}" if args.version else ""
            raise SourceError(f"{args.id}: no such document{at} in {settings.location} (see `assistant documents`)")
        print(document.text)
        return 0
    print("id\ttitle\tversions\tpassages\tingested")
    for d in assistant.documents():
        ingested = time.strftime("%Y-%m-%d %H:%M", time.localtime(d.ingested))
        print(f"{d.id}\t{d.title}\t{d.versions}\t{d.passages}\t{ingested}")
    return 0


def _remove(args, settings: Settings) -> int:
    assistant = _assistant(settings)
    missing = [doc_id for doc_id in args.ids if not assistant.remove(doc_id)]
    for doc_id in missing:
        print(f"error: {doc_id}: no such document in {settings.location}", file=sys.stderr)
    print(f"{len(args.ids) - len(missing)} removed")
    return 2 if missing else 0


def _serve(args, settings: Settings) -> int:
    import uvicorn

    from .serve.api import create_app
    from .serve.web import mount

    assistant = _assistant(settings)
    assistant.index.lock()  # this process owns the index while it serves
    assistant.warm()
    app = mount(create_app(assistant, args.host), assistant)
    print(f"serving {settings.location} on http://{args.host}:{args.port} (API under /api, OpenAI-compatible "
          f"/v1, MCP /mcp)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _mcp(args, settings: Settings) -> int:
    from .serve.mcp_server import serve_stdio

    assistant = _assistant(settings)
    assistant.index.lock()  # this process owns the index while it serves
    assistant.warm()
    serve_stdio(assistant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
