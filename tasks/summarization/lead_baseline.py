"""Reference point for the recipe: ROUGE of the first N words of the description."""

import argparse

from unilmv2_tf.data import read_jsonl_records
from unilmv2_tf.metrics import rouge_scores


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_file", required=True)
    parser.add_argument("--max_examples", type=int, default=0)
    parser.add_argument("--words", type=int, default=7, help="the median synopsis length")
    args = parser.parse_args()
    records = read_jsonl_records(args.input_file, ["source", "target"], args.max_examples or None)
    leads = [" ".join(r["source"].split()[:args.words]) for r in records]
    scores = rouge_scores(leads, [r["target"] for r in records])
    print(f"lead-{args.words} baseline on {len(records)} pairs: " +
          "  ".join(f"{name} {value:.2f}" for name, value in scores.items()))


if __name__ == "__main__":
    main()
