import re
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


@pytest.mark.parametrize("name, raw, bounds", [
    ("ARTICLES", "0", "1 or more"), ("K", "-3", "1 or more"), ("DECLINE", "1.5", "between 0 and 1"),
    ("LLM_TIMEOUT", "-1", "0 or more")])
def test_number_out_of_range_names_the_variable_and_its_bounds(name, raw, bounds):
    with pytest.raises(ConfigError, match=f"ASSISTANT_{name}='{re.escape(raw)}': expected a number {bounds}"):
        Settings.from_env({f"ASSISTANT_{name}": raw})


def test_zero_words_unmatched_is_allowed():
    assert Settings.from_env({"ASSISTANT_VERIFY_UNMATCHED": "0"}).verify_unmatched == 0


def test_decline_threshold_is_the_trained_one_unless_set():
    assert Settings.from_env({}).decline is None
    assert Settings.from_env({"ASSISTANT_DECLINE": "0.7"}).decline == 0.7


def test_the_embedding_backend_is_openvino_on_the_cpu_and_torch_on_a_gpu_unless_set():
    assert Settings.from_env({}).backend == "openvino"
    assert Settings(device="cuda").backend == "torch"
    assert Settings(device="cpu").backend == "openvino"
    assert Settings.from_env({"ASSISTANT_EMBEDDING_BACKEND": "onnx-int8"}).backend == "onnx-int8"
