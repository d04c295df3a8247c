"""Report: eval runs as one self-contained HTML page an editor can read, keep and compare.

Totals, a plot of them (matplotlib, embedded as a PNG), and a row per question: the answer, each
citation's quote in its sentence context, the expected evidence, and why it passed or failed.
Two runs side by side show what a change fixed and what it broke. The page links nothing outside
itself: no scripts, fonts or images from elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence

from ..answer.cited import quoted
from ..ingest.sources import Document
from .eval import Report, Result

CONTEXT_CHARS = 160
PLOTTED = (("answer_hit", "answer hit"), ("evidence_hit", "evidence hit"),
           ("citation_validity", "citation\nvalidity"), ("declined_right", "unanswerable\ndeclined"),
           ("answered_right", "answerable\nnot declined"))
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 6px 8px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
.fixed { background: #e8f5e9; } .broken { background: #ffebee; }
mark { background: #ffe066; } .context { color: #555; font-size: 0.92em; margin: 4px 0; }
.evidence { color: #555; font-size: 0.92em; } img { max-width: 720px; }
"""


def render(runs: Sequence[tuple[str, Report]], document: Callable[[str, str | None], Document | None],
           title: str = "Evaluation report") -> str:
    """The HTML page for one run, or several on the same questions side by side."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>",
             _totals(runs), f"<img alt='totals plot' src='data:image/png;base64,{plot(runs)}'>",
             f"<h2>Confidence</h2><img alt='reliability and risk-coverage' src='data:image/png;base64,"
             f"{confidence_plot(runs)}'>",
             _changes(runs) if len(runs) > 1 else "", _questions(runs, document), "</body></html>"]
    return "\n".join(parts)


def plot(runs: Sequence[tuple[str, Report]]) -> str:
    """A grouped bar chart of the shares, as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 3.6), dpi=100)
    width = 0.8 / len(runs)
    for i, (label, report) in enumerate(runs):
        shares = _shares(report)
        xs = [j + i * width for j in range(len(PLOTTED))]
        bars = axes.bar(xs, [shares[key] for key, _ in PLOTTED], width, label=label)
        axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.set_xticks([j + width * (len(runs) - 1) / 2 for j in range(len(PLOTTED))], [name for _, name in PLOTTED],
                    fontsize=9)
    axes.set_ylim(0, 1.12)
    axes.set_ylabel("share")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return base64.b64encode(out.getvalue()).decode()


