import pytest

from assistant.errors import SourceError
from assistant.sources import Document, Skipped, document_from_bytes, load, make_title


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
    ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
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


def _pdf(text: str) -> bytes:
    """A one-page PDF with a text layer, written by hand: no PDF writer needed in the tests."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_html_gives_the_article_without_navigation_or_scripts():
    page = (b"<html><head><title>Desk</title><script>var tracking = 1;</script></head><body>"
            b"<nav>Home | World | Sport</nav><article><h1>Mission closes</h1>"
            b"<p>The mission in Geneva closed on Friday after twenty years of work there.</p>"
            b"<p>Staff were moved to other posts in the capital, officials said.</p></article>"
            b"<footer>Accept cookies</footer></body></html>")
    doc = document_from_bytes("story.html", page)
    assert doc.title == "Mission closes" and "closed on Friday" in doc.text
    assert not any(junk in doc.text for junk in ("tracking", "Sport", "cookies"))


def test_pdf_gives_its_text_layer():
    doc = document_from_bytes("memo.pdf", _pdf("The ambassador left Geneva in May."))
    assert doc.text == "The ambassador left Geneva in May."


@pytest.mark.parametrize("name, data, reason", [
    ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<<", "unreadable PDF"),
    ("blank.pdf", _pdf(""), "no extractable text"),
    ("empty.html", b"<html><body><script>var x = 1;</script></body></html>", "no article text"),
    ("sheet.xlsx", b"PK\x03\x04", "unsupported file type"),
    ("nothing.md", b"", "empty file"),
])
def test_unreadable_uploads_raise_source_error_naming_the_file(name, data, reason):
    with pytest.raises(SourceError, match=f"{name}: {reason}"):
        document_from_bytes(name, data)
