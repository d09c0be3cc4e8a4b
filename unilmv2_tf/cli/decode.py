"""`unilmv2 decode`: generate with a fine-tuned Seq2SeqLM, write one output per line, score."""

import json
import os
import sys

from absl import flags

from unilmv2_tf.cli.command_runner import fail, require_positive, run_command
from unilmv2_tf.cli.generation_flags import (check_generation_flags, define_generation_flags,
                                             generation_options)

FLAGS = flags.FLAGS
# --sampler: the keras-hub sampler class and the flags it takes besides temperature and seed.
SAMPLING_FLAGS = {"greedy": None, "top_k": ("TopKSampler", {"k": "top_k"}),
                  "top_p": ("TopPSampler", {"p": "top_p"}), "random": ("RandomSampler", {})}


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("model_dir", None, "A `unilmv2 finetune-seq2seq` --model_dir.")
    flags.DEFINE_string("input_file", None, "JSON Lines with the source text (and the reference).")
    flags.DEFINE_string("output_file", None, "Generated text, one line per input, in input order.")
    flags.DEFINE_string("source_key", "source", "Field holding the input text.")
    flags.DEFINE_string("target_key", "target", "Field holding the reference; '' = do not score.")
    flags.DEFINE_enum("metrics", "rouge", ["rouge", "bleu", "both"],
                      "ROUGE-1/2/L F1 (summarization) and/or corpus BLEU-4 (question generation).")
    flags.DEFINE_integer("max_examples", 0, "Decode only the first N inputs (0 = all).")
    define_generation_flags()
    flags.DEFINE_enum("sampler", "greedy", list(SAMPLING_FLAGS),
                      "With --beam_size=1: take the most likely token (greedy), or draw each "
                      "one with keras-hub's TopKSampler, TopPSampler or RandomSampler.")
    flags.DEFINE_integer("top_k", 5, "k of --sampler=top_k (keras-hub's default).")
    flags.DEFINE_float("top_p", 0.9, "p of --sampler=top_p: draw from the fewest most likely "
                       "tokens that hold this much probability.")
    flags.DEFINE_float("temperature", 1.0, "Divides the logits before a draw.")
    flags.DEFINE_integer("sampling_seed", 0, "Seed of the draws: the same seed, the same "
                         "outputs.")
    flags.DEFINE_integer("batch_size", 16, "Inputs decoded together.")
    flags.DEFINE_bool("jit_compile", None, "XLA-compile the search. Unset: on "
                      "(`Seq2SeqLM.generate`'s jit_compile=\"auto\", the faster setting in "
                      "every measured row but beam 4 x 16 on short sources, where runs "
                      "disagree); --nojit_compile skips the compilation per source width.")
    flags.mark_flags_as_required(["model_dir", "input_file", "output_file"])


def main(argv):
    require_positive("decode", ("batch_size", "top_k"))
    check_generation_flags("decode")
    if FLAGS.sampler != "greedy" and FLAGS.beam_size > 1:
        fail("decode", f"--sampler={FLAGS.sampler} draws one output per input: it needs "
                       f"--beam_size=1, got {FLAGS.beam_size}.")
    if FLAGS.temperature <= 0:
        fail("decode", f"--temperature must be positive, got {FLAGS.temperature}.")
    if not 0.0 < FLAGS.top_p <= 1.0:
        fail("decode", f"--top_p must be in (0, 1], got {FLAGS.top_p}.")
    run_command("decode", argv, run)


def run():
    import keras

    from unilmv2_tf.data import read_jsonl_records
    from unilmv2_tf.generation import decoding_policy
    from unilmv2_tf.metrics import bleu4, rouge_scores
    from unilmv2_tf.models import Seq2SeqLM

    fields = [FLAGS.source_key] + ([FLAGS.target_key] if FLAGS.target_key else [])
    records = read_jsonl_records(FLAGS.input_file, fields, FLAGS.max_examples or None)
    model = Seq2SeqLM.load(FLAGS.model_dir)
    jit_compile = "auto" if FLAGS.jit_compile is None else FLAGS.jit_compile
    options = {**generation_options(model.tokenizer.vocabulary),
               "batch_size": FLAGS.batch_size, "jit_compile": jit_compile}
    # Recorded as decided (the metrics file says what the search computed in).
    options["dtype_policy"] = decoding_policy(model.backbone.dtype_policy,
                                              options["dtype_policy"])
    sampling = sampling_settings()
    if sampling:
        options["sampler"] = drawing_sampler(sampling)
    sources = [r[FLAGS.source_key] for r in records]
    outputs = []
    progress = keras.utils.Progbar(len(sources), unit_name="example",
                                   verbose=1 if sys.stdout.isatty() else 2)
    for start in range(0, len(sources), FLAGS.batch_size):
        outputs += model.generate(sources[start:start + FLAGS.batch_size], **options)
        progress.update(len(outputs))
    # Written to a temporary file and renamed, so an interrupted run leaves no partial output.
    temporary = f"{FLAGS.output_file}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.writelines(" ".join(text.split()) + "\n" for text in outputs)
    os.replace(temporary, FLAGS.output_file)
    print(f"Wrote {len(outputs)} outputs to {FLAGS.output_file}")
    if FLAGS.target_key:
        references = [r[FLAGS.target_key] for r in records]
        scores = {}
        if FLAGS.metrics in ("rouge", "both"):
            scores.update(rouge_scores(outputs, references))
        if FLAGS.metrics in ("bleu", "both"):
            scores["bleu4"] = bleu4(outputs, references)
        scores = {name: round(value, 2) for name, value in scores.items()}
        with open(f"{FLAGS.output_file}.metrics.json", "w", encoding="utf-8") as f:
            json.dump({**scores, "examples": len(outputs), **{
                k: v for k, v in options.items() if k not in ("ngram_ignore_ids", "sampler")},
                **({"sampling": sampling} if sampling else {})}, f, indent=2)
        print("  ".join(f"{name} {value:.2f}" for name, value in scores.items()))


def sampling_settings():
    """`--sampler` and the flags it uses as a dict (empty for greedy search)."""
    if FLAGS.sampler == "greedy":
        return {}
    _, arguments = SAMPLING_FLAGS[FLAGS.sampler]
    return {"sampler": FLAGS.sampler, "temperature": FLAGS.temperature,
            "seed": FLAGS.sampling_seed,
            **{name: getattr(FLAGS, flag) for name, flag in arguments.items()}}


def drawing_sampler(settings):
    """The keras-hub sampler `sampling_settings()` describes; one instance serves every batch
    (its random state moves on from batch to batch, from the same seed each run)."""
    import keras_hub

    settings = dict(settings)
    class_name, _ = SAMPLING_FLAGS[settings.pop("sampler")]
    return getattr(keras_hub.samplers, class_name)(**settings)
