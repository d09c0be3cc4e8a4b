"""Where a step's time goes: the top TensorFlow ops by time, from the TF profiler.

    python benchmarks/profile_ops.py [--preset=base --batch_size=8 --sequence_length=128
                                      --decode_preset=small --top=10]

Traces (`tf.profiler.experimental`) in one process, each after untimed warm-up steps:
a PMLM and an MLM training step in float32 and in mixed_bfloat16 (the batch of
`pretrain_step.py`), and cached decoding (`KVCacheDecoder`; greedy and beam 4, at batch 1 or
each of `--decode_batches`, 126-piece sources, 32 tokens; `--decode_preset`), without XLA and
with it ("... xla", the default of `generate`). Every op event the executor recorded is
summed by op type; under XLA, where the executor sees one op for the whole search, every
compiled kernel XLA's CPU runtime recorded (`--xla_cpu_enable_xprof_traceme`, set here) is
summed by kind ("XLA " and its HLO name without the number: `XLA MatMul`,
`XLA copy_bitcast_fusion`, ...). A table per variant gives milliseconds per step (for
decoding, per step of the search: a token for every source) and the share of all op time.
Op time can exceed the wall time: the two cores run independent ops side by side. Writes JSON.
"""

import argparse
import collections
import glob
import os
import re
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA's CPU runtime records its kernels for the profiler only with this flag.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_cpu_enable_xprof_traceme=true").strip()

from benchmark_report import write_report  # noqa: E402
from decode import decoding_inputs  # noqa: E402
from machine_peak import load_average  # noqa: E402
from pretrain_step import pretraining_batch  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config, assets  # noqa: E402
from unilmv2_tf.generation import KVCacheDecoder, beam_search, greedy_search  # noqa: E402
from unilmv2_tf.models import PMLMPretrainer  # noqa: E402
from unilmv2_tf.preprocessing import WordPieceTokenizer  # noqa: E402
from unilmv2_tf.training import create_optimizer  # noqa: E402


def op_times(run, repeats, xla_kernels=False):
    """Traces `repeats` calls of `run`; returns ({op type: seconds per call}, wall s per call).

    The executor names each op event `<op name>:<op type>`; framework events (thread pools,
    eager dispatch) carry `::` or no `:` and are left out. With `xla_kernels`, XLA's kernels
    count too: they run on the intra-op threads (`tf_numa...` lines), named by their HLO
    instruction (`MatMul.28`, `copy_bitcast_fusion.7`), beside its runtime's own events,
    which are left out."""
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        started = time.perf_counter()
        for _ in range(repeats):
            run()
        wall = (time.perf_counter() - started) / repeats
        tf.profiler.experimental.stop()
        totals = collections.Counter()
        for path in glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True):
            space = xplane_pb2.XSpace()
            with open(path, "rb") as f:
                space.ParseFromString(f.read())
            for plane in space.planes:
                names = {key: m.name for key, m in plane.event_metadata.items()}
                for line in plane.lines:
                    executor = line.name.startswith("tf_Compute")
                    if not (executor or xla_kernels and line.name.startswith("tf_numa")):
                        continue
                    for event in line.events:
                        name = names[event.metadata_id]
                        if executor and ":" in name and "::" not in name:
                            totals[name.rsplit(":", 1)[1]] += event.duration_ps * 1e-12
                        elif not executor and re.fullmatch(r"[\w.-]+\.\d+|[\w-]+", name):
                            kind = "XLA " + re.sub(r"\.\d+$", "", name)
                            totals[kind] += event.duration_ps * 1e-12
    return {op: seconds / repeats for op, seconds in totals.items()}, wall


def training_variants(args, tokenizer):
    """`{name: (train_step, steps)}` for PMLM and MLM in float32 and mixed_bfloat16."""
    config = UniLMv2Config.from_preset(args.preset, vocab_size=tokenizer.vocabulary_size)
    batch, _ = pretraining_batch(tokenizer, args.sequence_length, args.batch_size)
    variants = {}
    for policy in ("float32", "mixed_bfloat16"):
        keras.mixed_precision.set_global_policy(policy)
        for objective in ("pmlm", "mlm"):
            keras.utils.set_random_seed(0)
            model = PMLMPretrainer(UniLMv2Backbone(config), objective=objective,
                                   compile=False)
            model.compile(optimizer=create_optimizer(1e-4, 1000, 10))
            variants[f"{objective} {policy}"] = (
                lambda m=model: m.train_on_batch(batch), args.train_steps)
    keras.mixed_precision.set_global_policy("float32")
    return variants


