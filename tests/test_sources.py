import json
from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.ingest.sources import (
    Document,
    Skipped,
    document_from_bytes,
    load,
    make_title,
)

from .support import pdf_bytes


def test_source_id_is_the_path_relative_to_the_folder_given(tmp_path):
    (tmp_path / "desk" / "world").mkdir(parents=True)
    (tmp_path / "desk" / "world" / "a.txt").write_text("Hello there.", encoding="utf-8")
    [doc] = load([tmp_path / "desk"])
    assert doc.id == "world/a.txt" and doc.text == "Hello there."


def test_a_file_given_directly_is_named_by_its_file_name(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Text.", encoding="utf-8")
    assert [d.id for d in load([path])] == ["story.txt"]


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\t\n", "empty file"),
    ("binary.txt", b"\x00\x01\x02abc", "binary data"),
    ("random.txt", bytes(range(256)) * 8, "binary data"),
    ("photo.jpg", b"\xff\xd8", "unsupported file type"),
])
def test_bad_files_are_skipped_by_name_with_the_reason(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    [item] = load([tmp_path])
    assert isinstance(item, Skipped) and name in item.path and reason in item.reason


def test_utf8_bom_is_not_part_of_the_text(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffStory.".encode("utf-8"))
    [doc] = load([tmp_path])
    assert doc.text == "Story."


def test_missing_path_raises_source_error_naming_it(tmp_path):
    with pytest.raises(SourceError, match="nope.txt: no such file"):
        list(load([tmp_path / "nope.txt"]))


def test_title_is_a_short_label_from_the_first_line():
    assert make_title("Short headline\nBody.") == "Short headline"
    long = make_title("word " * 40)
    assert len(long) <= 81 and long.endswith("…")


def test_version_changes_with_the_text():
    a = Document("a", "", "t", "one")
    assert a.version == Document("b", "", "u", "one").version != Document("a", "", "t", "two").version


FRENCH, GERMAN = "Le café est très bon à Genève, dit-il.", "Grüße aus Genf, sagte er."


@pytest.mark.parametrize("text, codec, named", [
    (FRENCH, "utf-8", None),
    (GERMAN, "utf-8-sig", None),
    (GERMAN, "utf-16", "utf-16"),  # with a byte-order mark
    (GERMAN, "utf-16-le", "utf-16-le"),  # without one
    (FRENCH, "latin-1", "cp1252"),  # cp1252 reads every Latin-1 letter the same
    ("He said “no” — and left for Zürich…", "cp1252", "cp1252"),
    ("Борис Бондарев ушёл в отставку в мае.", "cp1251", "cp1251"),
    ("Příliš žluťoučký kůň úpěl ďábelské ódy.", "cp1250", "cp1250"),
])
def test_text_in_common_encodings_is_read_right_and_the_encoding_named(tmp_path, text, codec, named):
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(codec))
    [doc] = load([path])
    assert doc.text == text and doc.encoding == named


def test_markdown_front_matter_is_metadata_not_text():
    data = (b"---\ntitle: Mission closes\noutlet: Geneva Daily\ndate: 2022-05-23\n"
            b"url: https://example.org/mission\n---\nThe mission closed on Friday.\n")
    doc = document_from_bytes("story.md", data)
    assert doc.text == "The mission closed on Friday.\n"
    assert (doc.title, doc.outlet, doc.date, doc.url) == ("Mission closes", "Geneva Daily", "2022-05-23",
                                                          "https://example.org/mission")


def test_malformed_front_matter_is_named():
    with pytest.raises(SourceError, match="story.md: malformed front matter"):
        document_from_bytes("story.md", b"---\ntitle: [unclosed\n---\nText.\n")


def test_jsonl_archive_gives_an_article_a_line_and_names_bad_lines(tmp_path):
    archive = tmp_path / "news.jsonl"
    archive.write_text("\n".join([
        json.dumps({"id": "a-1", "title": "Harbour reopens", "text": "The harbour reopened.", "source": "Wire",
                    "date": "2005-01-02"}),
        "{not json",
        json.dumps({"id": "a-2", "title": "No text"}),
        json.dumps({"id": "a-1", "title": "Again", "text": "Duplicate."}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "a-3", "text": "Second article.\nMore."}),
    ]), encoding="utf-8")
    items = list(load([archive]))
    docs = [i for i in items if isinstance(i, Document)]
    assert [(d.id, d.title, d.outlet, d.date) for d in docs] == [
        ("a-1", "Harbour reopens", "Wire", "2005-01-02"), ("a-3", "Second article.", None, None)]
    reasons = {i.path.rsplit(":", 1)[1]: i.reason for i in items if isinstance(i, Skipped)}
    assert set(reasons) == {"2", "3", "4", "5"}
    assert "malformed JSON" in reasons["2"] and "'text'" in reasons["3"] and "duplicate id 'a-1'" in reasons["4"]


