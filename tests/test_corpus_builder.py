"""`unilmv2 build-corpus` / `build_corpus`: held-out text stays out, documents stay apart,
duplicates go, bad input is named."""

import json
import os

import pytest

from conftest import FIXTURES
from test_cli import unilmv2
from unilmv2_tf.data import build_corpus, read_documents, read_jsonl_records

TRAIN = os.path.join(FIXTURES, "synopsis_train.jsonl")
VALID = os.path.join(FIXTURES, "synopsis_valid.jsonl")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def extra(tmp_path):
    """Train-side records that must not all survive: a duplicate of a training text, a
    held-out source under another package name, a sibling of a held-out source package."""
    train, valid = read_jsonl_records(TRAIN, ["source"]), read_jsonl_records(
        VALID, ["source", "source_package"])
    return write_jsonl(tmp_path / "extra.jsonl", [
        {"source": "  " + train[0]["source"].upper(), "source_package": "dup"},
        {"source": valid[0]["source"], "source_package": "renamed"},
        {"source": "A sibling binary package.", "source_package": valid[1]["source_package"]},
        {"source": "Brand new text.\n Spread over lines.", "source_package": "new"}])


def test_heldout_text_and_groups_stay_out_and_duplicates_go(extra):
    documents, counts = build_corpus([(TRAIN, "source"), (extra, "source")],
                                     [(VALID, "source"), (VALID, "target")],
                                     group_key="source_package")
    valid = read_jsonl_records(VALID, ["source", "target"])
    heldout = {" ".join(r[f].split()).lower() for r in valid for f in ("source", "target")}
    assert not heldout & {d.lower() for d in documents}
    assert "A sibling binary package." not in documents
    assert documents[-1] == "Brand new text. Spread over lines."
    assert counts == {"read": 304, "kept": 301, "duplicates": 1, "heldout_text": 1,
                      "heldout_group": 1}
    assert len({d.lower() for d in documents}) == len(documents)


def test_command_writes_one_document_per_record(extra, tmp_path):
    output = tmp_path / "corpus.txt.gz"
    result = unilmv2("build-corpus", f"--inputs={TRAIN}:source,{extra}:source",
                     f"--heldout={VALID}:source,{VALID}:target",
                     "--group_key=source_package", f"--output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wrote 301 documents" in result.stdout
    documents = list(read_documents(str(output)))
    assert len(documents) == 301 and all(len(d) == 1 for d in documents)
    assert documents[-1] == ["Brand new text. Spread over lines."]

    again = unilmv2("build-corpus", f"--inputs={TRAIN}:source", f"--output={output}")
    assert again.returncode == 1 and "exists" in again.stderr
    assert len(list(read_documents(str(output)))) == 301  # untouched


def test_bad_input_is_named(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"source": "fine"}])
    with open(bad, "a", encoding="utf-8") as f:
        f.write("{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: malformed JSON"):
        build_corpus([(bad, "source")])
    with pytest.raises(ValueError, match="missing field 'source_package'"):
        build_corpus([(TRAIN, "source")], [(bad, "source")], group_key="source_package")
    result = unilmv2("build-corpus", f"--inputs={TRAIN}", f"--output={tmp_path / 'c.txt'}")
    assert result.returncode == 1 and "FILE:FIELD" in result.stderr
    assert not (tmp_path / "c.txt").exists()
