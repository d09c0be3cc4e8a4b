"""Checkpoint conversion: PyTorch UniLMv2 / s2s-ft / BERT <-> Keras."""

from unilmv2_tf.convert.bert_weight_map import bert_weight_map
from unilmv2_tf.convert.checkpoint_converter import (SOURCES, ConvertedCheckpoint,
                                                     backbone_to_state_dict, canonicalize,
                                                     convert_checkpoint, infer_config)
from unilmv2_tf.convert.state_dict_io import read_state_dict, write_safetensors

__all__ = ["ConvertedCheckpoint", "SOURCES", "backbone_to_state_dict", "bert_weight_map",
           "canonicalize", "convert_checkpoint", "infer_config", "read_state_dict",
           "write_safetensors"]
