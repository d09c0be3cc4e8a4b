"""Decoding precision: a mixed_bfloat16 model decoded under its own policy and in float32.

    python benchmarks/decode_precision.py [--presets=small,base --target_length=32]

`Seq2SeqLM.generate` with its default settings (`jit_compile="auto"`), greedy and beam 4 at
batch 1 and 16, for three models with the same random weights, side by side in one
process on the same real sources (fixture Debian descriptions cut to 126 word pieces):

- float32: the model built under float32;
- bf16 model: built under mixed_bfloat16 and decoded under that policy
  (`dtype_policy="model"`, what `generate` did before "auto");
- bf16 auto: the same model with `generate`'s default `dtype_policy="auto"` (float32 where
  TensorFlow sees no GPU or TPU).

EOS is held back, so every run generates exactly `--target_length` tokens. Each time is the
best of `--repeats` calls after a warm-up call (which traces and compiles). The bf16 auto
rows also say whether their outputs are token-for-token those of the float32 model. The
float32 and bfloat16 matmul peaks and the load average are measured before and after. Prints
a table and writes JSON.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
from decode import FIXTURE  # noqa: E402
from machine_peak import load_average, measure_peak  # noqa: E402
import keras  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, assets  # noqa: E402
from unilmv2_tf.data import read_jsonl_records  # noqa: E402
from unilmv2_tf.models import Seq2SeqLM  # noqa: E402
from unilmv2_tf.preprocessing import WordPieceTokenizer  # noqa: E402

SEARCHES = (("greedy", 1, 1), ("greedy", 1, 16), ("beam4", 4, 1), ("beam4", 4, 16))


def models(preset, tokenizer, source_length, target_length):
    """`{variant: (model, generate's dtype_policy)}` sharing one set of random weights."""
    keras.utils.set_random_seed(0)
    slots = source_length + target_length
    built = {}
    for policy in ("float32", "mixed_bfloat16"):
        backbone = UniLMv2Backbone(UniLMv2Backbone.from_size(preset).config, dtype=policy)
        built[policy] = Seq2SeqLM(backbone.with_max_positions(slots), source_length,
                                  target_length, tokenizer=tokenizer, compile=False)
    built["mixed_bfloat16"].set_weights(built["float32"].get_weights())
    return {"float32": (built["float32"], "auto"),
            "bf16 model": (built["mixed_bfloat16"], "model"),
            "bf16 auto": (built["mixed_bfloat16"], "auto")}


def best_time(generate, repeats):
    outputs = generate()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        generate()
        times.append(time.perf_counter() - started)
    return min(times), outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="small,base")
    parser.add_argument("--source_length", type=int, default=128)
    parser.add_argument("--target_length", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/decode_precision.json")
    args = parser.parse_args()

    tokenizer = WordPieceTokenizer(assets.BERT_UNCASED_VOCAB)
    pieces = args.source_length - 2
    texts = [r["source"] for r in read_jsonl_records(FIXTURE, ["source"])]
    sources = [p[:pieces] for p in tokenizer.tokenize(texts).to_list() if len(p) >= pieces]
    sources = [sources[i % len(sources)] for i in range(16)]
    peak_before, loads = measure_peak(), [load_average()]
    rows = []
    print(f"{'preset':<6} {'search':<7} {'batch':>5} {'model':<11} {'ms / example':>13} "
          f"{'vs float32':>10} {'same as float32':>15}")
    for preset in args.presets.split(","):
        variants = models(preset, tokenizer, args.source_length, args.target_length)
        for search, beam_size, batch in SEARCHES:
            reference = None
            for name, (model, policy) in variants.items():
                seconds, outputs = best_time(lambda m=model, p=policy: m.generate(
                    sources[:batch], beam_size=beam_size, batch_size=batch,
                    max_length=args.target_length, min_length=args.target_length,
                    ngram_size=0, dtype_policy=p), args.repeats)
                if name == "float32":
                    reference = (seconds, outputs)
                row = {"preset": preset, "search": search, "batch": batch, "model": name,
                       "ms_per_example": 1000 * seconds / batch,
                       "time_vs_float32": seconds / reference[0],
                       "same_outputs_as_float32": outputs == reference[1]}
                rows.append(row)
                print(f"{preset:<6} {search:<7} {batch:>5} {name:<11} "
                      f"{row['ms_per_example']:>13.1f} {row['time_vs_float32']:>10.2f} "
                      f"{str(row['same_outputs_as_float32']):>15}", flush=True)
    loads.append(load_average())
    peak_after = measure_peak()
    print(f"matmul peak float32 {peak_before['float32']:.0f} / {peak_after['float32']:.0f}, "
          f"bfloat16 {peak_before['bfloat16']:.0f} / {peak_after['bfloat16']:.0f} GFLOP/s "
          f"(before / after); load average {loads[0]['load_average_1m']} -> "
          f"{loads[1]['load_average_1m']}")
    write_report(args.output, {"source_pieces": pieces, "target_length": args.target_length,
                               "repeats": args.repeats, "peak_before": peak_before,
                               "peak_after": peak_after, "load": loads, "rows": rows})


if __name__ == "__main__":
    main()
