"""Statistics and structure of the PMLM masker (Algorithm 1) over thousands of sequences."""

import math

import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf.preprocessing import PMLMMasker

PAD, CLS, SEP, MASK = 0, 1, 2, 3
VOCAB, LENGTH, N = 1000, 200, 3000


def masked_batches(masker, ids, lengths, seed=5):
    lengths = tf.constant(lengths, tf.int32)

    def one(i, x):
        n = tf.gather(lengths, i)
        padding = tf.cast(tf.range(LENGTH) < n, tf.int32)
        return masker(x, tf.cast(tf.range(LENGTH) > n // 2, tf.int32) * padding, padding,
                      tf.stack([tf.constant(seed, tf.int64), i]))
    ds = tf.data.Dataset.from_tensor_slices(ids).enumerate().map(one).batch(500)
    out = {}
    for batch in ds:
        for key, value in batch.items():
            out.setdefault(key, []).append(value.numpy())
    return {key: np.concatenate(value) for key, value in out.items()}


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, LENGTH + 1, N)
    ids = rng.integers(4, VOCAB, (N, LENGTH)).astype("int32")
    for row, n in zip(ids, lengths):
        row[0], row[n // 2], row[n - 1] = CLS, SEP, SEP
        row[n:] = PAD
    return ids, lengths


@pytest.fixture(scope="module")
def masked(corpus):
    masker = PMLMMasker(VOCAB, MASK, [PAD, CLS, SEP, MASK],
                        PMLMMasker.default_max_predictions(LENGTH))
    return masker, masked_batches(masker, *corpus)


def test_static_shapes(masked):
    masker, x = masked
    budget = masker.max_predictions
    assert x["token_ids"].shape == (N, LENGTH + 2 * budget)
    for key in ("mask_positions", "par_positions", "labels", "label_weights"):
        assert x[key].shape == (N, budget)


def test_mask_rate_and_overshoot(masked, corpus):
    _, x = masked
    ids, lengths = corpus
    text = lengths - 3
    count = x["label_weights"].sum(1)
    assert (count >= 0.15 * text).all()
    assert (count < 0.15 * text + 6).all()  # the last block overshoots by at most 5
    rate = count.sum() / text.sum()
    assert 0.15 <= rate < 0.19


def test_specials_and_padding_never_masked(masked, corpus):
    _, x = masked
    ids, lengths = corpus
    weights = x["label_weights"] > 0
    positions = x["mask_positions"][weights]
    rows = np.nonzero(weights)[0]
    original = ids[rows, positions]
    assert not np.isin(original, [PAD, CLS, SEP, MASK]).any()
    assert (positions < lengths[rows]).all()
    np.testing.assert_array_equal(x["labels"][weights], original)


def block_sizes(x):
    sizes = []
    for row in x["step_weights"]:
        sizes.extend(np.bincount(-row[row < 0])[1:])
    return np.array(sizes)


def test_single_vs_ngram_and_span_lengths(masked):
    _, x = masked
    sizes = block_sizes(x)
    assert sizes.min() >= 1 and sizes.max() <= 6
    # 60% of draws are single tokens; overlap rejection favours short blocks a little.
    assert 0.58 < (sizes == 1).mean() < 0.68
    ngram = np.bincount(sizes[sizes > 1], minlength=7)[2:] / (sizes > 1).sum()
    assert np.all(np.abs(ngram - 0.2) < 0.04), ngram


def test_blocks_are_contiguous_and_steps_follow_draw_order(masked):
    _, x = masked
    left_to_right = 0
    for row in range(300):
        weights = x["label_weights"][row] > 0
        steps = -x["step_weights"][row][x["par_positions"][row][weights]]
        positions = x["mask_positions"][row][weights]
        assert (np.diff(steps) >= 0).all()  # labels ordered by factorization step
        for s in np.unique(steps):
            block = np.sort(positions[steps == s])
            assert (np.diff(block) == 1).all()
        starts = [positions[steps == s].min() for s in np.unique(steps)]
        left_to_right += int(np.all(np.diff(starts) > 0))
    assert left_to_right < 30  # a random order, not left to right


def test_80_10_10_replacement_and_shared_pseudo_draw(masked):
    _, x = masked
    weights = x["label_weights"] > 0
    rows = np.nonzero(weights)[0]
    in_place = x["token_ids"][rows, x["mask_positions"][weights]]
    labels = x["labels"][weights]
    assert abs((in_place == MASK).mean() - 0.8) < 0.015
    assert abs((in_place == labels).mean() - 0.1) < 0.01
    assert abs(((in_place != MASK) & (in_place != labels)).mean() - 0.1) < 0.01
    pseudo = x["token_ids"][rows, x["par_positions"][weights]]
    np.testing.assert_array_equal(pseudo, in_place)


def test_appended_tokens_carry_position_segment_and_step(masked):
    masker, x = masked
    for row in range(200):
        w = x["label_weights"][row] > 0
        par = x["par_positions"][row][w]
        pos = x["mask_positions"][row][w]
        np.testing.assert_array_equal(x["position_ids"][row][par], pos)
        np.testing.assert_array_equal(x["segment_ids"][row][par], x["segment_ids"][row][pos])
        steps = -x["step_weights"][row][par]
        assert (steps > 0).all()
        originals = x["step_weights"][row] > 0
        # Originals of every step but the last are appended, with the original ids.
        last = steps.max()
        expected = np.sort(x["labels"][row][w][steps < last])
        np.testing.assert_array_equal(np.sort(x["token_ids"][row][originals]), expected)
        assert x["padding_mask"][row][LENGTH:].sum() == 2 * w.sum() - (steps == last).sum()


def test_options_and_reproducibility(corpus):
    ids, lengths = corpus
    ids, lengths = ids[:200], lengths[:200]
    base = dict(vocabulary_size=VOCAB, mask_id=MASK, special_ids=[PAD, CLS, SEP, MASK],
                max_predictions=PMLMMasker.default_max_predictions(LENGTH))
    a = masked_batches(PMLMMasker(**base), ids, lengths, seed=1)
    b = masked_batches(PMLMMasker(**base), ids, lengths, seed=1)
    c = masked_batches(PMLMMasker(**base), ids, lengths, seed=2)
    np.testing.assert_array_equal(a["token_ids"], b["token_ids"])
    assert (a["token_ids"] != c["token_ids"]).any()
    always = masked_batches(PMLMMasker(**base, pseudo_token_policy="mask"), ids, lengths, 1)
    w = always["label_weights"] > 0
    assert (always["token_ids"][np.nonzero(w)[0], always["par_positions"][w]] == MASK).all()
    with_last = masked_batches(PMLMMasker(**base, append_last_block_originals=True), ids,
                               lengths, seed=1)
    assert (with_last["padding_mask"][:, LENGTH:].sum(1) == 2 * w.sum(1)).all()
    np.testing.assert_array_equal(with_last["labels"], a["labels"])
    with pytest.raises(ValueError, match="pseudo_token_policy"):
        PMLMMasker(**base, pseudo_token_policy="other")
    with pytest.raises(ValueError, match="continuation_mask"):
        PMLMMasker(**base, whole_word=True)


def test_whole_word_spans_never_split_words(tokenizer):
    text = ["unaffable transformers tokenization is unbelievably interesting " * 6]
    pieces = tokenizer.tokenize(text)[0, :60].numpy()
    ids = np.concatenate([[tokenizer.cls_id], pieces, [tokenizer.sep_id]]).astype("int32")
    continuation = tokenizer.continuation_mask().numpy()
    masker = PMLMMasker.for_tokenizer(tokenizer, 30, whole_word=True)
    for seed in range(30):
        x = masker(ids, np.zeros_like(ids), np.ones_like(ids), seed=[seed, 0])
        masked = np.zeros(len(ids), bool)
        masked[x["mask_positions"].numpy()[x["label_weights"].numpy() > 0]] = True
        for i in range(1, len(ids)):
            if continuation[ids[i]]:
                assert masked[i] == masked[i - 1], (seed, i)
        assert masked.sum() >= math.ceil(0.15 * (len(ids) - 2))
