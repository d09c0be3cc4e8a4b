#!/usr/bin/env bash
# SQuAD question generation: convert, fine-tune, decode the dev set, report BLEU-4 and ROUGE-L.
# Usage (from the repository root, after `make setup`):
#   tasks/question_generation/run.sh SQUAD_TRAIN.json SQUAD_DEV.json [model_dir]
# Env: INIT_CHECKPOINT (a pretrain model_dir or backbone .keras), TRAIN_STEPS, PRESET.
set -euo pipefail
TRAIN_JSON=$1
DEV_JSON=$2
MODEL_DIR=${3:-models/question_generation}
PY=${PY:-.venv/bin/python}
INIT=()
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then INIT=(--init_checkpoint="$INIT_CHECKPOINT"); fi
mkdir -p "$MODEL_DIR"
"$PY" tasks/question_generation/squad_to_jsonl.py "$TRAIN_JSON" "$MODEL_DIR/qg_train.jsonl"
"$PY" tasks/question_generation/squad_to_jsonl.py "$DEV_JSON" "$MODEL_DIR/qg_dev.jsonl"

# Paper (Table 10): lr 2e-5, batch 48, 16 epochs, warmup 0.1, 464 + 48 tokens, beam 8, alpha 1.3.
"$PY" -m unilmv2_tf.cli.main finetune-seq2seq "${INIT[@]}" --preset="${PRESET:-tiny}" \
  --train_file="$MODEL_DIR/qg_train.jsonl" --valid_file="$MODEL_DIR/qg_dev.jsonl" \
  --model_dir="$MODEL_DIR" --max_source_length=128 --max_target_length=32 --batch_size=16 \
  --train_steps="${TRAIN_STEPS:-2000}" --learning_rate="${LEARNING_RATE:-1e-3}" \
  --warmup_ratio=0.1 --checkpoint_every="${CHECKPOINT_EVERY:-500}"

"$PY" -m unilmv2_tf.cli.main decode --model_dir="$MODEL_DIR" \
  --input_file="$MODEL_DIR/qg_dev.jsonl" --output_file="$MODEL_DIR/dev.beam8.txt" \
  --beam_size=8 --length_penalty=1.3 --ngram_size=3 --metrics=both
