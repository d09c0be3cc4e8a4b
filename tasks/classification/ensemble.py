"""Fine-tuned classifiers + TF-IDF baseline: their class probabilities averaged, on valid.

    python tasks/classification/ensemble.py models/cls_minilm [--tfidf_weight 0.5]
    python tasks/classification/ensemble.py models/cls_a models/cls_b --output=ab.json

Trains `tfidf_baseline.py`'s TF-IDF + logistic regression on the train split (about 3 min on
2 cores), predicts the valid split with it and with each `unilmv2 finetune-classifier` folder,
and scores `(1 - w) * p_models + w * p_tfidf` with the project's metrics, `p_models` the mean
of the folders' probabilities. The weight is fixed beforehand (0.5), not tuned on valid.
Writes `<model_dir>/ensemble_metrics.json` for one folder, `--output` for several.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfidf_baseline import TfidfClassifier, read_split, softmax  # noqa: E402

from unilmv2_tf.data import label_ids  # noqa: E402
from unilmv2_tf.metrics import accuracy, f1_scores  # noqa: E402
from unilmv2_tf.model_folder import ModelFolder  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dirs", nargs="+", metavar="model_dir",
                        help="`unilmv2 finetune-classifier` --model_dir folders")
    parser.add_argument("--data", default="../shared/data/debian-sections")
    parser.add_argument("--tfidf_weight", type=float, default=0.5)
    parser.add_argument("--output", help="the metrics file (default, for one folder: "
                        "<model_dir>/ensemble_metrics.json)")
    args = parser.parse_args()
    if len(args.model_dirs) > 1 and not args.output:
        parser.error("several model folders need --output (no folder's own file is theirs)")
    if not 0.0 <= args.tfidf_weight <= 1.0:
        parser.error(f"--tfidf_weight must be in [0, 1], got {args.tfidf_weight}")
    from unilmv2_tf.models import classifier_logits, load_classifier, read_task_rows

    probabilities, labels = [], None
    for model_dir in args.model_dirs:
        model, tokenizer, task = load_classifier(model_dir)
        if labels is not None and task["labels"] != labels:
            raise ValueError(f"{model_dir} has other labels than {args.model_dirs[0]}.")
        labels = task["labels"]
        valid = read_task_rows(os.path.join(args.data, "valid.jsonl"), task)
        probabilities.append(softmax(classifier_logits(model, tokenizer, task, valid)))
    model_probabilities = np.mean(probabilities, axis=0)
    train = read_split(args.data, "train")
    tfidf = TfidfClassifier([r["text"] for r in train], [r["label"] for r in train])
    if tfidf.labels != labels:
        raise ValueError(f"{args.model_dirs[0]} was trained on other labels than {args.data}.")
    tfidf_probabilities = tfidf.predict_proba([r["text"] for r in valid])
    gold = np.array(label_ids(valid, task["labels"]))
    scores = {}
    for name, probabilities in (
            ("model", model_probabilities), ("tfidf", tfidf_probabilities),
            ("ensemble", (1 - args.tfidf_weight) * model_probabilities
             + args.tfidf_weight * tfidf_probabilities)):
        predicted = probabilities.argmax(1)
        scores[name] = {"accuracy": accuracy(predicted, gold),
                        "macro_f1": f1_scores(predicted, gold)["macro_f1"]}
        print(f"{name:8s} accuracy {scores[name]['accuracy']:.4f}  "
              f"macro F1 {scores[name]['macro_f1']:.4f}")
    scores.update(tfidf_weight=args.tfidf_weight, examples=len(valid),
                  model_dirs=args.model_dirs)
    output = args.output or os.path.join(args.model_dirs[0], "ensemble_metrics.json")
    ModelFolder(os.path.dirname(output) or ".").write_json(os.path.basename(output), scores)
    print(f"Wrote {output}")


if __name__ == "__main__":
    main()
