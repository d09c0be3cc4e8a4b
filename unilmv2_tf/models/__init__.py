"""Task models built on `UniLMv2Backbone`."""

from unilmv2_tf.models.classifier import Classifier, encoder_features
from unilmv2_tf.models.classifier_evaluation import (classifier_logits, evaluate_classifier,
                                                     load_classifier, read_task_rows)
from unilmv2_tf.models.pmlm_pretrainer import OBJECTIVES, PMLMPretrainer
from unilmv2_tf.models.pretrained_loading import load_pretrained
from unilmv2_tf.models.span_qa import SpanQA
from unilmv2_tf.models.seq2seq_lm import Seq2SeqLM, label_smoothed_cross_entropy

__all__ = ["Classifier", "OBJECTIVES", "PMLMPretrainer", "Seq2SeqLM", "SpanQA", "encoder_features",
           "classifier_logits", "evaluate_classifier", "label_smoothed_cross_entropy",
           "load_classifier", "load_pretrained", "read_task_rows"]
