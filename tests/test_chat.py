import pytest

from assistant import AnswerError
from assistant.answer.followups import Turn, named_subjects, standalone, turns

ASKED = [Turn("user", "Why did Boris Bondarev resign?"), Turn("assistant", "The articles do not say.")]


@pytest.mark.parametrize("question, expected", [
    ("How old is he?", "How old is Bondarev?"),
    ("And where does he live?", "Where does Bondarev live?"),
    ("What did his letter say?", "What did Bondarev's letter say?"),
    ("Who is Lavrov?", "Who is Lavrov?"),  # names its own subject
    ("What happened in May?", "What happened in May?"),  # no pronoun: a new question
])
def test_follow_up_takes_the_subject_of_the_conversation(question, expected):
    assert standalone(question, ASKED) == expected


def test_group_pronoun_takes_the_full_name():
    history = [Turn("user", "What did the United Nations say?")]
    assert standalone("What did they do next?", history) == "What did United Nations do next?"


def test_without_history_the_question_is_asked_as_is():
    assert standalone("How old is he?", []) == "How old is he?"


def test_subject_falls_back_to_the_assistant_turn():
    history = [Turn("user", "Who resigned?"), Turn("assistant", "Boris Bondarev resigned [1]")]
    assert standalone("Where does he live?", history) == "Where does Bondarev live?"


def test_named_subjects_skip_sentence_openers_and_pronouns():
    assert named_subjects("What did Bondarev say about Sergey Lavrov? I think The AP said so.") == [
        "Bondarev", "Sergey Lavrov", "AP"]


@pytest.mark.parametrize("history", [[{"role": "system", "content": "x"}], [{"role": "user"}], ["text"]])
def test_malformed_history_is_an_answer_error(history):
    with pytest.raises(AnswerError, match=r"history\[0\]"):
        turns(history)


def test_follow_up_is_answered_in_the_context_of_the_conversation(seeded):
    first = seeded.ask("Why did Boris Bondarev resign?")
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    follow_up = seeded.ask("When was his resignation letter delivered?", history=history)
    assert follow_up.question == "When was his resignation letter delivered?"
    assert "Monday" in follow_up.citations[0].quote
    assert seeded.ask("How old is he?").abstained  # a new conversation starts clean
