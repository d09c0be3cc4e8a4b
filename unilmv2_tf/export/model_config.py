"""TF Serving's `--model_config_file` (a `ModelServerConfig` text proto) for exported models."""

import os

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from unilmv2_tf.export.saved_model_writer import version_numbers


def write_model_config(saved_models_dir, config_path=None, base_path_prefix=None):
    """Writes a `model_config_list` naming every model folder of `saved_models_dir` (the
    folders holding integer versions), each served at its latest version.

    `base_path_prefix` replaces `saved_models_dir` in the base paths (e.g. `/models` for a
    `docker run -v $PWD/saved_models:/models tensorflow/serving` container); by default they
    are absolute paths on this machine. The file (default `saved_models_dir/models.config`)
    is replaced atomically. Returns its path.
    """
    config = model_server_config_pb2.ModelServerConfig()
    root = os.path.abspath(saved_models_dir)
    for name in sorted(os.listdir(root)):
        if os.path.isdir(os.path.join(root, name)) and version_numbers(os.path.join(root, name)):
            entry = config.model_config_list.config.add()
            entry.name = name
            entry.base_path = (os.path.join(base_path_prefix, name) if base_path_prefix
                               else os.path.join(root, name))
            entry.model_platform = "tensorflow"
    config_path = config_path or os.path.join(root, "models.config")
    tmp = f"{config_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(config))
    os.replace(tmp, config_path)
    return config_path


def version_policy(entry):
    """A `ModelConfig`'s `model_version_policy` as `("latest", n)`, `("all",)` or
    `("specific", versions)`; TF Serving's default is the latest version."""
    kind = entry.model_version_policy.WhichOneof("policy_choice")
    if kind == "all":
        return ("all",)
    if kind == "specific":
        return ("specific", tuple(entry.model_version_policy.specific.versions))
    if kind == "latest":
        return ("latest", max(1, entry.model_version_policy.latest.num_versions))
    return ("latest", 1)


def read_model_config(config_path):
    """`{name: (base_path, version_policy)}` from a `ModelServerConfig` text proto (relative
    base paths are taken from the file's folder); clear errors for unparsable files, entries
    without a name or base path, duplicates and empty lists."""
    with open(config_path, encoding="utf-8") as f:
        text = f.read()
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        raise ValueError(f"{config_path} is not a ModelServerConfig text proto: {e}") from None
    models = {}
    for entry in config.model_config_list.config:
        if not entry.name or not entry.base_path:
            raise ValueError(f"{config_path}: every config needs a name and a base_path.")
        if entry.name in models:
            raise ValueError(f"{config_path}: model {entry.name!r} is listed twice.")
        base_path = os.path.join(os.path.dirname(os.path.abspath(config_path)),
                                 entry.base_path)
        models[entry.name] = (base_path, version_policy(entry))
    if not models:
        raise ValueError(f"{config_path} lists no models (model_config_list is empty).")
    return models
