"""Task models built on `UniLMv2Backbone`."""

from unilmv2_tf.models.pmlm_pretrainer import OBJECTIVES, PMLMPretrainer

__all__ = ["OBJECTIVES", "PMLMPretrainer"]
