"""`EncoderServingModule`: the backbone behind text-in `encode` signatures."""

import tensorflow as tf

from unilmv2_tf.export.text_inputs import checked_utf8
from unilmv2_tf.models.classifier import encoder_features
from unilmv2_tf.preprocessing import TextPairPacker


class EncoderServingModule(tf.Module):
    """A `tf.Module` whose signatures serve a `UniLMv2Backbone`.

    - `encode`: `text` string `[batch]` -> `sequence_output` float32
      `[batch, sequence_length, hidden]`, `pooled_output` (the `[CLS]` vector) `[batch, hidden]`,
      `token_ids` and `padding_mask` int32 `[batch, sequence_length]`. Tokenization
      (tensorflow-text WordPiece) runs in the graph; a text longer than `sequence_length - 2`
      word pieces is truncated; invalid UTF-8 is an InvalidArgument error.
    - `encode_ids`: `token_ids`, `segment_ids`, `padding_mask` int32 `[batch, length]` ->
      `sequence_output`, `pooled_output`, for clients that tokenize themselves.

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.preprocessing import WordPieceTokenizer
    >>> module = EncoderServingModule(UniLMv2Backbone.from_size("tiny"), WordPieceTokenizer(), 16)
    >>> module.encode(tf.constant(["Call me Ishmael."]))["pooled_output"].shape
    TensorShape([1, 64])
    """

    def __init__(self, backbone, tokenizer, sequence_length, name=None):
        super().__init__(name=name)
        if not 3 <= sequence_length <= backbone.config.max_position_embeddings:
            raise ValueError(f"sequence_length must be in [3, "
                             f"{backbone.config.max_position_embeddings}] (the model's "
                             f"positions), got {sequence_length}.")
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self._packer = TextPairPacker.for_tokenizer(tokenizer, sequence_length)
        self.encode = tf.function(self._encode, input_signature=[
            tf.TensorSpec([None], tf.string, name="text")])
        self.encode_ids = tf.function(self._encode_ids, input_signature=[
            tf.TensorSpec([None, None], tf.int32, name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")])

    def signatures(self):
        """The signature map for `tf.saved_model.save` (`serving_default` is `encode`)."""
        return {"encode": self.encode, "encode_ids": self.encode_ids,
                "serving_default": self.encode}

    def _encode_ids(self, token_ids, segment_ids, padding_mask):
        features = encoder_features({"token_ids": token_ids, "segment_ids": segment_ids,
                                     "padding_mask": padding_mask})
        outputs = self.backbone(features, training=False)
        sequence = tf.cast(outputs["sequence_output"], tf.float32)
        return {"sequence_output": sequence, "pooled_output": sequence[:, 0]}

    def _encode(self, text):
        features = self._packer(self.tokenizer.tokenize(checked_utf8(text)))
        outputs = self._encode_ids(features["token_ids"], features["segment_ids"],
                                   features["padding_mask"])
        return {**outputs, "token_ids": features["token_ids"],
                "padding_mask": features["padding_mask"]}
