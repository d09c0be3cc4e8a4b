"""`QAServingModule`: a fine-tuned `SpanQA` behind a text-in `answer` signature."""

import tensorflow as tf

from unilmv2_tf.export.text_inputs import checked_utf8
from unilmv2_tf.preprocessing.span_qa_preprocessor import pack_question_and_passage


class QAServingModule(tf.Module):
    """A `tf.Module` whose `answer` signature runs a `SpanQA` on a question and a passage.

    Inputs: `question`, `context` string `[batch]`. In the graph: WordPiece tokenization with
    byte offsets, `[CLS] question [SEP] passage [SEP]` packing (the question cut to
    `max_query_length` pieces, as in training), the model, and the best span (start <= end, at
    most `max_answer_length` pieces, passage tokens only, scored start + end logit) over every
    pair, not just an n-best list. Outputs: `answer` string (the passage's own text),
    `start` / `end` int32 character offsets into `context` (`-1` when there is no answer),
    `score` float32 and `answerable_probability` float32 `[batch]`. With
    `version_2_with_negative`, a passage judged unanswerable (probability < 0.5) gives `""`.

    One window per passage: a passage longer than `sequence_length - question - 3` pieces is
    read up to there (`unilmv2 finetune-qa --dev_file` slides windows over long passages).

    Args:
        model: the `SpanQA`.
        tokenizer: its `WordPieceTokenizer`.
        settings: the `qa.json` of `unilmv2 finetune-qa` (`sequence_length`,
            `max_query_length`, `max_answer_length`, `version_2_with_negative`).

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.models import SpanQA
    >>> from unilmv2_tf.preprocessing import WordPieceTokenizer
    >>> settings = {"sequence_length": 32, "max_query_length": 8, "max_answer_length": 5,
    ...             "version_2_with_negative": False}
    >>> module = QAServingModule(SpanQA(UniLMv2Backbone.from_size("tiny")),
    ...                          WordPieceTokenizer(), settings)
    >>> out = module.answer(tf.constant(["Who?"]), tf.constant(["Call me Ishmael."]))
    >>> out["answer"].numpy()[0].decode() in "Call me Ishmael."
    True
    """

    def __init__(self, model, tokenizer, settings, name=None):
        super().__init__(name=name)
        if settings["max_query_length"] + 4 >= settings["sequence_length"]:
            raise ValueError(f"sequence_length ({settings['sequence_length']}) must exceed "
                             f"max_query_length + 4 ({settings['max_query_length'] + 4}).")
        self.qa = model
        self.tokenizer = tokenizer
        self._length = settings["sequence_length"]
        self._max_query = settings["max_query_length"]
        self._max_answer = settings["max_answer_length"]
        self._no_answer = bool(settings.get("version_2_with_negative", False))
        self.answer = tf.function(self._answer, input_signature=[
            tf.TensorSpec([None], tf.string, name="question"),
            tf.TensorSpec([None], tf.string, name="context")])

    def signatures(self):
        """The signature map for `tf.saved_model.save` (`serving_default` is `answer`)."""
        return {"answer": self.answer, "serving_default": self.answer}

    def _answer(self, question, context):
        question, context = checked_utf8(question), checked_utf8(context)
        batch = tf.shape(question)[0]
        inputs, passage = pack_question_and_passage(self.tokenizer, question, context,
                                                    self._length, self._max_query)
        out = self.qa(inputs, training=False)
        start_logits = tf.cast(out["start_logits"], tf.float32)
        end_logits = tf.cast(out["end_logits"], tf.float32)

        # Passage token k sits at position offset + k; the closing [SEP] is not a candidate.
        offset, pieces = passage["offset"], passage["length"]
        positions = tf.range(self._length, dtype=offset.dtype)[None, :]
        in_passage = ((positions >= offset[:, None])
                      & (positions < (offset + pieces)[:, None]))
        first = tf.range(self._length)[:, None]
        last = tf.range(self._length)[None, :]
        band = (last >= first) & (last - first < self._max_answer)
        allowed = band[None] & in_passage[:, :, None] & in_passage[:, None, :]
        scores = start_logits[:, :, None] + end_logits[:, None, :]
        scores = tf.reshape(tf.where(allowed, scores, -float("inf")), [batch, -1])
        flat = tf.argmax(scores, axis=1, output_type=tf.int32)
        start_token, end_token = flat // self._length, flat % self._length
        score = tf.reduce_max(scores, axis=1)  # -inf when the passage is empty

        # Token -> byte offsets in the passage -> answer text and character offsets.
        dense_starts = passage["byte_starts"].to_tensor(0)
        dense_ends = passage["byte_ends"].to_tensor(0)
        rows = tf.range(batch)
        piece_offset = tf.cast(offset, tf.int32)
        first_piece = tf.maximum(start_token - piece_offset, 0)
        last_piece = tf.maximum(end_token - piece_offset, 0)
        begin = tf.cast(tf.gather_nd(dense_starts, tf.stack([rows, first_piece], 1)), tf.int32)
        end = tf.cast(tf.gather_nd(dense_ends, tf.stack([rows, last_piece], 1)), tf.int32)
        text = tf.strings.substr(context, begin, end - begin, unit="BYTE")
        char_start = tf.strings.length(tf.strings.substr(context, tf.zeros_like(begin), begin,
                                                         unit="BYTE"),
                                       unit="UTF8_CHAR")
        char_end = char_start + tf.strings.length(text, unit="UTF8_CHAR")

        probability = tf.sigmoid(tf.cast(out["answerable_logits"], tf.float32))
        found = pieces > 0
        if self._no_answer:
            found &= probability >= 0.5
        return {"answer": tf.where(found, text, ""),
                "start": tf.where(found, char_start, -1),
                "end": tf.where(found, char_end, -1),
                "score": score,
                "answerable_probability": probability}
