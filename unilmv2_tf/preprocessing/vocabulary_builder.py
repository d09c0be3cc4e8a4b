"""Building a WordPiece vocabulary for a new corpus (tensorflow-text's BERT vocab builder)."""

import os
import tempfile

import tensorflow as tf
from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

from unilmv2_tf.data.text_corpus import check_corpus_files, read_documents
from unilmv2_tf.preprocessing.tokenizer import SPECIAL_TOKENS, load_vocabulary


def build_vocabulary(files, vocabulary_size, output_path, lowercase=True, max_lines=None):
    """Learns a WordPiece vocabulary from corpus files and writes it (one token per line).

    The special tokens come first (`[PAD]`=0, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`). The file is
    written to a temporary name and renamed, so an existing vocabulary is never left half
    written. Returns the token list.
    """
    files = check_corpus_files(files)
    if vocabulary_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocabulary_size must exceed the {len(SPECIAL_TOKENS)} special tokens, "
                         f"got {vocabulary_size}.")

    def lines():
        count = 0
        for path in files:
            for document in read_documents(path):
                for paragraph in document:
                    if max_lines is not None and count >= max_lines:
                        return
                    count += 1
                    yield paragraph

    dataset = tf.data.Dataset.from_generator(
        lines, output_signature=tf.TensorSpec([], tf.string)).batch(256)
    tokens = bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset, vocab_size=vocabulary_size, reserved_tokens=list(SPECIAL_TOKENS),
        bert_tokenizer_params={"lower_case": lowercase})
    load_vocabulary(tokens)  # validates: specials present, no duplicates
    directory = os.path.dirname(os.path.abspath(output_path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False,
                                     suffix=".tmp") as f:
        f.write("\n".join(tokens) + "\n")
    os.replace(f.name, output_path)
    return tokens
