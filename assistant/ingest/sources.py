"""Sources: files, folders and archives in, `Document`s out; the text is kept exactly as read.

Every file that cannot be an article comes out as a `Skipped` naming it and why, and the run goes
on: empty, binary, too large, unreadable, a symlink loop, an unsupported type, a malformed line of
an archive (named by its line number).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from .formats import ARCHIVES, ARTICLES, Extracted, extract, records

SUPPORTED = ARTICLES + ARCHIVES
TITLE_CHARS = 80
DEFAULT_MAX_BYTES = 20_000_000


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the folder given, the file name, or an archive record's id
    path: str
    title: str
    text: str  # every citation offset points into this string
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()  # where each page of a PDF starts in `text`
    encoding: str | None = None  # the encoding the file was read in, when not UTF-8

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


def load(paths: Iterable[str | Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Document | Skipped]:
    """Yield a Document per article under `paths` (an archive gives many), a Skipped for each
    file or archive line that cannot be one."""
    for given in map(Path, paths):
        if given.is_dir():
            for path in _files(given):
                yield from _load_path(path, path.relative_to(given).as_posix(), max_bytes)
        elif given.exists() or given.is_symlink():
            yield from _load_path(given, given.name, max_bytes)
        else:
            raise SourceError(f"{given}: no such file or folder")


def document_from_text(doc_id: str, text: str, title: str | None = None) -> Document:
    """A Document from pasted text; the title defaults to the start of the text."""
    if not text.strip():
        raise SourceError(f"{doc_id}: the text is empty")
    return Document(id=doc_id, path="", title=title or make_title(text), text=text)


def document_from_bytes(doc_id: str, data: bytes, path: str = "") -> Document:
    """A Document from one article's bytes, read by the type its id ends with; the text is what
    the format carries as reading text (the article of an HTML page, the text layer of a PDF)."""
    kind = Path(doc_id).suffix.lower()
    if kind not in ARTICLES:
        raise SourceError(f"{doc_id}: unsupported file type {kind or '(none)'!r} (use {', '.join(ARTICLES)})")
    if not data.strip():
        raise SourceError(f"{doc_id}: empty file")
    return _document(doc_id, path, extract(doc_id, kind, data))


def make_title(text: str) -> str:
    """The first line, cut at a word boundary to TITLE_CHARS; a label, never a quote."""
    line = text.strip().splitlines()[0].strip()
    if len(line) <= TITLE_CHARS:
        return line
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _document(doc_id: str, path: str, e: Extracted) -> Document:
    if not e.text.strip():
        raise SourceError(f"{doc_id}: no text (only whitespace)")
    return Document(id=doc_id, path=path, title=(e.title or "").strip() or make_title(e.text), text=e.text,
                    outlet=e.outlet, date=e.date, url=e.url, pages=e.pages, encoding=e.encoding)


def _files(folder: Path) -> Iterator[Path]:
    """Every file under `folder` in a stable order; symlinked folders are not followed (no loops)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            yield Path(root, name)


def _load_path(path: Path, doc_id: str, max_bytes: int) -> Iterator[Document | Skipped]:
    kind = path.suffix.lower()
    problem = _problem(path, kind, max_bytes)
    if problem:
        yield Skipped(str(path), problem)
    elif kind in ARCHIVES:
        yield from _load_archive(path, max_bytes)
    else:
        try:
            yield document_from_bytes(doc_id, path.read_bytes(), str(path))
        except OSError as exc:
            yield Skipped(str(path), f"cannot read ({exc.strerror or exc})")
        except SourceError as exc:
            yield Skipped(str(path), str(exc).removeprefix(f"{doc_id}: "))


def _problem(path: Path, kind: str, max_bytes: int) -> str | None:
    """Why `path` cannot be read as articles at all, if it cannot."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken symlink or symlink loop"
        if path.is_dir():
            return "symlinked folder, not followed"
    if kind not in SUPPORTED:
        return f"unsupported file type {kind or '(none)'!r}"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if kind not in ARCHIVES and size > max_bytes:
        return f"{size:,} bytes, over the size limit of {max_bytes:,} (ASSISTANT_MAX_FILE_BYTES)"
    if not os.access(path, os.R_OK):
        return "cannot read (permission denied)"
    return None


def _load_archive(path: Path, max_bytes: int) -> Iterator[Document | Skipped]:
    """The articles of a JSON Lines archive, streamed: the size limit applies to each line."""
    seen: set[str] = set()
    try:
        with open(path, "rb") as lines:
            for number, doc_id, article in records(str(path), lines, max_bytes):
                where = f"{path}:{number}"
                if isinstance(article, SourceError):
                    yield Skipped(where, str(article).removeprefix(f"{where}: "))
                elif doc_id in seen:
                    yield Skipped(where, f"duplicate id {doc_id!r}")
                else:
                    seen.add(doc_id)
                    yield _archived(doc_id, where, article)
    except OSError as exc:
        yield Skipped(str(path), f"cannot read ({exc.strerror or exc})")


def _archived(doc_id: str, where: str, article: Extracted) -> Document | Skipped:
    try:
        return _document(doc_id, where, article)
    except SourceError as exc:
        return Skipped(where, str(exc).removeprefix(f"{doc_id}: "))
