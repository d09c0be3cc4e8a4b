"""Optimizer, learning-rate schedule and training utilities."""

from unilmv2_tf.training.checkpoint_callback import CheckpointManagerCallback
from unilmv2_tf.training.optimizer import create_optimizer
from unilmv2_tf.training.resumable_fit import resumable_fit
from unilmv2_tf.training.warmup_linear_decay import WarmupLinearDecay

__all__ = ["CheckpointManagerCallback", "WarmupLinearDecay", "create_optimizer",
           "resumable_fit"]
