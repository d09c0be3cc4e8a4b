"""`Seq2SeqDecoder`: the step interface that greedy and beam search drive."""

import tensorflow as tf


def keep_static_shapes(new_loop_vars, loop_vars):
    """Gives a `tf.while_loop` body's outputs the static shapes of its inputs."""
    return tf.nest.map_structure(lambda new, old: tf.ensure_shape(new, old.shape),
                                 new_loop_vars, loop_vars)


def search_limit(decoder, max_length):
    """The number of tokens a search may generate: `max_length` (int or int32 scalar tensor)
    clipped to `[1, decoder.max_length]`, or `decoder.max_length` when it is None."""
    if max_length is None:
        return decoder.max_length
    if not tf.is_tensor(max_length):
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}.")
        return min(int(max_length), decoder.max_length)
    return tf.clip_by_value(tf.cast(max_length, tf.int32), 1, decoder.max_length)


class Seq2SeqDecoder:
    """Scores the next target token of UniLMv2 seq2seq decoding, one step at a time.

    Decoding follows s2s-ft: step `t` appends a pseudo mask `[P]` at target position `t` that
    sees the source, the target tokens `< t` and itself, and its top-layer state scores the
    vocabulary. Subclasses differ only in what they keep between steps.

    - `start(source)` encodes the source (dict of `token_ids`, `padding_mask` `[B, S]`) with
      the first pseudo mask; returns `(log_probs [B, V] float32, state)`.
    - `step(state, tokens, step)` adds `tokens [N]` (chosen at `step - 1`) as target tokens
      and a new pseudo mask at `step`; returns `(log_probs [N, V], state)`. Every tensor of
      `state` has the batch (or batch x beam) on axis 0, so searches can reorder it.

    Args:
        backbone: a `UniLMv2Backbone`.
        lm_head: the `MaskedLMHead` tied to its token embedding.
        max_length: target slots (the generated tokens, `[SEP]` included).
        mask_id: the pseudo-mask id (`[MASK]`).
        target_segment_id: segment id of target tokens and pseudo masks.
    """

    def __init__(self, backbone, lm_head, max_length, mask_id, target_segment_id=1):
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}.")
        self.backbone = backbone
        self.lm_head = lm_head
        self.max_length = max_length
        self.mask_id = mask_id
        self.target_segment_id = target_segment_id

    def start(self, source):
        raise NotImplementedError

    def step(self, state, tokens, step):
        raise NotImplementedError

    def advance(self, state, tokens, step, log_probs):
        """`step(state, tokens, step)` while `step < max_length`, else the inputs unchanged."""
        return tf.cond(step < self.max_length, lambda: self.step(state, tokens, step),
                       lambda: (log_probs, state))

    def _log_probs(self, hidden):
        """`[N, hidden]` pseudo-mask states to float32 log-probabilities `[N, V]`
        (`MaskedLMHead.score_rows`: the product for few rows that reads the embedding as
        stored)."""
        logits = self.lm_head.score_rows(hidden)
        return tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)

    def _target_roles(self, batch, step):
        """Step weights and realness of the target slots while pseudo mask `step` is live:
        slots `< step` hold target tokens (`+k+1`), slot `step` holds the pseudo mask."""
        k = tf.range(self.max_length)
        weights = tf.where(k < step, k + 1, tf.where(k == step, -(step + 1), 0))
        real = tf.cast(k <= step, tf.int32)
        return tf.tile(weights[None], [batch, 1]), tf.tile(real[None], [batch, 1])

    @staticmethod
    def _source_parts(source):
        token_ids = tf.cast(source["token_ids"], tf.int32)
        padding_mask = tf.cast(source["padding_mask"], tf.int32)
        positions = tf.range(tf.shape(token_ids)[1])[None, :] * padding_mask
        return token_ids, padding_mask, positions, tf.reduce_sum(padding_mask, axis=1)
