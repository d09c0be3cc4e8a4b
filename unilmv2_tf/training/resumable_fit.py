"""`model.fit` in checkpointed chunks that resumes where a killed run stopped."""

import json
import os
import platform
import sys
import time

import keras
import tensorflow as tf

from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.training.checkpoint_callback import CheckpointManagerCallback
from unilmv2_tf.training.throughput_logger import ThroughputLogger


def write_run_info(model_dir, model, extra=None):
    """`run_info.json`: versions, devices, strategy and dtype policy of this run."""
    strategy = model.distribute_strategy
    info = {"python": sys.version.split()[0], "tensorflow": tf.__version__,
            "keras": keras.__version__, "platform": platform.platform(),
            "devices": [d.name for d in tf.config.list_logical_devices()],
            "strategy": type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync,
            "dtype_policy": getattr(model, "backbone", model).dtype_policy.name,
            "tf_config": os.environ.get("TF_CONFIG"),
            **(extra or {})}
    with open(os.path.join(model_dir, ModelFolder.RUN_INFO), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)


class _StopAtStep(keras.callbacks.Callback):
    """Ends `fit` once the optimizer has made `train_steps` updates, inside an epoch if need
    be: Keras still runs the validation and the epoch-end callbacks (the last checkpoint is
    step `train_steps`)."""

    def __init__(self, train_steps):
        super().__init__()
        self.train_steps = train_steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.train_steps:
            self.model.stop_training = True


def input_positions(features):
    """Token positions the encoder processes in one batch (padding and, for PMLM, the appended
    `[P]`/original part included): the size of `token_ids`, else of the first input."""
    if isinstance(features, dict) and "token_ids" in features:
        return int(tf.size(features["token_ids"]))
    return int(tf.size(tf.nest.flatten(features)[0]))


def resumable_fit(model, train_data, model_dir, train_steps, checkpoint_every,
                  keep_checkpoints=3, validation_data=None, validation_steps=None,
                  tokens_per_batch=None):
    """Trains `model` (compiled, under its strategy's scope) to `train_steps` updates.

    Every `checkpoint_every` updates (one Keras epoch; the last one ends at `train_steps`
    when that is not a multiple of it) the model and optimizer are saved to
    `<model_dir>/checkpoints` (the newest `keep_checkpoints` kept), `validation_data` is
    evaluated, and losses, learning rate, step time and tokens/s (`tokens_per_batch`, by
    default the batch's `input_positions`) go to TensorBoard (`<model_dir>/logs`). If
    checkpoints exist, training resumes from the newest readable one and skips the batches
    already consumed (`train_data` must repeat in a fixed order), so a killed and restarted
    run ends like an uninterrupted one. With gradient accumulation
    (`optimizer.gradient_accumulation_steps = k`) an update takes k batches.
    Writes `run_info.json` (versions, devices, strategy, precision) first.
    Returns `(start_step, seconds)`.
    """
    write_run_info(model_dir, model)
    k = getattr(model.optimizer, "gradient_accumulation_steps", None) or 1
    sample = next(iter(train_data))
    sample = sample[0] if isinstance(sample, tuple) else sample
    with model.distribute_strategy.scope():
        model(sample)
        model.optimizer.build(model.trainable_variables)
        checkpoints = CheckpointManagerCallback(
            model, os.path.join(model_dir, ModelFolder.CHECKPOINTS), max_to_keep=keep_checkpoints)
        start_step = checkpoints.restore_latest()
    for path, reason in checkpoints.skipped:
        # On stdout beside "Resuming from step N.": a warning alone is easy to miss in the
        # console, and the user must learn that the newer steps are lost.
        print(f"Checkpoint {os.path.basename(path)} in {os.path.dirname(path)} cannot be "
              f"restored ({reason}); skipped.")
    if start_step >= train_steps:
        print(f"{model_dir} already holds a step-{start_step} checkpoint; nothing to train.")
        return start_step, 0.0
    if start_step:
        print(f"Resuming from step {start_step}.")
        train_data = train_data.skip(start_step * k)
    if tokens_per_batch is None:
        tokens_per_batch = input_positions(sample)
    steps_per_epoch = min(checkpoint_every, train_steps)
    logs = os.path.join(model_dir, ModelFolder.LOGS)
    throughput = ThroughputLogger(tokens_per_batch, os.path.join(logs, "throughput"))
    tensorboard = keras.callbacks.TensorBoard(logs,
                                              update_freq=max(steps_per_epoch * k // 10, 1))
    started = time.time()
    model.fit(train_data, epochs=-(-train_steps // steps_per_epoch),
              initial_epoch=start_step // steps_per_epoch, steps_per_epoch=steps_per_epoch * k,
              validation_data=validation_data, validation_steps=validation_steps,
              callbacks=[_StopAtStep(train_steps), throughput, checkpoints, tensorboard],
              shuffle=False,  # the datasets shuffle themselves; Keras warns on True
              verbose=1 if sys.stdout.isatty() else 2)
    return start_step, time.time() - started
