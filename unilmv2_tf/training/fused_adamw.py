"""AdamW whose dense update is TensorFlow's fused Adam kernel."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class FusedAdamW(keras.optimizers.AdamW):
    """`keras.optimizers.AdamW`, with each variable's Adam update done by one TF kernel.

    Keras 3 writes the Adam update as a dozen separate elementwise ops per variable (Sub, Mul,
    Square, Sqrt, Add, RealDiv and three assignments), each a full pass over the variable:
    for a `base` model about 13 % of a `mixed_bfloat16` training step's op time on a 2-core
    AMX CPU (`benchmarks/README.md`). TensorFlow's `ResourceApplyAdam` computes the same
    formula (`m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
    `var -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + epsilon)`) in one pass, on
    the CPU, GPU and under XLA. Weight decay, clipping, gradient accumulation, loss scaling,
    EMA and `tf.distribute` stay Keras' own; AMSGrad, sparse gradients and other backends use
    Keras' update. Arguments and saved state are `AdamW`'s.

    A sparse gradient (an embedding lookup's `IndexedSlices`) takes Keras' own update, so
    every update is Keras' to round-off. (Keras 3.15's Adam squares each slice before summing
    the repeated rows, `v += sum(g_i^2)` where PyTorch's AdamW, on the dense gradient, has
    `(sum g_i)^2`; kept for continuity: it touches only the position, segment and
    relative-position tables, and only where no clipping densifies the gradients.)

    Example:
    >>> import numpy as np
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=FusedAdamW(0.1, weight_decay=0.01), loss="mse")
    >>> x, y = np.ones((4, 2)), np.zeros((4, 1))
    >>> losses = [float(model.train_on_batch(x, y)) for _ in range(20)]
    >>> losses[-1] < 0.1 * losses[0]
    True
    """

    def update_step(self, gradient, variable, learning_rate):
        import tensorflow as tf

        if (keras.backend.backend() != "tensorflow" or self.amsgrad
                or isinstance(gradient, tf.IndexedSlices)):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]), beta1_power=ops.power(beta_1, step),
            beta2_power=ops.power(beta_2, step), lr=ops.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype))


def _handle(variable):
    """The resource handle of a Keras or TF variable (inside `tf.distribute`'s update: the
    current replica's copy)."""
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle
