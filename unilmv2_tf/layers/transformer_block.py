"""Post-LN Transformer encoder block (BERT / UniLMv2 layout)."""

import keras
from keras import ops

from unilmv2_tf.layers.attention import RelativeMultiHeadAttention


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class TransformerBlock(keras.layers.Layer):
    """`x = LN(x + Drop(Attn(x)))`, then `x = LN(x + Drop(W2 gelu(W1 x)))`.

    GELU is the exact erf form, as in the released checkpoints, computed in float32 under
    any dtype policy: TensorFlow's elementwise bfloat16 CPU kernels are slow, and a
    `mixed_bfloat16` GELU and its gradient at a `base` layer's 8 x 176 x 3,072 took 35 ms on
    a 2-core Xeon, against 18 ms in float32 with the two casts (`benchmarks/README.md`);
    the result is also closer to float32's.

    Call arguments are those of `RelativeMultiHeadAttention`: `hidden_states`,
    `attention_mask`, `attention_bias`, `cache`, `cache_update_index`, `training`; the return
    follows the same convention (`output`, or `(output, updated_cache)` with a cache).

    Example:
    >>> from keras import ops
    >>> block = TransformerBlock(num_heads=2, intermediate_size=16)
    >>> tuple(block(ops.ones((1, 3, 8))).shape)
    (1, 3, 8)
    """

    def __init__(self, num_heads, intermediate_size, dropout=0.1, attention_dropout=0.1,
                 layer_norm_epsilon=1e-12, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

    def build(self, hidden_states_shape):
        hidden = hidden_states_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(f"Hidden size {hidden} is not divisible by num_heads "
                             f"{self.num_heads}.")
        initializer = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        self.attention = RelativeMultiHeadAttention(
            self.num_heads, hidden // self.num_heads, dropout=self.attention_dropout,
            initializer_range=self.initializer_range, dtype=self.dtype_policy, name="attention")
        self.attention.build(hidden_states_shape)
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="attention_layer_norm")
        self.attention_layer_norm.build(hidden_states_shape)
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_size, kernel_initializer=initializer, dtype=self.dtype_policy,
            name="intermediate")
        self.intermediate_dense.build(hidden_states_shape)
        self.output_dense = keras.layers.Dense(
            hidden, kernel_initializer=initializer, dtype=self.dtype_policy, name="output")
        self.output_dense.build(tuple(hidden_states_shape[:-1]) + (self.intermediate_size,))
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="output_layer_norm")
        self.output_layer_norm.build(hidden_states_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def call(self, hidden_states, attention_mask=None, attention_bias=None, cache=None,
             cache_update_index=None, training=None):
        attended = self.attention(hidden_states, attention_mask=attention_mask,
                                  attention_bias=attention_bias, cache=cache,
                                  cache_update_index=cache_update_index, training=training)
        if cache is not None:
            attended, cache = attended
        x = self.attention_layer_norm(
            hidden_states + self.dropout_layer(attended, training=training))
        intermediate = ops.cast(self.intermediate_dense(x), "float32")
        ffn = self.output_dense(ops.cast(keras.activations.gelu(intermediate, approximate=False),
                                         self.compute_dtype))
        x = self.output_layer_norm(x + self.dropout_layer(ffn, training=training))
        if cache is not None:
            return x, cache
        return x

    def compute_output_shape(self, hidden_states_shape, *args, **kwargs):
        return hidden_states_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "intermediate_size": self.intermediate_size, "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range}
