import pytest

from assistant import Assistant
from assistant.errors import SourceError
from assistant.evaluation.eval import load_questions, run

from .support import QUESTIONS, SQUAD_DEV, shared



@pytest.fixture(scope="module")
def report(seeded):
    return run(seeded, load_questions(shared(QUESTIONS)))


def test_question_set_meets_the_floors(report):
    assert report.answer_hit >= 0.9
    assert report.evidence_hit >= 0.9
    assert report.citation_validity == 1.0
    assert report.mean_cited_chars <= 400
    right, unanswerable = report.declined_right
    wrong, _ = report.declined_wrong
    assert unanswerable == 8 and right >= 6 and wrong <= 3


@pytest.fixture(scope="module")
def squad_dev_report(tmp_path_factory):
    assistant = Assistant(index=tmp_path_factory.mktemp("squad-dev") / "index")
    assistant.ingest([shared(SQUAD_DEV / "docs")])
    return run(assistant, load_questions(SQUAD_DEV / "questions.jsonl"))


@pytest.mark.slow
def test_wikipedia_questions_written_elsewhere_meet_their_floors(squad_dev_report):
    """400 questions by SQuAD's crowd workers on 10 articles the answer models never saw."""
    report = squad_dev_report
    assert report.answer_hit >= 0.78 and report.evidence_hit >= 0.74
    assert report.citation_validity == 1.0 and report.mean_cited_chars <= 250
    wrong, answerable = report.declined_wrong
    right, unanswerable = report.declined_right
    assert (answerable, unanswerable) == (300, 100) and wrong <= 15 and right >= 5


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


def test_declines_are_counted_per_kind_when_the_set_labels_them(seeded, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "How old is Bondarev?", "answers": ["41"], "type": "answerable"}\n'
                    '{"question": "What is the name of Bondarev\'s wife?", "answers": null, "type": "silent"}\n'
                    '{"question": "What is the capital of Cambodia?", "answers": null, "type": "null"}\n'
                    '{"question": "Who won the match?", "answers": null, "type": "null"}\n', encoding="utf-8")
    report = run(seeded, load_questions(path))
    assert report.totals()["declined_by_kind"] == {"answerable": "0/1", "null": "2/2", "silent": "1/1"}
    assert "declined_by_kind" not in run(seeded, load_questions(shared(QUESTIONS))).totals()


def test_the_short_answer_is_scored_as_squad_scores_it(seeded, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "How old is Bondarev?", "answers": ["41", "41 years"]}\n'
                    '{"question": "Why did Boris Bondarev resign?", "answers": ["in protest"]}\n'
                    '{"question": "What is the capital of Cambodia?", "answers": null}\n', encoding="utf-8")
    report = run(seeded, load_questions(path))
    age, why, _ = report.results
    assert (age.phrase_em, age.phrase_f1) == (1.0, 1.0)
    assert (why.phrase_em, why.phrase_f1) == (0.0, 0.0)  # why asks for an explanation: no phrase, counted 0
    totals = report.totals()
    assert (totals["short_answer_em"], totals["short_answer_f1"], totals["short_answer_share"]) == (0.5, 0.5, 0.5)


def test_squad_normalisation_and_f1():
    from assistant.evaluation.eval import _normal, token_f1

    assert _normal("The  Eiffel Tower.") == "eiffel tower"
    assert token_f1("the Eiffel Tower", "Eiffel Tower in Paris") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("Paris", "London") == 0.0
