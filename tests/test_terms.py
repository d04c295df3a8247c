import pytest

from assistant.store.terms import fold, forms, names, stems, terms


@pytest.mark.parametrize("text, plain", [
    ("café in Genève", "cafe in Geneve"),
    ("Bondarev’s “letter”", "Bondarev's \"letter\""),
    ("Zürich, São Paulo, Kraków", "Zurich, Sao Paulo, Krakow"),
    ("plain text", "plain text"),
])
def test_accents_and_quote_styles_fold(text, plain):
    assert fold(text) == plain


def test_terms_are_the_same_with_or_without_accents_and_curly_quotes():
    assert terms("The café in Genève didn’t close") == terms("The cafe in Geneve didn't close")


def test_words_of_other_scripts_are_kept():
    assert terms("Москва and 東京") == ["москва", "東京"]


@pytest.mark.parametrize("word, other", [("leave", "left"), ("went", "go"), ("children", "child"), ("bought", "buy")])
def test_irregular_forms_share_a_stem(word, other):
    assert forms(word) & forms(other)
    assert stems([other])[0] in forms(word)


def test_unrelated_words_share_no_form():
    assert not forms("leave") & forms("arrive")


@pytest.mark.parametrize("question, named", [
    ("How old is Bondarev?", ("Bondarev",)),
    ("how old is Bondarev?", ("Bondarev",)),  # typed in lower case: the name is still the first capital
    ("Bondarev's age?", ("Bondarev",)),  # a name that opens the question
    ("What's the café in Genève?", ("Geneve",)),
    ("Did NATO reply?", ("NATO",)),
    ("Describe the letter he wrote.", ()),  # a common word capitalised to open it
])
def test_names_are_the_questions_capitalised_words_but_an_opening_common_word(question, named):
    assert names(question) == named
