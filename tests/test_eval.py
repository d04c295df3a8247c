import pytest

from assistant.errors import SourceError
from assistant.eval import load_questions, run

from .conftest import QUESTIONS


@pytest.fixture(scope="module")
def report(seeded):
    return run(seeded, load_questions(QUESTIONS))


def test_question_set_meets_the_floors(report):
    assert report.answer_hit >= 0.85
    assert report.evidence_hit >= 0.90
    assert report.citation_validity == 1.0
    assert report.mean_cited_chars <= 400
    right, unanswerable = report.declined_right
    wrong, _ = report.declined_wrong
    assert unanswerable == 8 and right >= 6 and wrong <= 2


def test_every_citation_is_verbatim(report, seeded):
    for r in report.results:
        for c in r.answer.citations:
            assert seeded.document(c.source).text[c.start : c.end] == c.quote


def test_malformed_line_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "ok?", "answers": ["x"]}\n{"question": \n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"q.jsonl:2: malformed"):
        load_questions(path)


def test_evidence_not_in_its_source_is_a_bad_question_not_a_miss(seeded, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who resigned?", "answers": ["Bondarev"], "evidence": '
                    '[{"source": "002_41f72d074bf60d22.txt", "quote": "never written"}]}\n', encoding="utf-8")
    [result] = run(seeded, load_questions(path)).results
    assert "not verbatim" in result.problem
