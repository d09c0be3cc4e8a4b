"""Seq2seq fine-tuning inputs with pseudo masks (s2s-ft `mask_way="v2"`), in TF ops."""

import tensorflow as tf

from unilmv2_tf.preprocessing.token_corruption import corrupt_tokens


class Seq2SeqPacker(tf.Module):
    """Packs word-piece ids of sources and targets into fixed-shape seq2seq features.

    Layout of one row (lengths `S + T + T`, `S = max_source_length`, `T = max_target_length`):

    - source `[CLS] src [SEP]` (segment 0, positions `0..ns-1`), the source truncated to `S - 2`
      pieces, padded to `S`;
    - teacher-forced target `tgt [SEP]` (segment 1, positions `ns..ns+nt-1`, step weight
      `j + 1`), the target truncated to `T - 1` pieces, padded to `T`;
    - one pseudo mask per target token (segment 1, the same position, step weight `-(j + 1)`).

    With `PseudoMaskAttentionMask` this gives: the source sees the source; target token j sees the
    source and targets <= j; pseudo mask j sees the source, targets < j and itself. Each pseudo id
    is the target token corrupted 80/10/10 (`[MASK]` / random / kept); with probability
    `target_mask_prob` the teacher-forced token is replaced by the same corrupted id ("word
    drop"). The pseudo mask j predicts target token j (`labels`, `label_weights` `[B, T]`).

    Positions run past `S` only by the real source length, as in s2s-ft; the model needs
    `max_position_embeddings >= S + T` (see `UniLMv2Backbone.with_max_positions`).

    Example:
    >>> packer = Seq2SeqPacker(8, 4, cls_id=101, sep_id=102, mask_id=103,
    ...                        vocabulary_size=30522, target_mask_prob=0.0)
    >>> x = packer(tf.ragged.constant([[7, 8]]), tf.ragged.constant([[9]]), seed=[1, 2])
    >>> x["position_ids"].numpy().tolist()
    [[0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 0, 0, 4, 5, 0, 0]]
    >>> x["step_weights"].numpy().tolist()
    [[0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, -1, -2, 0, 0]]
    """

    def __init__(self, max_source_length, max_target_length, cls_id, sep_id, mask_id,
                 vocabulary_size, pad_id=0, target_mask_prob=0.5, mask_token_rate=0.8,
                 random_token_rate=0.1, target_segment_id=1, name=None):
        super().__init__(name=name)
        if max_source_length < 2:
            raise ValueError(f"max_source_length must be >= 2 ([CLS] and [SEP]), got "
                             f"{max_source_length}.")
        if max_target_length < 1:
            raise ValueError(f"max_target_length must be >= 1, got {max_target_length}.")
        if not 0.0 <= target_mask_prob <= 1.0:
            raise ValueError(f"target_mask_prob must be in [0, 1], got {target_mask_prob}.")
        if mask_token_rate < 0 or random_token_rate < 0 or mask_token_rate + random_token_rate > 1:
            raise ValueError("mask_token_rate and random_token_rate must be >= 0 and sum to <= 1.")
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.cls_id, self.sep_id, self.mask_id, self.pad_id = cls_id, sep_id, mask_id, pad_id
        self.vocabulary_size = vocabulary_size
        self.target_mask_prob = target_mask_prob
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.target_segment_id = target_segment_id

    @classmethod
    def for_tokenizer(cls, tokenizer, max_source_length, max_target_length, **options):
        """A packer with `tokenizer`'s special ids and vocabulary size."""
        return cls(max_source_length, max_target_length, tokenizer.cls_id, tokenizer.sep_id,
                   tokenizer.mask_id, tokenizer.vocabulary_size, pad_id=tokenizer.pad_id,
                   **options)

    def _wrap(self, pieces, prefix, length):
        """Truncates ragged `[B, None]` pieces, adds `prefix` and a `[SEP]`, pads to `length`."""
        pieces = tf.cast(pieces, tf.int32)
        room = length - 1 - len(prefix)
        pieces = pieces[:, :room]
        batch = pieces.nrows()
        parts = [tf.RaggedTensor.from_tensor(tf.fill([batch, 1], token)) for token in prefix]
        parts += [pieces, tf.RaggedTensor.from_tensor(tf.fill([batch, 1], self.sep_id))]
        wrapped = tf.concat(parts, axis=1)
        lengths = tf.cast(wrapped.row_lengths(), tf.int32)
        dense = wrapped.to_tensor(default_value=self.pad_id, shape=[None, length])
        return dense, tf.sequence_mask(lengths, length, tf.int32), lengths

    def pack_source(self, source_pieces):
        """Source features for decoding: `token_ids, segment_ids, position_ids, padding_mask`
        `[B, S]` and `source_length [B]`, from ragged word-piece ids `[B, None]`."""
        token_ids, padding_mask, lengths = self._wrap(source_pieces, [self.cls_id],
                                                      self.max_source_length)
        positions = tf.range(self.max_source_length)[None, :] * padding_mask
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids),
                "position_ids": positions, "padding_mask": padding_mask,
                "source_length": lengths}

    def __call__(self, source_pieces, target_pieces, seed):
        """Training features from ragged `[B, None]` sources and targets; `seed` int `[2]`."""
        source = self.pack_source(source_pieces)
        target, target_mask, _ = self._wrap(target_pieces, [], self.max_target_length)
        corrupt_seed, drop_seed = tf.unstack(
            tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
        corrupted = corrupt_tokens(target, corrupt_seed, self.vocabulary_size, self.mask_id,
                                   self.mask_token_rate, self.random_token_rate)
        dropped = tf.random.stateless_uniform(tf.shape(target), drop_seed) < self.target_mask_prob
        is_target = target_mask > 0
        pseudo_ids = tf.where(is_target, corrupted, self.pad_id)
        target_inputs = tf.where(tf.logical_and(is_target, dropped), corrupted, target)

        offsets = tf.range(self.max_target_length)[None, :]
        target_positions = (source["source_length"][:, None] + offsets) * target_mask
        steps = (offsets + 1) * target_mask
        target_segments = self.target_segment_id * target_mask
        return {
            "token_ids": tf.concat([source["token_ids"], target_inputs, pseudo_ids], 1),
            "segment_ids": tf.concat([source["segment_ids"], target_segments, target_segments],
                                     1),
            "position_ids": tf.concat([source["position_ids"], target_positions,
                                       target_positions], 1),
            "padding_mask": tf.concat([source["padding_mask"], target_mask, target_mask], 1),
            "step_weights": tf.concat([tf.zeros_like(source["token_ids"]), steps, -steps], 1),
            "labels": target,
            "label_weights": tf.cast(target_mask, tf.float32),
        }
