from assistant.ingest.chunking import MAX_CHARS, sentence_spans, split
from assistant.ingest.sources import document_from_text


def spans(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_chunks_are_verbatim_slices_of_the_document(seeded):
    for info in seeded.documents():
        document = seeded.document(info.id)
        chunks = split(document)
        assert chunks
        assert all(c.text == document.text[c.start : c.end] for c in chunks)


def test_sentences_glued_without_a_space_are_split():
    assert spans("They invaded Ukraine.I didn't want to get involved.") == [
        "They invaded Ukraine.", "I didn't want to get involved."]


def test_abbreviations_and_dates_do_not_end_a_sentence():
    text = 'Mr. Bondarev spoke on Feb. 24 of this year. He left.'
    assert spans(text) == ["Mr. Bondarev spoke on Feb. 24 of this year.", "He left."]


def test_a_case_name_and_a_year_of_birth_or_death_do_not_end_a_sentence():
    text = "In U.S. v. Schoon the court ruled. Gutenberg (d. 1468) printed it c. 1455 in Mainz. It flows to 396 m. Then"
    assert spans(text) == ["In U.S. v. Schoon the court ruled.", "Gutenberg (d. 1468) printed it c. 1455 in Mainz.",
                           "It flows to 396 m.", "Then"]


def test_closing_quote_stays_with_its_sentence():
    assert spans('"I must be concerned about it." He informed the AP.') == [
        '"I must be concerned about it."', "He informed the AP."]


def test_lines_are_hard_breaks_and_whitespace_is_trimmed():
    assert spans("  Title line\n\n  First sentence here.  \n") == ["Title line", "First sentence here."]


def test_overlong_sentence_is_cut_at_clauses():
    text = ", ".join(["a clause of several words"] * 60) + "."
    pieces = spans(text)
    assert len(pieces) > 1 and all(len(p) <= MAX_CHARS for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_chunk_ids_are_unique_within_a_document():
    chunks = split(document_from_text("a.txt", "One. Two. Three."))
    assert len({c.id for c in chunks}) == len(chunks) == 3
