"""Evaluation metrics of the fine-tuning tasks."""

from unilmv2_tf.metrics.classification_metrics import (accuracy, correlations, f1_scores,
                                                       matthews_correlation)
from unilmv2_tf.metrics.generation_metrics import (ROUGE_TYPES, bleu4, rouge_per_example,
                                                   rouge_scores)
from unilmv2_tf.metrics.paired_bootstrap import paired_bootstrap
from unilmv2_tf.metrics.squad_metrics import (exact_match, normalize_answer, squad_scores,
                                              token_f1)

__all__ = ["ROUGE_TYPES", "accuracy", "bleu4", "correlations", "exact_match", "f1_scores",
           "matthews_correlation", "normalize_answer", "paired_bootstrap", "rouge_per_example",
           "rouge_scores", "squad_scores", "token_f1"]
