#!/usr/bin/env bash
# Debian package description -> one of 20 sections: fine-tune, score the validation split.
# Usage: tasks/classification/run.sh [model_dir]   (from the repository root, after `make setup`)
# Env: INIT_CHECKPOINT (a `unilmv2 pretrain` or `unilmv2 convert` output, e.g. models/minilm-l6
# from `make minilm`), TRAIN_STEPS, LEARNING_RATE, DTYPE_POLICY, SEQUENCE_LENGTH (128), POOLING,
# PRESET, SEED (0: the head's initialisation, dropout and the order of the examples).
# Unset, INIT_CHECKPOINT leaves the tiny preset to start from random weights (float32, lr 1e-3,
# 2,000 steps, [CLS]); set, the defaults are those tuned for a pretrained start (precision
# `auto`: mixed_bfloat16 on a CPU with a bfloat16 unit, else float32;
# lr 2e-4, 1,500 steps, mean pooling).
set -euo pipefail
DATA=${DATA:-../shared/data/debian-sections}
MODEL_DIR=${1:-models/classification}
PY=${PY:-.venv/bin/python}
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then
  INIT=(--init_checkpoint="$INIT_CHECKPOINT")
  : "${TRAIN_STEPS:=1500}" "${LEARNING_RATE:=2e-4}" "${DTYPE_POLICY:=auto}"
  : "${POOLING:=mean}"
else
  INIT=()
  : "${TRAIN_STEPS:=2000}" "${LEARNING_RATE:=1e-3}" "${DTYPE_POLICY:=float32}" "${POOLING:=cls}"
fi

"$PY" -m unilmv2_tf.cli.main finetune-classifier "${INIT[@]}" --preset="${PRESET:-tiny}" \
  --train_file="$DATA/train.jsonl" --valid_file="$DATA/valid.jsonl" \
  --text_key=text --label_key=label --model_dir="$MODEL_DIR" \
  --sequence_length="${SEQUENCE_LENGTH:-128}" --batch_size=32 --train_steps="$TRAIN_STEPS" \
  --dtype_policy="$DTYPE_POLICY" --pooling="$POOLING" --learning_rate="$LEARNING_RATE" \
  --warmup_ratio=0.1 --checkpoint_every=500 --seed="${SEED:-0}"
cat "$MODEL_DIR/valid_metrics.json"
