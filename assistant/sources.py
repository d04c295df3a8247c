"""Sources: files and folders in, `Document`s out; the text is kept exactly as read."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import SourceError

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf")
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


def document_from_bytes(doc_id: str, data: bytes) -> Document:
    """A Document from a file's bytes, read by the type its id ends with; the text is what the
    format carries as reading text (the article of an HTML page, the text layer of a PDF)."""
    kind = Path(doc_id).suffix.lower()
    if kind not in SUPPORTED:
        raise SourceError(f"{doc_id}: unsupported file type {kind or '(none)'!r} (use {', '.join(SUPPORTED)})")
    if not data.strip():
        raise SourceError(f"{doc_id}: empty file")
    title, text = {".pdf": _pdf, ".html": _html, ".htm": _html}.get(kind, _plain)(doc_id, data)
    return document_from_text(doc_id, text, title)


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
        return replace(document_from_bytes(doc_id, path.read_bytes()), path=str(path))
    except OSError as exc:
        return Skipped(str(path), f"cannot read ({exc.strerror or exc})")
    except SourceError as exc:
        return Skipped(str(path), str(exc).removeprefix(f"{doc_id}: "))


def _plain(doc_id: str, data: bytes) -> tuple[None, str]:
    if b"\x00" in data:
        raise SourceError(f"{doc_id}: binary data, not text")
    try:
        return None, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{doc_id}: not UTF-8 text (byte {exc.start})") from exc


def _html(doc_id: str, data: bytes) -> tuple[str | None, str]:
    """The article of a web page, without its navigation, scripts, styles and footers."""
    import trafilatura  # only when a page is read

    text = trafilatura.extract(data, include_comments=False, include_tables=False)
    if not text or not text.strip():
        raise SourceError(f"{doc_id}: no article text found in the page")
    metadata = trafilatura.extract_metadata(data)
    return (metadata.title if metadata else None), text


def _pdf(doc_id: str, data: bytes) -> tuple[str | None, str]:
    """The text layer of a PDF, pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(f"{doc_id}: encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise SourceError(f"{doc_id}: unreadable PDF ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise SourceError(f"{doc_id}: no extractable text (scanned?)")
    return title or None, text
