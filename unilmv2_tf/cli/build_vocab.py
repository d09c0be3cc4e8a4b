"""`unilmv2 build-vocab`: learn a WordPiece vocabulary from text files."""

from absl import flags

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_list("input_files", None, "Comma-separated text files (one paragraph a line).")
    flags.DEFINE_integer("vocab_size", 8000, "Target vocabulary size (special tokens included).")
    flags.DEFINE_string("output", None, "Where to write the vocabulary (one token a line).")
    flags.DEFINE_bool("lowercase", True, "Lower-case and strip accents first (uncased).")
    flags.DEFINE_integer("max_lines", None, "Read at most this many paragraphs.")
    flags.mark_flags_as_required(["input_files", "output"])


def main(argv):
    del argv
    from unilmv2_tf.preprocessing import build_vocabulary

    tokens = build_vocabulary(FLAGS.input_files, FLAGS.vocab_size, FLAGS.output,
                              lowercase=FLAGS.lowercase, max_lines=FLAGS.max_lines)
    print(f"wrote {len(tokens)} tokens to {FLAGS.output}")
