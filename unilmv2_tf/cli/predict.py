"""`unilmv2 predict`: send texts to TF Serving (or `unilmv2 serve`) and print the answers."""

import json
import sys

from absl import flags

from unilmv2_tf.cli.command_runner import fail, run_command

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("server", "localhost:8500", "host:port of the model server.")
    flags.DEFINE_enum("protocol", "grpc", ["grpc", "rest"], "gRPC (port 8500) or REST (8501).")
    flags.DEFINE_string("model_name", None, "The served model.")
    flags.DEFINE_integer("model_version", 0, "A version number (0 = the newest).")
    flags.DEFINE_string("signature_name", "serving_default", "e.g. generate, encode.")
    flags.DEFINE_multi_string("text", [], "Input text (repeatable).")
    flags.DEFINE_string("input_file", None, "One input text per line (instead of --text).")
    flags.DEFINE_integer("batch_size", 8, "Texts per request.")
    flags.DEFINE_float("timeout", 60.0, "Seconds per request.")
    flags.mark_flags_as_required(["model_name"])


def main(argv):
    if bool(FLAGS.text) == bool(FLAGS.input_file):
        fail("predict", "give --text (one or more) or --input_file.")
    if FLAGS.batch_size <= 0 or FLAGS.model_version < 0:
        fail("predict", "--batch_size must be positive and --model_version >= 0.")
    run_command("predict", argv, run)


def _printable(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value.tolist() if hasattr(value, "tolist") else value


def run():
    from unilmv2_tf.export import ServingClient, ServingError

    texts = FLAGS.text
    if FLAGS.input_file:
        with open(FLAGS.input_file, encoding="utf-8") as f:
            texts = [line.rstrip("\n") for line in f]
    with ServingClient(FLAGS.server, FLAGS.protocol, FLAGS.timeout) as client:
        for start in range(0, len(texts), FLAGS.batch_size):
            try:
                outputs = client.predict(FLAGS.model_name,
                                         {"text": texts[start:start + FLAGS.batch_size]},
                                         FLAGS.signature_name, FLAGS.model_version or None)
            except ServingError as e:
                raise ValueError(f"the server answered {e}") from None
            for i in range(len(texts[start:start + FLAGS.batch_size])):
                row = {name: _printable(value[i]) for name, value in outputs.items()}
                print(json.dumps(row, ensure_ascii=False), file=sys.stdout)
