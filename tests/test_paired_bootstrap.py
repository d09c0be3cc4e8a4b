"""`tasks/summarization/paired_bootstrap.py`: per-pair ROUGE and the paired bootstrap."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES
from unilmv2_tf.data import read_jsonl_records
from unilmv2_tf.metrics import rouge_per_example, rouge_scores

VALID = os.path.join(FIXTURES, "synopsis_valid.jsonl")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "tasks", "summarization",
                      "paired_bootstrap.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args, f"--input_file={VALID}",
                           "--samples=500"], capture_output=True, text=True)


def leads_and_targets():
    """The fixture's first 7 words of each source (the lead baseline) and its targets."""
    records = read_jsonl_records(VALID, ["source", "target"])
    return [" ".join(r["source"].split()[:7]) for r in records], [r["target"] for r in records]


def test_per_pair_rouge_averages_to_the_corpus_score():
    leads, targets = leads_and_targets()
    per_pair = rouge_per_example(leads, targets)
    for name, mean in rouge_scores(leads, targets).items():
        assert len(per_pair[name]) == len(targets)
        assert sum(per_pair[name]) / len(targets) == pytest.approx(mean)


def test_bootstrap_ranks_the_references_above_the_lead_and_refuses_unequal_files(tmp_path):
    leads, targets = leads_and_targets()
    gold, lead = tmp_path / "gold.txt", tmp_path / "lead.txt"
    gold.write_text("".join(t + "\n" for t in targets))
    lead.write_text("".join(t + "\n" for t in leads))
    result = run(str(gold), str(lead))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])["results"]["rougeL"]
    assert report["mean_a"] == pytest.approx(100.0)
    assert report["low"] > 0 and report["a_not_above_b"] == 0.0
    reverse = json.loads(run(str(lead), str(gold)).stdout.splitlines()[-1])
    assert reverse["results"]["rougeL"]["a_not_above_b"] == 1.0
    (tmp_path / "short.txt").write_text("one line\n")
    result = run(str(gold), str(tmp_path / "short.txt"))
    assert result.returncode != 0 and "decode the same pairs" in result.stderr
