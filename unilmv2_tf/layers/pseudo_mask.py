"""The pseudo-masked LM self-attention mask (rules R1-R4 of the spec) from step weights."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class PseudoMaskAttentionMask(keras.layers.Layer):
    """Builds the boolean `[B, Tq, Tk]` attention mask (1 = may attend) of a PMLM sequence.

    Each token's role is one integer step weight: 0 for main tokens (context and in-place
    `[MASK]` slots), `+s` for an appended original of factorization step `s`, `-s` for a pseudo
    mask `[P]` of step `s`. A query may attend a key iff the key is not padding and

    - main or original query (w_q >= 0): `0 <= w_k <= w_q` (R1, R3);
    - pseudo query (w_q < 0): `0 <= w_k < -w_q` (main and earlier originals) or `w_k == w_q`
      (its own block's pseudo masks) (R2).

    The same rules give seq2seq fine-tuning (one target token per step) and cached decoding,
    where the queries are the new tokens and the keys the cache (pass `key_step_weights` and
    `key_padding_mask`).

    Example:
    >>> mask = PseudoMaskAttentionMask()(
    ...     ops.convert_to_tensor([[0, 0, -1, 1]]), ops.convert_to_tensor([[1, 1, 1, 1]]))
    >>> ops.convert_to_numpy(mask[0]).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 1]]
    """

    def call(self, step_weights, padding_mask, key_step_weights=None, key_padding_mask=None):
        if key_step_weights is None:
            key_step_weights = step_weights
        if key_padding_mask is None:
            key_padding_mask = padding_mask
        query = ops.expand_dims(ops.cast(step_weights, "int32"), 2)  # [B, Tq, 1]
        key = ops.expand_dims(ops.cast(key_step_weights, "int32"), 1)  # [B, 1, Tk]
        key_is_real = ops.expand_dims(ops.cast(key_padding_mask, "bool"), 1)
        key_is_known = key >= 0  # main tokens and originals
        main_or_original_query = ops.logical_and(query >= 0, key <= query)
        pseudo_query = ops.logical_and(query < 0, key < -query)
        allowed = ops.logical_and(key_is_known, ops.logical_or(main_or_original_query,
                                                               pseudo_query))
        same_step_pseudo = ops.logical_and(query < 0, ops.equal(key, query))
        return ops.logical_and(key_is_real, ops.logical_or(allowed, same_step_pseudo))

    def compute_output_shape(self, step_weights_shape, padding_mask_shape,
                             key_step_weights_shape=None, key_padding_mask_shape=None):
        key_shape = key_step_weights_shape or step_weights_shape
        return (step_weights_shape[0], step_weights_shape[1], key_shape[1])

    def compute_output_spec(self, step_weights, padding_mask, key_step_weights=None,
                            key_padding_mask=None):
        key = step_weights if key_step_weights is None else key_step_weights
        return keras.KerasTensor((step_weights.shape[0], step_weights.shape[1], key.shape[1]),
                                 dtype="bool")
