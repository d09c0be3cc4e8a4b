"""Strategies, optimizer and schedule, resumable fit, checkpoint and throughput callbacks."""

from unilmv2_tf.training.checkpoint_callback import CheckpointManagerCallback
from unilmv2_tf.training.fused_adamw import FusedAdamW
from unilmv2_tf.training.optimizer import create_optimizer
from unilmv2_tf.training.resumable_fit import input_positions, resumable_fit, write_run_info
from unilmv2_tf.training.strategy import STRATEGIES, create_strategy, worker_index
from unilmv2_tf.training.throughput_logger import ThroughputLogger
from unilmv2_tf.training.warmup_linear_decay import WarmupLinearDecay

__all__ = ["CheckpointManagerCallback", "FusedAdamW", "STRATEGIES", "ThroughputLogger",
           "WarmupLinearDecay", "create_optimizer", "create_strategy", "input_positions",
           "resumable_fit", "worker_index", "write_run_info"]
