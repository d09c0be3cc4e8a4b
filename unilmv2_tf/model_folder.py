"""`ModelFolder`: the one place that knows the file names of a `unilmv2` model folder."""

import json
import os
import shutil

from unilmv2_tf.config import UniLMv2Config


class ModelFolder:
    """A folder the `unilmv2` commands write and read.

    It is a keras-hub preset (`config.json`, `model.weights.h5`, `metadata.json`,
    `tokenizer.json` + `assets/`; for a fine-tuned task also `task.json`,
    `task.weights.h5`, `preprocessor.json`), so `keras_hub.models.Backbone.from_preset(path)`
    and the task types' `from_preset(path)` load it, plus the commands' own record:
    `vocab.txt`, `flags.json`, `run_info.json`, `checkpoints/`, `logs/`, the task's settings
    (`task_settings.json` for a classifier, `qa.json` for span QA) and the `.keras` file of
    the trained model (`backbone.keras`, `classifier.keras`, `seq2seq.keras`,
    `spanqa.keras`).

    Folders written before the preset layout still read: their `config.json` is a plain
    `UniLMv2Config` dict and a classifier's settings are in `task.json` (`config()` and
    `task_settings()` accept both).

    Example:
    >>> import tempfile
    >>> folder = ModelFolder(tempfile.mkdtemp())
    >>> UniLMv2Config.from_preset("tiny").save(folder.file(ModelFolder.CONFIG))
    >>> folder.config().hidden_size
    64
    """

    CONFIG = "config.json"
    VOCABULARY = "vocab.txt"
    FLAGS = "flags.json"
    RUN_INFO = "run_info.json"
    CHECKPOINTS = "checkpoints"
    LOGS = "logs"
    TASK_SETTINGS = "task_settings.json"
    LEGACY_TASK_SETTINGS = "task.json"  # before the preset layout; keras-hub's task config now
    QA_SETTINGS = "qa.json"
    VALID_METRICS = "valid_metrics.json"  # finetune-classifier --valid_file
    EVAL_METRICS = "eval_metrics.json"  # evaluate, without --output_file
    DEV_PREDICTIONS = "dev_predictions.json"  # finetune-qa --dev_file
    DEV_METRICS = "dev_metrics.json"
    BACKBONE_MODEL = "backbone.keras"
    CLASSIFIER_MODEL = "classifier.keras"
    SEQ2SEQ_MODEL = "seq2seq.keras"
    SPAN_QA_MODEL = "spanqa.keras"
    CONVERSION_REPORT = "conversion_report.json"

    def __init__(self, path):
        self.path = os.fspath(path)

    def file(self, name):
        """The path of `name` inside the folder."""
        return os.path.join(self.path, name)

    def has(self, name):
        return os.path.exists(self.file(name))

    def config(self):
        """The backbone's `UniLMv2Config`, from `config.json` in either form."""
        return UniLMv2Config.load(self.file(self.CONFIG))

    def write_config(self, backbone):
        """`config.json` as keras-hub's preset saver writes it (the backbone serialized,
        without build and compile configs), before any weights are saved."""
        import keras  # here, so that the CLI can name files without loading TensorFlow

        config = keras.saving.serialize_keras_object(backbone)
        for key in ("build_config", "compile_config"):
            config.pop(key, None)
        _with_storage_dtype(config)  # as a saved preset has it (`record_storage_dtype`)
        self.write_json(self.CONFIG, config)

    def record_storage_dtype(self):
        """Rewrites a mixed dtype policy in the preset's `config.json` as its variable dtype.

        keras-hub loads a preset whose saved dtype is a float type under the current Keras
        policy (or the one given as `from_preset(dir, dtype=...)`), and it means to treat a
        mixed policy the same way, but its check (`is_float_dtype`, keras-hub 0.32) raises
        "Invalid dtype: mixed_bfloat16" on one: a task saved while training under
        `mixed_bfloat16` (the MiniLM recipes' default on a CPU with bfloat16) would not load
        with `keras_hub.models.TextClassifier.from_preset(dir)`. The weights are stored as the
        variable dtype (float32), so that is what the preset records; the training policy
        stays in the `.keras` files and the commands' `flags.json`. The backbone's and the
        tasks' `save_to_preset` call this.

        Example:
        >>> import tempfile, keras
        >>> from unilmv2_tf import UniLMv2Backbone
        >>> folder = ModelFolder(tempfile.mkdtemp())
        >>> UniLMv2Backbone.from_size("tiny", dtype="mixed_bfloat16").save_to_preset(folder.path)
        >>> folder.read_json(ModelFolder.CONFIG)["config"]["dtype"]["config"]
        {'name': 'float32'}
        >>> keras.config.dtype_policy().name
        'float32'
        """
        config = self.read_json(self.CONFIG)
        if _with_storage_dtype(config):
            self.write_json(self.CONFIG, config)

    def read_json(self, name):
        with open(self.file(name), encoding="utf-8") as f:
            return json.load(f)

    def write_json(self, name, value):
        """Writes `value` to `name` atomically (a crash leaves the previous file whole)."""
        partial = self.file(name + ".partial")
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
        os.replace(partial, self.file(name))

    def task_settings(self):
        """A classifier's settings (columns, labels, sequence length, truncation)."""
        if self.has(self.TASK_SETTINGS):
            return self.read_json(self.TASK_SETTINGS)
        if self.has(self.LEGACY_TASK_SETTINGS):
            settings = self.read_json(self.LEGACY_TASK_SETTINGS)
            if "class_name" not in settings:  # not keras-hub's task config
                return settings
        raise FileNotFoundError(f"{self.path} has no {self.TASK_SETTINGS} (train it with "
                                f"`unilmv2 finetune-classifier`).")

    def save_preset(self, model, preprocessor=None, tokenizer=None):
        """Writes `model` (a keras-hub task or backbone) as a keras-hub preset into the folder,
        with `preprocessor` (tasks) or `tokenizer` (backbones). It is written beside first and
        each file then moved into place, so a failure leaves the previous preset whole; a
        task keeps no preprocessor afterwards (the commands feed it packed features)."""
        partial = self.file(".preset.partial")
        shutil.rmtree(partial, ignore_errors=True)
        if preprocessor is not None:
            model.preprocessor = preprocessor
        try:
            model.save_to_preset(partial)
            if tokenizer is not None:
                tokenizer.save_to_preset(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        finally:
            if preprocessor is not None:
                model.preprocessor = None
        for name in sorted(os.listdir(partial)):
            target = self.file(name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            os.replace(os.path.join(partial, name), target)
        os.rmdir(partial)


def _with_storage_dtype(config):
    """Rewrites, in place, a mixed policy in a serialized backbone `config` as float32 (what
    Keras' mixed policies store variables as); True when it changed something.

    >>> config = {"config": {"dtype": {"config": {"name": "mixed_bfloat16"}}}}
    >>> _with_storage_dtype(config), config["config"]["dtype"]["config"]["name"]
    (True, 'float32')
    """
    policy = config.get("config", {}).get("dtype")
    name = policy.get("config", {}).get("name", "") if isinstance(policy, dict) else ""
    if not name.startswith("mixed_"):
        return False
    policy["config"]["name"] = "float32"
    return True
