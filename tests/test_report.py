"""eval --report / --compare / --fail-under on a small question set with hand-computed figures."""

import json
import re

import pytest

from assistant.cli import main

SET = [  # what each should score, worked out by hand from the seed articles
    {"question": "How did Bondarev deliver his resignation letter to the ambassador?", "answers": ["telephone"],
     "evidence": [{"source": "002_41f72d074bf60d22.txt", "quote": "via telephone"}]},  # pass
    {"question": "How did Bondarev deliver his resignation letter to the ambassador?", "answers": ["fax"],
     "evidence": [{"source": "002_41f72d074bf60d22.txt", "quote": "via telephone"}]},  # answer miss, evidence hit
    {"question": "What is the capital of Cambodia?", "answers": None, "evidence": []},  # declined: pass
    {"question": "Who wrote the letter?", "answers": ["Bondarev"],
     "evidence": [{"source": "002_41f72d074bf60d22.txt", "quote": "not in the article"}]},  # bad question
]


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in SET) + "\n", encoding="utf-8")
    return path


def test_report_figures_match_the_hand_computed_ones(seeded_index, questions, tmp_path, capsys):
    report = tmp_path / "report.html"
    assert main(["eval", str(questions), "--index", str(seeded_index), "--report", str(report), "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["answer_hit"], totals["evidence_hit"], totals["citation_validity"]) == (0.5, 1.0, 1.0)
    assert (totals["declined_unanswerable"], totals["declined_answerable"], totals["bad_questions"]) == ("1/1", "0/2", 1)
    page = report.read_text(encoding="utf-8")
    assert [_total(page, name) for name in ("answer hit", "evidence hit", "declined unanswerable")] == [
        "0.5", "1.0", "1/1"]
    assert page.count("<span class='pass'>pass</span>") == 2
    assert "answer miss, evidence hit" in page and "bad question: evidence &#x27;not in the article&#x27;" in page
    assert "<mark>" in page and "via telephone" in page
    assert not re.search(r"(src|href)=['\"](https?:)?//", page)  # self-contained


def _total(page: str, name: str) -> str:
    return re.search(rf"<th>{name}</th><td class='num'>([^<]*)</td>", page).group(1)


@pytest.mark.browser
def test_report_renders_in_chromium_with_its_plot(seeded_index, questions, tmp_path, screenshots):
    sync_api = pytest.importorskip("playwright.sync_api")
    report = tmp_path / "report.html"
    assert main(["eval", str(questions), "--index", str(seeded_index), "--report", str(report)]) == 0
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(report.as_uri())
        assert page.evaluate("document.querySelector('img').naturalWidth") > 300
        assert page.locator("#questions tr").count() == 1 + len(SET)
        page.screenshot(path=str(screenshots / "eval-report.png"), full_page=True)
        browser.close()
    assert outside == []


def test_compare_shows_both_runs_side_by_side(seeded_index, questions, tmp_path, capsys):
    report = tmp_path / "report.html"
    assert main(["eval", str(questions), "--index", str(seeded_index), "--compare", "decline=0.01",
                 "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "== decline=0.01" in out and f"== k=20 at {seeded_index}" in out
    page = report.read_text(encoding="utf-8")
    assert f"<th>k=20 at {seeded_index}</th><th>decline=0.01</th>" in page
    # Declining at the least doubt declines the answerable ones: what passed before breaks.
    assert "1 broken" in page and "class='broken'" in page


@pytest.mark.parametrize("floors, code", [("answer_hit=0.4,evidence_hit=0.9", 0), ("answer_hit=0.6", 1)])
def test_fail_under_sets_the_exit_code(seeded_index, questions, floors, code, capsys):
    assert main(["eval", str(questions), "--index", str(seeded_index), "--fail-under", floors]) == code
    assert ("below the floor: " in capsys.readouterr().err) == bool(code)


@pytest.mark.parametrize("argv, message", [
    (["--fail-under", "speed=1"], "use answer_hit, evidence_hit, citation_validity"),
    (["--fail-under", "answer_hit=high"], "'high' is not a number"),
    (["--compare", "colour=blue"], "expected NAME=VALUE"),
    (["--compare", "k=many"], "expected int"),
])
def test_bad_options_are_named(seeded_index, questions, argv, message, capsys):
    assert main(["eval", str(questions), "--index", str(seeded_index), *argv]) == 2
    assert message in capsys.readouterr().err
