"""tf.data pipelines from text files."""

from unilmv2_tf.data.pretraining_dataset import make_pretraining_dataset
from unilmv2_tf.data.text_corpus import check_corpus_files, read_documents

__all__ = ["check_corpus_files", "make_pretraining_dataset", "read_documents"]
