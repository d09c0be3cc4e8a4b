"""Cached seq2seq decoding: greedy and beam search over a `Seq2SeqDecoder`."""

from unilmv2_tf.generation.beam_search import beam_search, length_penalty_factor
from unilmv2_tf.generation.decoding_policy import (DECODING_POLICIES, computing_in,
                                                   decoding_policy)
from unilmv2_tf.generation.greedy_search import greedy_search
from unilmv2_tf.generation.kv_cache_decoder import KVCacheDecoder
from unilmv2_tf.generation.logits_processing import block_repeated_ngrams, forbid_early_eos
from unilmv2_tf.generation.recompute_decoder import RecomputeDecoder
from unilmv2_tf.generation.seq2seq_decoder import Seq2SeqDecoder

__all__ = ["DECODING_POLICIES", "KVCacheDecoder", "RecomputeDecoder", "Seq2SeqDecoder",
           "beam_search", "block_repeated_ngrams", "computing_in", "decoding_policy",
           "forbid_early_eos", "greedy_search", "length_penalty_factor"]
