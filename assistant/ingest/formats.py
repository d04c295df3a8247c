"""Formats: the reading text and metadata of a file's bytes, by file type.

Plain text in any common encoding (detected, and named when it is not UTF-8), Markdown with YAML
front matter (metadata, not answer text), HTML through trafilatura's article extraction, PDF text
layers through pypdf (page starts kept), JSON Lines archives (one article a line).
Every reader raises SourceError naming the file and what is wrong with it.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import SourceError

ARTICLES = (".txt", ".md", ".html", ".htm", ".pdf")
ARCHIVES = (".jsonl",)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Candidates when a file is not UTF-8: Western and Central/Eastern European, Cyrillic. A short file
# fits many encodings; a closed list keeps the guess among those a newsroom meets.
LEGACY = ("cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251", "koi8_r", "mac_roman")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()  # offsets where each PDF page starts in `text`
    encoding: str | None = None  # set when the bytes were not UTF-8


def extract(name: str, kind: str, data: bytes) -> Extracted:
    """The reading text and metadata of one article's bytes; `kind` is its extension."""
    reader = {".md": _markdown, ".html": _html, ".htm": _html, ".pdf": _pdf}.get(kind, _plain)
    return reader(name, data)


def records(name: str, lines: Iterable[bytes], max_bytes: int) -> Iterator[tuple[int, str, Extracted | SourceError]]:
    """The articles of a JSON Lines archive, `{"id", "title", "text", "source"?, "date"?, "url"?}` a
    line: (line number, id, article) or (line number, id or "", the error)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > max_bytes:
            yield number, "", SourceError(f"{name}:{number}: line of {len(line):,} bytes, over the size limit")
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield number, "", SourceError(f"{name}:{number}: malformed JSON ({exc})")
            continue
        problem = _record_problem(record)
        if problem:
            yield number, "", SourceError(f"{name}:{number}: {problem}")
            continue
        yield number, record["id"], Extracted(record["text"], title=_first(record, "title"),
                                              outlet=_first(record, "outlet", "source"), date=_first(record, "date"),
                                              url=_first(record, "url"))


def _record_problem(record) -> str | None:
    if not isinstance(record, dict):
        return "expected an object with id, title and text"
    for key in ("id", "text"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            return f"no {key!r} (a non-empty string is required)"
    return None


def decode(name: str, data: bytes) -> tuple[str, str | None]:
    """Text from bytes: a BOM decides, else UTF-8, else the detected legacy encoding (returned,
    so that the caller can say which); binary data is refused, not read as text."""
    text, encoding = _decoded(name, data)
    head = text[:10000]
    # Text never holds NUL and seldom other control characters; binary data is full of them.
    if "\x00" in head or len(_CONTROL.findall(head)) > len(head) / 100:
        raise SourceError(f"{name}: binary data, not text")
    return text, encoding


def _decoded(name: str, data: bytes) -> tuple[str, str | None]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(name, data, encoding), None if encoding == "utf-8-sig" else encoding
    if b"\x00" in data:
        return _utf16(name, data)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return _detected(name, data)


def _strict(name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name}: not valid {encoding} despite its byte-order mark (byte {exc.start})") from exc


def _utf16(name: str, data: bytes) -> tuple[str, str]:
    """UTF-16 without a BOM, told by its NUL bytes (every other byte for Latin text); else binary."""
    for encoding, half in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if half.count(0) > 0.6 * len(half):
            return _strict(name, data, encoding), encoding
    raise SourceError(f"{name}: binary data, not text")


def _detected(name: str, data: bytes) -> tuple[str, str]:
    """The legacy encoding whose reading is least garbled; on a tie (short texts fit many), the
    first in LEGACY order."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=list(LEGACY)))
    if not matches:
        raise SourceError(f"{name}: unknown text encoding (tried UTF-8, UTF-16 and {', '.join(LEGACY)})")
    least = min(m.chaos for m in matches)
    # A match stands for every encoding that reads the bytes the same way: name the likeliest.
    rank, text = min((min(LEGACY.index(e) for e in m.could_be_from_charset if e in LEGACY), str(m))
                     for m in matches if m.chaos <= least + 0.02)
    return text, LEGACY[rank]


def _plain(name: str, data: bytes) -> Extracted:
    text, encoding = decode(name, data)
    return Extracted(text, encoding=encoding)


def _markdown(name: str, data: bytes) -> Extracted:
    """Markdown; YAML front matter gives title, outlet, date and url and is not part of the text."""
    import yaml

    text, encoding = decode(name, data)
    match = _FRONT_MATTER.match(text)
    if not match:
        return Extracted(text, encoding=encoding)
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: malformed front matter ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise SourceError(f"{name}: front matter is not a set of key: value lines")
    return Extracted(text[match.end():], title=_first(meta, "title"), outlet=_first(meta, "outlet", "source", "publication"),
                     date=_first(meta, "date"), url=_first(meta, "url", "link"), encoding=encoding)


def _first(meta: dict, *keys: str) -> str | None:
    return next((str(meta[k]) for k in keys if meta.get(k) not in (None, "")), None)


def _html(name: str, data: bytes) -> Extracted:
    """The article of a web page, without its navigation, scripts, styles and footers."""
    import trafilatura  # only when a page is read

    text = trafilatura.extract(data, include_comments=False, include_tables=False)
    if not text or not text.strip():
        raise SourceError(f"{name}: no article text found in the page")
    meta = trafilatura.extract_metadata(data, extensive=False)  # a date from its metadata or byline, never a guess
    if meta is None:
        return Extracted(text)
    return Extracted(text, title=meta.title, outlet=meta.sitename, date=meta.date, url=meta.url)


class _Complaints(logging.Handler):
    """Collects the warnings a library logs instead of letting them reach the terminal."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _pdf(name: str, data: bytes) -> Extracted:
    """The text layer of a PDF, pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    complaints = _Complaints()  # pypdf logs what it finds wrong; it belongs in the skipped-file line
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(complaints)
    pypdf_log.propagate = False
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(f"{name}: encrypted PDF")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        found = "".join(f"; {m}" for m in complaints.messages)
        raise SourceError(f"{name}: unreadable PDF ({exc.__class__.__name__}: {exc}{found})") from exc
    finally:
        pypdf_log.removeHandler(complaints)
        pypdf_log.propagate = True
    text, starts = "", []
    for page in pages:
        text += "\n\n" if text else ""
        starts.append(len(text))
        text += page
    if not text.strip():
        raise SourceError(f"{name}: no extractable text (scanned?)")
    return Extracted(text, title=title or None, pages=tuple(starts))
