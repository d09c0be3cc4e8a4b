"""Time per training step: PMLM vs MLM vs the naive per-step cloze vs keras-hub's BertMaskedLM.

    python benchmarks/pretrain_step.py [--preset=small --batch_size=32 --sequence_length=128
                                        --dtype_policy=float32]

All four run side by side in one process on the same batch of real text (the bundled corpus),
the same model sizes, AdamW and precision (`--dtype_policy`): (a) PMLM (AE + PAR in one
pass), (b) MLM only (AE, appended part cut off), (c) the naive alternative the paper avoids:
one cloze forward per factorization step, each revealing the earlier blocks, and (d)
keras-hub's `BertMaskedLM` on the same MLM batch; with `--keras_adamw`, also (e) the PMLM step
with Keras' own `AdamW` instead of the fused one every other row uses (`FusedAdamW`). Prints a
table and the ratios, and writes JSON. Every row also gives the model's GFLOP/s and its
fraction of the matmul peak of the precision, measured in the same run before and after the
timed part (`machine_peak.py`), with the load average during the run.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
from machine_peak import load_average, measure_peak, transformer_flops  # noqa: E402
import keras  # noqa: E402
import keras_hub  # noqa: E402
import tensorflow as tf  # noqa: E402

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config, assets  # noqa: E402
from unilmv2_tf.data import make_pretraining_dataset  # noqa: E402
from unilmv2_tf.layers import MaskedLMHead  # noqa: E402
from unilmv2_tf.models import PMLMPretrainer  # noqa: E402
from unilmv2_tf.models.pmlm_pretrainer import masked_cross_entropy  # noqa: E402
from unilmv2_tf.preprocessing import PMLMMasker, WordPieceTokenizer  # noqa: E402
from unilmv2_tf.training import create_optimizer  # noqa: E402


class NaiveClozePretrainer(keras.Model):
    """One full bidirectional forward per factorization step (what PMLM avoids)."""

    def __init__(self, backbone, num_steps, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.num_steps = num_steps
        self.lm_head = MaskedLMHead(backbone.token_embedding)

    def call(self, x, training=False):
        length = x["token_ids"].shape[1] - 2 * x["par_positions"].shape[1]
        main = {k: x[k][:, :length] for k in ("token_ids", "segment_ids", "position_ids",
                                               "padding_mask", "step_weights")}
        label_step = -tf.gather(x["step_weights"], x["par_positions"], batch_dims=1)
        batch = tf.shape(main["token_ids"])[0]
        rows = tf.broadcast_to(tf.range(batch)[:, None], tf.shape(x["mask_positions"]))
        index = tf.stack([rows, x["mask_positions"]], -1)
        valid = x["label_weights"] > 0
        step_map = tf.scatter_nd(tf.boolean_mask(index, valid),
                                 tf.boolean_mask(label_step, valid), tf.shape(main["token_ids"]))
        originals = tf.tensor_scatter_nd_update(main["token_ids"], tf.boolean_mask(index, valid),
                                                tf.boolean_mask(x["labels"], valid))
        logits = []
        for step in range(1, self.num_steps + 1):
            revealed = tf.logical_and(step_map > 0, step_map < step)
            inputs = dict(main, token_ids=tf.where(revealed, originals, main["token_ids"]))
            sequence = self.backbone(inputs, training=training)["sequence_output"]
            logits.append(self.lm_head(sequence, x["mask_positions"]))
        return {"logits": tf.stack(logits, 0), "label_step": label_step}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = 0.0
        for step in range(1, self.num_steps + 1):
            weights = x["label_weights"] * tf.cast(tf.equal(y_pred["label_step"], step),
                                                   tf.float32)
            loss_sum, _, _ = masked_cross_entropy(x["labels"], y_pred["logits"][step - 1],
                                                  weights)
            total += loss_sum
        return total / tf.maximum(tf.reduce_sum(x["label_weights"]), 1.0)


def time_steps(train_step, warmup, steps):
    first = time.perf_counter()
    train_step()
    first = time.perf_counter() - first
    for _ in range(warmup - 1):
        train_step()
    start = time.perf_counter()
    for _ in range(steps):
        train_step()
    return (time.perf_counter() - start) / steps, first


def pretraining_batch(tokenizer, sequence_length, batch_size):
    """The first PMLM batch of the bundled corpus (seed 0), and its masker."""
    masker = PMLMMasker.for_tokenizer(tokenizer,
                                      PMLMMasker.default_max_predictions(sequence_length))
    data = make_pretraining_dataset([assets.DEFAULT_CORPUS], tokenizer, masker,
                                    sequence_length, batch_size, seed=0)
    return next(iter(data)), masker


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dtype_policy", default="float32",
                        choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--peak_size", type=int, default=2048,
                        help="Matrix size of the peak measurement (8192 for a GPU).")
    parser.add_argument("--jit_compile", action="store_true",
                        help="XLA-compile every variant's training step (as `unilmv2 pretrain "
                        "--jit_compile`).")
    parser.add_argument("--skip_naive", action="store_true",
                        help="Leave out (c): tracing its passes takes many minutes on big presets.")
    parser.add_argument("--keras_adamw", action="store_true",
                        help="Add (e): the PMLM step with keras.optimizers.AdamW.")
    parser.add_argument("--output", default=None,
                        help="JSON report; default "
                        "benchmarks/pretrain_step[_<preset>][_<dtype_policy>][_xla].json.")
    args = parser.parse_args()
    name = "pretrain_step" + ("" if args.preset == "small" else f"_{args.preset}")
    name += "" if args.dtype_policy == "float32" else f"_{args.dtype_policy}"
    name += "_xla" if args.jit_compile else ""
    args.output = args.output or f"benchmarks/{name}.json"
    peak_before = measure_peak(args.peak_size)
    loads = [load_average()]
    keras.mixed_precision.set_global_policy(args.dtype_policy)

    tokenizer = WordPieceTokenizer()
    config = UniLMv2Config.from_preset(args.preset, vocab_size=tokenizer.vocabulary_size)
    batch, masker = pretraining_batch(tokenizer, args.sequence_length, args.batch_size)
    num_steps = int(-tf.reduce_min(batch["step_weights"]))
    length = args.sequence_length

    def optimizer(fused=True):
        return create_optimizer(1e-4, 1000, 10, fused=fused)

    results = {}
    variants = [("pmlm", "pmlm", True), ("mlm", "mlm", True)]
    variants += [("pmlm_keras_adamw", "pmlm", False)] if args.keras_adamw else []
    for name, objective, fused in variants:
        keras.utils.set_random_seed(0)
        model = PMLMPretrainer(UniLMv2Backbone(config), objective=objective)
        model.compile(optimizer=optimizer(fused), jit_compile=args.jit_compile)
        results[name] = time_steps(lambda m=model: m.train_on_batch(batch), args.warmup,
                                   args.steps)
    if not args.skip_naive:
        keras.utils.set_random_seed(0)
        naive = NaiveClozePretrainer(UniLMv2Backbone(config), num_steps)
        naive.compile(optimizer=optimizer(), jit_compile=args.jit_compile)
        results["naive"] = time_steps(lambda: naive.train_on_batch(batch), 1,
                                      max(args.steps // 2, 1))

    hub_backbone = keras_hub.models.BertBackbone(
        vocabulary_size=config.vocab_size, num_layers=config.num_layers,
        num_heads=config.num_heads, hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        max_sequence_length=config.max_position_embeddings, dropout=config.hidden_dropout)
    hub = keras_hub.models.BertMaskedLM(hub_backbone, preprocessor=None)
    hub.compile(optimizer=optimizer(),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=args.jit_compile)
    hub_x = {"token_ids": batch["token_ids"][:, :length],
             "segment_ids": batch["segment_ids"][:, :length],
             "padding_mask": batch["padding_mask"][:, :length],
             "mask_positions": batch["mask_positions"]}
    results["keras_hub_mlm"] = time_steps(
        lambda: hub.train_on_batch(hub_x, batch["labels"], sample_weight=batch["label_weights"]),
        args.warmup, args.steps)

    loads.append(load_average())
    peak_after = measure_peak(args.peak_size)
    # The float16 matmul peak is not measured: bfloat16's stands in for mixed_float16.
    peak_key = "float32" if args.dtype_policy == "float32" else "bfloat16"
    peak = max(peak_before[peak_key], peak_after[peak_key])
    predictions = masker.max_predictions
    flops = {"pmlm": transformer_flops(config, args.batch_size, length + 2 * predictions,
                                       2 * predictions),
             "mlm": transformer_flops(config, args.batch_size, length, predictions),
             "naive": num_steps * transformer_flops(config, args.batch_size, length, predictions),
             "keras_hub_mlm": transformer_flops(config, args.batch_size, length, predictions)}
    flops["pmlm_keras_adamw"] = flops["pmlm"]
    ratios = {"pmlm / mlm": results["pmlm"][0] / results["mlm"][0],
              "naive / pmlm": results["naive"][0] / results["pmlm"][0] if "naive" in results
              else None,
              "mlm / keras_hub_mlm": results["mlm"][0] / results["keras_hub_mlm"][0],
              "pmlm_keras_adamw / pmlm": results["pmlm_keras_adamw"][0] / results["pmlm"][0]
              if "pmlm_keras_adamw" in results else None}
    ratios = {key: value for key, value in ratios.items() if value is not None}
    targets = {"pmlm / mlm": "<= 1.5", "naive / pmlm": ">= 4", "mlm / keras_hub_mlm": "<= 1.15",
               "pmlm_keras_adamw / pmlm": "(the fused optimizer's speed-up)"}
    labels = {"pmlm": "(a) PMLM: AE + PAR, one pass",
              "mlm": "(b) MLM only (AE)",
              "naive": f"(c) naive: {num_steps} cloze passes",
              "keras_hub_mlm": "(d) keras-hub BertMaskedLM",
              "pmlm_keras_adamw": "(e) PMLM with Keras' AdamW"}
    print(f"\n{args.preset} preset ({config.num_layers}x{config.hidden_size}, vocab "
          f"{config.vocab_size}), batch {args.batch_size} x {length} (+{2 * masker.max_predictions}"
          f" appended), {args.dtype_policy}, XLA {'on' if args.jit_compile else 'off'}, "
          f"{args.steps} timed steps, {os.cpu_count()} CPU "
          f"cores, load average {loads[0]['load_average_1m']} -> {loads[1]['load_average_1m']}\n"
          f"matmul peak ({peak_key}): {peak:.0f} GFLOP/s (before {peak_before[peak_key]:.0f}, "
          f"after {peak_after[peak_key]:.0f})\n")
    print("| variant | s/step | first step (trace) | model GFLOP/s | fraction of peak |\n"
          "|---|---:|---:|---:|---:|")
    achieved = {key: flops[key] / step / 1e9 for key, (step, _) in results.items()}
    for key, (step, first) in results.items():
        print(f"| {labels[key]} | {step:.3f} | {first:.1f} | {achieved[key]:.0f} | "
              f"{achieved[key] / peak:.0%} |")
    print("\n| ratio | measured | target |\n|---|---:|---|")
    for key, value in ratios.items():
        print(f"| {key} | {value:.2f} | {targets[key]} |")
    report = {"args": vars(args), "config": config.to_dict(), "factorization_steps": num_steps,
              "seconds_per_step": {k: v[0] for k, v in results.items()},
              "first_step_seconds": {k: v[1] for k, v in results.items()},
              "ratios": ratios, "targets": targets, "dtype_policy": args.dtype_policy,
              "model_gflop_per_step": {k: flops[k] / 1e9 for k in results},
              "achieved_gflops": achieved,
              "fraction_of_peak": {k: v / peak for k, v in achieved.items()},
              "peak_gflops": {"used": peak, "which": peak_key, "before": peak_before,
                              "after": peak_after},
              "load_average": loads}
    write_report(args.output, report)


if __name__ == "__main__":
    main()