def confidence_plot(runs: Sequence[tuple[str, Report]]) -> str:
    """Two panels as base64 PNG: the reliability diagram (mean confidence against the share that
    cites the answer, per bin; a calibrated confidence lies on the diagonal) and the risk-coverage
    curve (answering only the surest share, the share of those that do not cite the answer)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), dpi=100)
    left.plot([0, 1], [0, 1], color="#999", linewidth=1, linestyle="--")
    for label, report in runs:
        bins = report.reliability()
        ece = report.calibration_error
        name = f"{label} (ECE {ece:.3f})" if ece is not None else label
        left.plot([c for c, _, _ in bins], [o for _, o, _ in bins], marker="o", label=name)
        for c, o, n in bins:
            left.annotate(str(n), (c, o), fontsize=7, textcoords="offset points", xytext=(3, -9))
        curve = report.risk_coverage()
        right.plot([c for c, _ in curve], [r for _, r in curve], label=label)
    left.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (mean per bin; n beside)", ylabel="cites the answer",
             title="reliability")
    right.set(xlim=(0, 1), ylim=(0, 1), xlabel="coverage: share answered, surest first",
              ylabel="risk: share not citing the answer", title="risk-coverage")
    for axes in (left, right):
        axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return base64.b64encode(out.getvalue()).decode()


def _shares(report: Report) -> dict[str, float]:
    right, unanswerable = report.declined_right
    wrong, answerable = report.declined_wrong
    return {"answer_hit": report.answer_hit, "evidence_hit": report.evidence_hit,
            "citation_validity": report.citation_validity,
            "declined_right": right / unanswerable if unanswerable else 1.0,
            "answered_right": 1 - wrong / answerable if answerable else 1.0}


def _totals(runs: Sequence[tuple[str, Report]]) -> str:
    totals = [_flat(report.totals()) for _, report in runs]
    head = "".join(f"<th>{_e(label)}</th>" for label, _ in runs)
    rows = "".join(f"<tr><th>{_e(key)}</th>"
                   + "".join(f"<td class='num'>{_e(str(t[key]))}</td>" for t in totals) + "</tr>"
                   for key in totals[0])
    return f"<h2>Totals</h2><table id='totals'><tr><th></th>{head}</tr>{rows}</table>"


def _flat(totals: dict) -> dict[str, object]:
    """The totals as rows: declines and outcomes per kind of question one row each ("declined: silent",
    "answered/unsure/declined: silent")."""
    by_kind = {"declined_by_kind": "declined", "outcomes_by_kind": "answered/unsure/declined"}
    rows = {key.replace("_", " "): value for key, value in totals.items() if key not in by_kind}
    for key, label in by_kind.items():
        rows.update({f"{label}: {kind}": share for kind, share in totals.get(key, {}).items()})
    return rows


def _changes(runs: Sequence[tuple[str, Report]]) -> str:
    (a, first), (b, second) = runs[0], runs[1]
    fixed = sum(not x.passed and y.passed for x, y in zip(first.results, second.results))
    broken = sum(x.passed and not y.passed for x, y in zip(first.results, second.results))
    return (f"<p id='changes'>From <b>{_e(a)}</b> to <b>{_e(b)}</b>: {fixed} question(s) fixed, "
            f"{broken} broken.</p>")


def _questions(runs: Sequence[tuple[str, Report]], document) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for label, _ in runs)
    rows = []
    for results in zip(*(report.results for _, report in runs)):
        q = results[0].question
        change = ""
        if len(results) > 1 and results[0].passed != results[1].passed:
            change = " class='fixed'" if results[1].passed else " class='broken'"
        expected = "the sources do not say (abstain)" if q.answers is None else " or ".join(q.answers)
        evidence = "".join(f"<div class='evidence'>evidence in {_e(e.source)}: {_e(quoted(e.quote))}</div>"
                           for e in q.evidence)
        cells = "".join(f"<td>{_result(r, document)}</td>" for r in results)
        kind = f" ({_e(q.kind)})" if q.kind else ""
        rows.append(f"<tr{change}><td>line {q.line}{kind}: {_e(q.question)}<div class='evidence'>expected: "
                    f"{_e(expected)}</div>{evidence}</td>{cells}</tr>")
    return f"<h2>Questions</h2><table id='questions'><tr><th>question</th>{head}</tr>{''.join(rows)}</table>"


def _result(result: Result, document) -> str:
    verdict = "<span class='pass'>pass</span>" if result.passed else f"<span class='fail'>fail</span>: {_e(result.why)}"
    short = result.answer.short_answer
    contexts = "".join(_context(c, document(c.source, c.version), result.answer.around(c))
                       for c in result.answer.citations)
    phrase = f"<div>short answer: <b>{_e(short.text)}</b></div>" if short else ""
    confidence = result.answer.confidence
    judged = f"<div class='evidence'>{result.answer.outcome}" + (
        f", confidence {confidence:.2f}</div>" if confidence is not None else "</div>")
    return f"{verdict}{judged}{phrase}<div>{_e(result.answer.text)}</div>{contexts}"


def _context(citation, source: Document | None, around: tuple[str, str, str]) -> str:
    """The quote marked within its sentence and a little around it, the short answer in it in
    bold (`around`: the quote split around it, Answer.around)."""
    if source is None:
        return f"<div class='context'>[{citation.n}] {_e(citation.source)} is not in the index</div>"
    text = source.text
    before = text[max(0, citation.start - CONTEXT_CHARS):citation.start]
    after = text[citation.end:citation.end + CONTEXT_CHARS]
    before = re.split(r"(?<=[.!?])\s+|\n", before)[-1]
    after = re.split(r"(?<=[.!?])\s|\n", after)[0]
    quote = f"{_e(around[0])}<b>{_e(around[1])}</b>{_e(around[2])}" if around[1] else _e(citation.quote)
    return (f"<div class='context'>[{citation.n}] {_e(citation.source)} {citation.start}-{citation.end}: "
            f"…{_e(before)}<mark>{quote}</mark>{_e(after)}…</div>")


def _e(text: str) -> str:
    return html.escape(text, quote=True)
