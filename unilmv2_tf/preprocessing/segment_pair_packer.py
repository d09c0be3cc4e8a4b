"""Cuts tokenized documents into `[CLS] S1 [SEP] S2 [SEP]` pretraining instances."""

import tensorflow as tf


class SegmentPairPacker(tf.Module):
    """Packs one document's word pieces into fixed-length two-segment instances (TF ops).

    The S1/S2 rule (the paper leaves it open):

    1. A document's word pieces are concatenated and cut into consecutive chunks of
       `sequence_length - 3` pieces; instances never cross documents, and a final chunk shorter
       than 2 pieces is dropped (a short document gives one short, padded instance).
    2. Each chunk is split once into S1 (segment 0, with `[CLS]` and the first `[SEP]`) and S2
       (segment 1, with the final `[SEP]`), at a uniformly drawn paragraph boundary inside the
       chunk if there is one, else at a uniformly drawn word start (never inside a word),
       else at a uniformly drawn piece boundary.

    Example:
    >>> packer = SegmentPairPacker(8, cls_id=101, sep_id=102, pad_id=0,
    ...                            continuation_mask=tf.zeros([30522], tf.bool))
    >>> chunks, starts = packer.split_document(tf.ragged.constant([[5, 6], [7]]))
    >>> packer.pack(chunks[0], starts[0], seed=[1, 2])["token_ids"].numpy().tolist()
    [101, 5, 6, 102, 7, 102, 0, 0]
    """

    def __init__(self, sequence_length, cls_id, sep_id, pad_id, continuation_mask, name=None):
        super().__init__(name=name)
        if sequence_length < 5:
            raise ValueError(f"sequence_length must be at least 5 ([CLS] S1 [SEP] S2 [SEP]), "
                             f"got {sequence_length}.")
        self.sequence_length = sequence_length
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id
        self.continuation_mask = tf.convert_to_tensor(continuation_mask, tf.bool)

    def split_document(self, paragraphs):
        """Ragged `[P, None]` word pieces -> (chunks `[C, None]`, paragraph_starts `[C, None]`)."""
        pieces = paragraphs.flat_values
        first_pieces = tf.boolean_mask(paragraphs.row_starts(), paragraphs.row_lengths() > 0)
        starts = tf.scatter_nd(first_pieces[:, None], tf.ones_like(first_pieces, tf.bool),
                               tf.shape(pieces, out_type=tf.int64))
        chunk = self.sequence_length - 3
        total = tf.size(pieces)
        full, rest = total // chunk, total % chunk
        lengths = tf.concat([tf.fill([full], chunk), tf.reshape(rest, [1])], axis=0)
        lengths = tf.boolean_mask(lengths, lengths >= 2)
        used = tf.reduce_sum(lengths)
        chunks = tf.RaggedTensor.from_row_lengths(pieces[:used], lengths)
        chunk_starts = tf.RaggedTensor.from_row_lengths(starts[:used], lengths)
        return chunks, chunk_starts

    def pack(self, pieces, paragraph_starts, seed):
        """One chunk (`[n]`, 2 <= n <= sequence_length - 3) -> dict of `[sequence_length]`."""
        n = tf.shape(pieces)[0]
        inner = tf.range(n) >= 1
        word_start = tf.logical_not(tf.gather(self.continuation_mask, pieces))
        candidates = inner
        for preferred in (word_start, paragraph_starts):
            narrowed = tf.logical_and(inner, preferred)
            candidates = tf.cond(tf.reduce_any(narrowed), lambda c=narrowed: c,
                                 lambda c=candidates: c)
        choices = tf.cast(tf.where(candidates)[:, 0], tf.int32)
        pick = tf.random.stateless_uniform([], seed, 0, tf.size(choices), dtype=tf.int32)
        split = choices[pick]
        cls, sep = tf.constant([self.cls_id]), tf.constant([self.sep_id])
        token_ids = tf.concat([cls, pieces[:split], sep, pieces[split:], sep], axis=0)
        first = split + 2
        length = n + 3
        segment_ids = tf.concat([tf.zeros([first], tf.int32), tf.ones([length - first], tf.int32)],
                                axis=0)
        pad = self.sequence_length - length
        features = {
            "token_ids": tf.pad(token_ids, [[0, pad]], constant_values=self.pad_id),
            "segment_ids": tf.pad(segment_ids, [[0, pad]]),
            "padding_mask": tf.pad(tf.ones([length], tf.int32), [[0, pad]]),
        }
        for value in features.values():
            value.set_shape([self.sequence_length])
        return features
