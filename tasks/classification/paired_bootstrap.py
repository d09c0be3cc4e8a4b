"""Is one classifier's accuracy really above another's? A paired bootstrap over valid texts.

    python tasks/classification/paired_bootstrap.py models/cls_a models/cls_b

Reads each folder's per-row predictions (`valid_metrics.json.predictions.jsonl`, written by
`tasks/classification/run.sh` and `unilmv2 evaluate`; `--predictions` names another file in
both folders), checks that both labelled the same rows alike, and gives the accuracy of A and
B, A - B with a 95 % interval over `--samples` resamplings of the rows (the same rows for both)
and the share of resamplings in which A is not above B.
"""

import argparse
import json
import os

from unilmv2_tf.metrics import paired_bootstrap


def read_predictions(path):
    """`(predictions, labels)` of a `.predictions.jsonl` file (`prediction`, `label` keys)."""
    predictions, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            try:
                row = json.loads(line)
                predictions.append(row["prediction"])
                labels.append(row["label"])
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a prediction row with 'prediction' and "
                                 f"'label' ({error}).") from None
    return predictions, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_a")
    parser.add_argument("model_b")
    parser.add_argument("--predictions", default="valid_metrics.json.predictions.jsonl")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (a, gold), (b, gold_b) = (read_predictions(os.path.join(m, args.predictions))
                              for m in (args.model_a, args.model_b))
    if gold != gold_b:
        parser.error(f"the two files label {len(gold)} and {len(gold_b)} rows differently: "
                     f"score the same file with both models.")
    correct_a = [float(p == g) for p, g in zip(a, gold)]
    correct_b = [float(p == g) for p, g in zip(b, gold)]
    result = paired_bootstrap(correct_a, correct_b, args.samples, args.seed)
    both = sum(int(x and y) for x, y in zip(correct_a, correct_b))
    print(f"{len(gold)} rows, {args.samples} resamplings: A = {args.model_a}, "
          f"B = {args.model_b}")
    print(f"accuracy A {result['mean_a']:.4f}  B {result['mean_b']:.4f}  A - B "
          f"{result['difference']:+.4f} (95 % {result['low']:+.4f} to {result['high']:+.4f}; "
          f"A not above B in {result['a_not_above_b']:.1%}); both right on {both}, only A on "
          f"{int(sum(correct_a)) - both}, only B on {int(sum(correct_b)) - both}")
    print(json.dumps({"rows": len(gold), "samples": args.samples, "accuracy": result}))


if __name__ == "__main__":
    main()
