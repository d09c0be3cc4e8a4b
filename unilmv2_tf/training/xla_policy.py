"""`recommended_jit_compile`: whether XLA makes a training step faster on this machine (the
training commands' default when `--jit_compile` is not given).

What decides it on a CPU is which kernels the graph path runs. TensorFlow uses oneDNN's
(`_MklMatMul`, fused ops) only on CPUs with neural-network instructions (AVX512_VNNI,
AVX512_BF16, AVX_VNNI or AMX; `TF_ENABLE_ONEDNN_OPTS` overrides), and plain Eigen elsewhere.
Measured with `benchmarks/pretrain_step.py` (README, Benchmarks): on a 2-core AVX2-only EPYC
(no oneDNN) XLA made the float32 PMLM step 1.06x faster at `tiny`, 1.29x at `small` and 1.24x
at `base`; on a 2-core Xeon with AMX (oneDNN) it made the `base` step slower, 0.83x in float32
and 0.54x in mixed_bfloat16. So XLA is the default only for one-device float32 training on a
CPU without oneDNN kernels. On GPUs it is not measured here and stays off; several replicas
cannot be compiled as one step (the commands refuse `--jit_compile` there); TPUs always
compile (the commands see to that themselves).
"""


def tensorflow_uses_onednn():
    """Whether TensorFlow's CPU graph kernels are oneDNN's in this process.

    TensorFlow has no public call for it; `_pywrap_util_port.IsMklEnabled` is the check its own
    kernels make (CPU flags, then `TF_ENABLE_ONEDNN_OPTS`). Where that is missing, the answer
    is yes, which keeps XLA off (the default before this rule)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return True
    check = getattr(_pywrap_util_port, "IsMklEnabled", None)
    return True if check is None else bool(check())


def recommended_jit_compile(dtype_policy, num_replicas, uses_onednn=None, has_gpu=None):
    """True for one-device float32 training on a CPU whose graph kernels are not oneDNN's.

    `uses_onednn` and `has_gpu` default to what this process sees.

    >>> recommended_jit_compile("float32", 1, uses_onednn=False, has_gpu=False)
    True
    >>> recommended_jit_compile("float32", 1, uses_onednn=True, has_gpu=False)
    False
    >>> recommended_jit_compile("mixed_bfloat16", 1, uses_onednn=False, has_gpu=False)
    False
    >>> recommended_jit_compile("float32", 2, uses_onednn=False, has_gpu=False)
    False
    """
    if num_replicas > 1 or dtype_policy != "float32":
        return False
    if has_gpu is None:
        import tensorflow as tf

        has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if has_gpu:
        return False
    return not (tensorflow_uses_onednn() if uses_onednn is None else uses_onednn)
