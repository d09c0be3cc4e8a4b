"""Cached decoding is exact, and greedy / beam search keep their documented properties."""

import math
import os

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.generation import (KVCacheDecoder, RecomputeDecoder, Seq2SeqDecoder,
                                   beam_search, block_repeated_ngrams, greedy_search)
from unilmv2_tf.layers import MaskedLMHead

EOS, MASK = 2, 3
BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "benchmarks")


@pytest.fixture(scope="module")
def model():
    """A random tiny model whose EOS is likely enough that some outputs end early."""
    keras.utils.set_random_seed(11)
    backbone = UniLMv2Backbone.from_size(
        "tiny", vocab_size=40, hidden_size=32, num_heads=2, intermediate_size=64,
        max_position_embeddings=64, hidden_dropout=0.0, attention_dropout=0.0)
    rng = np.random.default_rng(0)
    # Larger embeddings than the 0.02 init, so the logits depend on the context.
    backbone.token_embedding.embeddings.assign(rng.normal(0.0, 0.5, (40, 32)))
    head = MaskedLMHead(backbone.token_embedding)
    head.build((None, None, 32))
    # Lift EOS to the median gap between it and the best token: it wins about half the time.
    log_probs, _ = KVCacheDecoder(backbone, head, 4, MASK).start(sources([9, 5, 3, 7, 8, 6]))
    bias = np.zeros(40, "float32")
    bias[EOS] = np.median(tf.reduce_max(log_probs, -1) - log_probs[:, EOS])
    head.output_bias.assign(bias)
    return backbone, head


def sources(lengths, width=9, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(lengths), width), np.int32)
    for row, n in enumerate(lengths):
        ids[row, :n] = [1] + list(rng.integers(4, 40, n - 2)) + [EOS]
    return {"token_ids": tf.constant(ids), "padding_mask": tf.constant((ids > 0) * 1)}


def test_cached_decoding_equals_full_recompute(model):
    source = sources([9, 5, 3, 7])
    cached = KVCacheDecoder(*model, max_length=10, mask_id=MASK)
    reference = RecomputeDecoder(*model, max_length=10, mask_id=MASK)
    for search, options in ((greedy_search, {}),
                            (beam_search, {"beam_size": 3, "length_penalty": 1.0,
                                           "ngram_size": 2})):
        got = search(cached, source, EOS, **options)
        want = search(reference, source, EOS, **options)
        np.testing.assert_array_equal(got["token_ids"], want["token_ids"])
        np.testing.assert_allclose(got["scores"], want["scores"], atol=1e-4)
        np.testing.assert_array_equal(got["lengths"], want["lengths"])
    lengths = greedy_search(cached, source, EOS)["lengths"].numpy()
    assert lengths.min() < 10, "no output ended early: the test would not cover EOS"


def test_benchmarks_s2s_ft_decoder_decodes_as_the_cache(model, monkeypatch):
    # `benchmarks/decode.py` times the cache against s2s-ft's way of decoding (its
    # `HiddenStateCacheDecoder`: every layer's input states kept, keys and values re-projected
    # each step); its ratios compare like with like only while both decode the same.
    monkeypatch.syspath_prepend(BENCHMARKS)
    from decode import HiddenStateCacheDecoder
    source = sources([9, 5, 3, 7])
    cached = KVCacheDecoder(*model, max_length=10, mask_id=MASK)
    s2s_ft = HiddenStateCacheDecoder(*model, max_length=10, mask_id=MASK)
    for search, options in ((greedy_search, {}), (beam_search, {"beam_size": 3})):
        got, want = search(s2s_ft, source, EOS, **options), search(cached, source, EOS, **options)
        np.testing.assert_array_equal(got["token_ids"], want["token_ids"])
        np.testing.assert_allclose(got["scores"], want["scores"], atol=1e-4)


