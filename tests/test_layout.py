"""The tree is the diagram: the packages by stage import one way."""

import subprocess
import sys


def test_serving_code_never_imports_training():
    code = ("import sys, assistant.cli, assistant.serve.api, assistant.serve.web, assistant.serve.mcp_server\n"
            "print(sorted(m for m in sys.modules if m.startswith('assistant.training')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
