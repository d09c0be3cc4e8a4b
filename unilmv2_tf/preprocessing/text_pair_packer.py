"""`[CLS] A [SEP] (B [SEP])` packing with truncation strategies (tensorflow-text ops)."""

import tensorflow as tf
import tensorflow_text as tf_text

TRUNCATION_STRATEGIES = ("longest_first", "only_second", "round_robin")


class TextPairPacker(tf.Module):
    """Packs ragged word-piece ids of one or two segments into fixed-length encoder inputs.

    `longest_first` trims the longer segment first (tensorflow-text `ShrinkLongestTrimmer`),
    `only_second` trims the second segment and the first only if it alone is too long
    (`WaterfallTrimmer`), `round_robin` takes pieces alternately (`RoundRobinTrimmer`).
    Returns `token_ids`, `segment_ids` (0 first, 1 second), `position_ids`, `padding_mask`,
    each int `[B, sequence_length]`.

    Example:
    >>> packer = TextPairPacker(8, cls_id=101, sep_id=102)
    >>> x = packer(tf.ragged.constant([[5, 6, 7, 8]]), tf.ragged.constant([[9, 10, 11]]))
    >>> x["token_ids"].numpy().tolist(), x["segment_ids"].numpy().tolist()
    ([[101, 5, 6, 102, 9, 10, 11, 102]], [[0, 0, 0, 0, 1, 1, 1, 1]])
    """

    def __init__(self, sequence_length, cls_id, sep_id, pad_id=0,
                 truncation="longest_first", name=None):
        super().__init__(name=name)
        if truncation not in TRUNCATION_STRATEGIES:
            raise ValueError(f"truncation must be one of {TRUNCATION_STRATEGIES}, got "
                             f"{truncation!r}.")
        if sequence_length < 3:
            raise ValueError(f"sequence_length must be >= 3, got {sequence_length}.")
        self.sequence_length = sequence_length
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id
        self.truncation = truncation

    @classmethod
    def for_tokenizer(cls, tokenizer, sequence_length, **options):
        return cls(sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id,
                   **options)

    def __call__(self, first, second=None):
        segments = [tf.cast(first, tf.int32)]
        if second is not None:
            segments.append(tf.cast(second, tf.int32))
        budget = self.sequence_length - 1 - len(segments)  # [CLS] and one [SEP] per segment
        strategy = self.truncation if second is not None else "only_second"
        # One segment: every strategy is plain truncation (and tensorflow-text 2.21's
        # ShrinkLongestTrimmer fails in graph mode on a single segment).
        trimmer = {"longest_first": tf_text.ShrinkLongestTrimmer,
                   "only_second": tf_text.WaterfallTrimmer,
                   "round_robin": tf_text.RoundRobinTrimmer}[strategy](budget)
        token_ids, segment_ids = tf_text.combine_segments(trimmer.trim(segments), self.cls_id,
                                                          self.sep_id)
        token_ids, padding_mask = tf_text.pad_model_inputs(token_ids, self.sequence_length,
                                                           self.pad_id)
        segment_ids, _ = tf_text.pad_model_inputs(segment_ids, self.sequence_length, 0)
        positions = tf.range(self.sequence_length)[None, :] * padding_mask
        return {"token_ids": token_ids, "segment_ids": segment_ids, "position_ids": positions,
                "padding_mask": padding_mask}
