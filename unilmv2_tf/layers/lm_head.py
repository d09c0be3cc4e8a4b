"""Masked-LM head whose decoder is tied to the token embedding."""

import keras
from keras import ops

# From this many rows on, `MaskedLMHead.score_rows` takes the product as `x Eᵀ`.
MANY_ROWS = 32


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class MaskedLMHead(keras.layers.Layer):
    """`logits = LN(gelu(W h + b)) E^T + bias`, with `E` the tied token embedding table.

    One head serves the AE (`[M]` slot) and the PAR (`[P]` token) predictions, as the released
    checkpoint has a single `cls.predictions` head.

    Call arguments:
        hidden_states: `[B, T, hidden]`.
        positions: optional int `[B, N]`; when given, only those positions are scored.

    Returns logits `[B, N or T, vocab_size]` in the compute dtype.

    Example:
    >>> from keras import ops
    >>> embedding = keras.layers.Embedding(10, 8)
    >>> embedding.build((None, None))
    >>> head = MaskedLMHead(token_embedding=embedding)
    >>> tuple(head(ops.ones((1, 5, 8)), ops.convert_to_tensor([[0, 3]])).shape)
    (1, 2, 10)
    """

    def __init__(self, token_embedding, layer_norm_epsilon=1e-12, initializer_range=0.02,
                 **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

    def build(self, hidden_states_shape, positions_shape=None):
        hidden = hidden_states_shape[-1]
        self.transform_dense = keras.layers.Dense(
            hidden, dtype=self.dtype_policy, name="transform",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range))
        self.transform_dense.build(hidden_states_shape)
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm")
        self.layer_norm.build(hidden_states_shape)
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.token_embedding.input_dim,), initializer="zeros")

    def call(self, hidden_states, positions=None):
        if positions is not None:
            hidden_states = ops.take_along_axis(
                hidden_states, ops.expand_dims(ops.cast(positions, "int32"), -1), axis=1)
        logits = ops.matmul(self._transform(hidden_states), ops.transpose(self._table()))
        return logits + ops.cast(self.output_bias, self.compute_dtype)

    def score_rows(self, rows):
        """Logits `[N, vocab_size]` of `[N, hidden]` states: `call` on `rows[:, None]`, with the
        output product written for the number of rows decoding scores at a step.

        Decoding scores a few rows a step (the batch's pseudo masks), and its cost is reading
        `E` once. Below `MANY_ROWS` rows the product is taken as `(E xᵀ)ᵀ`, the embedding on
        the left as it is stored: written `x Eᵀ`, TensorFlow's CPU product of 2–4 rows took
        23 ms on a 2-core AVX2 machine where `(E xᵀ)ᵀ` takes 7 ms (6.6 against 11.5 at 16
        rows; equal with XLA), and XLA's CPU compiler copied the whole embedding transposed at
        every step for one row. One row's product is taken with each half of `E`, which XLA
        spreads over the cores; from `MANY_ROWS` rows on, `x Eᵀ` (below). The same values to
        round-off.

        Example:
        >>> embedding = keras.layers.Embedding(10, 8)
        >>> embedding.build((None, None))
        >>> head = MaskedLMHead(token_embedding=embedding)
        >>> rows = ops.ones((3, 8))
        >>> float(ops.max(ops.abs(head.score_rows(rows) - head(rows[:, None])[:, 0]))) < 1e-5
        True
        """
        if not self.built:
            self.build(tuple(rows.shape[:1]) + (1,) + tuple(rows.shape[1:]))
        table, transformed = self._table(), self._transform(rows)
        columns = ops.transpose(transformed)

        def whole():
            return ops.matmul(table, columns)

        def halves():
            # One row (greedy decoding of one source): XLA's CPU compiler runs the product
            # with the whole table, fused with the bias, on one core; the product with each
            # half of the table is a loop it splits across the cores. Greedy x 1 decoding
            # 1.36x faster on a 2-core AVX2 machine, 1.13x without XLA; values to round-off.
            half = table.shape[0] // 2
            return ops.concatenate(
                [ops.matmul(table[:half], columns), ops.matmul(table[half:], columns)], axis=0)

        def rows_first():
            # Many rows (beam search over a batch): `E xᵀ` stays `[V, N]` in memory under XLA,
            # through the search loop, and the beam step reads it across the rows
            # (constraints, scores `[batch, beam x V]`, top-k). Written `x Eᵀ`, the logits are
            # `[N, V]` rows: beam 4 x 16 decoding 1.3x faster on a 2-core AVX-512 Xeon, beam
            # 4 x 8 1.15x (on a 2-core AVX2 EPYC level under XLA, 0.92-1.0x without it).
            # Greedy at 16 and 32 rows takes as long either way; at 1 and 4 rows `x Eᵀ` is
            # slower.
            return ops.matmul(transformed, ops.transpose(table))

        # `rows_first` gives `[N, V]` from its branch: transposed back to `[V, N]` there, to
        # share one transpose with the others, it was compiled as `E xᵀ` again.
        if rows.shape[0] is None:  # traced for any batch, as `Seq2SeqLM.generate` does
            count = ops.shape(rows)[0]
            logits = ops.cond(count >= MANY_ROWS, rows_first, lambda: ops.transpose(
                ops.cond(ops.equal(count, 1), halves, whole)))
        elif rows.shape[0] >= MANY_ROWS:
            logits = rows_first()
        else:
            logits = ops.transpose(halves() if rows.shape[0] == 1 else whole())
        return logits + ops.cast(self.output_bias, self.compute_dtype)

    def _transform(self, hidden_states):
        x = keras.activations.gelu(self.transform_dense(hidden_states), approximate=False)
        return self.layer_norm(x)

    def _table(self):
        return ops.cast(self.token_embedding.embeddings, self.compute_dtype)

    def compute_output_shape(self, hidden_states_shape, positions_shape=None):
        length = positions_shape[1] if positions_shape is not None else hidden_states_shape[1]
        return (hidden_states_shape[0], length, self.token_embedding.input_dim)

    def get_config(self):
        return {**super().get_config(),
                "token_embedding": keras.layers.serialize(self.token_embedding),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["token_embedding"] = keras.layers.deserialize(config["token_embedding"])
        return cls(**config)
