"""Attention KV cache parity and `.keras` round trips of every layer."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.layers import (MaskedLMHead, PseudoMaskAttentionMask, RelativeMultiHeadAttention,
                               RelativePositionBias, TransformerBlock, UniLMv2Embeddings)
from unilmv2_tf.layers.lm_head import MANY_ROWS


def reference_attention(layer, x, mask, bias):
    """Plain numpy multi-head attention from the layer's weights."""
    def dense(d, v):
        return v @ np.asarray(d.kernel) + np.asarray(d.bias)
    b, t, _ = x.shape
    heads, size = layer.num_heads, layer.head_size
    q, k, v = (dense(d, x).reshape(b, t, heads, size)
               for d in (layer.query_dense, layer.key_dense, layer.value_dense))
    scores = np.einsum("bqnh,bknh->bnqk", q, k) / np.sqrt(size) + bias
    scores = np.where(mask[:, None], scores, -1e9)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = np.einsum("bnqk,bknh->bqnh", probs, v).reshape(b, t, heads * size)
    return dense(layer.output_dense, context)


def test_attention_matches_numpy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    mask = rng.random((2, 6, 6)) < 0.7
    mask[:, :, 0] = True
    bias = rng.normal(size=(2, 2, 6, 6)).astype("float32")
    layer = RelativeMultiHeadAttention(num_heads=2, head_size=4)
    out = layer(x, attention_mask=mask, attention_bias=bias)
    np.testing.assert_allclose(out, reference_attention(layer, x, mask, bias), atol=1e-5)


def test_block_with_cache_equals_full_forward():
    """Feeding tokens one chunk at a time through the cache gives the full causal forward."""
    rng = np.random.default_rng(1)
    t = 7
    x = rng.normal(size=(2, t, 8)).astype("float32")
    positions = np.tile(np.arange(t), (2, 1))
    causal = np.tril(np.ones((t, t), bool))[None].repeat(2, 0)
    block = TransformerBlock(num_heads=2, intermediate_size=16, dropout=0.0,
                             attention_dropout=0.0)
    bias_layer = RelativePositionBias(num_heads=2)
    full = np.asarray(block(x, attention_mask=causal, attention_bias=bias_layer(positions)))
    cache = (np.zeros((2, 2, 4, t), "float32"),  # keys: [B, heads, size, slots]
             np.zeros((2, 2, t, 4), "float32"))  # values: [B, heads, slots, size]
    outputs = []
    for start, end in [(0, 3), (3, 4), (4, 7)]:
        out, cache = block(x[:, start:end], attention_mask=causal[:, start:end],
                           attention_bias=bias_layer(positions[:, start:end], positions),
                           cache=cache, cache_update_index=start)
        outputs.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(outputs, 1), full, atol=1e-5)


def test_backbone_call_with_cache_equals_full_forward(tiny_config):
    """Incremental decoding interface: source first, then one target token per call."""
    backbone = UniLMv2Backbone(tiny_config)
    rng = np.random.default_rng(2)
    t = 8
    ids = rng.integers(4, tiny_config.vocab_size, (2, t)).astype("int32")
    segments = np.array([[0] * 4 + [1] * 4] * 2, "int32")
    positions = np.tile(np.arange(t, dtype="int32"), (2, 1))
    steps = np.array([[0, 0, 0, 0, 1, 2, 3, 4]] * 2, "int32")  # source, then targets 1..4
    padding = np.ones((2, t), "int32")
    full = backbone({"token_ids": ids, "segment_ids": segments, "position_ids": positions,
                     "padding_mask": padding, "step_weights": steps})["sequence_output"]
    mask_layer = PseudoMaskAttentionMask()
    cache = backbone.init_cache(2, t)
    pieces = []
    for start, end in [(0, 4), (4, 5), (5, 6), (6, 8)]:
        mask = mask_layer(steps[:, start:end], padding[:, start:end], steps,
                          padding * (np.arange(t) < end))
        out, cache = backbone.call_with_cache(
            ids[:, start:end], segments[:, start:end], positions[:, start:end], mask, cache,
            start, positions)
        pieces.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(pieces, 1), full, atol=1e-5)


