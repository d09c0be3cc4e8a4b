"""`UniLMv2TextClassifierPreprocessor`: text (or text pairs) to `Classifier` inputs, as a layer."""

import keras
from keras_hub.models import TextClassifierPreprocessor

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.preprocessing.text_batch import as_text_batch, first_row
from unilmv2_tf.preprocessing.text_pair_packer import TextPairPacker
from unilmv2_tf.preprocessing.unilmv2_tokenizer import UniLMv2Tokenizer


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2TextClassifierPreprocessor(TextClassifierPreprocessor):
    """keras-hub's text-classifier preprocessor with this package's `[CLS] A [SEP] (B [SEP])`
    packing (`TextPairPacker`, built in `build()`), so a preset's classifier sees exactly the
    inputs `unilmv2 finetune-classifier` trained it on: `token_ids`, `segment_ids`,
    `position_ids`, `padding_mask`.

    Call it on a string, a batch of strings, or a tuple of two for pairs, with optional labels
    and sample weights; it returns `(x, y, sample_weight)` the keras-hub way
    (`keras.utils.pack_x_y_sample_weight`), inside `tf.data` too.

    Args:
        tokenizer: a `UniLMv2Tokenizer`.
        sequence_length: the packed length.
        truncate: `longest_first` (default, as `finetune-classifier`), `only_second` or
            `round_robin`.

    Example:
    >>> from unilmv2_tf import assets
    >>> preprocessor = UniLMv2TextClassifierPreprocessor(
    ...     UniLMv2Tokenizer(assets.BERT_UNCASED_VOCAB), sequence_length=6)
    >>> x, y = preprocessor(["Hello world!"], [1])
    >>> x["token_ids"].numpy().tolist(), x["padding_mask"].numpy().tolist()
    ([[101, 7592, 2088, 999, 102, 0]], [[1, 1, 1, 1, 1, 0]])
    """

    backbone_cls = UniLMv2Backbone
    tokenizer_cls = UniLMv2Tokenizer

    def __init__(self, tokenizer, sequence_length=512, truncate="longest_first", **kwargs):
        super().__init__(tokenizer, sequence_length=sequence_length, truncate=truncate,
                         **kwargs)

    def build(self, input_shape):
        # keras-hub's `MultiSegmentPacker` has no `longest_first` and no position ids; the
        # packer is made here, once the tokenizer's vocabulary (a preset asset) has loaded.
        self.packer = TextPairPacker(self.sequence_length, self.tokenizer.cls_token_id,
                                     self.tokenizer.sep_token_id, self.tokenizer.pad_token_id,
                                     truncation=self.truncate)
        self.built = True

    def call(self, x, y=None, sample_weight=None):
        segments = x if isinstance(x, tuple) else (x,)
        if len(segments) not in (1, 2):
            raise ValueError(f"Expected one text or a pair of texts, got {len(segments)}.")
        segments, unbatched = as_text_batch(*segments)
        features = self.packer(*[self.tokenizer(segment) for segment in segments])
        if unbatched:
            features = first_row(features)
        return keras.utils.pack_x_y_sample_weight(features, y, sample_weight)
