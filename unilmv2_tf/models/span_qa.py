"""`SpanQA`: extractive question answering (start/end logits, answerability)."""

import keras
import keras_hub
import tensorflow as tf
from keras import ops

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.models.classifier import encoder_features
from unilmv2_tf.models.task_model import TaskModel
from unilmv2_tf.preprocessing.span_qa_preprocessor import UniLMv2SpanQAPreprocessor

NEG = -1e4  # masked logits: finite, so the loss never sees inf - inf


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class SpanQA(TaskModel, keras_hub.models.Task):
    """Start/end logits over the passage tokens and a `[CLS]` answerability logit.

    Inputs: `token_ids`, `segment_ids` (0 question, 1 passage), `padding_mask` `[B, T]`, as
    `QAWindower` makes them. Outputs: `start_logits`, `end_logits` `[B, T]` (non-passage
    tokens masked), `answerable_logits [B]`. Training targets (`y`): `start_positions`,
    `end_positions` `[B]` and `answerable [B]` (0 when the answer is not in this window, or
    the question has none); the span loss counts only answerable windows, the answerability
    loss (binary cross-entropy) all of them. Metrics: `loss`, `span_loss`, `answerable_loss`.

    A keras-hub `Task` (keras-hub has no span-QA type): `save_to_preset(dir)` and
    `SpanQA.from_preset(dir)`. With a `UniLMv2SpanQAPreprocessor` it takes
    `{"question", "context"}` text (and `{"answer_start", "answer_text"}` targets) in `fit`
    and `predict`, one window per passage; `unilmv2 finetune-qa` slides windows over long
    passages with `QAWindower` instead.

    Example:
    >>> import numpy as np
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> model = SpanQA(UniLMv2Backbone.from_size("tiny", vocab_size=200))
    >>> ids = np.array([[101, 7, 102, 8, 9, 102]])
    >>> out = model({"token_ids": ids, "segment_ids": np.array([[0, 0, 0, 1, 1, 1]]),
    ...              "padding_mask": ids > 0})
    >>> out["start_logits"].shape, out["answerable_logits"].shape
    (TensorShape([1, 6]), TensorShape([1]))
    """

    backbone_cls = UniLMv2Backbone
    preprocessor_cls = UniLMv2SpanQAPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        super().__init__(backbone, preprocessor=preprocessor, **kwargs)
        initializer = keras.initializers.TruncatedNormal(
            stddev=backbone.config.initializer_range)
        self.span_dense = keras.layers.Dense(2, kernel_initializer=initializer,
                                             dtype="float32", name="span_logits")
        self.answerable_dense = keras.layers.Dense(1, kernel_initializer=initializer,
                                                   dtype="float32", name="answerable_logits")
        for dense in (self.span_dense, self.answerable_dense):
            dense.build((None, backbone.config.hidden_size))
        self.span_tracker = keras.metrics.Mean(name="span_loss")
        self.answerable_tracker = keras.metrics.Mean(name="answerable_loss")
        self.built = True  # every weight exists (keras-hub's `Task.build` builds nothing)

    def call(self, inputs, training=False):
        sequence = self.backbone(encoder_features(inputs), training=training)["sequence_output"]
        logits = self.span_dense(sequence)
        passage = ops.logical_and(ops.cast(inputs["segment_ids"], "int32") == 1,
                                  ops.cast(inputs["padding_mask"], "bool"))
        start = ops.where(passage, logits[..., 0], NEG)
        end = ops.where(passage, logits[..., 1], NEG)
        return {"start_logits": start, "end_logits": end,
                "answerable_logits": self.answerable_dense(sequence[:, 0])[:, 0]}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        answerable = tf.cast(y["answerable"], tf.float32)
        span = 0.0
        for side in ("start", "end"):
            span += keras.losses.sparse_categorical_crossentropy(
                y[f"{side}_positions"], y_pred[f"{side}_logits"], from_logits=True)
        span_sum, answerable_count = tf.reduce_sum(span * answerable), tf.reduce_sum(answerable)
        answerable_sum = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
            answerable, y_pred["answerable_logits"]))
        batch = tf.cast(tf.shape(answerable)[0], tf.float32)
        self.span_tracker.update_state(span_sum / tf.maximum(answerable_count, 1.0))
        self.answerable_tracker.update_state(answerable_sum / batch)
        return (self.global_mean(span_sum / 2.0, answerable_count)
                + self.global_mean(answerable_sum, batch))