def test_cache_requires_index():
    layer = RelativeMultiHeadAttention(num_heads=1, head_size=2)
    with pytest.raises(ValueError, match="cache_update_index"):
        layer(np.ones((1, 1, 2), "float32"), cache=(np.zeros((1, 1, 3, 2), "float32"),) * 2)


def test_cache_in_another_layout_is_a_clear_error():
    layer = RelativeMultiHeadAttention(num_heads=2, head_size=4)
    slots_last = np.zeros((1, 2, 4, 6), "float32")
    slots_third = np.zeros((1, 2, 6, 4), "float32")
    fewer_values = np.zeros((1, 2, 5, 4), "float32")
    for cache in [(slots_third, slots_third), (slots_last, slots_last),
                  (slots_last, fewer_values)]:
        with pytest.raises(ValueError, match=r"keys \[B, 2, 4, S\] and values \[B, 2, S, 4\]"):
            layer(np.ones((1, 1, 8), "float32"), cache=cache, cache_update_index=0)


def test_cached_attention_under_xla_reads_the_key_cache_without_transposing_it():
    # With keys cached `[B, heads, S, head_size]`, XLA's CPU compiler transposed every layer's
    # whole key cache for the score product at every decoding step; only the new rows may be.
    layer = RelativeMultiHeadAttention(num_heads=2, head_size=8)
    layer.build((1, 2, 16))
    keys, values = tf.zeros([1, 2, 8, 40]), tf.zeros([1, 2, 40, 8])

    def decode(x, keys, values):  # three steps of two tokens, as in decoding
        def body(i, x, keys, values):
            x, (keys, values) = layer(x, cache=(keys, values), cache_update_index=2 * i)
            return i + 1, x, keys, values
        return tf.while_loop(lambda i, *_: i < 3, body, (0, x, keys, values))[1]

    hlo = tf.function(decode, jit_compile=True).experimental_get_compiler_ir(
        tf.zeros([1, 2, 16]), keys, values)(stage="optimized_hlo")
    shapes = [re.search(r"= \w+\[([\d,]*)\]", line)[1] for line in hlo.splitlines()
              if " transpose(" in line]
    sizes = [np.prod([int(d) for d in shape.split(",")]) for shape in shapes]
    assert max(sizes, default=0) <= 2 * 2 * 8  # the two new tokens' keys or values at most


def _round_trip(model, inputs, tmp_path):
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)
    return loaded


def test_attention_and_block_round_trip(tmp_path):
    x = keras.Input((None, 8))
    for layer in (RelativeMultiHeadAttention(num_heads=2, head_size=4, dropout=0.1),
                  TransformerBlock(num_heads=2, intermediate_size=16, layer_norm_epsilon=1e-5)):
        model = keras.Model(x, layer(x))
        loaded = _round_trip(model, np.ones((1, 3, 8), "float32"), tmp_path)
        assert loaded.layers[-1].get_config() == layer.get_config()


def test_embeddings_round_trip(tmp_path):
    ids = keras.Input((None,), dtype="int32")
    layer = UniLMv2Embeddings(vocab_size=20, hidden_size=8, max_position_embeddings=10,
                              type_vocab_size=3)
    model = keras.Model(ids, layer(ids, ids % 3, ids % 10))
    _round_trip(model, np.array([[1, 5, 7]]), tmp_path)
    no_segments = UniLMv2Embeddings(vocab_size=20, hidden_size=8, max_position_embeddings=10,
                                    type_vocab_size=0)
    no_segments(np.array([[1]]), np.array([[0]]), np.array([[0]]))
    assert no_segments.segment_embedding is None


