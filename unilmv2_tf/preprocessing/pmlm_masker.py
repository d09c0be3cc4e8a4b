"""Blockwise masking with a factorization order (Algorithm 1) and the appended PMLM part."""

import tensorflow as tf

from unilmv2_tf.preprocessing.token_corruption import corrupt_tokens

PSEUDO_TOKEN_POLICIES = ("shared", "mask", "independent")


class PMLMMasker(tf.Module):
    """Turns one packed sequence into a pseudo-masked LM example, in TF ops (for `tf.data`).

    Algorithm 1 of the paper: repeatedly draw a start among the maskable positions (never special
    tokens or padding) and a block length (1 with probability `1 - span_probability`, else
    uniform in `[min_span, max_span]`); keep the block if it fits before the end, crosses no
    special token and overlaps no earlier block; stop once `mask_rate` of the text is masked.
    The draw order of the kept blocks is the factorization order (step 1, 2, ...).

    Masked positions are replaced in place with `[MASK]` 80%, a random id 10%, unchanged 10%.
    After the main part (length `L`), each block appends its pseudo masks `[P]` (the `[MASK]` id)
    and then its original tokens, in factorization order, both carrying the position and segment
    ids of the positions they stand for. The appended part is padded to `2 * max_predictions`, so
    every output has a static shape:

    - `token_ids, segment_ids, position_ids, padding_mask, step_weights`: `[L + 2B]`
      (step weight 0 main, `+s` original of step s, `-s` pseudo mask of step s);
    - `mask_positions, par_positions, labels`: `[B]` int32 (in-place slot, `[P]` index and
      original id of each masked token, ordered by step then position), `label_weights`: `[B]`.

    Options for the points the paper leaves open:
        pseudo_token_policy: "shared" (default; `[P]` takes the same 80/10/10 draw as its
            in-place slot), "mask" (`[P]` is always `[MASK]`) or "independent" (its own draw).
        append_last_block_originals: the last block's originals are never attended by any
            `[P]`; False (default) leaves their slots as padding. No loss changes either way.
        whole_word: draw spans of whole words (a `##` piece joins the previous word) instead of
            word pieces; needs `continuation_mask`.

    Example:
    >>> masker = PMLMMasker(vocabulary_size=30522, mask_id=103, special_ids=[0, 101, 102, 103],
    ...                     max_predictions=6)
    >>> ids = tf.constant([101, 2023, 2003, 1037, 3231, 1997, 1996, 2291, 102, 0])
    >>> x = masker(ids, tf.zeros_like(ids), tf.cast(ids > 0, tf.int32), seed=[0, 1])
    >>> x["token_ids"].shape.as_list(), x["labels"].shape.as_list()
    ([22], [6])
    """

    def __init__(self, vocabulary_size, mask_id, special_ids, max_predictions, mask_rate=0.15,
                 span_probability=0.4, min_span=2, max_span=6, mask_token_rate=0.8,
                 random_token_rate=0.1, pseudo_token_policy="shared",
                 append_last_block_originals=False, whole_word=False, continuation_mask=None,
                 name=None):
        super().__init__(name=name)
        if pseudo_token_policy not in PSEUDO_TOKEN_POLICIES:
            raise ValueError(f"pseudo_token_policy must be one of {PSEUDO_TOKEN_POLICIES}, got "
                             f"{pseudo_token_policy!r}.")
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}.")
        if not 1 <= min_span <= max_span:
            raise ValueError(f"Need 1 <= min_span <= max_span, got {min_span}, {max_span}.")
        if max_predictions < max_span:
            raise ValueError(f"max_predictions ({max_predictions}) must be at least max_span "
                             f"({max_span}).")
        if mask_token_rate < 0 or random_token_rate < 0 or mask_token_rate + random_token_rate > 1:
            raise ValueError("mask_token_rate and random_token_rate must be >= 0 and sum to <= 1.")
        if whole_word and continuation_mask is None:
            raise ValueError("whole_word=True needs the vocabulary's continuation_mask.")
        self.vocabulary_size = vocabulary_size
        self.mask_id = mask_id
        self.special_ids = tuple(int(i) for i in special_ids)
        self.max_predictions = max_predictions
        self.mask_rate = mask_rate
        self.span_probability = span_probability
        self.min_span, self.max_span = min_span, max_span
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.pseudo_token_policy = pseudo_token_policy
        self.append_last_block_originals = append_last_block_originals
        self.whole_word = whole_word
        self.continuation_mask = (None if continuation_mask is None
                                  else tf.convert_to_tensor(continuation_mask, tf.bool))

    @classmethod
    def for_tokenizer(cls, tokenizer, max_predictions, **options):
        """A masker over `tokenizer`'s vocabulary; never masks [PAD], [CLS], [SEP], [MASK]."""
        return cls(tokenizer.vocabulary_size, tokenizer.mask_id,
                   [tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id],
                   max_predictions, continuation_mask=tokenizer.continuation_mask(), **options)

    @staticmethod
    def default_max_predictions(sequence_length, mask_rate=0.15, max_span=6):
        """The budget that always holds a token-level draw: ceil(rate * text) + max_span - 1."""
        text = max(sequence_length - 3, 1)
        return int(-(-text * mask_rate // 1)) + max_span - 1

    def _units(self, token_ids, maskable):
        """Maps positions to drawing units: word pieces, or whole words."""
        length = tf.shape(token_ids)[0]
        if not self.whole_word:
            return tf.range(length), length
        continuation = tf.logical_and(maskable, tf.gather(self.continuation_mask, token_ids))
        # A continuation right after a non-maskable token starts a unit of its own.
        previous_maskable = tf.concat([[False], maskable[:-1]], axis=0)
        joins = tf.logical_and(continuation, previous_maskable)
        unit_id = tf.cumsum(1 - tf.cast(joins, tf.int32)) - 1
        return unit_id, unit_id[-1] + 1

    def _draw_steps(self, token_ids, maskable, seed):
        """Algorithm 1. Returns the 1-based step of every position (0 = not masked)."""
        unit_id, num_units = self._units(token_ids, maskable)
        unit_maskable = tf.math.unsorted_segment_min(tf.cast(maskable, tf.int32), unit_id,
                                                     num_units) > 0
        unit_size = tf.math.unsorted_segment_sum(tf.ones_like(unit_id), unit_id, num_units)
        candidates = tf.cast(tf.where(unit_maskable)[:, 0], tf.int32)
        num_candidates = tf.size(candidates)
        goal = self.mask_rate * tf.cast(tf.reduce_sum(tf.cast(maskable, tf.int32)), tf.float32)
        max_draws = 50 + 20 * self.max_predictions
        offsets = tf.range(self.max_span)

        def cond(draw, step, count, unit_step):
            return tf.logical_and(tf.logical_and(tf.cast(count, tf.float32) < goal,
                                                 draw < max_draws), num_candidates > 0)

        def body(draw, step, count, unit_step):
            u = tf.random.stateless_uniform([3], tf.random.experimental.stateless_fold_in(
                seed, draw))
            start = tf.gather(candidates, tf.minimum(
                tf.cast(u[0] * tf.cast(num_candidates, tf.float32), tf.int32),
                num_candidates - 1))
            span = self.min_span + tf.minimum(
                tf.cast(u[2] * (self.max_span - self.min_span + 1), tf.int32),
                self.max_span - self.min_span)
            length = tf.where(u[1] < self.span_probability, span, 1)
            in_block = offsets < length
            units = tf.minimum(start + offsets, num_units - 1)
            fits = start + length <= num_units
            free = tf.logical_and(tf.gather(unit_maskable, units),
                                  tf.equal(tf.gather(unit_step, units), 0))
            ok = tf.logical_and(fits, tf.reduce_all(tf.logical_or(free, ~in_block)))
            tokens = tf.reduce_sum(tf.where(in_block, tf.gather(unit_size, units), 0))
            ok = tf.logical_and(ok, count + tokens <= self.max_predictions)
            chosen = tf.boolean_mask(units, tf.logical_and(in_block, ok))
            unit_step = tf.tensor_scatter_nd_update(unit_step, chosen[:, None],
                                                    tf.fill(tf.shape(chosen), step))
            ok_int = tf.cast(ok, tf.int32)
            return draw + 1, step + ok_int, count + ok_int * tokens, unit_step

        _, _, _, unit_step = tf.while_loop(
            cond, body, (0, 1, 0, tf.zeros([num_units], tf.int32)))
        return tf.gather(unit_step, unit_id)

    def _corrupt(self, original, seed):
        return corrupt_tokens(original, seed, self.vocabulary_size, self.mask_id,
                              self.mask_token_rate, self.random_token_rate)

    def __call__(self, token_ids, segment_ids, padding_mask, seed):
        """Masks one packed sequence (int `[L]` each); `seed` is an int `[2]` stateless seed."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32)
        segment_ids = tf.convert_to_tensor(segment_ids, tf.int32)
        padding_mask = tf.cast(padding_mask, tf.int32)
        length = token_ids.shape[0] or tf.shape(token_ids)[0]
        budget = self.max_predictions
        draw_seed, corrupt_seed, pseudo_seed = tf.unstack(
            tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3))

        is_special = tf.reduce_any(tf.equal(token_ids[:, None], list(self.special_ids)), -1)
        maskable = tf.logical_and(padding_mask > 0, ~is_special)
        step = self._draw_steps(token_ids, maskable, draw_seed)

        # Masked positions in factorization order (step, then position), padded to the budget.
        positions = tf.range(length)
        order_key = tf.where(step > 0, step * length + positions, tf.int32.max)
        order = tf.argsort(order_key)[:budget]
        order = tf.pad(order, [[0, budget - tf.shape(order)[0]]])
        num_masked = tf.reduce_sum(tf.cast(step > 0, tf.int32))
        valid = tf.range(budget) < num_masked
        mask_positions = tf.where(valid, order, 0)
        labels = tf.where(valid, tf.gather(token_ids, mask_positions), 0)
        block = tf.where(valid, tf.gather(step, mask_positions), 0)
        corrupted = self._corrupt(labels, corrupt_seed)
        pseudo_ids = {"shared": corrupted,
                      "mask": tf.fill([budget], self.mask_id),
                      "independent": self._corrupt(labels, pseudo_seed)}[self.pseudo_token_policy]

        masked_index = tf.boolean_mask(mask_positions, valid)[:, None]
        main_ids = tf.tensor_scatter_nd_update(token_ids, masked_index,
                                               tf.boolean_mask(corrupted, valid))

        # Appended layout: for each block, its [P]s, then its originals.
        num_steps = tf.reduce_max(block) + 1
        block_size = tf.math.unsorted_segment_sum(tf.cast(valid, tf.int32), block, num_steps)
        block_first = tf.math.unsorted_segment_min(tf.range(budget), block, num_steps)
        rank = tf.range(budget) - tf.gather(block_first, block)
        pseudo_slot = 2 * tf.range(budget) - rank
        original_slot = pseudo_slot + tf.gather(block_size, block)
        keep_original = valid
        if not self.append_last_block_originals:
            keep_original = tf.logical_and(valid, block < num_steps - 1)
        segments = tf.gather(segment_ids, mask_positions)

        def appended(pseudo_values, original_values):
            slots = tf.concat([tf.boolean_mask(pseudo_slot, valid),
                               tf.boolean_mask(original_slot, keep_original)], 0)[:, None]
            values = tf.concat([tf.boolean_mask(pseudo_values, valid),
                                tf.boolean_mask(original_values, keep_original)], 0)
            return tf.scatter_nd(slots, values, [2 * budget])

        ones = tf.ones([budget], tf.int32)
        main_positions = tf.where(padding_mask > 0, positions, 0)
        features = {
            "token_ids": tf.concat([main_ids, appended(pseudo_ids, labels)], 0),
            "segment_ids": tf.concat([segment_ids, appended(segments, segments)], 0),
            "position_ids": tf.concat([main_positions,
                                       appended(mask_positions, mask_positions)], 0),
            "padding_mask": tf.concat([padding_mask, appended(ones, ones)], 0),
            "step_weights": tf.concat([tf.zeros_like(token_ids), appended(-block, block)], 0),
            "mask_positions": mask_positions,
            "par_positions": tf.where(valid, length + pseudo_slot, 0),
            "labels": labels,
            "label_weights": tf.cast(valid, tf.float32),
        }
        if isinstance(length, int):
            for key, value in features.items():
                value.set_shape([budget] if key in ("mask_positions", "par_positions", "labels",
                                                    "label_weights") else [length + 2 * budget])
        return features
