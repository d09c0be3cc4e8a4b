"""Linear warmup to a peak learning rate, then linear decay to zero."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`lr(step) = peak * step / warmup` during warmup, then linear decay to 0 at `total_steps`.

    The paper's pretraining schedule (peak 6e-4, 24k warmup steps of 0.5M).

    Example:
    >>> schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 55, 100)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps):
        if total_steps <= 0 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(f"Need total_steps > 0 and 0 <= warmup_steps <= total_steps, got "
                             f"{total_steps} and {warmup_steps}.")
        self.peak_learning_rate = peak_learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = ops.cast(max(self.warmup_steps, 1), "float32")
        decay_span = ops.cast(max(self.total_steps - self.warmup_steps, 1), "float32")
        rising = step / warmup
        falling = (float(self.total_steps) - step) / decay_span
        factor = ops.where(step < self.warmup_steps, rising, falling)
        return self.peak_learning_rate * ops.clip(factor, 0.0, 1.0)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps}
