"""The tf.data pipeline from raw text files to batched PMLM pretraining features."""

import tensorflow as tf

from unilmv2_tf.data.text_corpus import check_corpus_files, read_documents
from unilmv2_tf.preprocessing.segment_pair_packer import SegmentPairPacker


def make_pretraining_dataset(files, tokenizer, masker, sequence_length, batch_size, seed=0,
                             shuffle=True, repeat=True, shuffle_buffer=1000,
                             num_input_pipelines=1, input_pipeline_id=0):
    """Text files -> batches of PMLM features (see `PMLMMasker` for the keys and shapes).

    Files are one paragraph per line with a blank line between documents (`.gz` allowed).
    With several input pipelines (workers), files are sharded by file when there are at least
    as many files as pipelines, otherwise by document. Every random choice (document order,
    S1/S2 split, masking) derives from `seed` and the example's index, so a run is reproducible.
    Batches have a static shape (`drop_remainder=True`).
    """
    files = check_corpus_files(files)
    packer = SegmentPairPacker(sequence_length, tokenizer.cls_id, tokenizer.sep_id,
                               tokenizer.pad_id, tokenizer.continuation_mask())
    documents = tf.data.Dataset.from_tensor_slices(files)
    shard_files = len(files) >= num_input_pipelines
    if shard_files:
        documents = documents.shard(num_input_pipelines, input_pipeline_id)
    documents = documents.interleave(
        lambda path: tf.data.Dataset.from_generator(
            read_documents, args=(path,),
            output_signature=tf.TensorSpec([None], tf.string)),
        cycle_length=min(len(files), 4), deterministic=True)
    if not shard_files:
        documents = documents.shard(num_input_pipelines, input_pipeline_id)
    if shuffle:
        documents = documents.shuffle(shuffle_buffer, seed=seed)
    if repeat:
        documents = documents.repeat()
    chunks = documents.map(tokenizer.tokenize).flat_map(
        lambda paragraphs: tf.data.Dataset.from_tensor_slices(
            packer.split_document(paragraphs)))

    def to_example(index, chunk):
        pieces, paragraph_starts = chunk
        example_seed = tf.stack([tf.cast(seed, tf.int64), index])
        pack_seed, mask_seed = tf.unstack(
            tf.random.experimental.stateless_split(example_seed, 2))
        packed = packer.pack(pieces, paragraph_starts, pack_seed)
        return masker(packed["token_ids"], packed["segment_ids"], packed["padding_mask"],
                      mask_seed)

    examples = chunks.enumerate().map(to_example, num_parallel_calls=tf.data.AUTOTUNE,
                                      deterministic=True)
    if shuffle:
        examples = examples.shuffle(shuffle_buffer, seed=seed + 1)
    return examples.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
