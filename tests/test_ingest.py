from assistant import Assistant
from assistant.chunking import split
from assistant.ingest import embedding_text
from assistant.sources import document_from_text


def test_reingesting_unchanged_files_changes_nothing(seed_copy, settings):
    a = Assistant(settings=settings)
    first = a.ingest([seed_copy])
    count = a.index.count()
    second = Assistant(settings=settings).ingest([seed_copy])
    assert len(first.added) == 2 and first.passages == count > 0
    assert second.added == second.updated == [] and sorted(second.unchanged) == sorted(first.added)
    assert Assistant(settings=settings).index.count() == count


def test_changed_file_replaces_its_passages(seed_copy, settings):
    a = Assistant(settings=settings)
    a.ingest([seed_copy])
    path = seed_copy / "002_41f72d074bf60d22.txt"
    path.write_text("Correction: Bondarev resigned by fax.", encoding="utf-8")
    report = a.ingest([seed_copy])
    assert report.updated == ["002_41f72d074bf60d22.txt"]
    ids = [c.doc_id for c in a.index.chunks()]
    assert ids.count("002_41f72d074bf60d22.txt") == 1
    answer = a.ask("How did Bondarev resign?")
    assert "fax" in answer.text


def test_document_text_is_kept_for_checking_citations(seed_copy, settings):
    a = Assistant(settings=settings)
    a.ingest([seed_copy])
    stored = a.document("000_dec2564058fc4657.txt")
    assert stored.text == (seed_copy / "000_dec2564058fc4657.txt").read_text(encoding="utf-8")


def test_pasted_documents_are_answerable_at_once(settings):
    a = Assistant(settings=settings)
    a.add_documents([document_from_text("note", "The harbour bridge reopened on Tuesday after repairs.")])
    answer = a.ask("When did the harbour bridge reopen?")
    assert not answer.abstained and "Tuesday" in answer.text


def test_skipped_files_are_reported_and_the_rest_ingested(seed_copy, settings):
    (seed_copy / "bad.txt").write_bytes(b"\x00\x00")
    report = Assistant(settings=settings).ingest([seed_copy])
    assert [s.path.endswith("bad.txt") for s in report.skipped] == [True] and len(report.added) == 2


def test_encoder_sees_the_title_but_offsets_are_the_sentence_alone():
    doc = document_from_text("a", "Headline here\nHe spoke.")
    chunk = split(doc)[1]
    assert embedding_text(doc, chunk) == "Headline here: He spoke." and chunk.text == "He spoke."
