"""Paths of the files bundled with the package (vocabulary and default corpus)."""

import pathlib

ASSETS_DIR = pathlib.Path(__file__).resolve().parent / "assets"
BERT_UNCASED_VOCAB = str(ASSETS_DIR / "vocab" / "bert-base-uncased-vocab.txt")
DEFAULT_CORPUS = str(ASSETS_DIR / "corpus" / "moby_dick.txt.gz")
