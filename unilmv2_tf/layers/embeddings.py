"""Token + absolute position + segment embeddings, then LayerNorm and dropout."""

import keras


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2Embeddings(keras.layers.Layer):
    """BERT-style input embeddings: `Drop(LN(E_tok[ids] + E_pos[position_ids] + E_seg[segs]))`.

    Position ids are explicit inputs: appended pseudo masks and originals carry the position of
    the token they stand for. `type_vocab_size=0` drops the segment table. `token_embedding` is a
    public `keras.layers.Embedding` so an LM head can tie its decoder to it.

    Example:
    >>> from keras import ops
    >>> layer = UniLMv2Embeddings(vocab_size=10, hidden_size=8, max_position_embeddings=16)
    >>> ids = ops.convert_to_tensor([[1, 2, 3]])
    >>> tuple(layer(ids, ops.zeros_like(ids), ops.convert_to_tensor([[0, 1, 2]])).shape)
    (1, 3, 8)
    """

    def __init__(self, vocab_size, hidden_size, max_position_embeddings, type_vocab_size=2,
                 dropout=0.1, layer_norm_epsilon=1e-12, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

    def _table(self, rows, name):
        layer = keras.layers.Embedding(
            rows, self.hidden_size, name=name, dtype=self.dtype_policy,
            embeddings_initializer=keras.initializers.TruncatedNormal(
                stddev=self.initializer_range))
        layer.build((None, None))
        return layer

    def build(self, token_ids_shape, segment_ids_shape=None, position_ids_shape=None):
        self.token_embedding = self._table(self.vocab_size, "token_embedding")
        self.position_embedding = self._table(self.max_position_embeddings, "position_embedding")
        self.segment_embedding = (self._table(self.type_vocab_size, "segment_embedding")
                                  if self.type_vocab_size else None)
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm")
        self.layer_norm.build(tuple(token_ids_shape) + (self.hidden_size,))
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def call(self, token_ids, segment_ids, position_ids, training=None):
        x = self.token_embedding(token_ids) + self.position_embedding(position_ids)
        if self.segment_embedding is not None:
            x = x + self.segment_embedding(segment_ids)
        return self.dropout_layer(self.layer_norm(x), training=training)

    def compute_output_shape(self, token_ids_shape, *args):
        return tuple(token_ids_shape) + (self.hidden_size,)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "hidden_size": self.hidden_size,
                "max_position_embeddings": self.max_position_embeddings,
                "type_vocab_size": self.type_vocab_size, "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range}
