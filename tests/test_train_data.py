from assistant.training.train_data import (
    TRAIN,
    Question,
    as_asked,
    folders,
    reader_folders,
    silenced,
)

from .support import shared

DOC = "Title\n\nFirst paragraph, kept.\n\nThe tower is 300 metres tall.\n\nIt opened in 1889.\n\nIt is in Paris.\n"


def question(id_, text, answer, group="a.txt"):
    start = DOC.index(answer)
    return Question(id_, text, (answer,), (("a.txt", start, start + len(answer)),), group)


def test_a_silenced_folder_keeps_the_first_paragraph_and_sorts_questions_by_what_is_left():
    questions = [question("h", "How tall?", "300 metres"), question("y", "When?", "1889"),
                 question("p", "Where?", "Paris"), question("f", "Which?", "First")]
    folder = silenced("s", "t", {"a.txt": DOC}, questions, seed=1)
    assert folder.source == "t"
    text = folder.docs["a.txt"]
    assert text.startswith("Title\n\nFirst paragraph, kept.\n\n") and text.endswith(".\n")
    assert text.count("\n\n") == 1 + 2  # the title, the first paragraph and half of the three after it
    kinds = {e.id: e.kind for e in folder.examples}
    assert kinds["f"] == "answerable"
    for e in folder.examples:
        if e.kind == "answerable":
            assert [text[b:end] for _, b, end in e.spans] == [dict(h="300 metres", y="1889", p="Paris", f="First")[e.id]]
        else:
            assert e.kind == "silent" and e.id in "hyp" and e.spans == ()
    assert sorted(kinds.values()).count("silent") == 1


def test_a_question_whose_answer_is_still_said_elsewhere_is_not_silent():
    other = {"b.txt": "B\n\nThe tower opened in 1889, as all know.\n"}
    folder = silenced("s", "t", {"a.txt": DOC, **other}, [question("y", "When?", "1889")], seed=1)
    kinds = [e.kind for e in folder.examples]
    assert "silent" not in kinds


def test_targeted_silencing_removes_every_paragraph_holding_a_chosen_answer():
    questions = [question(str(i), "When?", "1889") for i in range(8)]
    folder = silenced("s", "t", {"a.txt": DOC}, questions, seed=3, targeted=True)
    assert "1889" not in folder.docs["a.txt"]
    assert {e.kind for e in folder.examples} == {"silent"}


def test_questions_without_an_answer_are_asked_of_whole_articles_as_other_news():
    folder = as_asked("n", "t", {"a.txt": DOC}, [Question("q", "Who won?", None, (), "20220617")])
    assert [(e.kind, e.group) for e in folder.examples] == [("other", "20220617")]


def test_the_readers_silent_windows_come_from_articles_the_decline_never_sees():
    train = shared(TRAIN / "squad11" / "questions.jsonl").parent.parent
    reader = reader_folders(train)
    decline = folders(train)
    seen = {name for f in decline if f.source == "squad11" for name in f.docs}
    seen |= {e.group for f in decline if f.source == "squad11" for e in f.examples}  # and those asked as other
    read = {name for f in reader for name in f.docs}
    assert read and not read & seen
    kinds = {e.kind for f in reader for e in f.examples}
    assert kinds == {"answerable", "silent"}
