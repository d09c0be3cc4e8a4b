"""`unilmv2 pretrain --init_checkpoint`: continued pretraining from converted weights."""

import json
import re
import shutil

import numpy as np
import pytest

from test_cli import unilmv2
from test_convert import UNILM_CONFIG, unilm_fast_qkv_state
from test_distribution import (PRETRAIN, SAMPLE,
                               assert_killed_run_resumes_to_the_same_weights)
from unilmv2_tf import assets
from unilmv2_tf.convert import write_safetensors
from unilmv2_tf.models import load_pretrained

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """A converted fast-QKV UniLMv2 checkpoint with its LM head (`unilm/`), and the same
    backbone as a sentence encoder has it, with no head (`encoder/`: backbone.keras and
    vocab.txt)."""
    root = tmp_path_factory.mktemp("sources")
    state = unilm_fast_qkv_state(np.random.default_rng(0), hidden=16, heads=4, vocab=30522)
    write_safetensors(state, str(root / "unilm.safetensors"))
    (root / "config.json").write_text(json.dumps(UNILM_CONFIG))
    result = unilmv2("convert", "--from=unilm", f"--checkpoint={root / 'unilm.safetensors'}",
                     f"--config={root / 'config.json'}",
                     f"--vocab_file={assets.BERT_UNCASED_VOCAB}", f"--output={root / 'unilm'}")
    assert result.returncode == 0, result.stderr[-3000:]
    (root / "encoder").mkdir()
    for name in ("backbone.keras", "vocab.txt"):
        shutil.copy(root / "unilm" / name, root / "encoder" / name)
    return root


@pytest.mark.parametrize("source,flags", [("unilm", ["--export_dir={root}/export"]),
                                          ("encoder", ["--dtype_policy=mixed_bfloat16"])])
def test_training_starts_from_the_checkpoint(sources, tmp_path, source, flags):
    model_dir = tmp_path / "model"
    flags = [f.format(root=tmp_path) for f in flags]
    # One update at a learning rate of 1e-9: the step-1 checkpoint is the starting point.
    result = unilmv2("pretrain", f"--init_checkpoint={sources / source}",
                     f"--model_dir={model_dir}", "--train_steps=1", "--learning_rate=1e-9",
                     *PRETRAIN, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    backbone, head = load_pretrained(str(model_dir))
    start, start_head = load_pretrained(str(sources / source))
    for got, want in zip(backbone.get_weights(), start.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-6)
    # The head's weights: output bias, the (tied) word embedding, transform kernel and bias,
    # layer norm gamma and beta.
    output_bias, decoder, transform = head[:3]
    np.testing.assert_array_equal(decoder, backbone.token_embedding.embeddings.numpy())
    if source == "unilm":
        for got, want in zip(head, start_head):
            np.testing.assert_allclose(got, want, atol=1e-6)
    else:  # a new head transform over the checkpoint's embeddings
        _, converted_head = load_pretrained(str(sources / "unilm"))
        assert start_head is None and len(head) == len(converted_head)
        assert np.abs(transform - converted_head[2]).max() > 0.1
        np.testing.assert_allclose(output_bias, 0.0, atol=1e-6)
    assert (model_dir / "vocab.txt").read_text() == (sources / source / "vocab.txt").read_text()
    record = json.loads((model_dir / "flags.json").read_text())
    assert record["init_checkpoint"] == str(sources / source)
    if source == "unilm":
        assert (tmp_path / "export" / "1" / "saved_model.pb").exists()


def test_continued_pretraining_lowers_the_held_out_loss(sources, tmp_path):
    result = unilmv2("pretrain", f"--init_checkpoint={sources / 'unilm'}",
                     f"--model_dir={tmp_path / 'model'}", "--train_steps=12",
                     "--learning_rate=1e-3", "--eval_steps=2", f"--eval_files={SAMPLE}",
                     *[f for f in PRETRAIN if not f.startswith("--checkpoint_every")],
                     "--checkpoint_every=6")
    assert result.returncode == 0, result.stderr[-3000:]
    losses = [float(v) for v in re.findall(r"val_loss: ([0-9.]+)", result.stdout)]
    assert len(losses) == 2 and losses[1] < losses[0], losses


def test_killed_continued_run_resumes_to_the_same_weights(sources, tmp_path):
    assert_killed_run_resumes_to_the_same_weights(tmp_path, *PRETRAIN,
                                                  f"--init_checkpoint={sources / 'unilm'}")


def test_bad_starting_points_are_refused_before_anything_is_written(sources, tmp_path):
    other_vocab = tmp_path / "other_vocab.txt"
    tokens = (sources / "unilm" / "vocab.txt").read_text().splitlines()
    other_vocab.write_text("\n".join(tokens[:2000] + ["[unused_x]"] + tokens[2001:]) + "\n")
    not_a_model = tmp_path / "notes"
    not_a_model.mkdir()
    (not_a_model / "readme.txt").write_text("hello")
    cases = [([f"--init_checkpoint={sources / 'unilm'}", f"--vocab_file={other_vocab}"],
              "differs from"),
             ([f"--init_checkpoint={not_a_model}"], "is not a `unilmv2 pretrain`"),
             ([f"--init_checkpoint={sources / 'unilm'}",
               f"--config_file={sources / 'unilm' / 'config.json'}"], "pass one of them")]
    for flags, message in cases:
        model_dir = tmp_path / "model"
        result = unilmv2("pretrain", f"--model_dir={model_dir}", *PRETRAIN, *flags)
        assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
        assert not model_dir.exists()
