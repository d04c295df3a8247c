from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError


def test_environment_overrides_defaults():
    s = Settings.from_env({"ASSISTANT_INDEX": "/tmp/x", "ASSISTANT_K": "3", "ASSISTANT_DENSE_WEIGHT": "0.25"})
    assert (s.index, s.k, s.dense_weight) == (Path("/tmp/x"), 3, 0.25)


def test_unset_environment_gives_defaults():
    assert Settings.from_env({}) == Settings()


def test_bad_number_names_the_variable():
    with pytest.raises(ConfigError, match="ASSISTANT_K='many'"):
        Settings.from_env({"ASSISTANT_K": "many"})
