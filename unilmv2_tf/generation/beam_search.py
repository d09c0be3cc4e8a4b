"""Beam search with a GNMT length penalty, in one `tf.while_loop` over a fixed-size cache."""

import tensorflow as tf

from unilmv2_tf.generation.logits_processing import constrain
from unilmv2_tf.generation.seq2seq_decoder import keep_static_shapes, search_limit


def length_penalty_factor(length, alpha):
    """GNMT (Wu et al., 2016): `((5 + length) / 6) ** alpha`; scores are divided by it."""
    return tf.pow((5.0 + tf.cast(length, tf.float32)) / 6.0, alpha)


def beam_search(decoder, source, eos_id, beam_size=4, length_penalty=0.0, min_length=1,
                ngram_size=0, ngram_ignore_ids=(), early_stopping=True, max_length=None):
    """s2s-ft's beam search over a `Seq2SeqDecoder`.

    Each step takes the top `beam_size` expansions of the live beams by summed log-probability.
    An expansion ending in `eos_id` leaves the beam and becomes a finished hypothesis, scored
    `log_prob / ((5 + length) / 6) ** length_penalty` (length counts `eos_id`; 0 = raw sum).
    At `max_length` tokens (default and upper bound `decoder.max_length`; an int or an int32
    scalar tensor) the live beams are finished too. The best finished hypothesis wins.
    With `early_stopping`, the loop ends once no live beam can still beat the best finished one
    (log-probabilities only fall, so the bound is exact), which includes "every beam has
    finished". `beam_size=1` gives exactly `greedy_search`.

    Returns a dict: `token_ids [B, T]`, `scores [B]`, `lengths [B]` of the best hypothesis and
    `beam_token_ids [B, K, T]`, `beam_scores [B, K]`, `beam_lengths [B, K]` of the K best
    finished ones (best first).

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.generation import KVCacheDecoder
    >>> from unilmv2_tf.layers import MaskedLMHead
    >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=120)
    >>> decoder = KVCacheDecoder(backbone, MaskedLMHead(backbone.token_embedding), 5, 103)
    >>> out = beam_search(decoder, {"token_ids": [[101, 7, 102]], "padding_mask": [[1, 1, 1]]},
    ...                   eos_id=102, beam_size=3)
    >>> out["beam_token_ids"].shape
    TensorShape([1, 3, 5])
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}.")
    if not tf.is_tensor(length_penalty) and length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0, got {length_penalty}.")
    k, slots_count = beam_size, decoder.max_length
    limit = search_limit(decoder, max_length)
    log_probs, state = decoder.start(source)
    batch, vocab = tf.shape(log_probs)[0], tf.shape(log_probs)[1]
    state = tf.nest.map_structure(lambda x: tf.repeat(x, k, axis=0), state)
    log_probs = tf.repeat(log_probs, k, axis=0)
    slots = tf.range(slots_count)[None, None, :]
    neg_inf = float("-inf")

    def body(step, log_probs, state, alive, alive_scores, finished, finished_scores,
             finished_lengths):
        log_probs = constrain(log_probs, tf.reshape(alive, [batch * k, slots_count]), step,
                              eos_id, min_length, ngram_size, ngram_ignore_ids)
        candidates = alive_scores[:, :, None] + tf.reshape(log_probs, [batch, k, vocab])
        top_scores, top_index = tf.math.top_k(tf.reshape(candidates, [batch, k * vocab]), k)
        parent, tokens = top_index // vocab, top_index % vocab
        sequences = tf.gather(alive, parent, batch_dims=1)
        sequences = tf.where(slots == step, tokens[:, :, None], sequences)

        is_eos = tf.equal(tokens, eos_id)
        to_finish = tf.logical_or(is_eos, step + 1 >= limit)
        new_scores = tf.where(to_finish, top_scores / length_penalty_factor(step + 1,
                                                                            length_penalty),
                              neg_inf)
        pool_scores = tf.concat([finished_scores, new_scores], axis=1)
        finished_scores, keep = tf.math.top_k(pool_scores, k)
        finished = tf.gather(tf.concat([finished, sequences], axis=1), keep, batch_dims=1)
        finished_lengths = tf.gather(
            tf.concat([finished_lengths, tf.fill([batch, k], step + 1)], axis=1), keep,
            batch_dims=1)

        alive_scores = tf.where(is_eos, neg_inf, top_scores)
        rows = tf.reshape(tf.range(batch)[:, None] * k + parent, [-1])
        state = tf.nest.map_structure(lambda x: tf.gather(x, rows), state)
        log_probs, state = decoder.advance(state, tf.reshape(tokens, [-1]), step + 1, log_probs)
        return (step + 1, log_probs, state, sequences, alive_scores, finished, finished_scores,
                finished_lengths)

    def cond(step, log_probs, state, alive, alive_scores, finished, finished_scores,
             finished_lengths):
        running = step < limit
        if not early_stopping:
            return running
        best_alive = tf.reduce_max(alive_scores, axis=1)
        bound = best_alive / length_penalty_factor(limit, length_penalty)
        settled = finished_scores[:, 0] >= bound
        return tf.logical_and(running, ~tf.reduce_all(settled))

    first_scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], neg_inf)], 0)[None], [batch, 1])
    empty = tf.zeros([batch, k, slots_count], tf.int32)
    loop_vars = (tf.constant(0), log_probs, state, empty, first_scores, empty,
                 tf.fill([batch, k], neg_inf), tf.zeros([batch, k], tf.int32))
    _, _, _, _, _, finished, finished_scores, finished_lengths = tf.while_loop(
        cond, lambda *loop_vars: keep_static_shapes(body(*loop_vars), loop_vars), loop_vars)
    return {"token_ids": finished[:, 0], "scores": finished_scores[:, 0],
            "lengths": finished_lengths[:, 0], "beam_token_ids": finished,
            "beam_scores": finished_scores, "beam_lengths": finished_lengths}
