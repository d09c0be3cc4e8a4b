#!/usr/bin/env bash
# SQuAD v1.1 / v2.0 extractive QA: fine-tune, score the dev set (official EM / F1 rules).
# Usage: tasks/squad/run.sh TRAIN.json DEV.json [model_dir]   (V2=1 for SQuAD 2.0)
# Env: INIT_CHECKPOINT, PRESET, TRAIN_STEPS, LEARNING_RATE, BATCH_SIZE, SEQUENCE_LENGTH.
set -euo pipefail
MODEL_DIR=${3:-models/squad}
PY=${PY:-.venv/bin/python}
INIT=()
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then INIT=(--init_checkpoint="$INIT_CHECKPOINT"); fi
V2=()
if [[ -n "${V2:-}" ]]; then V2=(--version_2_with_negative); fi

# Paper (Table 9, base): lr 2e-5..4e-5, batch 32, 3 epochs, warmup 0.1, 384 tokens, stride 128.
"$PY" -m unilmv2_tf.cli.main finetune-qa "${INIT[@]}" "${V2[@]}" --preset="${PRESET:-tiny}" \
  --train_file="$1" --dev_file="$2" --model_dir="$MODEL_DIR" \
  --sequence_length="${SEQUENCE_LENGTH:-256}" --doc_stride="${DOC_STRIDE:-128}" \
  --max_query_length="${MAX_QUERY_LENGTH:-64}" --batch_size="${BATCH_SIZE:-32}" \
  --train_steps="${TRAIN_STEPS:-2000}" --learning_rate="${LEARNING_RATE:-3e-5}" \
  --warmup_ratio=0.1 --checkpoint_every="${CHECKPOINT_EVERY:-500}"
cat "$MODEL_DIR/dev_metrics.json"
