"""`unilmv2 pretrain` end to end in subprocesses: train, checkpoint, resume, export, errors."""

import json
import os
import re
import subprocess
import sys

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import tensorflow_text  # noqa: F401  (registers the TF Text ops for loading the export)
import unilmv2_tf.models  # noqa: F401  (registers the classes for from_preset)
from unilmv2_tf import UniLMv2Backbone  # noqa: F401  (registers the class for load_model)

pytestmark = pytest.mark.slow
SAMPLE = os.path.join(os.path.dirname(__file__), "fixtures", "sample.txt")


def unilmv2(*args, **env):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", **env}
    return subprocess.run([sys.executable, "-m", "unilmv2_tf.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain")
    args = [f"--model_dir={root / 'model'}", f"--export_dir={root / 'export'}",
            "--sequence_length=32", "--batch_size=4", "--checkpoint_every=3",
            f"--eval_files={SAMPLE}", "--eval_steps=2"]
    # The first run uses Keras' AdamW, the resumed one FusedAdamW (the default): checkpoints of
    # runs made before FusedAdamW resume. Without --jit_compile, XLA is on where TensorFlow's
    # CPU kernels are not oneDNN's: TF_ENABLE_ONEDNN_OPTS, TensorFlow's switch, turns oneDNN
    # off for the first run (so XLA on) and on for the second (XLA off) on any CPU.
    first = unilmv2("pretrain", *args, "--train_steps=6", "--nofused_adamw",
                    TF_ENABLE_ONEDNN_OPTS="0")
    assert first.returncode == 0, first.stderr[-3000:]
    # No INFO lines from TensorFlow's Python side (saver, signatures) by default.
    assert not re.search(r"^(I\d{4} |INFO:tensorflow)", first.stderr, re.M), first.stderr
    second = unilmv2("pretrain", *args, "--train_steps=9", TF_ENABLE_ONEDNN_OPTS="1")
    assert second.returncode == 0, second.stderr[-3000:]
    return root, first.stdout, second.stdout


def test_outputs_and_resume(run_dir):
    root, first, second = run_dir
    assert "Trained to step 6" in first and "Resuming from step 6." in second
    assert "Trained to step 9" in second
    checkpoints = sorted(os.listdir(root / "model" / "checkpoints"))
    assert "ckpt-9.index" in checkpoints and "ckpt-6.index" in checkpoints
    assert os.listdir(root / "model" / "logs")
    for name in ("config.json", "flags.json", "vocab.txt", "backbone.keras",
                 "model.weights.h5", "task.weights.h5", "preprocessor.json"):
        assert (root / "model" / name).exists()
    assert sorted(os.listdir(root / "export")) == ["1", "2"]  # a new version per run
    assert "val_ae_loss" in second


def test_xla_by_default_only_where_tensorflow_has_no_onednn_kernels(run_dir):
    root, first, second = run_dir
    assert "XLA-compiling the training step" in first
    assert "XLA-compiling" not in second
    with open(root / "model" / "flags.json", encoding="utf-8") as f:
        assert json.load(f)["jit_compile"] is False  # the resumed run's choice, recorded


def test_exported_encoder_matches_the_backbone(run_dir):
    root, _, _ = run_dir
    loaded = tf.saved_model.load(str(root / "export" / "2"))
    assert {"encode", "encode_ids", "serving_default"} <= set(loaded.signatures)
    text = tf.constant(["Call me Ishmael.", "It is a way I have of driving off the spleen " * 9])
    out = loaded.signatures["encode"](text=text)
    assert out["token_ids"].shape == (2, 32) and out["padding_mask"].numpy()[1].all()
    backbone = keras.saving.load_model(root / "model" / "backbone.keras")
    # The folder is also a keras-hub preset holding the same weights and vocabulary.
    preset = keras_hub.models.Backbone.from_preset(str(root / "model"))
    assert all(np.array_equal(a, b) for a, b in zip(backbone.get_weights(),
                                                    preset.get_weights()))
    pretrainer = keras_hub.models.MaskedLM.from_preset(str(root / "model"))
    assert type(pretrainer).__name__ == "PMLMPretrainer"
    assert pretrainer.preprocessor.sequence_length == 32
    pieces = keras_hub.tokenizers.Tokenizer.from_preset(str(root / "model"))(
        "Call me Ishmael.").numpy().tolist()
    assert pieces == out["token_ids"].numpy()[0, 1:1 + len(pieces)].tolist()
    ids, mask = out["token_ids"].numpy(), out["padding_mask"].numpy()
    expected = backbone({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                         "position_ids": np.arange(32)[None] * mask, "padding_mask": mask,
                         "step_weights": np.zeros_like(ids)})["sequence_output"]
    np.testing.assert_allclose(out["sequence_output"], expected, atol=1e-5)
    np.testing.assert_allclose(out["pooled_output"], np.asarray(expected)[:, 0], atol=1e-5)
    assert (root / "export" / "2" / "assets" / "vocab.txt").exists()


def test_bad_flags_and_files(tmp_path):
    result = unilmv2("pretrain", f"--model_dir={tmp_path}", "--preset=huge")
    assert result.returncode != 0 and "--preset" in result.stderr and "tiny" in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = unilmv2("pretrain", f"--model_dir={tmp_path}", f"--train_files={empty}")
    assert result.returncode == 1 and "empty.txt is empty" in result.stderr
    result = unilmv2("pretrain", f"--model_dir={tmp_path}", "--sequence_length=4")
    assert result.returncode == 1 and "--sequence_length must be at least 8" in result.stderr
    result = unilmv2("frobnicate")
    assert result.returncode == 2 and "unknown command" in result.stderr


def test_import_and_help_leave_tensorflow_unloaded_and_commands_import_together():
    code = ("import importlib, sys\n"
            "import unilmv2_tf\n"
            "from unilmv2_tf.cli import main\n"
            "assert main.main(['unilmv2', '--help']) == 0\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
            "for module, _ in main.COMMANDS.values():\n"
            "    importlib.import_module(module)\n"  # flags are defined when a command runs
            "print('imported', len(main.COMMANDS))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "commands:" in result.stdout and "imported 12" in result.stdout


def test_console_has_no_tensorflow_info_lines_but_keeps_the_commands_own_messages(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "unilmv2_tf.cli.main", "evaluate",
                             f"--model_dir={tmp_path}", f"--input_file={tmp_path}/x.jsonl"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert f"unilmv2 evaluate: error: {tmp_path} has no classifier.keras" in result.stderr
    assert not [line for line in result.stderr.splitlines()
                if line.startswith("I0000") or "before absl::InitializeLog" in line]
