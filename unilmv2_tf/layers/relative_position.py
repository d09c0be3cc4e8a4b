"""T5-style bidirectional relative position buckets and the shared bias table."""

import math

import keras
from keras import ops


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """Maps `key_position - query_position` to a bucket id, as UniLMv2 (s2s-ft) does.

    Half of the buckets serve each direction; keys to the right (r > 0) are offset by
    `num_buckets // 2`. Distances below `num_buckets // 4` get a bucket each, larger ones share
    logarithmically sized buckets up to `max_distance`. The logarithm is computed in float32, as
    the PyTorch reference does, so the bucket boundaries match it exactly.

    >>> [int(b) for b in relative_position_bucket([0, -1, -8, -12, 8, 128])]
    [0, 1, 8, 9, 24, 31]
    """
    relative_position = ops.cast(ops.convert_to_tensor(relative_position), "int32")
    half = num_buckets // 2
    max_exact = half // 2
    direction = ops.where(relative_position > 0, half, 0)
    distance = ops.abs(relative_position)
    # Clamp at 1 inside the log: distance 0 takes the exact branch, and log(0) would be -inf.
    scaled = ops.log(ops.cast(ops.maximum(distance, 1), "float32") / float(max_exact))
    scaled = scaled / math.log(max_distance / max_exact) * float(half - max_exact)
    large = ops.minimum(max_exact + ops.cast(scaled, "int32"), half - 1)
    return direction + ops.where(distance < max_exact, distance, large)


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class RelativePositionBias(keras.layers.Layer):
    """One `[num_buckets, num_heads]` table of additive attention biases, shared by all layers.

    Computed once per forward pass from position ids (never physical indices), so appended
    pseudo masks and originals get the bias of the position they stand for.

    Call arguments:
        query_position_ids: int `[B, Tq]`.
        key_position_ids: int `[B, Tk]`; defaults to `query_position_ids`.

    Returns the bias `[B, num_heads, Tq, Tk]`.

    Example:
    >>> layer = RelativePositionBias(num_heads=2)
    >>> tuple(layer(ops.convert_to_tensor([[0, 1, 2, 1]])).shape)
    (1, 2, 4, 4)
    """

    def __init__(self, num_heads, num_buckets=32, max_distance=128, initializer_range=0.02,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.initializer_range = initializer_range

    def build(self, query_position_ids_shape, key_position_ids_shape=None):
        self.bias_table = self.add_weight(
            name="bias_table", shape=(self.num_buckets, self.num_heads),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range))

    def call(self, query_position_ids, key_position_ids=None):
        if key_position_ids is None:
            key_position_ids = query_position_ids
        relative = (ops.expand_dims(ops.cast(key_position_ids, "int32"), 1)
                    - ops.expand_dims(ops.cast(query_position_ids, "int32"), 2))
        buckets = relative_position_bucket(relative, self.num_buckets, self.max_distance)
        bias = ops.take(self.bias_table, buckets, axis=0)  # [B, Tq, Tk, H]
        return ops.transpose(bias, (0, 3, 1, 2))

    def compute_output_shape(self, query_position_ids_shape, key_position_ids_shape=None):
        key_shape = key_position_ids_shape or query_position_ids_shape
        return (query_position_ids_shape[0], self.num_heads, query_position_ids_shape[1],
                key_shape[1])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "num_buckets": self.num_buckets, "max_distance": self.max_distance,
                "initializer_range": self.initializer_range}
