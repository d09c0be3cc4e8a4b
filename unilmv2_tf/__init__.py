"""unilmv2_tf: UniLMv2 (pseudo-masked language models) for TensorFlow and Keras 3.

`import unilmv2_tf` is instant: TensorFlow loads the first time one of the names below (or a
subpackage that needs it) is used (PEP 562 module `__getattr__`). To load a `.keras` file,
import its classes first (`from unilmv2_tf import UniLMv2Backbone`, `import unilmv2_tf.models`)
so that Keras finds them; to load an exported SavedModel, `import tensorflow_text` first (it
registers the TF Text ops the export uses).

Example:
>>> import unilmv2_tf
>>> unilmv2_tf.UniLMv2Config.from_preset("tiny").hidden_size
64
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
_LAZY_NAMES = {"UniLMv2Backbone": "unilmv2_tf.backbone", "PRESETS": "unilmv2_tf.config",
               "UniLMv2Config": "unilmv2_tf.config"}
__all__ = ["PRESETS", "UniLMv2Backbone", "UniLMv2Config", "__version__"]


def __getattr__(name):
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module 'unilmv2_tf' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))
