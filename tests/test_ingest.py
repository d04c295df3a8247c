import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

from assistant import Assistant
from assistant.cli import main
from assistant.ingest.chunking import split
from assistant.ingest.sources import document_from_text
from assistant.store.ingest import embedding_text
from assistant.store.lexical import LexicalIndex

from .support import CORPUS, SEEDS, pdf_bytes, shared

ARTICLES = 100  # 1,437 passages: three groups of EMBED_GROUP


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
    assert [c.text for c in a.index.passages(["002_41f72d074bf60d22.txt"])["002_41f72d074bf60d22.txt"]] == \
        [c.text for c in a.lexical.passages_of("002_41f72d074bf60d22.txt")] == ["Correction: Bondarev resigned by fax."]
    found = [d.page_content for d in a.retriever.invoke("How did Bondarev resign?")
             if d.metadata["source"] == "002_41f72d074bf60d22.txt"]
    assert found == ["Correction: Bondarev resigned by fax."]


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


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


GOOD = {  # file name: (bytes, a question only it answers, a word of the answer)
    "plain.txt": ("The ferry to Sark left at noon on Monday.".encode("utf-8"),
                  "When did the ferry to Sark leave?", "noon"),
    "legacy.txt": ("The café in Vevey closed after 40 years, its owner said.".encode("cp1252"),
                   "When did the café in Vevey close?", "40 years"),
    "wide.txt": ("The glacier above Zermatt lost nine metres of ice.".encode("utf-16"),
                 "How much ice did the glacier above Zermatt lose?", "nine metres"),
    "front.md": (b"---\ntitle: Bells return\noutlet: Valais Post\ndate: 2022-06-01\n---\n"
                 b"The bells of Sion cathedral rang again on Sunday.\n",
                 "When did the bells of Sion cathedral ring again?", "Sunday"),
    "page.html": (b"<html><head><title>Lake</title><style>p{}</style></head><body><nav>Home</nav><article>"
                  b"<h1>Lake warms</h1><p>Lake Geneva reached 25 degrees in July, a record for the month.</p>"
                  b"</article><footer>Cookies</footer></body></html>",
                  "What temperature did Lake Geneva reach in July?", "25 degrees"),
    "memo.pdf": (pdf_bytes("The tunnel under the Simplon pass reopened in March."),
                 "When did the tunnel under the Simplon pass reopen?", "March"),
    "wire.jsonl": (json.dumps({"id": "wire-7", "title": "Vote", "text": "Voters in Uri approved the new bridge.",
                               "source": "Wire"}).encode() + b"\n{broken\n",
                   "What did voters in Uri approve?", "bridge"),
}
BAD = {  # file name: (bytes, the reason named)
    "empty.txt": (b"", "empty file"),
    "blank.md": (b" \n\t \n", "empty file"),
    "image.txt": (bytes(range(256)) * 4, "binary data"),
    "cut.pdf": (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "unreadable PDF"),
    "locked.pdf": (_encrypted_pdf(), "encrypted PDF"),
    "huge.txt": (b"word " * 2000, "over the size limit"),
    "sheet.xlsx": (b"PK\x03\x04", "unsupported file type"),
}


