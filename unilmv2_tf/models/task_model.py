"""`TaskModel`: what every task model over a `UniLMv2Backbone` shares."""

import warnings

import keras
import tensorflow as tf
from keras.src.models.functional import Functional
from keras.src.ops.function import Function
from keras_hub.src.utils.pipeline_model import PipelineModel

from unilmv2_tf.layers import MaskedLMHead
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.training.fused_adamw import FusedAdamW


class _SubclassedTaskType(type):
    """The metaclass of the task models: their method order leaves out keras' `Functional`.

    Building a functional instance of a `keras.Model` subclass rewrites that subclass's bases
    to derive from `Functional` (keras-team/keras#17270). keras-hub's tasks share one base,
    `PipelineModel`, so building a functional keras-hub task (`BertMaskedLM`, ...) would put
    `Functional` into these subclassed models' classes, and their calls, `summary` and
    `save_to_preset` would fail ("no attribute '_inputs'", "'_operations'"). keras-hub undoes
    the rewrite whenever a task is built (`PipelineModel.__init__`), which in turn breaks a
    functional keras-hub task built earlier and not yet called; `TaskModel.__init__` keeps the
    bases as they were, and this order keeps `Functional` out of ours either way."""

    def mro(cls):
        return [klass for klass in super().mro() if klass not in (Functional, Function)]


class TaskModel(keras.Model, metaclass=_SubclassedTaskType):
    """Base of the task models: holds `backbone` and an optional `preprocessor` layer,
    serializes both, builds the tied LM head, normalises losses over the global batch.

    Subclasses pass their own constructor arguments through `get_config`; `from_config`
    rebuilds the backbone and the preprocessor first. Subclasses that are also keras-hub
    tasks list the keras-hub task type after this class. Not used directly.
    """

    def __init__(self, backbone, preprocessor=None, **kwargs):
        bases = PipelineModel.__bases__  # `Functional` while a functional keras-hub task needs it
        try:
            super().__init__(**kwargs)
        finally:
            PipelineModel.__bases__ = bases
        self.backbone = backbone
        self.preprocessor = preprocessor

    def compile(self, optimizer="auto", **kwargs):
        """`keras.Model.compile`; `optimizer="auto"` is `FusedAdamW` 5e-5 (AdamW, weight decay
        0.01). The loss is the model's own `compute_loss`, so the defaults of keras-hub's task
        types (a loss on `y`, weighted metrics) do not apply; `Classifier`, whose loss is
        ordinary, keeps `TextClassifier.compile`, and `Seq2SeqLM` adds keras-hub's
        `sampler`."""
        if optimizer == "auto":
            optimizer = FusedAdamW(5e-5, weight_decay=0.01)
        keras.Model.compile(self, optimizer=optimizer, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """keras-hub's `save_to_preset`, recording the weights' storage dtype rather than a
        mixed policy, which keras-hub's loader cannot read (`ModelFolder.record_storage_dtype`)."""
        super().save_to_preset(preset_dir, max_shard_size=max_shard_size)
        ModelFolder(preset_dir).record_storage_dtype()

    @classmethod
    def load_file(cls, path):
        """The `cls` in the `.keras` file `path`, without its optimizer (for inference).

        keras-hub tasks compile on construction, so Keras offers the file's optimizer state to
        that fresh optimizer and warns that the sizes differ; nothing is loaded into it either
        way, and the warning is dropped."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
            model = keras.saving.load_model(path, compile=False)
        if not isinstance(model, cls):
            raise ValueError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}.")
        return model

    def tied_lm_head(self):
        """A built `MaskedLMHead` tied to the backbone's token embedding."""
        config = self.backbone.config
        head = MaskedLMHead(self.backbone.token_embedding,
                            layer_norm_epsilon=config.layer_norm_epsilon,
                            initializer_range=config.initializer_range,
                            dtype=self.backbone.dtype_policy, name="lm_head")
        head.build((None, None, config.hidden_size))
        return head

    @staticmethod
    def global_mean(weighted_sum, weight_sum):
        """This replica's share of a mean over the *global* batch: its weighted loss sum over
        the weight total of all replicas. Keras sums the replicas' gradients and reports the
        loss times the replica count, averaged over replicas, so gradient and reported loss are
        both exactly the global-batch mean, however the weights fall across replicas."""
        weight_sum = tf.cast(weight_sum, tf.float32)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            weight_sum = context.all_reduce("sum", weight_sum)
        return weighted_sum / tf.maximum(weight_sum, 1.0)

    # Keras 3.15's TF trainer cannot `fit` under a multi-worker MultiWorkerMirroredStrategy
    # (tensorflow/tensorflow#72388): it reduces the per-replica scalar logs with
    # `strategy.reduce("MEAN", v, axis=0)`, which needs a batch axis, and its symbolic build
    # hands the whole per-replica batch dict to `strategy.reduce`, which takes tensors only.
    # The two overrides below give the logs that axis and build on this worker's first local
    # replica batch; single-worker strategies are unaffected.

    def train_step(self, data):
        return self._logs_for_reduction(super().train_step(data))

    def test_step(self, data):
        return self._logs_for_reduction(super().test_step(data))

    def _logs_for_reduction(self, logs):
        if not _is_multi_worker(self.distribute_strategy):
            return logs
        return tf.nest.map_structure(
            lambda value: tf.reshape(value, [1]) if tf.convert_to_tensor(value).shape.rank == 0
            else value, logs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None and _is_multi_worker(self.distribute_strategy):
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda v: self.distribute_strategy.experimental_local_results(v)[0],
                    next(batches))
                break
            iterator = None
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def save_task_weights(self, filepath):
        """keras-hub's `Task.save_task_weights` (the weights outside the backbone to a
        `.weights.h5` file) without the optimizer's state: a preset holds a model, and a
        compiled, trained task would otherwise write its moment estimates too."""
        keras.saving.save_weights(self, filepath, objects_to_skip=self._not_task_weights())

    def load_task_weights(self, filepath):
        """What `save_task_weights` wrote, back into this model."""
        keras.saving.load_weights(self, filepath, objects_to_skip=self._not_task_weights())

    def _not_task_weights(self):
        skipped = list(self.backbone._flatten_layers())
        return skipped + ([self.optimizer] if self.optimizer is not None else [])

    def get_config(self):
        return {**super().get_config(), "backbone": keras.layers.serialize(self.backbone),
                "preprocessor": keras.layers.serialize(self.preprocessor)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)


def _is_multi_worker(strategy):
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())
