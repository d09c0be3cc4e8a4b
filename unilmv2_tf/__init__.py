"""unilmv2_tf: UniLMv2 (pseudo-masked language models) for TensorFlow and Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow_text  # noqa: E402,F401  (registers the TF Text ops that exported graphs use)

from unilmv2_tf.backbone import UniLMv2Backbone  # noqa: E402
from unilmv2_tf.config import PRESETS, UniLMv2Config  # noqa: E402

__version__ = "0.1.0"
__all__ = ["PRESETS", "UniLMv2Backbone", "UniLMv2Config", "__version__"]
