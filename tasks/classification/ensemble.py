"""Fine-tuned classifier + TF-IDF baseline: their class probabilities averaged, on valid.

    python tasks/classification/ensemble.py models/cls_minilm [--tfidf_weight 0.5]

Trains `tfidf_baseline.py`'s TF-IDF + logistic regression on the train split (about 3 min on
2 cores), predicts the valid split with it and with the `unilmv2 finetune-classifier` folder,
and scores `(1 - w) * p_model + w * p_tfidf` with the project's metrics. The weight is fixed
beforehand (0.5), not tuned on valid. Writes `<model_dir>/ensemble_metrics.json`.
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
    parser.add_argument("model_dir", help="a `unilmv2 finetune-classifier` --model_dir")
    parser.add_argument("--data", default="../shared/data/debian-sections")
    parser.add_argument("--tfidf_weight", type=float, default=0.5)
    args = parser.parse_args()
    if not 0.0 <= args.tfidf_weight <= 1.0:
        parser.error(f"--tfidf_weight must be in [0, 1], got {args.tfidf_weight}")
    from unilmv2_tf.models import classifier_logits, load_classifier, read_task_rows

    model, tokenizer, task = load_classifier(args.model_dir)
    valid = read_task_rows(os.path.join(args.data, "valid.jsonl"), task)
    model_probabilities = softmax(classifier_logits(model, tokenizer, task, valid))
    train = read_split(args.data, "train")
    tfidf = TfidfClassifier([r["text"] for r in train], [r["label"] for r in train])
    if tfidf.labels != task["labels"]:
        raise ValueError(f"{args.model_dir} was trained on other labels than {args.data}.")
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
    scores.update(tfidf_weight=args.tfidf_weight, examples=len(valid))
    folder = ModelFolder(args.model_dir)
    folder.write_json("ensemble_metrics.json", scores)
    print(f"Wrote {folder.file('ensemble_metrics.json')}")


if __name__ == "__main__":
    main()
