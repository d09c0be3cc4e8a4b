"""tf.data pipelines and readers for text, JSON Lines, TSV and SQuAD files."""

from unilmv2_tf.data.classification_dataset import label_ids, make_classification_dataset
from unilmv2_tf.data.classification_records import read_classification_file
from unilmv2_tf.data.corpus_builder import build_corpus, write_corpus
from unilmv2_tf.data.jsonl_records import read_jsonl_records
from unilmv2_tf.data.pretraining_dataset import make_pretraining_dataset
from unilmv2_tf.data.seq2seq_dataset import make_seq2seq_dataset
from unilmv2_tf.data.squad_records import read_squad_examples
from unilmv2_tf.data.text_corpus import check_corpus_files, read_documents

__all__ = ["build_corpus", "check_corpus_files", "label_ids", "make_classification_dataset",
           "make_pretraining_dataset", "make_seq2seq_dataset", "read_classification_file",
           "read_documents", "read_jsonl_records", "read_squad_examples", "write_corpus"]