def test_awkward_folder_good_files_answerable_bad_ones_named(tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name, (data, *_) in {**GOOD, **BAD}.items():
        (folder / name).write_bytes(data)
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    index = tmp_path / "ix"
    environ = {"ASSISTANT_MAX_FILE_BYTES": "5000"}
    with mock.patch.dict(os.environ, environ):
        assert main(["ingest", str(folder), "--index", str(index)]) == 0
        out, err = capsys.readouterr()
        assert "7 added" in out and "Traceback" not in out + err
        for name, (_, reason) in BAD.items():
            assert f"skipped {folder / name}: " in err and reason in err.split(f"{folder / name}: ")[1].splitlines()[0]
        assert f"skipped {folder / 'loop.txt'}: broken symlink or symlink loop" in err
        assert f"skipped {folder / 'wire.jsonl'}:2: malformed JSON" in err
        assert "legacy.txt: read as cp1252" in err
        a = Assistant(index=index)
        for name, (_, question, word) in GOOD.items():
            answer = a.ask(question)
            assert word in answer.text, (name, answer.text)
            c = answer.citations[0]
            assert c.source == ("wire-7" if name == "wire.jsonl" else name)
            assert a.document(c.source).text[c.start:c.end] == c.quote
        cited = a.ask("When did the bells of Sion cathedral ring again?").citations[0]
        assert (cited.title, cited.outlet, cited.date) == ("Bells return", "Valais Post", "2022-06-01")
        assert main(["ingest", str(folder), "--index", str(index)]) == 0
        assert "0 added, 0 updated, 7 unchanged" in capsys.readouterr().out
        assert Assistant(index=index).index.count() == a.index.count()


def test_correction_keeps_the_earlier_version_for_old_citations(seed_copy, settings, capsys):
    a = Assistant(settings=settings)
    a.ingest([seed_copy])
    before = a.ask("What did Bondarev rail against at the Foreign Ministry?").citations[0]
    path = seed_copy / before.source
    path.write_text(path.read_text(encoding="utf-8").replace("Sergey Lavrov", "Sergei Lavrov"), encoding="utf-8")
    assert a.ingest([seed_copy]).updated == [before.source]
    after = a.ask("What did Bondarev rail against at the Foreign Ministry?").citations[0]
    assert after.version != before.version and "Sergei Lavrov" in after.quote
    assert a.document(before.source, before.version).text[before.start:before.end] == before.quote
    assert a.versions(before.source) == [before.version]
    assert main(["documents", "--index", str(settings.index)]) == 0
    assert f"{before.source}\t" in capsys.readouterr().out
    assert main(["documents", before.source, "--version", before.version, "--index", str(settings.index)]) == 0
    assert "Sergey Lavrov" in capsys.readouterr().out
    listing = {d.id: d for d in a.documents()}
    assert listing[before.source].versions == 2


def test_remove_takes_the_article_its_passages_and_versions(seed_copy, settings, capsys):
    Assistant(settings=settings).ingest([seed_copy])
    index = str(settings.index)
    assert main(["remove", "000_dec2564058fc4657.txt", "--index", index]) == 0
    assert main(["remove", "nope.txt", "--index", index]) == 2
    assert "nope.txt: no such document" in capsys.readouterr().err
    a = Assistant(settings=settings)
    assert [d.id for d in a.documents()] == ["002_41f72d074bf60d22.txt"]
    assert set(a.index.passages(["000_dec2564058fc4657.txt", "002_41f72d074bf60d22.txt"])) == \
        {"002_41f72d074bf60d22.txt"}
    assert a.lexical.passages_of("000_dec2564058fc4657.txt") == []
    assert a.lexical.count() == a.index.count()


@pytest.mark.slow
def test_second_writer_fails_with_a_clear_message(seed_copy, settings):
    writer = Assistant(settings=settings)
    writer.ingest([seed_copy])  # holds the index for writing while this process lives
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(SEEDS), "--index", str(settings.index)],
                         capture_output=True, text=True, timeout=300)
    # The seeds are unchanged, so nothing is written: no lock needed.
    assert run.returncode == 0, run.stderr
    (seed_copy / "new.txt").write_text("A new article about the harbour.", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(seed_copy), "--index",
                          str(settings.index)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "being written by another process" in run.stderr
    assert "Traceback" not in run.stderr


def _stored(index: Path) -> tuple[dict, dict, dict]:
    """Every passage (id: text) and document (id: version) of a complete index, and every
    passage of its lexical index."""
    a = Assistant(index=index)
    documents = {d.id: d.version for d in a.documents()}
    stored = a.index.passages(list(documents))
    kept = {c.id: c.text for doc_id in documents for c in a.lexical.passages_of(doc_id)}
    assert a.lexical.count() == len(kept)
    return {c.id: c.text for chunks in stored.values() for c in chunks}, documents, kept


@pytest.mark.slow
def test_ingest_killed_mid_run_then_rerun_equals_a_clean_run(tmp_path):
    """An ingest of ARTICLES archive articles (several groups of passages), killed once its first
    group is stored (its lexical segment is written)."""
    archive = tmp_path / "news.jsonl"
    with open(shared(CORPUS)) as lines:
        archive.write_text("".join(next(lines) for _ in range(ARTICLES)), encoding="utf-8")
    command = [sys.executable, "-m", "assistant.cli", "ingest", str(archive), "--index"]
    subprocess.run(command + [str(tmp_path / "clean")], check=True, capture_output=True, timeout=600)
    killed = subprocess.Popen(command + [str(tmp_path / "killed")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lexical = tmp_path / "killed" / "lexical"
    while killed.poll() is None and not any(lexical.glob("*.store")):  # a segment: the first group is stored
        time.sleep(0.02)
    assert killed.poll() is None, "the ingest ended before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    rerun = subprocess.run(command + [str(tmp_path / "killed")], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    # the rerun finishes what the killed one left: articles it never reached, or one cut off mid-write
    assert re.search(r"\b[1-9]\d* added|incomplete from an interrupted ingest removed", rerun.stdout), rerun.stdout
    passages, documents, lexical = _stored(tmp_path / "killed")
    clean_passages, clean_documents, clean_lexical = _stored(tmp_path / "clean")
    assert len(documents) == ARTICLES and documents == clean_documents
    assert passages == clean_passages == lexical == clean_lexical


def test_a_new_process_keeps_the_lexical_index_and_fills_a_stale_or_behind_one(seed_copy, settings):
    Assistant(settings=settings).ingest([seed_copy])
    stored = Assistant(settings=settings).index.count()
    with mock.patch.object(LexicalIndex, "put", side_effect=AssertionError("filled again at startup")):
        loaded = Assistant(settings=settings).lexical
    assert loaded.count() == stored
    loaded.remove(["002_41f72d074bf60d22.txt"])  # as when a writer is killed between the store and it
    assert loaded.count() < stored
    assert Assistant(settings=settings).lexical.count() == stored
    # written in another format: emptied and filled again, whatever its record of the last catch-up says
    loaded.remove(["002_41f72d074bf60d22.txt"])
    state = json.loads((loaded.folder / "state.json").read_text())
    state |= {"format": "written by an older tokenizer", "synced": time.time() + 3600}
    (loaded.folder / "state.json").write_text(json.dumps(state))
    assert Assistant(settings=settings).lexical.count() == stored
