import pytest

from assistant import Assistant
from assistant.errors import SourceError
from assistant.answer.cited import Answer
from assistant.evaluation.eval import Question, Report, Result, load_questions, run

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


def judged(confidence: float, cites: bool, answerable: bool = True, outcome: str = "answered") -> Result:
    question = Question(1, "?", ("x",) if answerable else None)
    answer = Answer("?", "x [1]", abstained=outcome == "declined", unsure=outcome == "unsure", confidence=confidence)
    return Result(question, answer, 0.1, cites, cites, 1)


def test_the_calibration_error_weighs_each_bin_by_its_answers():
    report = Report([judged(0.95, True), judged(0.95, False), judged(0.15, False, answerable=False),
                     judged(0.15, False, outcome="declined")])
    assert report.reliability() == [(pytest.approx(0.15), 0.0, 2), (pytest.approx(0.95), 0.5, 2)]
    assert report.calibration_error == pytest.approx((2 * 0.15 + 2 * 0.45) / 4)
    assert report.risk_coverage() == [(0.25, 0.0), (0.5, 0.5), (0.75, pytest.approx(2 / 3)), (1.0, 0.75)]
    assert report.totals()["outcomes_by_kind"] == {"answerable": "2/0/1", "unanswerable": "1/0/0"}
    assert Report([judged(0.5, True)]).calibration_error == pytest.approx(0.5)


def test_every_judged_answer_carries_its_confidence_and_outcome(report):
    judged_ = [r for r in report.results if r.answer.confidence is not None]
    assert len(judged_) >= len(report.results) - 2  # all but questions that ask nothing the articles could hold
    assert all(0 <= r.answer.confidence <= 1 for r in judged_)
    answered = [r.answer.confidence for r in judged_ if r.answer.outcome == "answered"]
    declined = [r.answer.confidence for r in judged_ if r.answer.outcome == "declined"]
    assert min(answered) >= max(declined)  # one decision: the confidence orders the outcomes
    assert sum(n for _, _, n in report.reliability()) == len(judged_)
    assert report.risk_coverage()[-1][0] == 1.0 and 0 <= report.totals()["calibration_error"] <= 1
    assert all(r.answer.short_answer is None for r in report.results if r.answer.unsure)
