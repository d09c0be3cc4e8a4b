"""SQuAD reading and the question-generation recipe on its fixture."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO
from unilmv2_tf.data import read_squad_examples

TRAIN = os.path.join(FIXTURES, "squad_train.json")
DEV = os.path.join(FIXTURES, "squad_dev.json")
sys.path.insert(0, os.path.join(REPO, "tasks", "question_generation"))
from squad_to_jsonl import squad_to_records  # noqa: E402


def test_squad_reader_and_qg_records():
    examples = read_squad_examples(TRAIN)
    assert len(examples) == 8
    first = examples[0]
    answer = first["answers"][0]
    assert first["context"][answer["answer_start"]:].startswith(answer["text"])
    records = squad_to_records(examples)
    assert records[0]["source"].startswith(answer["text"] + " [SEP] ")
    assert records[0]["target"] == first["question"]


def squad(tmp_path, qa, context="Hi Bob."):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": context, "qas": [qa]}]}]}))
    return str(path)


@pytest.mark.parametrize("qa, message", [
    ({"id": "1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 3}]},
     "'Ann' is not in the context at character 3"),
    ({"id": "1", "question": "", "answers": []}, "missing or empty 'question'"),
    ({"id": "1", "question": "Who?", "answers": []}, "needs at least one answer"),
    ({"id": "1", "question": "Who?", "answers": [{"text": "Bob"}]}, "answer_start"),
])
def test_squad_errors_name_the_entry(tmp_path, qa, message):
    with pytest.raises(ValueError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]"):
        read_squad_examples(squad(tmp_path, qa))
    with pytest.raises(ValueError, match=message):
        read_squad_examples(squad(tmp_path, qa))


def test_squad_v2_unanswerable_and_malformed_files(tmp_path):
    path = squad(tmp_path, {"id": "1", "question": "Who?", "answers": [],
                            "is_impossible": True})
    assert read_squad_examples(path)[0]["is_impossible"]
    assert squad_to_records(read_squad_examples(path)) == []
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [')
    with pytest.raises(ValueError, match="bad.json: malformed JSON"):
        read_squad_examples(str(bad))
    bad.write_text('{"version": "1.1"}')
    with pytest.raises(ValueError, match="'data' list"):
        read_squad_examples(str(bad))


@pytest.mark.slow
def test_recipe_runs_on_the_fixture(tmp_path):
    env = {**os.environ, "PY": sys.executable, "TRAIN_STEPS": "4", "CHECKPOINT_EVERY": "2",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(["bash", "tasks/question_generation/run.sh", TRAIN, DEV,
                             str(tmp_path / "qg")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len((tmp_path / "qg" / "dev.beam8.txt").read_text().splitlines()) == 2
    metrics = json.loads((tmp_path / "qg" / "dev.beam8.txt.metrics.json").read_text())
    assert "bleu4" in metrics and "rougeL" in metrics
