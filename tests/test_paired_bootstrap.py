"""The paired bootstrap and the two task scripts around it: per-pair ROUGE for summaries,
per-row correctness for classifiers."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES
from unilmv2_tf.data import read_jsonl_records
from unilmv2_tf.metrics import paired_bootstrap, rouge_per_example, rouge_scores

VALID = os.path.join(FIXTURES, "synopsis_valid.jsonl")
TASKS = os.path.join(os.path.dirname(__file__), "..", "tasks")


def run(*args, task="summarization"):
    extra = [f"--input_file={VALID}"] if task == "summarization" else []
    return subprocess.run([sys.executable, os.path.join(TASKS, task, "paired_bootstrap.py"),
                           *args, *extra, "--samples=500"], capture_output=True, text=True)


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


def write_predictions(folder, predictions, labels):
    folder.mkdir()
    with open(folder / "valid_metrics.json.predictions.jsonl", "w", encoding="utf-8") as f:
        for prediction, label in zip(predictions, labels):
            f.write(json.dumps({"prediction": prediction, "label": label}) + "\n")
    return str(folder)


def test_classifier_comparison_counts_rows_and_refuses_other_labels(tmp_path):
    labels = ["net", "games", "utils", "net"] * 10
    a = write_predictions(tmp_path / "a", labels, labels)  # all right
    b = write_predictions(tmp_path / "b", ["net"] * 40, labels)  # right on the 20 "net" rows
    result = run(a, b, task="classification")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])["accuracy"]
    assert (report["mean_a"], report["mean_b"], report["difference"]) == (1.0, 0.5, 0.5)
    assert report["low"] > 0.2 and report["a_not_above_b"] == 0.0
    assert "both right on 20, only A on 20, only B on 0" in result.stdout
    other = write_predictions(tmp_path / "other", labels, ["games"] * 40)
    result = run(a, other, task="classification")
    assert result.returncode != 0 and "score the same file with both" in result.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "valid_metrics.json.predictions.jsonl").write_text('{"label": "x"}\n')
    result = run(a, str(tmp_path / "bad"), task="classification")
    assert result.returncode != 0 and "predictions.jsonl:1: not a prediction row" in result.stderr


def test_paired_bootstrap_refuses_unpaired_scores():
    with pytest.raises(ValueError, match="equally long"):
        paired_bootstrap([1.0, 0.0], [1.0])
