"""Sources: files and folders in, `Document`s out; the text is kept exactly as read."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

SUPPORTED = (".txt", ".md")
TITLE_CHARS = 80


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the folder given, or the file name
    path: str
    title: str
    text: str  # every citation offset points into this string

    @property
    def version(self) -> str:
        """A short content hash: equal texts have equal versions."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def load(paths: Iterable[str | Path]) -> Iterator[Document | Skipped]:
    """Yield a Document per readable file under `paths`, a Skipped for each one that is not."""
    for given in map(Path, paths):
        if given.is_dir():
            for path in sorted(p for p in given.rglob("*") if p.is_file()):
                yield _load_file(path, path.relative_to(given).as_posix())
        elif given.is_file():
            yield _load_file(given, given.name)
        else:
            raise SourceError(f"{given}: no such file or folder")


def document_from_text(doc_id: str, text: str, title: str | None = None) -> Document:
    """A Document from pasted text; the title defaults to the start of the text."""
    if not text.strip():
        raise SourceError(f"{doc_id}: the text is empty")
    return Document(id=doc_id, path="", title=title or make_title(text), text=text)


def make_title(text: str) -> str:
    """The first line, cut at a word boundary to TITLE_CHARS; a label, never a quote."""
    line = text.strip().splitlines()[0].strip()
    if len(line) <= TITLE_CHARS:
        return line
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _load_file(path: Path, doc_id: str) -> Document | Skipped:
    if path.suffix.lower() not in SUPPORTED:
        return Skipped(str(path), f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        text = _read_text(path)
        return document_from_text(doc_id, text) if text.strip() else Skipped(str(path), "empty file")
    except (OSError, SourceError) as exc:
        return Skipped(str(path), str(exc).removeprefix(f"{path}: "))


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise SourceError(f"{path}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