def test_step_log_probs_equal_full_recompute_along_a_prefix(model):
    source = sources([6, 9])
    cached = KVCacheDecoder(*model, max_length=6, mask_id=MASK)
    reference = RecomputeDecoder(*model, max_length=6, mask_id=MASK)
    (got, cache_state), (want, ref_state) = cached.start(source), reference.start(source)
    for step, tokens in enumerate([[5, 7], [9, 9], [EOS, 11], [4, 4]], start=1):
        np.testing.assert_allclose(got, want, atol=1e-5)
        got, cache_state = cached.step(cache_state, tf.constant(tokens), step)
        want, ref_state = reference.step(ref_state, tf.constant(tokens), step)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_beam_size_one_is_greedy(model):
    source = sources([9, 4, 6])
    decoder = KVCacheDecoder(*model, max_length=8, mask_id=MASK)
    for options in ({}, {"min_length": 3, "ngram_size": 2}):
        greedy = greedy_search(decoder, source, EOS, **options)
        beam = beam_search(decoder, source, EOS, beam_size=1, **options)
        np.testing.assert_array_equal(greedy["token_ids"], beam["token_ids"])
        np.testing.assert_allclose(greedy["scores"], beam["scores"], atol=1e-5)


def test_min_length_holds_back_eos(model):
    backbone, head = model
    source = sources([9, 4, 6, 5])
    decoder = KVCacheDecoder(backbone, head, max_length=8, mask_id=MASK)
    assert greedy_search(decoder, source, EOS)["lengths"].numpy().min() < 4
    for search in (greedy_search, lambda *a, **k: beam_search(*a, beam_size=3, **k)):
        out = search(decoder, source, EOS, min_length=4)
        lengths = out["lengths"].numpy()
        assert lengths.min() >= 5  # 4 tokens, then EOS
        ids = out["token_ids"].numpy()
        for row, n in zip(ids, lengths):
            assert EOS not in row[:4]


def has_repeated_ngram(row, n):
    grams = [tuple(row[i:i + n]) for i in range(len(row) - n + 1)]
    return len(grams) != len(set(grams))


def test_ngram_blocking_forbids_repeats(model):
    backbone, head = model
    keras.utils.set_random_seed(5)
    repetitive = MaskedLMHead(backbone.token_embedding)
    repetitive.build((None, None, 32))
    bias = np.zeros(40, "float32")
    bias[[6, 7]] = 30.0  # two dominant tokens: unconstrained outputs repeat n-grams
    repetitive.output_bias.assign(bias)
    decoder = KVCacheDecoder(backbone, repetitive, max_length=12, mask_id=MASK)
    source = sources([9, 5, 7])
    free = beam_search(decoder, source, EOS, beam_size=2)
    rows = [r[:n] for r, n in zip(free["token_ids"].numpy(), free["lengths"].numpy())]
    assert any(has_repeated_ngram(r, 2) for r in rows)
    for n in (2, 3):
        for search in (greedy_search, lambda *a, **k: beam_search(*a, beam_size=2, **k)):
            out = search(decoder, source, EOS, ngram_size=n)
            for row, length in zip(out["token_ids"].numpy(), out["lengths"].numpy()):
                assert not has_repeated_ngram(row[:length], n), row[:length]


def test_block_repeated_ngrams_respects_ignored_ids():
    sequences = tf.constant([[5, 6, 5, 0, 0], [8, 6, 8, 0, 0]])
    log_probs = block_repeated_ngrams(tf.zeros([2, 10]), sequences, 3, 2, ignore_ids=(8,))
    assert log_probs[0, 6] < -1e8 and int(tf.reduce_sum(tf.cast(log_probs < 0, tf.int32))) == 1
    # Row 2's prefix is the ignored id 8: nothing is forbidden.
    assert float(tf.reduce_min(log_probs[1])) == 0.0


def banned_by_reference(row, step, n, ignore_ids=()):
    """The tokens that would repeat an n-gram of `row[:step]`, found by listing n-grams."""
    prefix = tuple(row[step - n + 1:step])
    if any(t in ignore_ids for t in prefix):
        return set()
    return {row[i + n - 1] for i in range(step - n + 1) if tuple(row[i:i + n - 1]) == prefix
            and row[i + n - 1] not in ignore_ids}


def test_block_repeated_ngrams_matches_a_reference_on_every_row_eager_and_under_xla():
    rng = np.random.default_rng(3)
    sequences = rng.integers(4, 7, size=(6, 16)).astype("int32")  # 3 ids: many repeats
    blocked = tf.function(block_repeated_ngrams, jit_compile=True)
    cases = ((2, 7, ()), (3, 16, ()), (3, 12, (5,)), (4, 16, ()))
    wanted = []
    for n, step, ignore in cases:
        want = [banned_by_reference(list(row), step, n, ignore) for row in sequences]
        wanted += want
        for block in (block_repeated_ngrams, blocked):
            log_probs = block(tf.zeros([6, 11]), tf.constant(sequences), tf.constant(step), n,
                              ignore_ids=ignore).numpy()
            assert [set(np.flatnonzero(row < -1e8)) for row in log_probs] == want
    # The cases ban different tokens in different rows (a row mix-up would show).
    assert sum(bool(w) for w in wanted) >= 16 and len({frozenset(w) for w in wanted}) >= 6


class TableDecoder(Seq2SeqDecoder):
    """A fake decoder: the next-token distribution depends only on the last token."""

    TABLE = {-1: {EOS: 0.5, 5: 0.4, 6: 0.1},  # start
             5: {EOS: 0.9, 6: 0.1}, 6: {EOS: 0.5, 5: 0.5}}

    def __init__(self, max_length=4):
        super().__init__(None, None, max_length, MASK)
        log_probs = np.full((8, 8), -1e4, np.float32)
        for last, row in self.TABLE.items():
            for token, p in row.items():
                log_probs[last, token] = math.log(p)
        self.log_probs = tf.constant(log_probs)

    def start(self, source):
        batch = tf.shape(source["token_ids"])[0]
        return tf.tile(self.log_probs[-1:], [batch, 1]), {"last": tf.fill([batch], -1)}

    def step(self, state, tokens, step):
        return tf.gather(self.log_probs, tokens), {"last": tokens}


def test_length_penalty_reranks_finished_hypotheses():
    source = {"token_ids": tf.ones([1, 2], tf.int32), "padding_mask": tf.ones([1, 2], tf.int32)}
    short_score = math.log(0.5)                  # [EOS]
    long_score = math.log(0.4) + math.log(0.9)   # [5, EOS]
    assert short_score > long_score
    plain = beam_search(TableDecoder(), source, EOS, beam_size=2, length_penalty=0.0,
                        min_length=0)
    assert plain["token_ids"].numpy()[0, :1].tolist() == [EOS]
    np.testing.assert_allclose(plain["scores"], [short_score], atol=1e-6)
    alpha = 3.0
    penalized = beam_search(TableDecoder(), source, EOS, beam_size=2, length_penalty=alpha,
                            min_length=0)
    assert penalized["token_ids"].numpy()[0, :2].tolist() == [5, EOS]
    np.testing.assert_allclose(penalized["scores"], [long_score / (7 / 6) ** alpha], atol=1e-6)
    np.testing.assert_allclose(penalized["beam_scores"][0, 1], short_score, atol=1e-6)


def test_batched_decoding_equals_one_example_at_a_time(model):
    decoder = KVCacheDecoder(*model, max_length=8, mask_id=MASK)
    batch = sources([9, 3, 6], seed=4)
    together = beam_search(decoder, batch, EOS, beam_size=3, length_penalty=0.6)
    for row in range(3):
        n = int(batch["padding_mask"][row].numpy().sum())
        alone = beam_search(decoder, {k: v[row:row + 1, :n] for k, v in batch.items()}, EOS,
                            beam_size=3, length_penalty=0.6)
        np.testing.assert_array_equal(together["token_ids"][row], alone["token_ids"][0])
        np.testing.assert_allclose(together["scores"][row], alone["scores"][0], atol=1e-4)


