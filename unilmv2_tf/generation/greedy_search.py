"""Greedy decoding (or sampling with a keras-hub sampler) in one `tf.while_loop`."""

import tensorflow as tf

from unilmv2_tf.generation.logits_processing import constrain
from unilmv2_tf.generation.seq2seq_decoder import keep_static_shapes, search_limit


def greedy_search(decoder, source, eos_id, min_length=1, ngram_size=0, ngram_ignore_ids=(),
                  pad_id=0, max_length=None, sampler=None):
    """Takes the most likely token at every step (or the one `sampler` draws) until each row
    emits `eos_id` (or reaches `decoder.max_length`). Runs inside `tf.function`, also with
    `jit_compile=True`.

    Args:
        decoder: a `Seq2SeqDecoder` (`KVCacheDecoder` for real use).
        source: dict with `token_ids`, `padding_mask` `[B, S]` (see `Seq2SeqPacker.pack_source`).
        eos_id: the end token (`[SEP]`); it is part of the output.
        min_length: tokens that must come before `eos_id`.
        ngram_size: forbid repeating n-grams of this size (0 = off).
        ngram_ignore_ids: ids exempt from the n-gram rule (s2s-ft's `--forbid_ignore_word`).
        pad_id: fills the slots after the end.
        max_length: stop after this many tokens (an int or an int32 scalar tensor, clipped to
            `decoder.max_length`, the default); shapes stay `decoder.max_length` wide.
        sampler: optional keras-hub sampler (`keras_hub.samplers.TopKSampler(k=10)`, ...) that
            draws each token from the constrained next-token distribution: its
            `compute_probabilities` (temperature) and `get_next_token` (its random state moves
            on with every draw). None takes the most likely token.

    Returns a dict: `token_ids [B, T]` (`pad_id` after the end), `scores [B]` (sum of the
    chosen tokens' log-probabilities, before any temperature), `lengths [B]` (tokens, `eos_id`
    included).

    The example of `beam_search` runs the same way with
    `greedy_search(decoder, source, eos_id)`.
    """
    slots_count = decoder.max_length
    limit = search_limit(decoder, max_length)
    log_probs, state = decoder.start(source)
    batch = tf.shape(log_probs)[0]
    slots = tf.range(slots_count)[None, :]

    def body(step, log_probs, state, sequences, scores, lengths, finished):
        log_probs = constrain(log_probs, sequences, step, eos_id, min_length, ngram_size,
                              ngram_ignore_ids)
        if sampler is None:
            tokens = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        else:  # log-probabilities are logits up to a constant per row
            tokens = tf.cast(sampler.get_next_token(sampler.compute_probabilities(log_probs)),
                             tf.int32)
        token_scores = tf.gather(log_probs, tokens, batch_dims=1)
        tokens = tf.where(finished, pad_id, tokens)
        scores += tf.where(finished, 0.0, token_scores)
        sequences = tf.where(slots == step, tokens[:, None], sequences)
        ended = tf.logical_and(~finished, tf.equal(tokens, eos_id))
        lengths = tf.where(ended, step + 1, lengths)
        finished |= ended
        log_probs, state = decoder.advance(state, tokens, step + 1, log_probs)
        return step + 1, log_probs, state, sequences, scores, lengths, finished

    def cond(step, log_probs, state, sequences, scores, lengths, finished):
        return tf.logical_and(step < limit, ~tf.reduce_all(finished))

    loop_vars = (tf.constant(0), log_probs, state, tf.fill([batch, slots_count], pad_id),
                 tf.zeros([batch]), tf.fill([batch], limit), tf.zeros([batch], tf.bool))
    _, _, _, sequences, scores, lengths, _ = tf.while_loop(
        cond, lambda *loop_vars: keep_static_shapes(body(*loop_vars), loop_vars), loop_vars)
    return {"token_ids": sequences, "scores": scores, "lengths": lengths}
