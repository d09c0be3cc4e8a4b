"""Periodic `tf.train.CheckpointManager` checkpoints of a model and its optimizer."""

import keras
import tensorflow as tf


class CheckpointManagerCallback(keras.callbacks.Callback):
    """Saves model + optimizer state at the end of every epoch, keeping the newest `max_to_keep`.

    Checkpoints are numbered by the optimizer's step counter. `restore_latest()` loads the
    newest one (build the model and `optimizer.build(...)` first) and returns its step, 0 if
    there is none.

    Example:
    >>> import tempfile
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> callback = CheckpointManagerCallback(model, tempfile.mkdtemp())
    >>> callback.restore_latest()
    0
    """

    def __init__(self, model, directory, max_to_keep=3):
        super().__init__()
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory,
                                                  max_to_keep=max_to_keep)
        self._optimizer = model.optimizer

    def restore_latest(self):
        latest = self.manager.latest_checkpoint
        if latest is None:
            return 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self._optimizer.iterations.numpy())

    def save(self):
        return self.manager.save(checkpoint_number=int(self._optimizer.iterations.numpy()))

    def on_epoch_end(self, epoch, logs=None):
        self.save()
