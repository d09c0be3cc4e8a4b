"""Tokens per second, step time and learning rate, to the logs and TensorBoard."""

import time

import keras
import tensorflow as tf


class ThroughputLogger(keras.callbacks.Callback):
    """Adds `tokens_per_s`, `step_time_s` and `learning_rate` to each epoch's logs (the
    progress line prints them) and writes them as TensorBoard scalars under `log_dir`,
    indexed by optimizer step.

    Example:
    >>> logger = ThroughputLogger(tokens_per_batch=32 * 128, log_dir=None)
    """

    def __init__(self, tokens_per_batch, log_dir=None):
        super().__init__()
        self.tokens_per_batch = tokens_per_batch
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None

    def on_epoch_begin(self, epoch, logs=None):
        self._started, self._batches = time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._batches or logs is None:
            return
        seconds = time.perf_counter() - self._started
        optimizer = self.model.optimizer
        step = int(optimizer.iterations.numpy())
        rate = optimizer.learning_rate
        values = {"tokens_per_s": self._batches * self.tokens_per_batch / seconds,
                  "step_time_s": seconds / self._batches,
                  "learning_rate": float(rate(optimizer._iterations) if callable(rate)
                                         else rate)}
        logs.update(values)
        if self.writer is not None:
            with self.writer.as_default(step=step):
                for name, value in values.items():
                    tf.summary.scalar(name, value)
            self.writer.flush()
