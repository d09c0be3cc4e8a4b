"""`unilmv2 evaluate`: score a fine-tuned classifier on a labeled file, write predictions."""

from absl import flags

from unilmv2_tf.cli.command_runner import run_command

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_string("model_dir", None, "A `unilmv2 finetune-classifier` --model_dir.")
    flags.DEFINE_string("input_file", None, "Labeled file in the training format.")
    flags.DEFINE_string("output_file", None, "Metrics JSON (default "
                        "<model_dir>/eval_metrics.json); per-row predictions go to "
                        "<output_file>.predictions.jsonl.")
    flags.DEFINE_bool("skip_malformed", False, "Skip (and count) malformed rows.")
    flags.mark_flags_as_required(["model_dir", "input_file"])


def main(argv):
    run_command("evaluate", argv, run)


def run():
    from unilmv2_tf.model_folder import ModelFolder
    from unilmv2_tf.models import evaluate_classifier, load_classifier

    model, tokenizer, task = load_classifier(FLAGS.model_dir)
    output = FLAGS.output_file or ModelFolder(FLAGS.model_dir).file(ModelFolder.EVAL_METRICS)
    scores = evaluate_classifier(model, tokenizer, task, FLAGS.input_file, output,
                                 FLAGS.skip_malformed)
    print("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in scores.items()))
    print(f"Wrote {output}")
