#!/usr/bin/env bash
# The in-domain unlabeled corpus: Debian package descriptions from the *train* splits of
# debian-synopsis (long descriptions) and debian-sections (texts), one document per package,
# deduplicated; any text of either valid split, and every package built from a source package
# that occurs in a valid split, is left out.
# Usage: tasks/pretraining/build_corpus.sh [output]   (from the repository root, after `make setup`)
set -euo pipefail
DATA=${DATA:-../shared/data}
OUTPUT=${1:-models/debian_corpus.txt.gz}
PY=${PY:-.venv/bin/python}
HELDOUT="$DATA/debian-synopsis/valid.jsonl:source,$DATA/debian-synopsis/valid.jsonl:target"
HELDOUT+=",$DATA/debian-sections/valid.jsonl:text"
"$PY" -m unilmv2_tf.cli.main build-corpus \
  --inputs="$DATA/debian-synopsis/train.jsonl:source,$DATA/debian-sections/train.jsonl:text" \
  --heldout="$HELDOUT" \
  --group_key=source_package --output="$OUTPUT"
