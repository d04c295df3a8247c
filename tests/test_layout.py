"""The tree is the diagram: the packages by stage import one way."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_serving_code_never_imports_training():
    code = ("import sys, assistant.cli, assistant.serve.api, assistant.serve.web, assistant.serve.mcp_server\n"
            "print(sorted(m for m in sys.modules if m.startswith('assistant.training')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_accepted_file_types_are_one_list_wherever_they_are_named():
    from assistant.ingest.formats import ARTICLES

    named = [line.split("accepts", 1)[1] for doc in ("README.md", "docs/interfaces.md")
             for line in (ROOT / doc).read_text(encoding="utf-8").splitlines() if "accepts ." in line]
    assert len(named) >= 3
    for types in named:
        assert re.findall(r"\.\w+", types.split(")")[0]) == list(ARTICLES)
