"""`unilmv2 export`: a model folder as a versioned SavedModel for TF Serving."""

import os

from absl import flags

from unilmv2_tf.cli.command_runner import fail, run_command
from unilmv2_tf.cli.generation_flags import (check_generation_flags, define_generation_flags,
                                             generation_options)

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("model_dir", None, "A `unilmv2 pretrain`, `finetune-seq2seq` or "
                        "`finetune-classifier` --model_dir (backbone.keras -> encode; "
                        "seq2seq.keras -> generate and encode; classifier.keras -> classify).")
    flags.DEFINE_string("export_dir", None, "Writes <export_dir>/<version>/ (TF Serving's model "
                        "base path); default saved_models/<name of model_dir>.")
    flags.DEFINE_integer("version", 0, "Version number (0 = one more than the newest); an "
                         "existing version is never overwritten.")
    flags.DEFINE_integer("sequence_length", 0, "Encoder input length (0 = the pretraining run's, "
                         "else 128; seq2seq models use their max_source_length).")
    flags.DEFINE_string("model_config_file", None, "Where to (re)write the models.config listing "
                        "every model next to export_dir (default: <export_dir>/../models.config; "
                        "'' = do not write it).")
    flags.DEFINE_string("config_base_path", "", "Base-path prefix in models.config, e.g. /models "
                        "for `docker run -v $PWD/saved_models:/models tensorflow/serving`; "
                        "'' = absolute local paths.")
    define_generation_flags()
    flags.mark_flags_as_required(["model_dir"])


def main(argv):
    check_generation_flags("export")
    if FLAGS.version < 0 or FLAGS.sequence_length < 0:
        fail("export", "--version and --sequence_length must be >= 0.")
    run_command("export", argv, run)


def run():
    from unilmv2_tf.export import save_serving_module, serving_module, write_model_config
    from unilmv2_tf.model_folder import ModelFolder
    from unilmv2_tf.preprocessing.tokenizer import load_vocabulary

    model_dir = FLAGS.model_dir.rstrip("/")
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"--model_dir {model_dir} is not a folder.")
    export_dir = FLAGS.export_dir or os.path.join("saved_models", os.path.basename(model_dir))
    options = {}
    folder = ModelFolder(model_dir)
    if folder.has(folder.SEQ2SEQ_MODEL):
        options = generation_options(load_vocabulary(folder.file(folder.VOCABULARY)))
    module = serving_module(model_dir, FLAGS.sequence_length or None, **options)
    path = save_serving_module(module, export_dir, FLAGS.version or None)
    signatures = module.signatures()
    default = next(k for k, f in signatures.items() if k != "serving_default"
                   and f is signatures["serving_default"])
    named = ", ".join(k for k in signatures if k != "serving_default")
    print(f"SavedModel: {path}  (signatures: {named}; serving_default = {default})")
    saved_models_dir = os.path.dirname(os.path.abspath(export_dir))
    config_file = FLAGS.model_config_file
    if config_file is None:
        config_file = os.path.join(saved_models_dir, "models.config")
    if config_file:
        written = write_model_config(saved_models_dir, config_file,
                                     FLAGS.config_base_path or None)
        print(f"Model config: {written}")
    print(f"Inspect: saved_model_cli show --dir {path} --all")
