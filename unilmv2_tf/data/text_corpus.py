"""Reading plain-text corpora: one paragraph per line, a blank line between documents."""

import gzip
import os


def _open(path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def check_corpus_files(paths):
    """Raises a clear error unless every path is a readable file with some text in it."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("No training files were given.")
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Corpus file not found: {path}")
        try:
            with _open(path) as f:
                has_text = any(line.strip() for line in f)
        except (OSError, EOFError) as e:
            raise ValueError(f"Corpus file {path} cannot be read: {e}") from None
        if not has_text:
            raise ValueError(f"Corpus file {path} is empty (no non-blank line).")
    return paths


def read_documents(path):
    """Yields each document of `path` as a list of paragraphs (str).

    Lines are paragraphs; one or more blank lines end a document. `.gz` files are read
    transparently. A line that is not valid UTF-8 raises `ValueError` naming the file and line.
    """
    path = path.decode() if isinstance(path, bytes) else str(path)
    document = []
    with _open(path) as f:
        for line_number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"{path}:{line_number}: line is not valid UTF-8 ({e.reason} at "
                                 f"byte {e.start}).") from None
            line = " ".join(line.split())
            if line:
                document.append(line)
            elif document:
                yield document
                document = []
    if document:
        yield document