def test_search_compiles_with_xla(model):
    decoder = KVCacheDecoder(*model, max_length=8, mask_id=MASK)
    source = sources([9, 5])
    search = tf.function(lambda s: beam_search(decoder, s, EOS, beam_size=3, ngram_size=3),
                         jit_compile=True)
    compiled, eager = search(source), beam_search(decoder, source, EOS, beam_size=3,
                                                  ngram_size=3)
    np.testing.assert_array_equal(compiled["token_ids"], eager["token_ids"])
    np.testing.assert_allclose(compiled["scores"], eager["scores"], atol=1e-4)


def test_one_source_greedy_compiles_with_xla_and_equals_its_batched_row(model):
    # One row under XLA (whose one-row product once copied the embedding at every step).
    decoder = KVCacheDecoder(*model, max_length=8, mask_id=MASK)
    one = sources([7])
    compiled = tf.function(lambda s: greedy_search(decoder, s, EOS), jit_compile=True)(one)
    eager = greedy_search(decoder, one, EOS)
    batched = greedy_search(decoder, sources([7, 9]), EOS)
    assert compiled["token_ids"].shape == (1, 8)
    for got in (compiled, eager):
        np.testing.assert_array_equal(got["token_ids"][0], batched["token_ids"][0])
        np.testing.assert_allclose(got["scores"][0], batched["scores"][0], atol=1e-4)


def test_sampling_draws_from_the_constrained_next_token_distribution(model):
    # 4,000 copies of one source, one token each: the draws' frequencies are the model's
    # probabilities (softmax of the log-probabilities over the temperature, [SEP] held back
    # by min_length, top-k renormalised), within 5 standard errors.
    decoder = KVCacheDecoder(*model, max_length=1, mask_id=MASK)
    one = sources([7])
    many = {key: tf.repeat(value, 4000, axis=0) for key, value in one.items()}
    log_probs = decoder.start(one)[0][0].numpy().astype("float64")
    log_probs[EOS] = -np.inf  # min_length=1
    for sampler, keep in ((keras_hub.samplers.RandomSampler(temperature=0.7, seed=3), 40),
                          (keras_hub.samplers.TopKSampler(k=3, seed=4), 3)):
        out = greedy_search(decoder, many, EOS, min_length=1, sampler=sampler)
        tokens = out["token_ids"][:, 0].numpy()
        scaled = log_probs / sampler.temperature
        scaled[np.argsort(-scaled)[keep:]] = -np.inf
        want = np.exp(scaled - scaled.max())
        want /= want.sum()
        got = np.bincount(tokens, minlength=40) / len(tokens)
        assert got[EOS] == 0 and (got[want == 0] == 0).all()
        assert np.abs(got - want).max() < 5 * np.sqrt(want.max() / len(tokens))
        assert len(np.unique(tokens)) >= min(keep, 3), "the draws did not spread"
        np.testing.assert_allclose(out["scores"], log_probs[tokens], atol=1e-4)


def test_top_1_sampling_is_greedy_also_under_xla(model):
    decoder = KVCacheDecoder(*model, max_length=8, mask_id=MASK)
    source = sources([9, 5, 7])
    greedy = greedy_search(decoder, source, EOS, ngram_size=2)
    sampler = keras_hub.samplers.TopKSampler(k=1, seed=0)
    compiled = tf.function(lambda s: greedy_search(decoder, s, EOS, ngram_size=2,
                                                   sampler=sampler), jit_compile=True)
    for got in (greedy_search(decoder, source, EOS, ngram_size=2, sampler=sampler),
                compiled(source)):
        np.testing.assert_array_equal(got["token_ids"], greedy["token_ids"])
        np.testing.assert_allclose(got["scores"], greedy["scores"], atol=1e-4)


def test_search_rejects_bad_options(model):
    decoder = KVCacheDecoder(*model, max_length=4, mask_id=MASK)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(decoder, sources([4]), EOS, beam_size=0)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(decoder, sources([4]), EOS, length_penalty=-1.0)
    with pytest.raises(ValueError, match="max_length"):
        KVCacheDecoder(*model, max_length=0, mask_id=MASK)
