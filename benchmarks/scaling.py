"""Training throughput under tf.distribute: one device vs MirroredStrategy, jit on and off.

    python benchmarks/scaling.py [--preset=small --batch_size=32 --sequence_length=128
                                  --replicas=2,4 --steps=8]

PMLM pretraining with `model.fit`, AdamW and float32, on the same global batches of real text
(the bundled corpus, cached in memory so that tokenizing and masking are not timed), for
`one_device` and for `MirroredStrategy` over each replica count in `--replicas`, each with
`jit_compile` off and on. The replicas are the GPUs when there are enough, else logical CPU
devices over the same cores. Each variant runs in its own subprocess, started one after the
other by this script: TF fixes the logical devices at start-up, collectives of different sizes
do not mix in one process, and peak memory is per process (resident set; on a GPU also the
allocator's peak). Prints a table and the ratios to one device without jit, and writes JSON.
Every row also gives the model's GFLOP/s (`transformer_flops`) and its fraction of the float32
matmul peak, measured in this process before and after the variants, with the load average.

On a CPU-only machine the logical devices share the same cores, so the table measures what
the strategy costs (splitting the batch, all-reducing the gradients), not a speed-up.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
from machine_peak import load_average, measure_peak, transformer_flops  # noqa: E402
from unilmv2_tf import UniLMv2Config  # noqa: E402
from unilmv2_tf.preprocessing import PMLMMasker  # noqa: E402


def run_variant(args):
    """One variant in this process; prints `RESULT {json}`."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and args.variant_replicas > 1:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * args.variant_replicas)

    import keras

    from unilmv2_tf import UniLMv2Backbone, UniLMv2Config, assets
    from unilmv2_tf.data import make_pretraining_dataset
    from unilmv2_tf.models import PMLMPretrainer
    from unilmv2_tf.preprocessing import PMLMMasker, WordPieceTokenizer
    from unilmv2_tf.training import ThroughputLogger, create_optimizer, input_positions

    kind = "GPU" if gpus else "CPU"
    devices = [d.name for d in tf.config.list_logical_devices(kind)]
    if args.variant_replicas == 0:
        strategy = tf.distribute.OneDeviceStrategy(devices[0])
    elif args.variant_replicas > len(devices):
        raise SystemExit(f"{args.variant_replicas} replicas, but only {len(devices)} {kind}s.")
    else:
        strategy = tf.distribute.MirroredStrategy(devices[:args.variant_replicas])
    tokenizer = WordPieceTokenizer()
    config = UniLMv2Config.from_preset(args.preset, vocab_size=tokenizer.vocabulary_size)
    masker = PMLMMasker.for_tokenizer(
        tokenizer, PMLMMasker.default_max_predictions(args.sequence_length))
    data = make_pretraining_dataset([assets.DEFAULT_CORPUS], tokenizer, masker,
                                    args.sequence_length, args.batch_size, seed=0)
    data = data.take(4).cache().repeat()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = PMLMPretrainer(UniLMv2Backbone(config))
        model.compile(optimizer=create_optimizer(1e-4, 1000, 10), jit_compile=args.variant_jit)
    logger = ThroughputLogger(input_positions(next(iter(data))))
    started = time.perf_counter()
    try:
        model.fit(data, epochs=1, steps_per_epoch=args.warmup, callbacks=[logger], verbose=0)
    except tf.errors.OpError as e:  # e.g. XLA over several devices: reported, not raised
        print("ERROR " + json.dumps(e.message))
        return
    first = time.perf_counter() - started  # tracing / compiling included
    history = model.fit(data, epochs=1, steps_per_epoch=args.steps, callbacks=[logger],
                        verbose=0).history
    result = {"replicas": strategy.num_replicas_in_sync, "device_kind": kind,
              "tokens_per_s": history["tokens_per_s"][-1],
              "step_time_s": history["step_time_s"][-1], "warmup_s": first,
              "loss": history["loss"][-1],
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if gpus:
        result["peak_gpu_mib"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    print("RESULT " + json.dumps(result))


def error_summary(message):
    """The line of a TF error that says what went wrong (not the traceback around it)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()
             and not line.startswith((" ", "\t", "File", "Detected at", "Graph execution"))]
    line = (lines or [message.strip()])[0]
    return re.sub(r" \(defined @ [^)]*\)", "", line)[:200]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch_size", type=int, default=32, help="Global batch size.")
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--replicas", default="2,4", help="MirroredStrategy replica counts.")
    parser.add_argument("--steps", type=int, default=8, help="Timed steps per variant.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed steps (tracing).")
    parser.add_argument("--output", default="benchmarks/scaling.json")
    parser.add_argument("--variant_replicas", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variant_jit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant_replicas is not None:
        return run_variant(args)

    replica_counts = [int(n) for n in args.replicas.split(",") if n]
    if any(n < 1 for n in replica_counts) or args.batch_size % max(replica_counts, default=1):
        raise SystemExit(f"--replicas must be positive and divide --batch_size "
                         f"{args.batch_size}; got {args.replicas}.")
    common = [f"--preset={args.preset}", f"--batch_size={args.batch_size}",
              f"--sequence_length={args.sequence_length}", f"--steps={args.steps}",
              f"--warmup={args.warmup}"]
    peak_before, loads = measure_peak(), [load_average()]
    results = {}
    for replicas in [0] + replica_counts:
        for jit in (0, 1):
            name = (f"mirrored x{replicas}" if replicas else "one_device") + \
                   (" + jit" if jit else "")
            print(f"running {name} ...", flush=True)
            run = subprocess.run([sys.executable, __file__, *common,
                                  f"--variant_replicas={replicas}", f"--variant_jit={jit}"],
                                 capture_output=True, text=True)
            lines = {x.split(" ", 1)[0]: x.split(" ", 1)[1] for x in run.stdout.splitlines()
                     if x.startswith(("RESULT ", "ERROR "))}
            if "RESULT" in lines:
                results[name] = json.loads(lines["RESULT"])
            else:
                message = (json.loads(lines["ERROR"]) if "ERROR" in lines else
                           run.stderr.strip() or f"exit status {run.returncode}")
                results[name] = {"error": message, "summary": error_summary(message)}
                print(f"  failed: {results[name]['summary']}")

    loads.append(load_average())
    peak_after = measure_peak()
    peak = max(peak_before["float32"], peak_after["float32"])
    predictions = PMLMMasker.default_max_predictions(args.sequence_length)
    flops = transformer_flops(UniLMv2Config.from_preset(args.preset), args.batch_size,
                              args.sequence_length + 2 * predictions, 2 * predictions)
    base = results["one_device"].get("tokens_per_s")
    print(f"\n{args.preset} preset PMLM, global batch {args.batch_size} x "
          f"{args.sequence_length} (+{2 * predictions} appended), {args.steps} timed steps, "
          f"{os.cpu_count()} CPU cores, load average {loads[0]['load_average_1m']} -> "
          f"{loads[1]['load_average_1m']}, float32 matmul peak {peak_before['float32']:.0f} / "
          f"{peak_after['float32']:.0f} GFLOP/s (before / after)\n")
    print("| variant | tokens/s | s/step | GFLOP/s | of fp32 peak | vs one device | warm-up s "
          "| peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | failed: {r['summary']} | | | | | | |")
            continue
        ratio = r["tokens_per_s"] / base if base else float("nan")
        r["vs_one_device"] = ratio
        r["gflops_per_s"] = flops / r["step_time_s"] / 1e9
        r["fraction_of_fp32_peak"] = r["gflops_per_s"] / peak
        print(f"| {name} | {r['tokens_per_s']:.0f} | {r['step_time_s']:.3f} | "
              f"{r['gflops_per_s']:.0f} | {r['fraction_of_fp32_peak']:.0%} | {ratio:.2f} | "
              f"{r['warmup_s']:.1f} | {r['peak_rss_mib']:.0f} |")
    write_report(args.output, {"args": vars(args), "results": results,
                               "model_gflop_per_step": flops / 1e9,
                               "peak_gflops": {"float32": peak, "before": peak_before,
                                               "after": peak_after},
                               "load_average": loads})


if __name__ == "__main__":
    main()
