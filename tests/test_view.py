from assistant.answer.cited import Answer
from assistant.serve import view


def test_unsupported_sentences_are_shown_struck_through_as_removed():
    answer = Answer("How old is he?", "Bondarev is 41 years old. [1]", mode="llm",
                    unsupported=("He was born in <b>Novosibirsk</b>. (Novosibirsk: not in the sources)",))
    shown = view.markdown(answer, 0)
    assert "Removed: the model wrote this, the sources do not support it" in shown
    assert "~~He was born in &lt;b&gt;Novosibirsk&lt;/b&gt;\\. \\(Novosibirsk: not in the sources\\)~~" in shown
