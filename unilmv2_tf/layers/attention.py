"""Multi-head self-attention with an additive relative bias and a fixed-size key/value cache."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class RelativeMultiHeadAttention(keras.layers.Layer):
    """Multi-head attention: `softmax(QK^T / sqrt(d) + bias, masked) V`, then an output dense.

    Written directly rather than subclassing `keras.layers.MultiHeadAttention`: that route needs
    its private attributes to inject the bias, and its kernels are not laid out as the PyTorch
    checkpoints' `[hidden, hidden]` matrices. Scores and softmax are computed in float32 under
    any dtype policy.

    Call arguments:
        hidden_states: `[B, T, hidden]` (queries, and keys/values when no cache is given).
        attention_mask: bool `[B, T, Tk]`, 1 = may attend. Fully masked rows attend uniformly
            (they belong to padding and are ignored downstream).
        attention_bias: float `[B or 1, num_heads, T, Tk]` added to the scaled scores.
        cache: optional `(keys, values)` of earlier tokens: keys `[B, num_heads, head_size, S]`,
            values `[B, num_heads, S, head_size]`, the layouts in which the score product
            `q kᵀ` and the value product read them (with keys `[B, num_heads, S, head_size]`,
            XLA's CPU compiler copied every layer's whole key cache transposed at every
            decoding step).
        cache_update_index: int; the keys/values of `hidden_states` are written to cache slots
            `[index, index + T)`, then the queries attend over all `S` slots (mask them with
            `attention_mask [B, T, S]`).

    Returns `output [B, T, hidden]`, or `(output, updated_cache)` when `cache` is given.

    Example:
    >>> layer = RelativeMultiHeadAttention(num_heads=2, head_size=4)
    >>> tuple(layer(ops.ones((1, 3, 8))).shape)
    (1, 3, 8)
    """

    def __init__(self, num_heads, head_size, dropout=0.0, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.head_size = head_size
        self.dropout = dropout
        self.initializer_range = initializer_range

    def _dense(self, units, name):
        return keras.layers.Dense(
            units, name=name, dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range))

    def build(self, hidden_states_shape):
        hidden = hidden_states_shape[-1]
        inner = self.num_heads * self.head_size
        self.query_dense = self._dense(inner, "query")
        self.key_dense = self._dense(inner, "key")
        self.value_dense = self._dense(inner, "value")
        self.output_dense = self._dense(hidden, "output")
        for layer in (self.query_dense, self.key_dense, self.value_dense):
            layer.build(hidden_states_shape)
        self.output_dense.build(tuple(hidden_states_shape[:-1]) + (inner,))
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _split_heads(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads, self.head_size))

    def call(self, hidden_states, attention_mask=None, attention_bias=None, cache=None,
             cache_update_index=None, training=None):
        query = self._split_heads(self.query_dense(hidden_states))
        key = self._split_heads(self.key_dense(hidden_states))
        value = self._split_heads(self.value_dense(hidden_states))
        keys_layout = values_layout = "bknh"
        if cache is not None:
            if cache_update_index is None:
                raise ValueError("`cache_update_index` is required when `cache` is given.")
            keys, values = cache
            self._check_cache(keys, values)
            # Only the T new rows are transposed into the cache's layouts.
            key = ops.slice_update(keys, (0, 0, 0, cache_update_index),
                                   ops.cast(ops.transpose(key, (0, 2, 3, 1)), keys.dtype))
            value = ops.slice_update(values, (0, 0, cache_update_index, 0),
                                     ops.cast(ops.transpose(value, (0, 2, 1, 3)), values.dtype))
            cache, keys_layout, values_layout = (key, value), "bnhk", "bnkh"
        scores = ops.einsum(f"bqnh,{keys_layout}->bnqk", ops.cast(query, "float32"),
                            ops.cast(key, "float32"))
        scores = scores * (1.0 / float(self.head_size) ** 0.5)
        if attention_bias is not None:
            scores = scores + ops.cast(attention_bias, "float32")
        if attention_mask is not None:
            mask = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)
            scores = ops.where(mask, scores, -1e9)
        probs = ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
        probs = self.dropout_layer(probs, training=training)
        context = ops.einsum(f"bnqk,{values_layout}->bqnh", probs,
                             ops.cast(value, self.compute_dtype))
        shape = ops.shape(context)
        context = ops.reshape(context, (shape[0], shape[1], self.num_heads * self.head_size))
        output = self.output_dense(context)
        if cache is not None:
            return output, cache
        return output

    def _check_cache(self, keys, values):
        heads, size = self.num_heads, self.head_size
        keys_shape, values_shape = tuple(keys.shape), tuple(values.shape)
        if (len(keys_shape) != 4 or len(values_shape) != 4
                or keys_shape[1:3] != (heads, size) or values_shape[1] != heads
                or values_shape[3] != size
                or None not in (keys_shape[3], values_shape[2])  # slots, when known
                and keys_shape[3] != values_shape[2]):
            raise ValueError(
                f"The cache must hold keys [B, {heads}, {size}, S] and values "
                f"[B, {heads}, S, {size}] (num_heads, head_size; `init_cache` builds them), "
                f"got keys {keys_shape} and values {values_shape}.")

    def compute_output_shape(self, hidden_states_shape, *args, **kwargs):
        return hidden_states_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "head_size": self.head_size,
                "dropout": self.dropout, "initializer_range": self.initializer_range}
