"""`model.fit` in checkpointed chunks that resumes where a killed run stopped."""

import os
import sys
import time

import keras

from unilmv2_tf.training.checkpoint_callback import CheckpointManagerCallback


def resumable_fit(model, train_data, model_dir, train_steps, checkpoint_every,
                  keep_checkpoints=3, validation_data=None, validation_steps=None):
    """Trains `model` (compiled) to `train_steps` optimizer steps with `fit`.

    Every `checkpoint_every` steps (one Keras epoch) the model and optimizer are saved to
    `<model_dir>/checkpoints` (the newest `keep_checkpoints` kept) and `validation_data` is
    evaluated; TensorBoard logs go to `<model_dir>/logs`. If checkpoints exist, training
    resumes from the newest, skipping the batches already seen (`train_data` must be a repeated
    dataset with a deterministic order). Returns `(start_step, seconds)`.
    """
    sample = next(iter(train_data))
    model(sample[0] if isinstance(sample, tuple) else sample)
    model.optimizer.build(model.trainable_variables)
    checkpoints = CheckpointManagerCallback(model, os.path.join(model_dir, "checkpoints"),
                                            max_to_keep=keep_checkpoints)
    start_step = checkpoints.restore_latest()
    if start_step >= train_steps:
        print(f"{model_dir} already holds a step-{start_step} checkpoint; nothing to train.")
        return start_step, 0.0
    if start_step:
        print(f"Resuming from step {start_step}.")
        train_data = train_data.skip(start_step)
    steps_per_epoch = min(checkpoint_every, train_steps)
    started = time.time()
    model.fit(train_data, epochs=-(-train_steps // steps_per_epoch),
              initial_epoch=start_step // steps_per_epoch, steps_per_epoch=steps_per_epoch,
              validation_data=validation_data, validation_steps=validation_steps,
              callbacks=[checkpoints, keras.callbacks.TensorBoard(
                  os.path.join(model_dir, "logs"), update_freq=max(steps_per_epoch // 10, 1))],
              verbose=1 if sys.stdout.isatty() else 2)
    return start_step, time.time() - started
