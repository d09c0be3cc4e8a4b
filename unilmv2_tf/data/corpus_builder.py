"""Pretraining text from the text fields of JSON Lines task files, held-out text kept out."""

import gzip
import os

from unilmv2_tf.data.jsonl_records import read_jsonl_records


def _folded(text):
    return " ".join(text.split())


def build_corpus(inputs, heldout=(), group_key=None):
    """`(documents, counts)`: one document (one paragraph) per record of the `(path, field)`
    pairs in `inputs`, in file order, whitespace folded.

    A record is dropped when its text equals (case-insensitively) a held-out text (the
    `(path, field)` pairs in `heldout`: the valid/test inputs of the tasks the corpus will be
    used for), when `group_key` is given and its value occurs in a held-out file (the same
    source package, say, whose other binary packages share most of their text), or when it
    repeats an earlier document. `counts` says how many records were read, kept and dropped
    for each reason.

    >>> import json, tempfile
    >>> def jsonl(*rows):
    ...     path = tempfile.mktemp(suffix=".jsonl")
    ...     open(path, "w").write("".join(json.dumps(r) + "\\n" for r in rows))
    ...     return path
    >>> train = jsonl({"text": "A  tool.", "pkg": "a"}, {"text": "a tool.", "pkg": "b"},
    ...               {"text": "Secret.", "pkg": "c"}, {"text": "Sibling.", "pkg": "v"})
    >>> valid = jsonl({"text": "secret.", "pkg": "v"})
    >>> build_corpus([(train, "text")], [(valid, "text")], group_key="pkg")
    (['A tool.'], {'read': 4, 'kept': 1, 'duplicates': 1, 'heldout_text': 1, 'heldout_group': 1})
    """
    key = [group_key] if group_key else []
    heldout_texts, heldout_groups = set(), set()
    for path, field in heldout:
        for record in read_jsonl_records(path, [field] + key):
            heldout_texts.add(_folded(record[field]).lower())
            if group_key:
                heldout_groups.add(record[group_key])
    documents, seen = [], set()
    counts = {"read": 0, "kept": 0, "duplicates": 0, "heldout_text": 0, "heldout_group": 0}
    for path, field in inputs:
        for record in read_jsonl_records(path, [field] + key):
            counts["read"] += 1
            text = _folded(record[field])
            lowered = text.lower()
            if group_key and record[group_key] in heldout_groups:
                counts["heldout_group"] += 1
            elif lowered in heldout_texts:
                counts["heldout_text"] += 1
            elif lowered in seen:
                counts["duplicates"] += 1
            else:
                seen.add(lowered)
                documents.append(text)
    counts["kept"] = len(documents)
    return documents, counts


def write_corpus(documents, path):
    """Writes `documents` (each a paragraph, or a list of paragraphs) in the pretraining text
    format: one paragraph a line, a blank line between documents; gzip when `path` ends in
    `.gz`. Refuses an existing `path`, and writes under a temporary name first, so a failed
    run leaves nothing behind."""
    if os.path.exists(path):
        raise FileExistsError(f"{path} exists; nothing is overwritten.")
    if not documents:
        raise ValueError(f"No documents to write to {path}.")
    temporary = f"{path}.tmp"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(temporary, "wt", encoding="utf-8") as f:
        for document in documents:
            paragraphs = [document] if isinstance(document, str) else document
            f.write("\n".join(paragraphs) + "\n\n")
    os.replace(temporary, path)