def test_lm_head_is_tied_and_round_trips(tmp_path):
    embedding = keras.layers.Embedding(12, 8)
    embedding.build((None, None))
    head = MaskedLMHead(token_embedding=embedding)
    hidden = np.random.default_rng(3).normal(size=(1, 4, 8)).astype("float32")
    logits = np.asarray(head(hidden, np.array([[3, 0]])))
    assert logits.shape == (1, 2, 12)
    transformed = np.asarray(head.layer_norm(keras.activations.gelu(
        head.transform_dense(hidden[:, [3, 0]]), approximate=False)))
    np.testing.assert_allclose(logits, transformed @ np.asarray(embedding.embeddings).T,
                               atol=1e-5)
    x = keras.Input((None, 8))
    _round_trip(keras.Model(x, head(x)), hidden, tmp_path)


@pytest.mark.parametrize("rows", [1, 2, 5, MANY_ROWS + 1])
def test_lm_head_scores_rows_as_its_call_does(rows):
    # `score_rows` (decoding's product, the embedding on the left) against a numpy reference
    # of the head, bias included, eager and traced, with and without XLA, for these rows only
    # and for any number of rows.
    embedding = keras.layers.Embedding(12, 8)
    embedding.build((None, None))
    head = MaskedLMHead(token_embedding=embedding)
    hidden = np.random.default_rng(rows).normal(size=(rows, 8)).astype("float32")
    head(hidden[:, None])
    head.output_bias.assign(np.linspace(-1, 1, 12).astype("float32"))
    transformed = np.asarray(head.layer_norm(keras.activations.gelu(
        head.transform_dense(hidden), approximate=False)))
    want = transformed @ np.asarray(embedding.embeddings).T + np.asarray(head.output_bias)
    compiled = [tf.function(head.score_rows, jit_compile=jit, input_signature=signature)
                for jit in (True, False) for signature in (None, [tf.TensorSpec([None, 8])])]
    for got in (head.score_rows(hidden), *(f(hidden) for f in compiled),
                head(hidden[:, None])[:, 0]):
        assert tuple(got.shape) == (rows, 12)
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


def score_rows_optimized_hlo(rows):
    """XLA's optimized HLO of `score_rows` on `rows` states of a 3,001 x 64 table, traced for
    exactly that many rows and for any number of rows (as a search loop traces its step)."""
    embedding = keras.layers.Embedding(3001, 64)
    embedding.build((None, None))
    head = MaskedLMHead(token_embedding=embedding)
    return [tf.function(head.score_rows, jit_compile=True, input_signature=signature
                        ).experimental_get_compiler_ir(tf.zeros([rows, 64]))(stage="optimized_hlo")
            for signature in (None, [tf.TensorSpec([None, 64])])]


def table_moves(hlo):
    return [line for line in hlo.splitlines() if ("transpose(" in line or "copy(" in line)
            and ("[64,3001]" in line or "[3001,64]" in line)]


def test_lm_head_scores_one_row_under_xla_in_halves_without_copying_the_embedding():
    # Written `x Eᵀ`, XLA's CPU compiler transposed and copied the whole embedding for a
    # one-row product at every decoding step; `score_rows` reads it as stored. Its product with
    # the whole table ran on one core; with each half, XLA can split it across the cores, also
    # when traced for any number of rows (as `Seq2SeqLM.generate` traces its search).
    for hlo in score_rows_optimized_hlo(1):
        assert not table_moves(hlo)
        products = re.findall(r"= f32\[(\d+)\]\S* dot\(", hlo)
        assert sorted(products) == ["1500", "1501", "64"]  # the transform's Dense, two halves


def test_lm_head_scores_many_rows_under_xla_rows_first_without_moving_the_table():
    # Traced for any number of rows, `(E xᵀ)ᵀ` left the logits `[V, N]` in memory, transposed
    # at the end, and in a beam search XLA kept that layout through the loop, reading it
    # across the rows. From `MANY_ROWS` rows the product is `x Eᵀ`: rows first, nothing
    # transposed after it, and the table not copied.
    for hlo in score_rows_optimized_hlo(MANY_ROWS):
        assert not table_moves(hlo)
        assert "transpose" not in hlo
        products = re.findall(r"= f32\[(\d+,\d+)\]\S* dot\(", hlo)
        assert products == [f"{MANY_ROWS},64", f"{MANY_ROWS},3001"]  # the Dense, the head
