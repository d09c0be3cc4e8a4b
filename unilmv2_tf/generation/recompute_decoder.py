"""`RecomputeDecoder`: decoding that re-encodes the whole sequence at every step."""

import tensorflow as tf

from unilmv2_tf.generation.seq2seq_decoder import Seq2SeqDecoder


class RecomputeDecoder(Seq2SeqDecoder):
    """The no-cache reference: each step runs the backbone's ordinary forward pass over
    `source + targets so far + [P]` with the training-time step weights.

    It is the ground truth the cached decoder is tested against, and the "full recompute"
    column of `benchmarks/decode.py`; use `KVCacheDecoder` for real decoding.

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.layers import MaskedLMHead
    >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=120)
    >>> decoder = RecomputeDecoder(backbone, MaskedLMHead(backbone.token_embedding), 4, 103)
    >>> log_probs, _ = decoder.start({"token_ids": [[101, 7, 102]], "padding_mask": [[1, 1, 1]]})
    >>> log_probs.shape
    TensorShape([1, 120])
    """

    def start(self, source):
        token_ids, padding_mask, _, _ = self._source_parts(source)
        state = {"source": token_ids, "source_padding": padding_mask,
                 "targets": tf.zeros([tf.shape(token_ids)[0], self.max_length], tf.int32)}
        return self._forward(state, 0), state

    def step(self, state, tokens, step):
        slot = tf.range(self.max_length)[None, :] == step - 1
        targets = tf.where(slot, tf.cast(tokens, tf.int32)[:, None], state["targets"])
        state = {**state, "targets": targets}
        return self._forward(state, step), state

    def _forward(self, state, step):
        source, _, source_positions, source_length = self._source_parts(
            {"token_ids": state["source"], "padding_mask": state["source_padding"]})
        batch = tf.shape(source)[0]
        target_steps, target_real = self._target_roles(batch, step)
        is_target = tf.cast(target_steps > 0, tf.int32)  # drop the pseudo-mask slot
        target_positions = source_length[:, None] + tf.range(self.max_length)[None, :]
        column = tf.ones([batch, 1], tf.int32)
        segment = self.target_segment_id
        features = {
            "token_ids": tf.concat([source, state["targets"], self.mask_id * column], 1),
            "segment_ids": tf.concat([tf.zeros_like(source), segment * target_real,
                                      segment * column], 1),
            "position_ids": tf.concat([source_positions, target_positions * is_target,
                                       source_length[:, None] + step], 1),
            "padding_mask": tf.concat([state["source_padding"], is_target, column], 1),
            "step_weights": tf.concat([tf.zeros_like(source), target_steps * is_target,
                                       -(step + 1) * column], 1),
        }
        if self.backbone.mask_input == "attention_mask":
            features["attention_mask"] = self.backbone.pseudo_mask(
                features.pop("step_weights"), features["padding_mask"])
        hidden = self.backbone(features)["sequence_output"]
        return self._log_probs(hidden[:, -1])
