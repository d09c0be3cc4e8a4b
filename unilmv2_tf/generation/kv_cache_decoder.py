"""`KVCacheDecoder`: incremental decoding over a fixed-size key/value cache."""

import tensorflow as tf

from unilmv2_tf.generation.seq2seq_decoder import Seq2SeqDecoder


class KVCacheDecoder(Seq2SeqDecoder):
    """Seq2seq decoding that caches every layer's keys and values, not hidden states.

    The cache has `S + max_length` slots: the source, then one slot per target position. The
    source and the first pseudo mask are encoded once; each later step feeds two tokens, the
    previous choice (written over the slot its pseudo mask used) and the next pseudo mask, so a
    step costs O(1) projections per layer instead of s2s-ft's O(history). Exactly equal to
    recomputing the full sequence under the training mask (tested).

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.layers import MaskedLMHead
    >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=120)
    >>> head = MaskedLMHead(backbone.token_embedding)
    >>> decoder = KVCacheDecoder(backbone, head, max_length=4, mask_id=103)
    >>> log_probs, state = decoder.start({"token_ids": [[101, 7, 102]],
    ...                                   "padding_mask": [[1, 1, 1]]})
    >>> log_probs, state = decoder.step(state, tf.constant([9]), 1)
    >>> log_probs.shape
    TensorShape([1, 120])
    """

    def start(self, source):
        token_ids, padding_mask, positions, source_length = self._source_parts(source)
        batch, source_slots = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        target_positions = source_length[:, None] + tf.range(self.max_length)[None, :]
        key_positions = tf.concat([positions, target_positions], axis=1)
        column = tf.ones([batch, 1], tf.int32)
        query_steps = tf.concat([tf.zeros_like(token_ids), -column], axis=1)
        log_probs, state = self._run(
            {**self._new_memory(batch, source_slots + self.max_length),
             "key_positions": key_positions, "source_padding": padding_mask},
            tf.concat([token_ids, self.mask_id * column], axis=1),
            tf.concat([tf.zeros_like(token_ids), self.target_segment_id * column], axis=1),
            tf.concat([positions, source_length[:, None]], axis=1),
            query_steps, step=0, cache_update_index=0)
        return log_probs, state

    def step(self, state, tokens, step):
        tokens = tf.cast(tokens, tf.int32)
        batch = tf.shape(tokens)[0]
        source_slots = tf.shape(state["source_padding"])[1]
        pair = tf.stack([step - 1, step])  # the previous token's slot, the new pseudo mask's
        positions = tf.gather(state["key_positions"], source_slots + pair, axis=1)
        return self._run(
            state, tf.stack([tokens, tf.fill([batch], self.mask_id)], axis=1),
            tf.fill([batch, 2], self.target_segment_id), positions,
            tf.tile(tf.stack([step, -(step + 1)])[None], [batch, 1]), step=step,
            cache_update_index=source_slots + step - 1)

    def _run(self, state, token_ids, segment_ids, position_ids, query_steps, step,
             cache_update_index):
        batch = tf.shape(token_ids)[0]
        target_steps, target_real = self._target_roles(batch, step)
        key_steps = tf.concat([tf.zeros_like(state["source_padding"]), target_steps], axis=1)
        key_real = tf.concat([state["source_padding"], target_real], axis=1)
        mask = self.backbone.pseudo_mask(query_steps, tf.ones_like(query_steps),
                                         key_step_weights=key_steps, key_padding_mask=key_real)
        hidden, memory = self._encode(state, token_ids, segment_ids, position_ids, mask,
                                      cache_update_index)
        return self._log_probs(hidden[:, -1]), {**state, **memory}

    def _new_memory(self, batch, slots):
        """What is kept between steps (here the key/value cache of every layer)."""
        return {"cache": self.backbone.init_cache(batch, slots)}

    def _encode(self, state, token_ids, segment_ids, position_ids, mask, cache_update_index):
        """Runs the new tokens against the memory; returns `(hidden, updated memory)`."""
        hidden, cache = self.backbone.call_with_cache(
            token_ids, segment_ids, position_ids, mask, state["cache"], cache_update_index,
            state["key_positions"])
        return hidden, {"cache": cache}
