"""Flags and set-up for how a command trains: strategy, precision, accumulation, clipping."""

import os

from absl import flags

from unilmv2_tf.training.strategy import STRATEGIES

FLAGS = flags.FLAGS
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
TRAINING_FLAGS = ("distribution_strategy", "num_gpus", "tpu", "dtype_policy",
                  "gradient_accumulation_steps", "clip_norm", "jit_compile", "fused_adamw")


def define_training_flags(clip_norm):
    flags.DEFINE_enum("distribution_strategy", "one_device", STRATEGIES,
                      "one_device | mirrored (all local GPUs) | multi_worker_mirrored (the "
                      "cluster in TF_CONFIG; run the same command on every worker) | tpu.")
    flags.DEFINE_integer("num_gpus", 0, "mirrored: how many GPUs (0 = all visible).")
    flags.DEFINE_string("tpu", "", "tpu: TPU name or grpc:// address ('' = the local TPU).")
    flags.DEFINE_enum("dtype_policy", "float32", DTYPE_POLICIES,
                      "Mixed precision: bfloat16 (TPU, recent GPUs/CPUs) or float16 (GPUs, "
                      "with dynamic loss scaling); losses and softmax stay float32. auto: "
                      "mixed_bfloat16 where the hardware computes bfloat16 (TPU, GPU of "
                      "compute capability >= 8.0, CPU with avx512_bf16 or amx_bf16), else "
                      "float32; flags.json records the choice.")
    flags.DEFINE_integer("gradient_accumulation_steps", 1,
                         "Average the gradients of k batches per update: the effective batch "
                         "is k x --batch_size; --train_steps counts updates.")
    flags.DEFINE_float("clip_norm", clip_norm, "Clip the global gradient norm (0 = off).")
    flags.DEFINE_bool("jit_compile", None,
                      "XLA-compile the training step. Not given: on for one-device float32 "
                      "training on a CPU whose TensorFlow kernels are not oneDNN's (where it "
                      "was measured faster), and always on for tpu; off elsewhere. "
                      "--nojit_compile: off; flags.json records the choice.")
    flags.DEFINE_bool("fused_adamw", True,
                      "AdamW's update as one TF kernel per variable (FusedAdamW); "
                      "--nofused_adamw: keras.optimizers.AdamW.")


def check_training_flags(command):
    from unilmv2_tf.cli.command_runner import fail

    if FLAGS.gradient_accumulation_steps < 1:
        fail(command, f"--gradient_accumulation_steps must be >= 1, got "
             f"{FLAGS.gradient_accumulation_steps}.")
    if FLAGS.clip_norm < 0:
        fail(command, f"--clip_norm must be >= 0, got {FLAGS.clip_norm}.")
    if FLAGS.dtype_policy == "auto":
        from unilmv2_tf.training.precision import recommended_dtype_policy

        FLAGS.dtype_policy = recommended_dtype_policy(FLAGS.distribution_strategy)
        print(f"{command}: --dtype_policy=auto chose {FLAGS.dtype_policy} on this machine.")


def training_setup():
    """`(strategy, model_dir, is_chief)`. Workers other than the chief write to
    `<model_dir>/worker_<i>` so that nobody overwrites the chief's checkpoints (every worker
    must still save: checkpointing is a collective step)."""
    from unilmv2_tf.training import create_strategy, worker_index

    strategy = create_strategy(FLAGS.distribution_strategy, FLAGS.num_gpus, FLAGS.tpu)
    replicas = strategy.num_replicas_in_sync
    if FLAGS.jit_compile and FLAGS.distribution_strategy != "tpu" and replicas > 1:
        # Keras compiles the whole cross-replica step; XLA then meets variables on several
        # devices (mirrored) or collective ops (multi-worker) and fails at the first step.
        raise ValueError(f"--jit_compile does not work with --distribution_strategy="
                         f"{FLAGS.distribution_strategy} over {replicas} replicas: XLA cannot "
                         f"compile a training step that spans several devices. Leave "
                         f"--jit_compile off (TPUs compile each replica and need no flag).")
    if FLAGS.jit_compile is None:
        from unilmv2_tf.training.xla_policy import recommended_jit_compile

        tpu = FLAGS.distribution_strategy == "tpu"
        FLAGS.jit_compile = tpu or recommended_jit_compile(FLAGS.dtype_policy, replicas)
        if FLAGS.jit_compile and not tpu:
            print("XLA-compiling the training step (faster for one-device float32 training "
                  "on a CPU without oneDNN kernels; --nojit_compile turns it off).")
    index, chief, _ = worker_index() if FLAGS.distribution_strategy == \
        "multi_worker_mirrored" else (0, True, 1)
    model_dir = FLAGS.model_dir if chief else os.path.join(FLAGS.model_dir, f"worker_{index}")
    return strategy, model_dir, chief


def in_dtype_policy(backbone):
    """`backbone` under --dtype_policy (rebuilt with the same weights when it differs)."""
    from unilmv2_tf import UniLMv2Backbone

    if backbone.dtype_policy.name == FLAGS.dtype_policy:
        return backbone
    rebuilt = UniLMv2Backbone(backbone.config, mask_input=backbone.mask_input,
                              dtype=FLAGS.dtype_policy)
    rebuilt.set_weights(backbone.get_weights())
    return rebuilt


def training_optimizer(learning_rate, total_steps, warmup_steps, weight_decay):
    """AdamW + schedule with the flags' clipping, accumulation and loss scaling."""
    from unilmv2_tf.training import create_optimizer

    return create_optimizer(learning_rate, total_steps, warmup_steps, weight_decay=weight_decay,
                            clipnorm=FLAGS.clip_norm,
                            gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
                            loss_scaling=FLAGS.dtype_policy == "mixed_float16",
                            fused=FLAGS.fused_adamw)


def jit_compile():
    return FLAGS.jit_compile or FLAGS.distribution_strategy == "tpu"
