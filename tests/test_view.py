from assistant.answer.cited import Answer, Citation, ShortAnswer, quoted
from assistant.serve import view


def test_unsupported_sentences_are_shown_struck_through_as_removed():
    answer = Answer("How old is he?", "Bondarev is 41 years old. [1]", mode="llm",
                    unsupported=("He was born in <b>Novosibirsk</b>. (Novosibirsk: not in the sources)",))
    shown = view.markdown(answer, 0)
    assert "Removed: the model wrote this, the sources do not support it" in shown
    assert "~~He was born in &lt;b&gt;Novosibirsk&lt;/b&gt;\\. \\(Novosibirsk: not in the sources\\)~~" in shown


def cited_answer(quote: str, **fields) -> Answer:
    citation = Citation(1, "a.txt", 0, len(quote), quote, "Envoy quits", "v1")
    return Answer("How old is he?", f"{quote} [1]", (citation,), **fields)


def test_an_unsure_answer_is_flagged_with_its_confidence_and_a_sure_one_shows_its_own():
    unsure = view.markdown(cited_answer("41 years old, he said.", unsure=True, confidence=0.42), 0)
    assert unsure.startswith("⚠️ **Unsure** (confidence 0.42)") and "Confidence" not in unsure
    sure = view.markdown(cited_answer("41 years old, he said.", short_answer=ShortAnswer("41", "a.txt", 0, 2, 1),
                                      confidence=0.93), 0)
    assert "Unsure" not in sure and "**41**" in sure and sure.endswith("*Confidence 0.93*")


def test_a_quote_that_opens_with_a_quotation_mark_is_not_quoted_twice():
    shown = view.markdown(cited_answer('"Bondarev should be tried," he said.'), 0)
    assert ': "Bondarev should be tried," he said\\.' in shown and "“\"" not in shown
    assert quoted("He left.") == "“He left.”" and quoted("“I left,” he said.") == "“I left,” he said."
