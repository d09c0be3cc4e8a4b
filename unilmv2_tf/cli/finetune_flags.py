"""The flags and set-up every fine-tuning command shares (each command is its own process)."""

from absl import flags

from unilmv2_tf.cli.command_runner import fail, require_positive
from unilmv2_tf.cli.model_start import define_vocab_file_flag
from unilmv2_tf.cli.training_flags import (TRAINING_FLAGS, check_training_flags,
                                           define_training_flags, training_optimizer)
from unilmv2_tf.config import PRESETS

FLAGS = flags.FLAGS
FINETUNE_FLAGS = ("init_checkpoint", "preset", "vocab_file", "model_dir", "train_steps",
                  "batch_size", "learning_rate", "warmup_ratio", "weight_decay", "seed",
                  "checkpoint_every", "keep_checkpoints", "lora_rank") + TRAINING_FLAGS


def define_finetune_flags(outputs, learning_rate, learning_rate_help, warmup_ratio,
                          batch_size=32):
    """Defines `FINETUNE_FLAGS`; `outputs` says what lands in --model_dir."""
    flags.DEFINE_string("init_checkpoint", None,
                        "Start from a pretrained model: a `unilmv2 pretrain` / `unilmv2 "
                        "convert` output folder or a backbone .keras file. Unset: random "
                        "init of --preset.")
    flags.DEFINE_enum("preset", "tiny", sorted(PRESETS),
                      "Model size without --init_checkpoint (ignored with it).")
    define_vocab_file_flag()
    flags.DEFINE_string("model_dir", None, f"Checkpoints, logs, {outputs}.")
    flags.DEFINE_integer("train_steps", 1000, "Optimizer steps.")
    flags.DEFINE_integer("batch_size", batch_size, "Global batch size.")
    flags.DEFINE_float("learning_rate", learning_rate, learning_rate_help)
    flags.DEFINE_float("warmup_ratio", warmup_ratio, "Linear warmup fraction of train_steps.")
    flags.DEFINE_float("weight_decay", 0.01, "AdamW weight decay.")
    flags.DEFINE_integer("seed", 0, "Seed of the data order, corruption and initialisation.")
    flags.DEFINE_integer("checkpoint_every", 200, "Steps between checkpoints and evaluations.")
    flags.DEFINE_integer("keep_checkpoints", 3, "How many checkpoints to keep.")
    flags.DEFINE_integer("lora_rank", 0, "LoRA fine-tuning: freeze the backbone and train "
                         "rank-N factors on its attention query and value projections (and the "
                         "task head); the saved model has them merged. 0 = every weight trains.")
    flags.mark_flag_as_required("model_dir")
    define_training_flags(clip_norm=1.0)


def check_finetune_flags(command, extra_positive=()):
    require_positive(command, ("train_steps", "batch_size", "checkpoint_every",
                               "keep_checkpoints", "learning_rate") + tuple(extra_positive))
    if FLAGS.lora_rank < 0:
        fail(command, f"--lora_rank must be >= 0, got {FLAGS.lora_rank}.")
    check_training_flags(command)


def apply_lora(backbone):
    """`backbone.enable_lora(--lora_rank)` when the flag is set; returns the backbone."""
    if FLAGS.lora_rank:
        backbone.enable_lora(FLAGS.lora_rank)
    return backbone


def finetune_optimizer():
    """AdamW with warmup and linear decay from the flags."""
    return training_optimizer(FLAGS.learning_rate, FLAGS.train_steps,
                              int(FLAGS.warmup_ratio * FLAGS.train_steps), FLAGS.weight_decay)