def test_size_limit_symlink_loops_and_broken_links_are_skipped(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"word " * 300)
    (tmp_path / "ok.txt").write_text("A short article.", encoding="utf-8")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    items = {Path(i.path).name if isinstance(i, Skipped) else i.id: i for i in load([tmp_path], max_bytes=1000)}
    assert isinstance(items["ok.txt"], Document)
    assert "over the size limit of 1,000" in items["big.txt"].reason
    assert "symlink loop" in items["loop.txt"].reason and "broken symlink" in items["gone.txt"].reason
    assert "not followed" in items["up"].reason


def test_html_gives_the_article_without_navigation_or_scripts():
    page = (b"<html><head><title>Desk</title><script>var tracking = 1;</script></head><body>"
            b"<nav>Home | World | Sport</nav><article><h1>Mission closes</h1>"
            b"<p>The mission in Geneva closed on Friday after twenty years of work there.</p>"
            b"<p>Staff were moved to other posts in the capital, officials said.</p></article>"
            b"<footer>Accept cookies</footer></body></html>")
    doc = document_from_bytes("story.html", page)
    assert doc.title == "Mission closes" and "closed on Friday" in doc.text
    assert not any(junk in doc.text for junk in ("tracking", "Sport", "cookies"))


STORY = (b"<article><h1>Library closes</h1><p>The council voted on Tuesday to close the library after a long "
         b"debate about the budget, which left the reading room without staff.</p>%s</article>")


@pytest.mark.parametrize("head, byline, date", [
    (b"", b"", None),  # only a copyright footer: no date, not its year's first of January
    (b'<meta property="article:published_time" content="2025-03-04T10:00:00Z">', b"", "2025-03-04"),
    (b"", b'<p class="byline">By Ann Lee, <time datetime="2024-11-05">5 November 2024</time></p>', "2024-11-05"),
])
def test_a_page_has_the_date_its_metadata_or_byline_gives_and_no_guessed_one(head, byline, date):
    page = (b"<html><head><title>Library</title>" + head + b"</head><body>" + STORY % byline
            + b"<footer>Copyright 2026 The Gazette</footer></body></html>")
    assert document_from_bytes("story.html", page).date == date


def test_pdf_gives_its_text_layer():
    doc = document_from_bytes("memo.pdf", pdf_bytes("The ambassador left Geneva in May."))
    assert doc.text == "The ambassador left Geneva in May."


@pytest.mark.parametrize("name, data, reason", [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<<", "unreadable PDF"),
    ("blank.pdf", pdf_bytes(""), "no extractable text"),
    ("empty.html", b"<html><body><script>var x = 1;</script></body></html>", "no article text"),
    ("sheet.xlsx", b"PK\x03\x04", "unsupported file type"),
    ("nothing.md", b"", "empty file"),
])
def test_unreadable_uploads_raise_source_error_naming_the_file(name, data, reason):
    with pytest.raises(SourceError, match=f"{name}: {reason}"):
        document_from_bytes(name, data)


def test_pdf_complaints_go_into_the_error_not_to_the_terminal(caplog):
    with pytest.raises(SourceError) as raised:
        document_from_bytes("notes.pdf", b"not a PDF at all")
    assert "EOF marker not found" in str(raised.value) and str(raised.value).startswith("notes.pdf: unreadable PDF")
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
