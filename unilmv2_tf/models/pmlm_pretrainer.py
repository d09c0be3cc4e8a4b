"""`PMLMPretrainer`: the backbone plus the tied LM head, trained with `L = L_AE + L_PAR`."""

import keras
import keras_hub
from keras import ops

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.models.task_model import TaskModel
from unilmv2_tf.preprocessing.pmlm_preprocessor import UniLMv2PMLMPreprocessor

OBJECTIVES = ("pmlm", "mlm", "par")
FEATURE_KEYS = ("token_ids", "segment_ids", "position_ids", "padding_mask", "step_weights")


def masked_cross_entropy(labels, logits, weights):
    """Weighted sums over predicted positions, in float32: `(loss_sum, weight_sum,
    correct_sum)`; divide by `weight_sum` for the mean loss and accuracy."""
    logits = ops.cast(logits, "float32")
    weights = ops.cast(weights, "float32")
    losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    correct = ops.cast(ops.equal(ops.argmax(logits, -1), ops.cast(labels, "int64")), "float32")
    return ops.sum(losses * weights), ops.sum(weights), ops.sum(correct * weights)


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class PMLMPretrainer(TaskModel, keras_hub.models.MaskedLM):
    """Pseudo-masked LM pretraining: AE loss at the in-place `[M]` slots, PAR loss at `[P]`.

    One forward pass over `main + appended` tokens under the pseudo-mask attention gives both
    losses (mean cross-entropy over the masked positions each, in float32, then summed). The
    inputs are the feature dicts of `PMLMMasker` / `make_pretraining_dataset`; the labels travel
    inside them, so `fit` takes the dataset alone. Metrics: `loss`, `ae_loss`, `par_loss`,
    `ae_accuracy`, `par_accuracy`.

    `objective` selects the paper's ablations: "pmlm" (AE + PAR), "mlm" (AE only; the appended
    part is cut off before the encoder), "par" (PAR only).

    A keras-hub `MaskedLM`: with a `UniLMv2PMLMPreprocessor` as `preprocessor`, `fit` takes
    text; `save_to_preset(dir)` writes it with its LM head, and
    `keras_hub.models.MaskedLM.from_preset(dir)` loads it as this class.

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> pretrainer = PMLMPretrainer(UniLMv2Backbone.from_size("tiny", vocab_size=100))
    >>> sorted(pretrainer.metrics_names_for_objective())
    ['ae_accuracy', 'ae_loss', 'loss', 'par_accuracy', 'par_loss']
    """

    backbone_cls = UniLMv2Backbone
    preprocessor_cls = UniLMv2PMLMPreprocessor

    def __init__(self, backbone, objective="pmlm", preprocessor=None, **kwargs):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
        super().__init__(backbone, preprocessor=preprocessor, **kwargs)
        self.objective = objective
        self.lm_head = self.tied_lm_head()
        self.heads = {"pmlm": ("ae", "par"), "mlm": ("ae",), "par": ("par",)}[objective]
        self.loss_trackers = {f"{head}_{kind}": keras.metrics.Mean(name=f"{head}_{kind}")
                              for head in self.heads for kind in ("loss", "accuracy")}
        self.built = True  # every weight exists (keras-hub's `Task.build` builds nothing)

    def metrics_names_for_objective(self):
        return ["loss"] + list(self.loss_trackers)

    def call(self, inputs, training=False):
        features = {key: inputs[key] for key in FEATURE_KEYS}
        if self.objective == "mlm":
            # AE only: the appended part is never attended by main tokens, so drop it.
            main_length = ops.shape(inputs["token_ids"])[1] - 2 * ops.shape(
                inputs["par_positions"])[1]
            features = {key: value[:, :main_length] for key, value in features.items()}
        sequence = self.backbone(features, training=training)["sequence_output"]
        # One head call for both losses: one gather and one product with the tied table.
        positions = {"ae": inputs["mask_positions"], "par": inputs["par_positions"]}
        logits = self.lm_head(sequence, ops.concatenate([positions[h] for h in self.heads], 1))
        # Split, not sliced: the gradient of a split is one concatenation, where each slice's
        # gradient would be a zero-filled tensor of the full logits' size, then summed (0.9 %
        # of a float32 `base` step's op time, benchmarks/README.md).
        return {f"{head}_logits": part for head, part in
                zip(self.heads, ops.split(logits, len(self.heads), axis=1))}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = 0.0
        for head in self.heads:
            loss_sum, weight_sum, correct_sum = masked_cross_entropy(
                x["labels"], y_pred[f"{head}_logits"], x["label_weights"])
            count = ops.maximum(weight_sum, 1.0)
            self.loss_trackers[f"{head}_loss"].update_state(loss_sum / count)
            self.loss_trackers[f"{head}_accuracy"].update_state(correct_sum / count)
            total = total + self.global_mean(loss_sum, weight_sum)
        return total

    def get_config(self):
        return {**super().get_config(), "objective": self.objective}