def decoding_variants(args, tokenizer):
    """`{name: (decode, tokens)}`: cached greedy and beam 4 at each of `--decode_batches`
    (`decode greedy x1`, `decode beam4 x16 xla`, ...), without XLA and with it."""
    target_length, source_length = args.target_length, 128
    batches = tuple(int(b) for b in args.decode_batches.split(","))
    backbone, head, sources = decoding_inputs(tokenizer, args.decode_preset, source_length,
                                              target_length, source_length - 2, batches)
    decoder = KVCacheDecoder(backbone, head, target_length, tokenizer.mask_id)
    options = {"min_length": target_length, "ngram_size": 0}
    searches = {"greedy": lambda s: greedy_search(decoder, s, tokenizer.sep_id, **options),
                "beam4": lambda s: beam_search(decoder, s, tokenizer.sep_id, beam_size=4,
                                               **options)}
    variants = {}
    for batch in batches:
        for name, search in searches.items():
            for suffix, jit_compile in (("", False), (" xla", True)):
                function = tf.function(search, jit_compile=jit_compile)
                variants[f"decode {name} x{batch}{suffix}"] = (
                    lambda f=function, s=sources[batch]: f(s)["token_ids"].numpy(),
                    target_length)
    return variants


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--train_steps", type=int, default=2, help="Traced training steps.")
    parser.add_argument("--decode_preset", default="small")
    parser.add_argument("--target_length", type=int, default=32)
    parser.add_argument("--decode_batches", default="1",
                        help="Comma-separated batch sizes to decode (`1,16`).")
    parser.add_argument("--repeats", type=int, default=3, help="Traced decoding runs.")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--only", default="", help="Comma-separated variant names to run.")
    parser.add_argument("--output", default="benchmarks/profile_ops.json")
    args = parser.parse_args()
    tokenizer = WordPieceTokenizer(assets.BERT_UNCASED_VOCAB)
    variants = {**training_variants(args, tokenizer), **decoding_variants(args, tokenizer)}
    if args.only:
        chosen = args.only.split(",")
        unknown = sorted(set(chosen) - set(variants))
        if unknown:
            raise SystemExit(f"--only: unknown variants {unknown}; known: {sorted(variants)}")
        variants = {name: variants[name] for name in chosen}
    loads, results = [load_average()], {}
    for name, (run, per_call) in variants.items():
        training = not name.startswith("decode")
        run()  # trace the function, warm the thread pools
        run()
        times, wall = op_times(run, args.train_steps if training else args.repeats,
                               xla_kernels=name.endswith(" xla"))
        unit, per = ("step", 1) if training else ("token", per_call)
        total = sum(times.values())
        top = sorted(times.items(), key=lambda kv: -kv[1])[:args.top]
        results[name] = {"wall_ms_per_" + unit: 1000 * wall / per,
                         "op_ms_per_" + unit: 1000 * total / per,
                         "top_ops": {op: {"ms": 1000 * t / per, "share": t / total}
                                     for op, t in top}}
        print(f"\n{name}: wall {results[name]['wall_ms_per_' + unit]:.1f} ms per {unit}, "
              f"op time {results[name]['op_ms_per_' + unit]:.1f} ms\n"
              f"| op type | ms per {unit} | share of op time |\n|---|---:|---:|")
        for op, row in results[name]["top_ops"].items():
            print(f"| {op} | {row['ms']:.2f} | {row['share']:.1%} |")
    loads.append(load_average())
    print(f"\nload average {loads[0]['load_average_1m']} -> {loads[1]['load_average_1m']}")
    write_report(args.output, {"args": vars(args), "variants": results, "load_average": loads})


if __name__ == "__main__":
    main()
