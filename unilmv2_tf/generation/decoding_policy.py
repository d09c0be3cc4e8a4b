"""The precision a search computes in, and tracing a model's layers in it.

A model fine-tuned under `mixed_bfloat16` decodes faster in float32 on CPUs: decoding
multiplies a few rows (the batch's new tokens) by every weight matrix at each step, and under
a mixed policy each step also casts every weight to bfloat16 (README, "Decoding precision":
up to 1.8x slower than float32, and never faster, at the `small` and `base` sizes, greedy and
beam 4, batch 1 and 16, on a 2-core Xeon with AMX-BF16; `benchmarks/decode_precision.py`).
"""

import contextlib

import keras
import tensorflow as tf

DECODING_POLICIES = ("auto", "model", "float32", "mixed_bfloat16", "mixed_float16")


def decoding_policy(model_policy, requested="auto"):
    """The dtype policy name a search over a model with `model_policy` runs under.

    `requested`: "auto" (float32 when the model keeps float32 weights and TensorFlow sees no
    GPU or TPU, else the model's policy), "model" (the policy the model was built with), or
    a policy name from `DECODING_POLICIES`. Variables are never converted, so a model
    that keeps bfloat16 weights can only decode under its own policy.

    >>> decoding_policy("mixed_bfloat16", "model")
    'mixed_bfloat16'
    >>> decoding_policy("float32", "mixed_bfloat16")
    'mixed_bfloat16'
    """
    model_policy = keras.dtype_policies.get(model_policy)
    if requested not in DECODING_POLICIES:
        raise ValueError(f"The decoding dtype policy must be one of {DECODING_POLICIES}, got "
                         f"{requested!r}.")
    if requested == "model":
        return model_policy.name
    if requested == "auto":
        accelerated = tf.config.list_logical_devices("GPU") or \
            tf.config.list_logical_devices("TPU")
        keep = accelerated or model_policy.variable_dtype != "float32"
        return model_policy.name if keep else "float32"
    if model_policy.variable_dtype != "float32":
        raise ValueError(f"Decoding under {requested} needs float32 weights; this model "
                         f"keeps its weights in {model_policy.variable_dtype} (policy "
                         f"{model_policy.name}): decode with the model's own policy.")
    return requested


@contextlib.contextmanager
def computing_in(policy, *layers):
    """Inside the block, `layers` and every layer they hold compute under `policy`.

    Only the compute dtype changes: the variables are the model's own, read (and cast when
    the policy asks) where they are used, so nothing is copied and later training is seen.
    Enter it while a `tf.function` traces: the graph keeps the precision it was traced in.
    The layers' own policies come back on exit.

    >>> dense = keras.layers.Dense(2, dtype="mixed_bfloat16")
    >>> dense.build((None, 3))
    >>> with computing_in("float32", dense):
    ...     dense(tf.ones([1, 3])).dtype
    tf.float32
    >>> dense.dtype_policy.name
    'mixed_bfloat16'
    """
    # `_flatten_layers` is private, but Keras has no public walk over nested layers
    # (`Model.layers` lists only the top level).
    nested = {id(x): x for layer in layers for x in layer._flatten_layers(include_self=True)}
    saved = {key: layer.dtype_policy for key, layer in nested.items()}
    try:
        for layer in nested.values():
            layer.dtype_policy = policy
        yield
    finally:
        for key, layer in nested.items():
            layer.dtype_policy = saved[key]
