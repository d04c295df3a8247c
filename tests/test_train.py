import json
import shutil

import pytest

from assistant.answer.scorer import CARD, MODELS
from assistant.training.train import main


def test_the_silence_stage_refuses_a_reader_that_has_learnt_the_silent_windows(tmp_path):
    """Fine-tuning the committed reader again would train it twice: `make train` starts over."""
    shutil.copytree(MODELS, tmp_path / "models", ignore=shutil.ignore_patterns("__pycache__"))
    card = json.loads((tmp_path / "models" / CARD).read_text(encoding="utf-8"))
    assert card["data"]["silence"]["started_from_sha256"]  # the committed reader has
    with pytest.raises(SystemExit, match="has learned the silent windows already"):
        main(["--from", "silence", "--out", str(tmp_path / "models"), "--work", str(tmp_path / "work")])
