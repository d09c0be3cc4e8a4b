"""Shared fixtures: tiny configs and the bundled vocabulary."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

import unilmv2_tf  # noqa: E402,F401
from unilmv2_tf.config import UniLMv2Config  # noqa: E402
from unilmv2_tf.preprocessing import WordPieceTokenizer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
FIXTURES = os.path.join(REPO, "tests", "fixtures")
# Programs the tests start in subprocesses; importing one (as --doctest-modules would) runs it.
collect_ignore = ["scripts"]


@pytest.fixture(scope="session")
def tokenizer():
    return WordPieceTokenizer()


@pytest.fixture
def tiny_config():
    """2 layers, hidden 32, no dropout: deterministic forward passes for parity tests."""
    return UniLMv2Config.from_preset("tiny", vocab_size=50, hidden_size=32, num_heads=2,
                                     intermediate_size=64, max_position_embeddings=64,
                                     hidden_dropout=0.0, attention_dropout=0.0)
