"""The paper's AdamW set-up (betas 0.9/0.98, epsilon 1e-6, weight decay 0.01)."""

import keras

from unilmv2_tf.training.warmup_linear_decay import WarmupLinearDecay


def create_optimizer(learning_rate, total_steps, warmup_steps, weight_decay=0.01, beta_1=0.9,
                     beta_2=0.98, epsilon=1e-6, clipnorm=None):
    """AdamW with warmup-then-linear-decay; biases and LayerNorm weights are not decayed."""
    optimizer = keras.optimizers.AdamW(
        learning_rate=WarmupLinearDecay(learning_rate, total_steps, warmup_steps),
        weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
        global_clipnorm=clipnorm)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
