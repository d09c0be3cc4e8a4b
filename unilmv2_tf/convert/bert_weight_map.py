"""The one table that pairs PyTorch BERT/UniLMv2 tensor names with Keras variables."""


def bert_weight_map(backbone, lm_head=None):
    """`[(name, keras_variable, transpose)]` for every weight of `backbone` (and `lm_head`).

    Names are the HF BERT names without the `bert.` prefix (`embeddings.*`, `encoder.layer.i.*`,
    `rel_pos_bias.weight`) plus `cls.predictions.*` for the LM head. `transpose` marks PyTorch
    `[out, in]` Linear weights stored as Keras `[in, out]` kernels, and the relative bias
    (`[heads, buckets]` in PyTorch, `[buckets, heads]` here).
    """
    embeddings = backbone.embeddings
    pairs = [("embeddings.word_embeddings.weight", embeddings.token_embedding.embeddings, False),
             ("embeddings.position_embeddings.weight",
              embeddings.position_embedding.embeddings, False)]
    if embeddings.segment_embedding is not None:
        pairs.append(("embeddings.token_type_embeddings.weight",
                      embeddings.segment_embedding.embeddings, False))
    pairs += _layer_norm("embeddings.LayerNorm", embeddings.layer_norm)
    if backbone.relative_position_bias is not None:
        pairs.append(("rel_pos_bias.weight", backbone.relative_position_bias.bias_table, True))
    for i, block in enumerate(backbone.transformer_layers):
        prefix = f"encoder.layer.{i}."
        attention = block.attention
        for name, dense in (("attention.self.query", attention.query_dense),
                            ("attention.self.key", attention.key_dense),
                            ("attention.self.value", attention.value_dense),
                            ("attention.output.dense", attention.output_dense),
                            ("intermediate.dense", block.intermediate_dense),
                            ("output.dense", block.output_dense)):
            pairs += _dense(prefix + name, dense)
        pairs += _layer_norm(prefix + "attention.output.LayerNorm", block.attention_layer_norm)
        pairs += _layer_norm(prefix + "output.LayerNorm", block.output_layer_norm)
    if lm_head is not None:
        pairs += _dense("cls.predictions.transform.dense", lm_head.transform_dense)
        pairs += _layer_norm("cls.predictions.transform.LayerNorm", lm_head.layer_norm)
        pairs.append(("cls.predictions.bias", lm_head.output_bias, False))
    return pairs


def _dense(name, layer):
    return [(f"{name}.weight", layer.kernel, True), (f"{name}.bias", layer.bias, False)]


def _layer_norm(name, layer):
    return [(f"{name}.weight", layer.gamma, False), (f"{name}.bias", layer.beta, False)]
