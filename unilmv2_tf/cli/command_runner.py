"""What every `unilmv2` command shares: error reporting, flag checks, the flags record."""

import json
import os
import shutil
import sys

from absl import flags

FLAGS = flags.FLAGS


def fail(command, message):
    """Prints `unilmv2 <command>: error: <message>` and exits with status 1."""
    print(f"unilmv2 {command}: error: {message}", file=sys.stderr)
    sys.exit(1)


def require_positive(command, names):
    for name in names:
        if getattr(FLAGS, name) <= 0:
            fail(command, f"--{name} must be positive, got {getattr(FLAGS, name)}.")


def run_command(command, argv, run):
    """Runs `run()`, turning bad input (ValueError, missing files) into a clean exit 1."""
    if len(argv) > 1:
        fail(command, f"unexpected arguments {argv[1:]}")
    try:
        run()
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        fail(command, str(e))


def write_flags(path, names):
    """Writes the values of the flags `names` to `path` as JSON (the run's record)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({name: FLAGS[name].value for name in names}, f, indent=2, sort_keys=True)


def prepare_model_dir(model_dir, config, vocab_file, flag_names):
    """Creates `model_dir` with the run's record: `config.json` (the backbone config),
    `vocab.txt` and `flags.json`."""
    os.makedirs(model_dir, exist_ok=True)
    config.save(os.path.join(model_dir, "config.json"))
    shutil.copyfile(vocab_file, os.path.join(model_dir, "vocab.txt"))
    write_flags(os.path.join(model_dir, "flags.json"), flag_names)


PRESET_DIR = "preset"


def save_preset(model, preprocessor, model_dir):
    """Writes `model` with `preprocessor` as a keras-hub preset in `model_dir/preset/` (what
    `keras_hub.models.<task type>.from_preset` and the model class's `from_preset` load) and
    returns its path. The preset is written beside and then moved into place, so a failure
    leaves the previous one whole; `model` keeps no preprocessor afterwards (the command's
    own pipelines feed it packed features)."""
    path = os.path.join(model_dir, PRESET_DIR)
    partial = path + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.preprocessor = preprocessor
    try:
        model.save_to_preset(partial)
    finally:
        model.preprocessor = None
    shutil.rmtree(path, ignore_errors=True)
    os.replace(partial, path)
    return path
