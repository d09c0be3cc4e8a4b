"""The dtype a saved keras-hub preset records: the weights' storage dtype, not a mixed policy."""

import json
import os

CONFIG_FILE = "config.json"  # keras-hub's name for a preset's backbone config


def record_storage_dtype(preset_dir):
    """Rewrites a mixed dtype policy in `<preset_dir>/config.json` as its variable dtype.

    keras-hub loads a preset whose saved dtype is a float type under the current Keras policy
    (or the one given as `from_preset(dir, dtype=...)`), and it means to treat a mixed policy
    the same way, but its check (`is_float_dtype`, keras-hub 0.32) raises "Invalid dtype:
    mixed_bfloat16" on one: a task saved while training under `mixed_bfloat16` (the MiniLM
    recipes' default on a CPU with bfloat16) would not load with
    `keras_hub.models.TextClassifier.from_preset(dir)`. The weights are stored as the
    variable dtype (float32), so that is what the preset records; the training policy stays
    in the `.keras` files and the commands' `flags.json`.

    Example:
    >>> import tempfile, keras
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> folder = tempfile.mkdtemp()
    >>> UniLMv2Backbone.from_size("tiny", dtype="mixed_bfloat16").save_to_preset(folder)
    >>> json.load(open(os.path.join(folder, "config.json")))["config"]["dtype"]["config"]
    {'name': 'float32'}
    >>> keras.config.dtype_policy().name
    'float32'
    """
    path = os.path.join(preset_dir, CONFIG_FILE)
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    if not with_storage_dtype(config):
        return
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=4)
    os.replace(partial, path)


def with_storage_dtype(config):
    """Rewrites, in place, a mixed policy in a serialized backbone `config` as float32 (what
    Keras' mixed policies store variables as); True when it changed something.

    >>> config = {"config": {"dtype": {"config": {"name": "mixed_bfloat16"}}}}
    >>> with_storage_dtype(config), config["config"]["dtype"]["config"]["name"]
    (True, 'float32')
    """
    policy = config.get("config", {}).get("dtype")
    name = policy.get("config", {}).get("name", "") if isinstance(policy, dict) else ""
    if not name.startswith("mixed_"):
        return False
    policy["config"]["name"] = "float32"
    return True
