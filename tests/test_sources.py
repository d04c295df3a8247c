import pytest

from assistant.errors import SourceError
from assistant.sources import Document, Skipped, load, make_title


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
