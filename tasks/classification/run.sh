#!/usr/bin/env bash
# Debian package description -> one of 20 sections: fine-tune, score the validation split.
# Usage: tasks/classification/run.sh [model_dir]   (from the repository root, after `make setup`)
# Env: INIT_CHECKPOINT (a pretrain / convert output), TRAIN_STEPS, PRESET, LEARNING_RATE.
set -euo pipefail
DATA=${DATA:-../shared/data/debian-sections}
MODEL_DIR=${1:-models/classification}
PY=${PY:-.venv/bin/python}
INIT=()
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then INIT=(--init_checkpoint="$INIT_CHECKPOINT"); fi

"$PY" -m unilmv2_tf.cli.main finetune-classifier "${INIT[@]}" --preset="${PRESET:-tiny}" \
  --train_file="$DATA/train.jsonl" --valid_file="$DATA/valid.jsonl" \
  --text_key=text --label_key=label --model_dir="$MODEL_DIR" --sequence_length=128 \
  --batch_size=32 --train_steps="${TRAIN_STEPS:-2000}" \
  --learning_rate="${LEARNING_RATE:-1e-3}" --warmup_ratio=0.1 --checkpoint_every=500 --seed=0
cat "$MODEL_DIR/valid_metrics.json"
