"""What the tests share besides fixtures (those are in conftest.py): the paths they read, a real
server on a free port, and a PDF made by hand."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.jsonl"
CORPUS = ROOT.parent / "shared" / "corpus" / "news.jsonl"
SQUAD_DEV = ROOT.parent / "shared" / "eval" / "squad-dev"


def shared(path: Path) -> Path:
    """A file of ../shared, or a skip that names it: a checkout without ../shared beside it runs
    the rest."""
    if not path.exists():
        pytest.skip(f"{path} is missing: this test needs ../shared beside the checkout")
    return path


@contextmanager
def serving(index: Path, **env: str):
    """A real `assistant serve` on a free loopback port, owning `index`; yields its base URL."""
    port = free_port()
    environ = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **env}
    log = open(index.parent / f"serve-{port}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--index", str(index),
                                "--port", str(port)], env=environ, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/openapi.json", process, index.parent / f"serve-{port}.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    """Until `url` answers; fails with the log if the process exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError(f"server not up after {seconds} s:\n{log.read_text()}")


def pdf_bytes(text: str) -> bytes:
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
