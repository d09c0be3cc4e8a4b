"""In-graph preprocessing: tokenizer, segment-pair packing, PMLM masking, seq2seq and text-pair
packing, vocabulary building; the keras-hub tokenizer and preprocessor layers over them."""

from unilmv2_tf.preprocessing.pmlm_masker import PMLMMasker
from unilmv2_tf.preprocessing.pmlm_preprocessor import UniLMv2PMLMPreprocessor
from unilmv2_tf.preprocessing.qa_windowing import QAWindower
from unilmv2_tf.preprocessing.segment_pair_packer import SegmentPairPacker
from unilmv2_tf.preprocessing.seq2seq_lm_preprocessor import UniLMv2Seq2SeqLMPreprocessor
from unilmv2_tf.preprocessing.seq2seq_packer import Seq2SeqPacker
from unilmv2_tf.preprocessing.span_qa_preprocessor import UniLMv2SpanQAPreprocessor
from unilmv2_tf.preprocessing.text_classifier_preprocessor import (
    UniLMv2TextClassifierPreprocessor)
from unilmv2_tf.preprocessing.text_pair_packer import TRUNCATION_STRATEGIES, TextPairPacker
from unilmv2_tf.preprocessing.token_corruption import corrupt_tokens
from unilmv2_tf.preprocessing.tokenizer import SPECIAL_TOKENS, WordPieceTokenizer, load_vocabulary
from unilmv2_tf.preprocessing.unilmv2_tokenizer import UniLMv2Tokenizer
from unilmv2_tf.preprocessing.vocabulary_builder import build_vocabulary

__all__ = ["PMLMMasker", "QAWindower", "SPECIAL_TOKENS", "SegmentPairPacker",
           "Seq2SeqPacker", "TRUNCATION_STRATEGIES", "TextPairPacker",
           "UniLMv2PMLMPreprocessor", "UniLMv2Seq2SeqLMPreprocessor", "UniLMv2SpanQAPreprocessor",
           "UniLMv2TextClassifierPreprocessor", "UniLMv2Tokenizer", "WordPieceTokenizer",
           "build_vocabulary", "corrupt_tokens", "load_vocabulary"]
