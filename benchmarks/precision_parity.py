"""float32 against mixed_bfloat16 on real data: fine-tuning loss curves and decoding metrics.

    python benchmarks/precision_parity.py [--init_checkpoint=models/minilm-l6
        --seq2seq_dir=models/summ_minilm --steps=200 --decode_examples=200]

1. Fine-tuning: the classification recipe's MiniLM settings (mean pooling, lr 2e-4, batch 32,
   128 tokens, warmup 10 %) for `--steps` steps from `--init_checkpoint`, once per precision,
   same seed and same batches; the training loss every 25 steps, the valid accuracy and
   macro F1 on all of `debian-sections/valid.jsonl`, and the time per step.
2. Decoding: the fine-tuned seq2seq model in `--seq2seq_dir` (a `finetune-seq2seq` folder), its
   weights rebuilt under each precision, beam 4 on the first `--decode_examples` pairs of
   `debian-synopsis/valid.jsonl`; ROUGE-1/2/L, the share of outputs identical across the two
   precisions, and the time.

Needs `make minilm` and a summarization model (`INIT_CHECKPOINT=models/minilm-l6
tasks/summarization/run.sh models/summ_minilm`). Prints a table and writes JSON.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmark_report import write_report  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from unilmv2_tf import UniLMv2Backbone  # noqa: E402
from unilmv2_tf.data import make_classification_dataset, read_jsonl_records  # noqa: E402
from unilmv2_tf.metrics import rouge_scores  # noqa: E402
from unilmv2_tf.models import (Classifier, Seq2SeqLM, evaluate_classifier,  # noqa: E402
                               load_pretrained, read_task_rows)
from unilmv2_tf.preprocessing import TextPairPacker, WordPieceTokenizer  # noqa: E402
from unilmv2_tf.training import create_optimizer  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
POLICIES = ("float32", "mixed_bfloat16")
LOG_EVERY = 25


def in_policy(backbone, policy):
    rebuilt = UniLMv2Backbone(backbone.config, dtype=policy)
    rebuilt.set_weights(backbone.get_weights())
    return rebuilt


def fine_tune(args, policy, output_dir):
    tokenizer = WordPieceTokenizer(os.path.join(args.init_checkpoint, "vocab.txt"))
    sections = os.path.join(DATA, "debian-sections")
    task = {"task": "classification", "text_key": "text", "text_pair_key": "",
            "label_key": "label", "sequence_length": 128, "truncation": "longest_first"}
    train = read_task_rows(os.path.join(sections, "train.jsonl"), task)
    task["labels"] = labels = sorted({r["label"] for r in train})
    keras.utils.set_random_seed(0)
    backbone = in_policy(load_pretrained(args.init_checkpoint)[0], policy)
    model = Classifier(backbone, len(labels), pooling="mean", compile=False)
    model.compile(optimizer=create_optimizer(2e-4, args.steps, args.steps // 10,
                                             clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    packer = TextPairPacker.for_tokenizer(tokenizer, 128)
    data = make_classification_dataset(train, tokenizer, packer, labels, 32, seed=0)
    started = time.perf_counter()
    history = model.fit(data, steps_per_epoch=LOG_EVERY, epochs=args.steps // LOG_EVERY,
                        verbose=0)
    seconds = time.perf_counter() - started
    scores = evaluate_classifier(model, tokenizer, task, os.path.join(sections, "valid.jsonl"),
                                 os.path.join(output_dir, f"valid_{policy}.json"))
    return {"losses": [float(x) for x in history.history["loss"]],
            "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
            "seconds_per_step": seconds / args.steps}


def decode(args, policy):
    model = Seq2SeqLM.load(args.seq2seq_dir)
    rebuilt = Seq2SeqLM(in_policy(model.backbone, policy), model.max_source_length,
                        model.max_target_length, tokenizer=model.tokenizer, compile=False)
    rebuilt.lm_head.set_weights(model.lm_head.get_weights())
    pairs = read_jsonl_records(os.path.join(DATA, "debian-synopsis", "valid.jsonl"),
                               ["source", "target"], args.decode_examples)
    started = time.perf_counter()
    outputs = rebuilt.generate([p["source"] for p in pairs], beam_size=4, length_penalty=0.6,
                               dtype_policy="model")  # not the float32 "auto" picks on CPUs
    seconds = time.perf_counter() - started
    return {"outputs": outputs, "seconds": seconds,
            **rouge_scores(outputs, [p["target"] for p in pairs])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init_checkpoint", default="models/minilm-l6")
    parser.add_argument("--seq2seq_dir", default="models/summ_minilm")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--decode_examples", type=int, default=200)
    parser.add_argument("--output", default="benchmarks/precision_parity.json")
    args = parser.parse_args()
    output_dir = os.path.dirname(os.path.abspath(args.output))

    tuned = {policy: fine_tune(args, policy, output_dir) for policy in POLICIES}
    print(f"Fine-tuning MiniLM on debian-sections, {args.steps} steps of 32 x 128, seed 0")
    print(f"{'step':>5} " + " ".join(f"{p:>15}" for p in POLICIES))
    for i in range(args.steps // LOG_EVERY):
        print(f"{(i + 1) * LOG_EVERY:>5} "
              + " ".join(f"{tuned[p]['losses'][i]:>15.4f}" for p in POLICIES))
    for key in ("accuracy", "macro_f1", "seconds_per_step"):
        print(f"{key:>16}: " + "  ".join(f"{p} {tuned[p][key]:.4f}" for p in POLICIES))

    decoded = {policy: decode(args, policy) for policy in POLICIES}
    same = np.mean([a == b for a, b in zip(decoded["float32"]["outputs"],
                                           decoded["mixed_bfloat16"]["outputs"])])
    print(f"\nDecoding {args.decode_examples} valid pairs, beam 4, length penalty 0.6")
    for policy in POLICIES:
        d = decoded[policy]
        print(f"{policy:>15}: ROUGE-1/2/L {d['rouge1']:.2f} / {d['rouge2']:.2f} / "
              f"{d['rougeL']:.2f}, {d['seconds']:.0f} s")
    print(f"identical outputs: {same:.1%}")
    report = {"steps": args.steps, "log_every": LOG_EVERY, "fine_tuning": tuned,
              "decoding": {p: {k: v for k, v in d.items() if k != "outputs"}
                           for p, d in decoded.items()},
              "identical_outputs": float(same)}
    write_report(args.output, report)


if __name__ == "__main__":
    main()
