"""In-graph preprocessing: tokenizer, segment-pair packing, PMLM masking, vocabulary building."""

from unilmv2_tf.preprocessing.pmlm_masker import PMLMMasker
from unilmv2_tf.preprocessing.segment_pair_packer import SegmentPairPacker
from unilmv2_tf.preprocessing.tokenizer import SPECIAL_TOKENS, WordPieceTokenizer, load_vocabulary
from unilmv2_tf.preprocessing.vocabulary_builder import build_vocabulary

__all__ = ["PMLMMasker", "SPECIAL_TOKENS", "SegmentPairPacker", "WordPieceTokenizer",
           "build_vocabulary", "load_vocabulary"]
