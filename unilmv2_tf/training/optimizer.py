"""The paper's AdamW set-up (betas 0.9/0.98, epsilon 1e-6, weight decay 0.01)."""

import keras

from unilmv2_tf.training.fused_adamw import FusedAdamW
from unilmv2_tf.training.warmup_linear_decay import WarmupLinearDecay


def create_optimizer(learning_rate, total_steps, warmup_steps, weight_decay=0.01, beta_1=0.9,
                     beta_2=0.98, epsilon=1e-6, clipnorm=None, gradient_accumulation_steps=1,
                     loss_scaling=False, fused=True):
    """AdamW with warmup-then-linear-decay; biases and LayerNorm weights are not decayed.

    `total_steps` and `warmup_steps` count parameter updates. With
    `gradient_accumulation_steps=k` the optimizer averages the gradients of k micro-batches
    per update (Keras' own accumulation; the schedule advances per micro-batch, so it is
    stretched k times). `clipnorm` clips the global gradient norm; `loss_scaling` wraps the
    optimizer in Keras' dynamic `LossScaleOptimizer` (needed for `mixed_float16`).
    `fused=False` uses `keras.optimizers.AdamW` instead of `FusedAdamW` (the same update,
    in a dozen ops per variable instead of one).
    """
    if gradient_accumulation_steps < 1:
        raise ValueError(f"gradient_accumulation_steps must be >= 1, got "
                         f"{gradient_accumulation_steps}.")
    k = gradient_accumulation_steps
    optimizer = (FusedAdamW if fused else keras.optimizers.AdamW)(
        learning_rate=WarmupLinearDecay(learning_rate, total_steps * k, warmup_steps * k),
        weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
        global_clipnorm=clipnorm or None, gradient_accumulation_steps=k if k > 1 else None)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scaling else optimizer
