"""A chat assistant grounded in source texts: every answer cites verbatim passages."""

from importlib.metadata import version

from .answer.cited import Answer, Citation
from .answer.retrieve import Passage, PassageRetriever
from .config import Settings
from .errors import (
    AnswerError,
    AssistantError,
    ConfigError,
    IndexMissingError,
    LimitError,
    SourceError,
)
from .ingest.chunking import Chunk
from .ingest.sources import Document
from .pipeline import Assistant

__version__ = version("assistant")  # the one version: pyproject.toml's
__all__ = [
    "Answer",
    "AnswerError",
    "Assistant",
    "AssistantError",
    "Chunk",
    "Citation",
    "ConfigError",
    "Document",
    "IndexMissingError",
    "LimitError",
    "Passage",
    "PassageRetriever",
    "Settings",
    "SourceError",
]
