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


def prepare_model_dir(model_dir, backbone, vocab_file, flag_names):
    """Creates the `ModelFolder` `model_dir` with the run's record: `config.json` (the
    backbone's, in keras-hub's form), `vocab.txt` and `flags.json`."""
    from unilmv2_tf.model_folder import ModelFolder

    os.makedirs(model_dir, exist_ok=True)
    folder = ModelFolder(model_dir)
    folder.write_config(backbone)
    shutil.copyfile(vocab_file, folder.file(ModelFolder.VOCABULARY))
    write_flags(folder.file(ModelFolder.FLAGS), flag_names)
    return folder
