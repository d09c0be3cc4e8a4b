"""`unilmv2 evaluate`: score a fine-tuned classifier on a labeled file, write predictions."""

import json
import os

from absl import flags

from unilmv2_tf.cli.command_runner import run_command

flags.DEFINE_string("model_dir", None, "A `unilmv2 finetune-classifier` --model_dir.")
flags.DEFINE_string("input_file", None, "Labeled file in the training format.")
flags.DEFINE_string("output_file", None, "Metrics JSON (default <model_dir>/eval_metrics.json); "
                    "per-row predictions go to <output_file>.predictions.jsonl.")
flags.DEFINE_bool("skip_malformed", False, "Skip (and count) malformed rows.")
flags.mark_flags_as_required(["model_dir", "input_file"])
FLAGS = flags.FLAGS


def main(argv):
    run_command("evaluate", argv, run)


def run():
    import keras

    from unilmv2_tf.models import evaluate_classifier
    from unilmv2_tf.preprocessing import WordPieceTokenizer

    task_path = os.path.join(FLAGS.model_dir, "task.json")
    model_path = os.path.join(FLAGS.model_dir, "classifier.keras")
    if not (os.path.isfile(task_path) and os.path.isfile(model_path)):
        raise FileNotFoundError(f"{FLAGS.model_dir} has no classifier.keras and task.json "
                                f"(train it with `unilmv2 finetune-classifier`).")
    with open(task_path, encoding="utf-8") as f:
        task = json.load(f)
    model = keras.saving.load_model(model_path, compile=False)
    tokenizer = WordPieceTokenizer(os.path.join(FLAGS.model_dir, "vocab.txt"))
    output = FLAGS.output_file or os.path.join(FLAGS.model_dir, "eval_metrics.json")
    scores = evaluate_classifier(model, tokenizer, task, FLAGS.input_file, output,
                                 FLAGS.skip_malformed)
    print("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in scores.items()))
    print(f"Wrote {output}")
