"""The `unilmv2` command: `unilmv2 <command> [--flags]`."""

import importlib
import logging
import os
import re
import sys
import tempfile

COMMANDS = {
    "pretrain": ("unilmv2_tf.cli.pretrain", "PMLM pretraining from raw text, then export"),
    "build-vocab": ("unilmv2_tf.cli.build_vocab", "learn a WordPiece vocabulary from text"),
    "build-corpus": ("unilmv2_tf.cli.build_corpus",
                     "pretraining text from JSON Lines fields, held-out text left out"),
    "finetune-seq2seq": ("unilmv2_tf.cli.finetune_seq2seq",
                         "seq2seq fine-tuning with pseudo masks (JSON Lines pairs)"),
    "decode": ("unilmv2_tf.cli.decode", "generate with a fine-tuned model; ROUGE / BLEU"),
    "finetune-classifier": ("unilmv2_tf.cli.finetune_classifier",
                            "text (pair) classification / regression on [CLS]"),
    "finetune-qa": ("unilmv2_tf.cli.finetune_qa", "extractive QA on SQuAD-format JSON"),
    "evaluate": ("unilmv2_tf.cli.evaluate", "score a fine-tuned classifier on a labeled file"),
    "export": ("unilmv2_tf.cli.export", "a model folder as a versioned SavedModel for TF Serving"),
    "serve": ("unilmv2_tf.cli.serve", "serve SavedModels over TF Serving's gRPC and REST APIs"),
    "predict": ("unilmv2_tf.cli.predict", "send texts to a model server, print the answers"),
    "convert": ("unilmv2_tf.cli.convert",
                "PyTorch UniLMv2 / s2s-ft / BERT checkpoints to Keras, and back"),
}


def usage():
    lines = ["usage: unilmv2 <command> [--flags]   (unilmv2 <command> --helpfull for flags)", "",
             "commands:"]
    lines += [f"  {name:<20} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


_INFO_LINE = re.compile(r"^(I\d{4} |WARNING: All log messages before absl::InitializeLog)")


def import_tensorflow_quietly():
    """Imports TensorFlow with its INFO lines (C++: oneDNN, CPU features, CUDA probing;
    Python: saver and signature chatter, see `quiet_python_info`) left out of the console;
    its warnings and errors still show. TF_CPP_MIN_LOG_LEVEL=1 quiets the C++ INFO lines
    logged later, but not those written at import, before absl's logging starts
    (tensorflow/tensorflow#100442): those are caught on file descriptor 2 and filtered."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines()
            kept = [line for line in lines if not _INFO_LINE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def quiet_python_info(command_main):
    """`command_main` run with absl's and TensorFlow's Python loggers at WARNING (absl sets
    its level from --verbosity while parsing, so this runs after)."""

    def run(argv):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.WARNING)
        logging.getLogger("tensorflow").setLevel(logging.WARNING)
        return command_main(argv)

    return run


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command = argv[1]
    if command not in COMMANDS:
        print(f"unilmv2: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    quiet = not any(arg.startswith(("--verbosity", "-v")) for arg in argv[2:])
    if quiet:
        import_tensorflow_quietly()
    from absl import app  # imported here so `unilmv2 --help` stays instant

    module = importlib.import_module(COMMANDS[command][0])
    module.define_flags()
    app.run(quiet_python_info(module.main) if quiet else module.main,
            argv=[f"unilmv2 {command}"] + argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
