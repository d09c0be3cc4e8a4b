"""What "fraction of peak" means in the benchmarks: the machine's matmul peak, measured in the
same run, and a step's model FLOPs.

    python benchmarks/machine_peak.py      # prints this machine's peaks

`measure_peak()` times `tf.linalg.matmul` of two `size x size` matrices in float32 and
bfloat16 (and numpy's float32 for reference) and keeps the median GFLOP/s of several runs; a
benchmark calls it before and after its timed part and divides by the better of the two.
`measure_read_bandwidth()` gives the memory roof that decoding a few rows meets instead (it
reads every weight once a step: `decoding_weight_bytes()`). `transformer_flops()` counts the
arithmetic of the model (multiply-adds x 2), not of the framework: projections, feed-forward,
attention scores and values, and the LM head at the scored positions; a training step is 3x
the forward (backward = 2x forward).
"""

import os
import statistics
import time

import numpy as np


def _median_rate(run, flops, repeats):
    run()  # warm-up (tracing, thread pools)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        rates.append(flops / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def measure_peak(size=2048, repeats=5, device=None):
    """`{"float32": GFLOP/s, "bfloat16": GFLOP/s, "numpy_float32": GFLOP/s, "size": size}`
    (numpy's at most 2048^2: it runs on the CPU)."""
    import tensorflow as tf

    flops = 2 * size ** 3
    peaks = {"size": size}
    with tf.device(device or ("/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0")):
        for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
            a = tf.random.normal((size, size), dtype=tf.float32)
            a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)
            matmul = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.linalg.matmul(a, b)))
            peaks[name] = _median_rate(lambda: matmul().numpy(), flops, repeats)
    cpu_size = min(size, 2048)  # numpy runs on the CPU even when TF has a GPU
    a = np.random.default_rng(0).standard_normal((cpu_size, cpu_size), dtype=np.float32)
    peaks["numpy_float32"] = _median_rate(lambda: a @ a, 2 * cpu_size ** 3, repeats)
    return peaks


def measure_read_bandwidth(megabytes=400, repeats=5):
    """GB/s at which TensorFlow reads memory here (the GPU's when there is one): the median of
    `repeats` `tf.reduce_sum` calls over a float32 tensor of `megabytes` (far larger than the
    caches). The roof for a step that reads every weight once for a few rows, as decoding a
    few sources does."""
    import tensorflow as tf

    with tf.device("/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"):
        x = tf.ones([megabytes * 2 ** 18], tf.float32)
        total = tf.function(lambda: tf.reduce_sum(x))
        return _median_rate(lambda: total().numpy(), megabytes * 2 ** 20, repeats)


def decoding_weight_bytes(config, target_length, bytes_per_weight=4):
    """Bytes of weights a cached decode of `target_length` tokens reads: every layer's
    projection and feed-forward matrices and the LM head (its transform and the
    `[vocab, hidden]` output embedding) once a step, whatever the number of rows (biases and
    layer norms left out: under 0.1 %).

    >>> from unilmv2_tf import UniLMv2Config
    >>> decoding_weight_bytes(UniLMv2Config.from_preset("tiny"), 1) == 4 * (
    ...     2 * (4 * 64 * 64 + 2 * 64 * 128) + 64 * 64 + 30522 * 64)
    True
    """
    h = config.hidden_size
    per_step = (config.num_layers * (4 * h * h + 2 * h * config.intermediate_size)
                + h * h + config.vocab_size * h)
    return target_length * per_step * bytes_per_weight


def transformer_flops(config, batch_size, tokens, scored_positions, training=True, keys=None):
    """Model FLOPs of one step of `config` (a `UniLMv2Config`) over `batch_size` sequences of
    `tokens` positions (main + appended), with the LM head applied at `scored_positions` per
    sequence (0 for an encoder-only or classifier step). The tokens attend over `keys`
    positions (default: themselves; a decoding step attends over its whole cache).

    >>> from unilmv2_tf import UniLMv2Config
    >>> config = UniLMv2Config.from_preset("tiny")
    >>> transformer_flops(config, 1, 4, 0, training=False)  # 2 layers x 266,240
    532480
    """
    h, inner, layers = config.hidden_size, config.intermediate_size, config.num_layers
    per_layer = (4 * 2 * tokens * h * h          # query, key, value, output projections
                 + 2 * 2 * tokens * h * inner     # feed-forward in and out
                 + 2 * 2 * tokens * (keys or tokens) * h)  # attention scores, weighted values
    head = scored_positions * (2 * h * h + 2 * h * config.vocab_size)
    forward = batch_size * (layers * per_layer + head)
    return 3 * forward if training else forward


def decoding_flops(config, rows, source_slots, target_length):
    """Model FLOPs of generating `target_length` tokens for `rows` rows (beams included) with
    the key/value cache: the source and the first pseudo mask encoded once, then two tokens a
    step, every token attending over the `source_slots + target_length` cache slots, and the
    LM head at one position a step.

    >>> from unilmv2_tf import UniLMv2Config
    >>> config = UniLMv2Config.from_preset("tiny")
    >>> decoding_flops(config, 1, 16, 4) == (transformer_flops(config, 1, 17, 1, False, 20)
    ...                                      + 3 * transformer_flops(config, 1, 2, 1, False, 20))
    True
    """
    slots = source_slots + target_length
    return (transformer_flops(config, rows, source_slots + 1, 1, False, slots)
            + (target_length - 1) * transformer_flops(config, rows, 2, 1, False, slots))


def load_average():
    """The 1-minute load average and the CPU count: how busy the machine was."""
    return {"load_average_1m": round(os.getloadavg()[0], 2), "cpu_count": os.cpu_count()}


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    peak = measure_peak()
    print(f"matmul {peak['size']}^2: float32 {peak['float32']:.0f} GFLOP/s, bfloat16 "
          f"{peak['bfloat16']:.0f} GFLOP/s, numpy float32 {peak['numpy_float32']:.0f} GFLOP/s; "
          f"memory read {measure_read_bandwidth():.1f} GB/s "
          f"(load {load_average()['load_average_1m']})")
