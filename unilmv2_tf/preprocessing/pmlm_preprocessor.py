"""`UniLMv2PMLMPreprocessor`: text to pseudo-masked LM examples, as a keras-hub layer."""

import keras
import tensorflow as tf
from keras_hub.models import Preprocessor

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.preprocessing.pmlm_masker import PMLMMasker
from unilmv2_tf.preprocessing.text_batch import as_text_batch, first_row
from unilmv2_tf.preprocessing.text_pair_packer import TextPairPacker
from unilmv2_tf.preprocessing.unilmv2_tokenizer import UniLMv2Tokenizer

SEQUENCE_KEYS = ("token_ids", "segment_ids", "position_ids", "padding_mask", "step_weights")
PREDICTION_KEYS = ("mask_positions", "par_positions", "labels")


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2PMLMPreprocessor(Preprocessor):
    """Tokenizes a text (or a pair), packs `[CLS] A [SEP] (B [SEP])` (`TextPairPacker`,
    `longest_first`) and masks it with `PMLMMasker` (Algorithm 1: blocks, a factorization
    order, the appended `[P]` and originals), both built in `build()`. Returns the features
    `PMLMPretrainer` trains on, labels inside `x` (`y` stays `None`). Each row draws its own
    seed unless `seed` (int `[2]`) is given.

    A plain keras-hub `Preprocessor`: keras-hub's `MaskedLMPreprocessor` masks tokens
    independently and appends nothing. `unilmv2 pretrain` packs documents into segment pairs
    itself (`make_pretraining_dataset`); this layer is for text already cut into examples.

    Args:
        tokenizer: a `UniLMv2Tokenizer`.
        sequence_length: the packed (main) length; the appended part adds
            `2 * max_predictions`.
        max_predictions: masked tokens per row (default
            `PMLMMasker.default_max_predictions(sequence_length, mask_rate)`).
        mask_rate: the share of the text masked (0.15).

    Example:
    >>> from unilmv2_tf import assets
    >>> preprocessor = UniLMv2PMLMPreprocessor(
    ...     UniLMv2Tokenizer(assets.BERT_UNCASED_VOCAB), sequence_length=16, max_predictions=6)
    >>> x = preprocessor(["the quick brown fox jumps over the lazy dog"])
    >>> x["token_ids"].shape.as_list(), x["labels"].shape.as_list()
    ([1, 28], [1, 6])
    """

    backbone_cls = UniLMv2Backbone
    tokenizer_cls = UniLMv2Tokenizer

    def __init__(self, tokenizer, sequence_length=512, max_predictions=None, mask_rate=0.15,
                 **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.mask_rate = mask_rate
        self.max_predictions = max_predictions or PMLMMasker.default_max_predictions(
            sequence_length, mask_rate)
        self.packer = None
        self.masker = None

    def build(self, input_shape):
        # Made here, once the tokenizer's vocabulary (a preset asset) has loaded.
        tokenizer = self.tokenizer
        self.packer = TextPairPacker(self.sequence_length, tokenizer.cls_token_id,
                                     tokenizer.sep_token_id, tokenizer.pad_token_id)
        self.masker = PMLMMasker.for_tokenizer(tokenizer.wordpiece, self.max_predictions,
                                               mask_rate=self.mask_rate)
        self.built = True

    def call(self, x, y=None, sample_weight=None, seed=None):
        if y is not None:
            raise ValueError("PMLMPretrainer takes its labels from the masked text; pass "
                             "y=None.")
        segments = x if isinstance(x, tuple) else (x,)
        segments, unbatched = as_text_batch(*segments)
        packed = self.packer(*[self.tokenizer(segment) for segment in segments])
        rows = tf.shape(packed["token_ids"])[0]
        if seed is None:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), rows)
        total = self.sequence_length + 2 * self.max_predictions
        signature = {**{key: tf.TensorSpec([total], tf.int32) for key in SEQUENCE_KEYS},
                     **{key: tf.TensorSpec([self.max_predictions], tf.int32)
                        for key in PREDICTION_KEYS},
                     "label_weights": tf.TensorSpec([self.max_predictions], tf.float32)}
        features = tf.map_fn(lambda row: self.masker(*row), (
            packed["token_ids"], packed["segment_ids"], packed["padding_mask"], seeds),
            fn_output_signature=signature)
        if unbatched:
            features = first_row(features)
        return keras.utils.pack_x_y_sample_weight(features, None, sample_weight)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "max_predictions": self.max_predictions, "mask_rate": self.mask_rate}
