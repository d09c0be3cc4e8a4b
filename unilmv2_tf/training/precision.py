"""`recommended_dtype_policy`: the precision that is fastest on this machine (`--dtype_policy=auto`).

bfloat16 pays off only where the hardware computes it: on a CPU without the `avx512_bf16` or
`amx_bf16` instructions oneDNN converts every product back to float32, and bf16 steps took
0.93-1.40x the float32 time (AVX2 EPYC, 2 cores; README, Precision), where a CPU with
`avx512_bf16` ran a MiniLM step 1.37x faster (benchmarks/precision_parity.py).
"""

CPU_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bfloat16(cpuinfo=None):
    """Whether the CPU flags (`/proc/cpuinfo`, or the text given) include a bfloat16 unit.

    >>> cpu_has_bfloat16("flags : fpu avx2 avx512f avx512_bf16 avx512_vnni")
    True
    >>> cpu_has_bfloat16("flags : fpu fma avx2")
    False
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                cpuinfo = f.read()
        except OSError:  # not Linux: unknown, so no
            return False
    flags = {flag for line in cpuinfo.splitlines() if line.startswith("flags")
             for flag in line.split(":", 1)[-1].split()}
    return any(flag in flags for flag in CPU_BFLOAT16_FLAGS)


def recommended_dtype_policy(distribution_strategy="one_device", cpuinfo=None):
    """"mixed_bfloat16" on TPUs, on GPUs of compute capability 8.0 and newer and on CPUs with
    a bfloat16 unit; "float32" everywhere else.

    >>> recommended_dtype_policy("tpu")
    'mixed_bfloat16'
    """
    if distribution_strategy == "tpu":
        return "mixed_bfloat16"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get(
            "compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_bfloat16(cpuinfo) else "float32"
