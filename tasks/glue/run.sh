#!/usr/bin/env bash
# Any GLUE task from its TSVs: fine-tune on train.tsv, score dev.tsv with the task's metrics.
# Usage: tasks/glue/run.sh TASK GLUE_TASK_DIR [model_dir]
#   TASK: CoLA SST-2 MRPC QQP STS-B MNLI QNLI RTE WNLI (the folder names of the GLUE download)
# Env: INIT_CHECKPOINT, PRESET, TRAIN_STEPS, LEARNING_RATE, BATCH_SIZE, SEQUENCE_LENGTH.
set -euo pipefail
TASK=$1
DIR=$2
MODEL_DIR=${3:-models/glue_$TASK}
PY=${PY:-.venv/bin/python}
TRAIN=$DIR/train.tsv
DEV=$DIR/dev.tsv
TYPE=classification
PAIR=""
case "$TASK" in
  CoLA)  # no header row in the download: add one
    mkdir -p "$MODEL_DIR"
    for split in train dev; do
      { printf 'source\tlabel\tnote\tsentence\n'; cat "$DIR/$split.tsv"; } > "$MODEL_DIR/$split.tsv"
    done
    TRAIN=$MODEL_DIR/train.tsv; DEV=$MODEL_DIR/dev.tsv; TEXT=sentence; LABEL=label ;;
  SST-2) TEXT=sentence; LABEL=label ;;
  MRPC)  TEXT="#1 String"; PAIR="#2 String"; LABEL=Quality ;;
  QQP)   TEXT=question1; PAIR=question2; LABEL=is_duplicate ;;
  STS-B) TEXT=sentence1; PAIR=sentence2; LABEL=score; TYPE=regression ;;
  MNLI)  TEXT=sentence1; PAIR=sentence2; LABEL=gold_label; DEV=$DIR/dev_matched.tsv ;;
  QNLI)  TEXT=question; PAIR=sentence; LABEL=label ;;
  RTE|WNLI) TEXT=sentence1; PAIR=sentence2; LABEL=label ;;
  *) echo "unknown GLUE task $TASK" >&2; exit 2 ;;
esac
INIT=()
if [[ -n "${INIT_CHECKPOINT:-}" ]]; then INIT=(--init_checkpoint="$INIT_CHECKPOINT"); fi

# Paper (Table 9, base): lr in {1e-5..4e-5}, batch 32, 10 epochs (fewer for big sets), warmup 0.1.
"$PY" -m unilmv2_tf.cli.main finetune-classifier "${INIT[@]}" --preset="${PRESET:-tiny}" \
  --train_file="$TRAIN" --valid_file="$DEV" --text_key="$TEXT" --text_pair_key="$PAIR" \
  --label_key="$LABEL" --task="$TYPE" --model_dir="$MODEL_DIR" \
  --sequence_length="${SEQUENCE_LENGTH:-128}" --batch_size="${BATCH_SIZE:-32}" \
  --train_steps="${TRAIN_STEPS:-2000}" --learning_rate="${LEARNING_RATE:-2e-5}" \
  --warmup_ratio=0.1 --checkpoint_every="${CHECKPOINT_EVERY:-500}" --skip_malformed
cat "$MODEL_DIR/valid_metrics.json"
