"""Periodic `tf.train.CheckpointManager` checkpoints of a model and its optimizer."""

import warnings

import keras
import tensorflow as tf


class CheckpointManagerCallback(keras.callbacks.Callback):
    """Saves model, optimizer and dropout-RNG state at the end of every epoch, keeping the
    newest `max_to_keep`.

    Checkpoints are numbered by the optimizer's step counter. TensorFlow writes each one under a
    temporary name and updates the `checkpoint` index file atomically last, so a run killed
    mid-save leaves the previous checkpoint in place. `restore_latest()` loads the newest
    readable one (build the model and `optimizer.build(...)` first), warns about and skips
    any that is truncated or corrupt (listed in `skipped` as `(path, reason)`), and returns
    its step (0 if none).

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
        # Dropout's random state lives in Keras seed generators that tf.train.Checkpoint does
        # not reach through the layers (private Keras attributes, pinned keras version): save
        # it explicitly so a resumed run draws the same masks as an uninterrupted one.
        seeds = [generator.state.value for layer in model._flatten_layers()
                 for generator in getattr(layer, "_seed_generators", [])]
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer,
                                              dropout_seeds=seeds)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory,
                                                  max_to_keep=max_to_keep)
        self._optimizer = model.optimizer
        self.skipped = []

    def restore_latest(self):
        self.skipped = []
        for path in reversed(self.manager.checkpoints):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, AssertionError, IndexError, OSError) as e:
                reason = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                self.skipped.append((path, reason))
                warnings.warn(f"Checkpoint {path} cannot be restored ({reason}); trying the "
                              f"previous one.", stacklevel=2)
                continue
            return int(self._optimizer.iterations.numpy())
        return 0

    def save(self):
        return self.manager.save(checkpoint_number=int(self._optimizer.iterations.numpy()))

    def on_epoch_end(self, epoch, logs=None):
        self.save()
