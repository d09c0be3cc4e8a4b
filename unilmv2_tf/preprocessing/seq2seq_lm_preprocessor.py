"""`UniLMv2Seq2SeqLMPreprocessor`: source/target text to `Seq2SeqLM` features, as a layer."""

import keras
import tensorflow as tf
from keras_hub.models import Preprocessor

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.preprocessing.seq2seq_packer import Seq2SeqPacker
from unilmv2_tf.preprocessing.text_batch import as_text_batch, first_row
from unilmv2_tf.preprocessing.unilmv2_tokenizer import UniLMv2Tokenizer


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2Seq2SeqLMPreprocessor(Preprocessor):
    """Tokenizes `{"encoder_text": ..., "decoder_text": ...}` (keras-hub's seq2seq keys) and
    packs them with `Seq2SeqPacker` (built in `build()`): `[source | target | pseudo masks]`
    with the labels inside `x`, which is what `Seq2SeqLM` trains on (`y` stays `None`). Each
    call draws a fresh seed for the target corruption unless `seed` (int `[2]`) is given.

    A plain keras-hub `Preprocessor`: keras-hub's `Seq2SeqLMPreprocessor` packs an encoder and
    a decoder sequence apart, and UniLMv2 packs one sequence with pseudo masks.

    Args:
        tokenizer: a `UniLMv2Tokenizer`.
        max_source_length, max_target_length: as `Seq2SeqLM`'s.
        target_mask_prob: the packer's word-drop rate on teacher-forced targets.

    Example:
    >>> from unilmv2_tf import assets
    >>> preprocessor = UniLMv2Seq2SeqLMPreprocessor(
    ...     UniLMv2Tokenizer(assets.BERT_UNCASED_VOCAB), max_source_length=8,
    ...     max_target_length=4)
    >>> x = preprocessor({"encoder_text": ["a long text"], "decoder_text": ["short"]})
    >>> x["token_ids"].shape.as_list(), x["labels"].numpy().tolist()
    ([1, 16], [[2460, 102, 0, 0]])
    """

    backbone_cls = UniLMv2Backbone
    tokenizer_cls = UniLMv2Tokenizer

    def __init__(self, tokenizer, max_source_length=464, max_target_length=48,
                 target_mask_prob=0.5, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.target_mask_prob = target_mask_prob
        self.packer = None

    def build(self, input_shape):
        # Made here, once the tokenizer's vocabulary (a preset asset) has loaded.
        tokenizer = self.tokenizer
        self.packer = Seq2SeqPacker(
            self.max_source_length, self.max_target_length, tokenizer.cls_token_id,
            tokenizer.sep_token_id, tokenizer.mask_token_id, tokenizer.vocabulary_size(),
            pad_id=tokenizer.pad_token_id, target_mask_prob=self.target_mask_prob)
        self.built = True

    def call(self, x, y=None, sample_weight=None, seed=None):
        if not isinstance(x, dict) or set(x) != {"encoder_text", "decoder_text"}:
            raise ValueError('Expected x = {"encoder_text": ..., "decoder_text": ...}, got '
                             f"{x!r:.200}.")
        if y is not None:
            raise ValueError("Seq2SeqLM takes its labels from x['decoder_text']; pass y=None.")
        (source, target), unbatched = as_text_batch(x["encoder_text"], x["decoder_text"])
        if seed is None:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
        features = self.packer(self.tokenizer(source), self.tokenizer(target), seed)
        if unbatched:
            features = first_row(features)
        return keras.utils.pack_x_y_sample_weight(features, None, sample_weight)

    def get_config(self):
        return {**super().get_config(), "max_source_length": self.max_source_length,
                "max_target_length": self.max_target_length,
                "target_mask_prob": self.target_mask_prob}
