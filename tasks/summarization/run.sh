#!/usr/bin/env bash
# Debian long description -> synopsis: fine-tune, decode the validation split, report ROUGE.
# Usage: tasks/summarization/run.sh [model_dir]   (from the repository root, after `make setup`)
# Env: TRAIN_STEPS, LEARNING_RATE, SOURCE_LENGTH, TARGET_LENGTH, TARGET_MASK_PROB, PRESET,
# DECODE_EXAMPLES. Set INIT_CHECKPOINT to a `unilmv2 pretrain` model_dir (or a converted
# checkpoint) to start from pretrained weights; unset, the tiny preset starts from random ones.
set -euo pipefail
DATA=${DATA:-../shared/data/debian-synopsis}
MODEL_DIR=${1:-models/summarization}
PY=${PY:-.venv/bin/python}
INIT=()
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then INIT=(--init_checkpoint="$INIT_CHECKPOINT"); fi

"$PY" -m unilmv2_tf.cli.main finetune-seq2seq "${INIT[@]}" \
  --train_file="$DATA/train.jsonl" --valid_file="$DATA/valid.jsonl" --max_valid_examples=256 \
  --model_dir="$MODEL_DIR" --preset="${PRESET:-tiny}" \
  --max_source_length="${SOURCE_LENGTH:-64}" --max_target_length="${TARGET_LENGTH:-16}" \
  --batch_size=32 --train_steps="${TRAIN_STEPS:-3000}" --learning_rate="${LEARNING_RATE:-2e-3}" \
  --warmup_ratio=0.02 --label_smoothing=0.1 --target_mask_prob="${TARGET_MASK_PROB:-0.5}" \
  --checkpoint_every=250 --seed=0

"$PY" -m unilmv2_tf.cli.main decode --model_dir="$MODEL_DIR" \
  --input_file="$DATA/valid.jsonl" --output_file="$MODEL_DIR/valid.beam4.txt" \
  --max_examples="${DECODE_EXAMPLES:-1000}" --beam_size=4 --length_penalty=0.6 --ngram_size=3 \
  --batch_size=32 --metrics=rouge

"$PY" tasks/summarization/lead_baseline.py --input_file="$DATA/valid.jsonl" \
  --max_examples="${DECODE_EXAMPLES:-1000}"
