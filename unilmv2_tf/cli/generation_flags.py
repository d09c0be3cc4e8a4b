"""Decoding flags shared by `unilmv2 decode` and `unilmv2 export`."""

from absl import flags

from unilmv2_tf.cli.command_runner import fail

FLAGS = flags.FLAGS
# unilmv2_tf.generation.DECODING_POLICIES, spelled out so that flag parsing imports no TF.
DECODING_POLICIES = ["auto", "model", "float32", "mixed_bfloat16", "mixed_float16"]


def define_generation_flags():
    flags.DEFINE_integer("beam_size", 1, "1 = greedy search.")
    flags.DEFINE_float("length_penalty", 0.0, "GNMT alpha (paper: 0.6-1.3; 0 = raw log-prob).")
    flags.DEFINE_integer("min_length", 1, "Tokens before [SEP] may end the output.")
    flags.DEFINE_integer("ngram_size", 3, "Forbid repeating n-grams of this size (0 = off).")
    flags.DEFINE_list("ngram_ignore", ["."], "Tokens exempt from n-gram blocking.")
    flags.DEFINE_integer("max_length", 0, "Target slots (0 = the model's max_target_length).")
    flags.DEFINE_enum("decode_dtype_policy", "auto", DECODING_POLICIES,
                      "Precision of the search: auto = float32 on a machine without GPU or "
                      "TPU (faster there than mixed_bfloat16), else the model's own policy; "
                      "model = the policy it was trained under.")


def check_generation_flags(command):
    if FLAGS.beam_size <= 0:
        fail(command, f"--beam_size must be positive, got {FLAGS.beam_size}.")
    for name in ("length_penalty", "min_length", "ngram_size", "max_length"):
        if getattr(FLAGS, name) < 0:
            fail(command, f"--{name} must be >= 0, got {getattr(FLAGS, name)}.")


def generation_options(vocabulary):
    """The search options the flags give (`ngram_ignore` words mapped to ids)."""
    unknown = [w for w in FLAGS.ngram_ignore if w not in vocabulary]
    if unknown:
        raise ValueError(f"--ngram_ignore tokens not in the vocabulary: {unknown}")
    return {"beam_size": FLAGS.beam_size, "length_penalty": FLAGS.length_penalty,
            "min_length": FLAGS.min_length, "ngram_size": FLAGS.ngram_size,
            "ngram_ignore_ids": [vocabulary.index(w) for w in FLAGS.ngram_ignore],
            "max_length": FLAGS.max_length or None, "dtype_policy": FLAGS.decode_dtype_policy}
