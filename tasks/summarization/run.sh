#!/usr/bin/env bash
# Debian long description -> synopsis: fine-tune, decode the validation split, report ROUGE.
# Usage: tasks/summarization/run.sh [model_dir]   (from the repository root, after `make setup`)
# Env: INIT_CHECKPOINT (a `unilmv2 pretrain` or `unilmv2 convert` output, e.g.
# models/minilm-l6 from `make minilm`), TRAIN_STEPS, LEARNING_RATE, SOURCE_LENGTH,
# TARGET_LENGTH, TARGET_MASK_PROB, DTYPE_POLICY, PRESET, DECODE_EXAMPLES. Unset,
# INIT_CHECKPOINT leaves the tiny preset to start from random weights (float32, lr 2e-3,
# 3,000 steps); set, the defaults are those tuned for a pretrained start (precision `auto`:
# mixed_bfloat16 on a CPU with a bfloat16 unit, else float32;
# lr 1e-4, 1,500 steps).
set -euo pipefail
DATA=${DATA:-../shared/data/debian-synopsis}
MODEL_DIR=${1:-models/summarization}
PY=${PY:-.venv/bin/python}
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then
  INIT=(--init_checkpoint="$INIT_CHECKPOINT")
  : "${TRAIN_STEPS:=1500}" "${LEARNING_RATE:=1e-4}" "${DTYPE_POLICY:=auto}"
else
  INIT=()
  : "${TRAIN_STEPS:=3000}" "${LEARNING_RATE:=2e-3}" "${DTYPE_POLICY:=float32}"
fi

"$PY" -m unilmv2_tf.cli.main finetune-seq2seq "${INIT[@]}" \
  --train_file="$DATA/train.jsonl" --valid_file="$DATA/valid.jsonl" --max_valid_examples=256 \
  --model_dir="$MODEL_DIR" --preset="${PRESET:-tiny}" --dtype_policy="$DTYPE_POLICY" \
  --max_source_length="${SOURCE_LENGTH:-64}" --max_target_length="${TARGET_LENGTH:-16}" \
  --batch_size=32 --train_steps="$TRAIN_STEPS" --learning_rate="$LEARNING_RATE" \
  --warmup_ratio=0.02 --label_smoothing=0.1 --target_mask_prob="${TARGET_MASK_PROB:-0.5}" \
  --checkpoint_every=250 --seed=0

"$PY" -m unilmv2_tf.cli.main decode --model_dir="$MODEL_DIR" \
  --input_file="$DATA/valid.jsonl" --output_file="$MODEL_DIR/valid.beam4.txt" \
  --max_examples="${DECODE_EXAMPLES:-1000}" --beam_size=4 --length_penalty=0.6 --ngram_size=3 \
  --batch_size=32 --metrics=rouge

"$PY" tasks/summarization/lead_baseline.py --input_file="$DATA/valid.jsonl" \
  --max_examples="${DECODE_EXAMPLES:-1000}"
