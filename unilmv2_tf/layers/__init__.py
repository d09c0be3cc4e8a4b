"""Reusable Keras layers of UniLMv2; each registers for `.keras` serialization."""

from unilmv2_tf.layers.attention import RelativeMultiHeadAttention
from unilmv2_tf.layers.embeddings import UniLMv2Embeddings
from unilmv2_tf.layers.lm_head import MaskedLMHead
from unilmv2_tf.layers.pseudo_mask import PseudoMaskAttentionMask
from unilmv2_tf.layers.relative_position import RelativePositionBias, relative_position_bucket
from unilmv2_tf.layers.transformer_block import TransformerBlock

__all__ = ["MaskedLMHead", "PseudoMaskAttentionMask", "RelativeMultiHeadAttention",
           "RelativePositionBias", "TransformerBlock", "UniLMv2Embeddings",
           "relative_position_bucket"]
