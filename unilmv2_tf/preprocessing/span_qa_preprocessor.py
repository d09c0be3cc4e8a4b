"""`UniLMv2SpanQAPreprocessor`: a question and its passage to one `SpanQA` window, as a layer."""

import keras
import tensorflow as tf
from keras_hub.models import Preprocessor

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.preprocessing.text_batch import as_text_batch, first_row
from unilmv2_tf.preprocessing.unilmv2_tokenizer import UniLMv2Tokenizer


def pack_question_and_passage(tokenizer, question, context, sequence_length, max_query_length):
    """`[CLS] question [SEP] passage [SEP]` in TF ops, one window per row: the question cut to
    `max_query_length` pieces, the passage to what is left of `sequence_length`.

    Args: `tokenizer` a `WordPieceTokenizer`; `question`, `context` string `[B]`.
    Returns `(inputs, passage)`: `inputs` the `SpanQA` features (`token_ids`, `segment_ids`,
    `padding_mask` int32 `[B, sequence_length]`); `passage` the passage pieces kept
    (`byte_starts`, `byte_ends` ragged int64 byte offsets into `context`; `offset` int64 `[B]`,
    the position of the first; `length` int64 `[B]`, how many) and `all_byte_starts` /
    `all_byte_ends` over every piece of the passage, kept or not.
    """
    query = tokenizer.tokenize(question)[:, :max_query_length]
    ids, byte_starts, byte_ends = tokenizer.tokenize_with_offsets(context)
    batch = tf.shape(question)[0]
    budget = sequence_length - 3 - query.row_lengths()
    keep = tf.ragged.range(ids.row_lengths()) < tf.expand_dims(budget, 1)
    kept_ids, kept_starts, kept_ends = (tf.ragged.boolean_mask(t, keep)
                                        for t in (ids, byte_starts, byte_ends))

    def column(value):
        return tf.RaggedTensor.from_tensor(tf.fill([batch, 1], tf.cast(value, tf.int32)))

    cls, sep = column(tokenizer.cls_id), column(tokenizer.sep_id)
    tokens = tf.concat([cls, query, sep, kept_ids, sep], axis=1)
    segments = tf.concat([tf.zeros_like(cls), tf.zeros_like(query), tf.zeros_like(sep),
                          tf.ones_like(kept_ids), tf.ones_like(sep)], axis=1)
    shape = [None, sequence_length]
    inputs = {"token_ids": tokens.to_tensor(tokenizer.pad_id, shape=shape),
              "segment_ids": segments.to_tensor(0, shape=shape),
              "padding_mask": tf.ones_like(tokens).to_tensor(0, shape=shape)}
    passage = {"byte_starts": kept_starts, "byte_ends": kept_ends,
               "offset": query.row_lengths() + 2, "length": kept_ids.row_lengths(),
               "all_byte_starts": byte_starts, "all_byte_ends": byte_ends}
    return inputs, passage


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2SpanQAPreprocessor(Preprocessor):
    """Packs `{"question": ..., "context": ...}` into one `[CLS] question [SEP] passage [SEP]`
    window (`pack_question_and_passage`, what the exported `answer` signature runs), and, given
    `y = {"answer_start": ..., "answer_text": ...}` (the answer's character offset in the
    passage, -1 for none, and its text), the `SpanQA` targets `start_positions`,
    `end_positions`, `answerable` (0, 0, 0 when there is no answer or it lies past the
    window), as `QAWindower` gives them for a passage that fits one window.

    Passages longer than the window are cut: `unilmv2 finetune-qa` slides windows over them
    with `QAWindower` (Python over the offsets, once per data set) instead.

    Args:
        tokenizer: a `UniLMv2Tokenizer`.
        sequence_length: the window length (384).
        max_query_length: question pieces kept (64).

    Example:
    >>> from unilmv2_tf import assets
    >>> preprocessor = UniLMv2SpanQAPreprocessor(
    ...     UniLMv2Tokenizer(assets.BERT_UNCASED_VOCAB), sequence_length=12, max_query_length=4)
    >>> x, y = preprocessor({"question": ["Who?"], "context": ["Call me Ishmael."]},
    ...                     {"answer_start": [8], "answer_text": ["Ishmael"]})
    >>> x["token_ids"].numpy().tolist()
    [[101, 2040, 1029, 102, 2655, 2033, 2003, 22444, 2884, 1012, 102, 0]]
    >>> y["start_positions"].numpy().tolist(), y["end_positions"].numpy().tolist()
    ([6], [8])
    """

    backbone_cls = UniLMv2Backbone
    tokenizer_cls = UniLMv2Tokenizer

    def __init__(self, tokenizer, sequence_length=384, max_query_length=64, **kwargs):
        super().__init__(**kwargs)
        if max_query_length + 4 >= sequence_length:
            raise ValueError(f"sequence_length ({sequence_length}) must exceed "
                             f"max_query_length + 4 ({max_query_length + 4}).")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.max_query_length = max_query_length

    def build(self, input_shape):
        self.built = True  # no packer to make: `pack_question_and_passage` is plain TF ops

    def call(self, x, y=None, sample_weight=None):
        if not isinstance(x, dict) or set(x) != {"question", "context"}:
            raise ValueError('Expected x = {"question": ..., "context": ...}, got '
                             f"{x!r:.200}.")
        (question, context), unbatched = as_text_batch(x["question"], x["context"])
        inputs, passage = pack_question_and_passage(
            self.tokenizer.wordpiece, question, context, self.sequence_length,
            self.max_query_length)
        if y is not None:
            y = self._targets(context, y, passage)
        if unbatched:
            inputs, y = first_row(inputs), first_row(y)
        return keras.utils.pack_x_y_sample_weight(inputs, y, sample_weight)

    @staticmethod
    def _targets(context, y, passage):
        """The answer's character span -> byte span -> the passage pieces it overlaps."""
        answer_start = tf.reshape(tf.cast(y["answer_start"], tf.int32), [-1])
        answer_text = tf.reshape(tf.convert_to_tensor(y["answer_text"], tf.string), [-1])
        has_answer = answer_start >= 0
        prefix = tf.strings.substr(context, tf.zeros_like(answer_start),
                                   tf.maximum(answer_start, 0), unit="UTF8_CHAR")
        first_byte = tf.cast(tf.strings.length(prefix), tf.int64)
        last_byte = first_byte + tf.cast(tf.strings.length(answer_text), tf.int64)
        inside = ((passage["all_byte_ends"] > first_byte[:, None])
                  & (passage["all_byte_starts"] < last_byte[:, None])).to_tensor(False)
        found = tf.reduce_any(inside, axis=1)
        pieces = tf.shape(inside)[1]
        first = tf.argmax(tf.cast(inside, tf.int32), axis=1, output_type=tf.int32)
        last = pieces - 1 - tf.argmax(tf.cast(inside[:, ::-1], tf.int32), axis=1,
                                      output_type=tf.int32)
        answerable = has_answer & found & (tf.cast(last, tf.int64) < passage["length"])
        offset = tf.cast(passage["offset"], tf.int32)
        return {"start_positions": tf.where(answerable, offset + first, 0),
                "end_positions": tf.where(answerable, offset + last, 0),
                "answerable": tf.cast(answerable, tf.int32)}

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "max_query_length": self.max_query_length}
