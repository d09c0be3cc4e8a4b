"""Is one system's ROUGE really above another's? A paired bootstrap over the same pairs.

    python tasks/summarization/paired_bootstrap.py models/summ_a/valid.beam4.txt \
        models/summ_b/valid.beam4.txt [--input_file=../shared/data/debian-synopsis/valid.jsonl]

Both files hold one output per line for the first N pairs of `--input_file` (what `unilmv2
decode --max_examples=N` writes). Each pair is scored once (ROUGE-1/2/L F1); then `--samples`
resamplings of the N pairs, with replacement and the same pairs for both systems, give the
difference of the means (A - B) with a 95 % interval and the share of resamplings in which A
is not above B.
"""

import argparse
import json

from unilmv2_tf.data import read_jsonl_records
from unilmv2_tf.metrics import paired_bootstrap, rouge_per_example


def read_outputs(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system_a")
    parser.add_argument("system_b")
    parser.add_argument("--input_file", default="../shared/data/debian-synopsis/valid.jsonl")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    a, b = read_outputs(args.system_a), read_outputs(args.system_b)
    if len(a) != len(b):
        parser.error(f"{args.system_a} has {len(a)} lines, {args.system_b} {len(b)}: decode "
                     f"the same pairs with both.")
    references = [r["target"] for r in read_jsonl_records(args.input_file, ["target"], len(a))]
    if len(references) < len(a):
        parser.error(f"{args.input_file} has {len(references)} pairs, the outputs {len(a)}.")
    scores_a, scores_b = rouge_per_example(a, references), rouge_per_example(b, references)
    results = {name: paired_bootstrap(scores_a[name], scores_b[name], args.samples, args.seed)
               for name in scores_a}
    print(f"{len(a)} pairs, {args.samples} resamplings: A = {args.system_a}, B = {args.system_b}")
    for name, r in results.items():
        print(f"{name:7s} A {r['mean_a']:6.2f}  B {r['mean_b']:6.2f}  A - B {r['difference']:+.2f} "
              f"(95 % {r['low']:+.2f} to {r['high']:+.2f}; A not above B in "
              f"{r['a_not_above_b']:.1%})")
    print(json.dumps({"pairs": len(a), "samples": args.samples, "results": results}))


if __name__ == "__main__":
    main()
