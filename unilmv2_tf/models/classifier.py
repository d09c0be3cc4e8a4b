"""`Classifier`: sequence classification / regression on the `[CLS]` vector or the token mean."""

import keras
from keras import ops
from keras_hub.models import TextClassifier

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.models.task_model import TaskModel
from unilmv2_tf.preprocessing.text_classifier_preprocessor import (
    UniLMv2TextClassifierPreprocessor)


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class Classifier(TaskModel, TextClassifier):
    """A linear layer on the `[CLS]` state of the bidirectional encoder (the paper's NLU
    setting: no pseudo masks, relative bias on), optionally after a tanh pooler as later BERT
    code does. `num_classes=1` is regression (one score). `pooling="mean"` averages the
    states of the real (unpadded) tokens instead of taking `[CLS]`, as sentence encoders such
    as all-MiniLM-L6-v2 were trained to be read.

    Inputs: a dict with `token_ids`, `segment_ids`, `padding_mask` `[B, T]` (as
    `TextPairPacker` makes; `position_ids` optional). Output: logits `[B, num_classes]`.

    A keras-hub `TextClassifier`: compiled on construction with keras-hub's defaults (Adam
    5e-5, sparse cross-entropy from logits; recompile for regression), and with a
    `UniLMv2TextClassifierPreprocessor` as `preprocessor` it takes raw text in `fit`,
    `predict` and `evaluate`; `save_to_preset(dir)` writes it, and
    `keras_hub.models.TextClassifier.from_preset(dir)` loads it back as this class.

    Example:
    >>> import numpy as np
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> model = Classifier(UniLMv2Backbone.from_size("tiny", vocab_size=200), num_classes=3)
    >>> ids = np.array([[101, 7, 8, 102, 0]])
    >>> model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": ids > 0}).shape
    TensorShape([1, 3])
    """

    backbone_cls = UniLMv2Backbone
    preprocessor_cls = UniLMv2TextClassifierPreprocessor
    compile = TextClassifier.compile  # an ordinary loss on `y`: keras-hub's defaults fit

    def __init__(self, backbone, num_classes, use_pooler=False, dropout=0.1, pooling="cls",
                 preprocessor=None, **kwargs):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1 (1 = regression), got {num_classes}.")
        if pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES}, got {pooling!r}.")
        super().__init__(backbone, preprocessor=preprocessor, **kwargs)
        self.num_classes = num_classes
        self.use_pooler = use_pooler
        self.dropout = dropout
        self.pooling = pooling
        config = backbone.config
        initializer = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
        self.pooler = (keras.layers.Dense(config.hidden_size, activation="tanh",
                                          kernel_initializer=initializer, name="pooler")
                       if use_pooler else None)
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.output_dense = keras.layers.Dense(num_classes, kernel_initializer=initializer,
                                               dtype="float32", name="logits")
        # Built now: keras-hub's `Task.build` builds nothing, and loading a preset's or a
        # `.keras` file's head weights needs them to exist.
        for layer in (self.pooler, self.output_dense):
            if layer is not None:
                layer.build((None, config.hidden_size))
        self.built = True

    def call(self, inputs, training=False):
        features = encoder_features(inputs)
        sequence = self.backbone(features, training=training)["sequence_output"]
        if self.pooling == "mean":
            x = masked_mean(sequence, features["padding_mask"])
        else:
            x = sequence[:, 0]
        if self.pooler is not None:
            x = self.pooler(x)
        return self.output_dense(self.dropout_layer(x, training=training))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "use_pooler": self.use_pooler, "dropout": self.dropout, "pooling": self.pooling}


POOLING_MODES = ("cls", "mean")


def masked_mean(sequence, padding_mask):
    """The mean of `sequence` `[B, T, H]` over the positions where `padding_mask` `[B, T]` is
    set, summed in float32 and returned in the sequence's dtype."""
    weights = ops.cast(padding_mask, "float32")[:, :, None]
    total = ops.sum(ops.cast(sequence, "float32") * weights, axis=1)
    mean = total / ops.maximum(ops.sum(weights, axis=1), 1.0)
    return ops.cast(mean, sequence.dtype)


def encoder_features(inputs):
    """Backbone inputs for plain bidirectional encoding: default position ids, all step
    weights 0 (every token a main token)."""
    padding_mask = ops.cast(inputs["padding_mask"], "int32")
    positions = inputs.get("position_ids")
    if positions is None:
        positions = ops.arange(ops.shape(padding_mask)[1])[None, :] * padding_mask
    return {"token_ids": inputs["token_ids"], "segment_ids": inputs["segment_ids"],
            "position_ids": positions, "padding_mask": padding_mask,
            "step_weights": ops.zeros_like(padding_mask)}
