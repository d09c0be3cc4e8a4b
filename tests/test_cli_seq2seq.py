"""`unilmv2 finetune-seq2seq` and `unilmv2 decode` end to end in subprocesses."""

import json
import os

import pytest

from conftest import FIXTURES
from test_cli import unilmv2

pytestmark = pytest.mark.slow
TRAIN = os.path.join(FIXTURES, "synopsis_train.jsonl")
VALID = os.path.join(FIXTURES, "synopsis_valid.jsonl")
MODEL_FLAGS = ["--max_source_length=32", "--max_target_length=8", "--batch_size=8",
               "--checkpoint_every=2", "--learning_rate=1e-3"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("s2s") / "model"
    args = ["finetune-seq2seq", f"--train_file={TRAIN}", f"--valid_file={VALID}",
            "--max_valid_examples=16", f"--model_dir={root}", *MODEL_FLAGS]
    first = unilmv2(*args, "--train_steps=2")
    assert first.returncode == 0, first.stderr[-3000:]
    second = unilmv2(*args, "--train_steps=4")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming from step 2." in second.stdout and "Trained to step 4" in second.stdout
    return root


def test_decode_writes_outputs_and_scores(model_dir, tmp_path):
    output = tmp_path / "valid.txt"
    result = unilmv2("decode", f"--model_dir={model_dir}", f"--input_file={VALID}",
                     f"--output_file={output}", "--max_examples=5", "--beam_size=2",
                     "--metrics=both")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = output.read_text().splitlines()
    assert len(lines) == 5
    metrics = json.loads((tmp_path / "valid.txt.metrics.json").read_text())
    assert {"rouge1", "rouge2", "rougeL", "bleu4"} <= set(metrics) and metrics["examples"] == 5
    assert metrics["dtype_policy"] == "float32"
    assert {"config.json", "vocab.txt", "flags.json", "seq2seq.keras", "task.json",
            "model.weights.h5", "preprocessor.json"} <= set(os.listdir(model_dir))


def test_decode_top_1_sampling_writes_what_greedy_search_does(model_dir, tmp_path):
    flags = [f"--model_dir={model_dir}", f"--input_file={VALID}", "--max_examples=4"]
    greedy, drawn, random = (tmp_path / f"{name}.txt" for name in ("greedy", "drawn", "random"))
    for output, extra in ((greedy, []), (drawn, ["--sampler=top_k", "--top_k=1"]),
                          (random, ["--sampler=random"])):
        result = unilmv2("decode", *flags, f"--output_file={output}", *extra)
        assert result.returncode == 0, result.stderr[-3000:]
    assert drawn.read_text() == greedy.read_text() and len(greedy.read_text().splitlines()) == 4
    assert random.read_text() != greedy.read_text()  # the sampler is used, not only recorded
    metrics = json.loads((tmp_path / "drawn.txt.metrics.json").read_text())
    assert metrics["sampling"] == {"sampler": "top_k", "temperature": 1.0, "seed": 0, "k": 1}
    assert "sampling" not in json.loads((tmp_path / "greedy.txt.metrics.json").read_text())


def test_the_folder_is_a_preset_that_generates_what_seq2seq_keras_does(model_dir):
    from unilmv2_tf.models import Seq2SeqLM

    sources = [json.loads(line)["source"] for line in open(VALID, encoding="utf-8")][:3]
    expected = Seq2SeqLM.load(str(model_dir)).generate(sources, beam_size=2)
    assert Seq2SeqLM.from_preset(str(model_dir)).generate(sources, beam_size=2) == expected


@pytest.mark.parametrize("args, message", [
    (["--beam_size=0"], "--beam_size must be positive"),
    (["--length_penalty=-1"], "--length_penalty must be >= 0"),
    (["--ngram_ignore=notaword"], "not in the vocabulary"),
    (["--input_file=/nonexistent.jsonl"], "File not found"),
    (["--decode_dtype_policy=half"], "--decode_dtype_policy=half: value should be one of"),
    (["--sampler=top_p", "--beam_size=2"], "--sampler=top_p draws one output per input"),
    (["--sampler=random", "--temperature=0"], "--temperature must be positive"),
])
def test_decode_bad_flags(model_dir, tmp_path, args, message):
    flags = [f"--model_dir={model_dir}", f"--input_file={VALID}",
             f"--output_file={tmp_path / 'out.txt'}"]
    result = unilmv2("decode", *flags, *args)
    assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "out.txt").exists()


def test_finetune_bad_input(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a b c", "target": "d"}\n{"source": "a b c", "target": ""}\n')
    result = unilmv2("finetune-seq2seq", f"--train_file={bad}", f"--model_dir={tmp_path / 'm'}")
    assert result.returncode == 1
    assert "bad.jsonl:2: field 'target' is empty" in result.stderr
    result = unilmv2("finetune-seq2seq", f"--train_file={TRAIN}",
                     f"--model_dir={tmp_path / 'm'}", "--target_mask_prob=2")
    assert result.returncode == 1 and "--target_mask_prob" in result.stderr
