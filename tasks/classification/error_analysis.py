"""Where a fine-tuned classifier's valid errors fall, next to how consistent the labels are.

    python tasks/classification/error_analysis.py models/cls_minilm [--sample 25] [--seed 1]

Reads the per-row predictions that `unilmv2 finetune-classifier` / `unilmv2 evaluate` wrote
beside `valid_metrics.json`. Each valid text is matched with its nearest train text under
TF-IDF cosine similarity (`tfidf_baseline.TfidfFeatures`), and the valid split is cut into
bands of that similarity. Per band: how often the neighbour's label equals the valid text's
(a ceiling for "label it like the closest known package"), and the model's accuracy. The same
agreement is given inside the train split (each train text against its nearest other train
text): near-duplicate descriptions that still carry different sections measure how ambiguous
the label set is. Then a random sample of the model's errors, to read by eye.
Writes nothing.
"""

import argparse
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfidf_baseline import TfidfFeatures, read_split  # noqa: E402

from unilmv2_tf.model_folder import ModelFolder  # noqa: E402

BANDS = ((0.7, 1.01), (0.5, 0.7), (0.3, 0.5), (0.0, 0.3))


def read_predictions(model_dir, valid):
    path = ModelFolder(model_dir).file(ModelFolder.VALID_METRICS) + ".predictions.jsonl"
    if not os.path.isfile(path):
        sys.exit(f"error_analysis: {path} not found; run `unilmv2 evaluate` on the valid split "
                 f"first.")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    if len(rows) != len(valid) or any(r["label"] != v["label"] for r, v in zip(rows, valid)):
        sys.exit(f"error_analysis: {path} does not hold one prediction per valid text in the "
                 f"split's order ({len(rows)} rows for {len(valid)} texts).")
    return [r["prediction"] for r in rows]


def nearest(similarity):
    """Index and similarity of each row's most similar column."""
    return similarity.argmax(1), similarity.max(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", help="a `unilmv2 finetune-classifier` --model_dir")
    parser.add_argument("--data", default="../shared/data/debian-sections")
    parser.add_argument("--sample", type=int, default=25, help="errors to print")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    train, valid = (read_split(args.data, split) for split in ("train", "valid"))
    predictions = read_predictions(args.model_dir, valid)
    features = TfidfFeatures([r["text"] for r in train])
    train_x = features.transform([r["text"] for r in train])
    neighbour, similarity = nearest(features.transform([r["text"] for r in valid]) @ train_x.T)
    within = train_x @ train_x.T
    np.fill_diagonal(within, -1.0)
    train_neighbour, train_similarity = nearest(within)
    print("| nearest-train cosine | valid texts | neighbour's label agrees | model accuracy "
          "| train texts | neighbour's label agrees (train) |")
    print("|---|---:|---:|---:|---:|---:|")
    for low, high in BANDS:
        rows = [i for i, s in enumerate(similarity) if low <= s < high]
        agree = np.mean([train[neighbour[i]]["label"] == valid[i]["label"] for i in rows])
        correct = np.mean([predictions[i] == valid[i]["label"] for i in rows])
        train_rows = [i for i, s in enumerate(train_similarity) if low <= s < high]
        train_agree = np.mean([train[train_neighbour[i]]["label"] == train[i]["label"]
                               for i in train_rows])
        print(f"| {low:.1f} – {min(high, 1.0):.1f} | {len(rows)} | {agree:.3f} | {correct:.3f} "
              f"| {len(train_rows)} | {train_agree:.3f} |")
    errors = [i for i, p in enumerate(predictions) if p != valid[i]["label"]]
    print(f"\n{len(errors)} errors of {len(valid)}; a sample of {min(args.sample, len(errors))} "
          f"(seed {args.seed}), gold -> predicted:")
    for i in random.Random(args.seed).sample(errors, min(args.sample, len(errors))):
        print(f"- {valid[i]['label']} -> {predictions[i]}: {valid[i]['text'][:160]}")


if __name__ == "__main__":
    main()
