"""tf.data pipeline of seq2seq fine-tuning batches from (source, target) pairs."""

import tensorflow as tf


def make_seq2seq_dataset(records, tokenizer, packer, batch_size, seed=0, shuffle=True,
                         repeat=True, source_key="source", target_key="target",
                         drop_remainder=True):
    """Batches of `Seq2SeqPacker` features from records (`read_jsonl_records` dicts).

    Tokenization, truncation, pseudo-mask corruption and word drop run in the graph. Each batch
    gets its own stateless seed from `seed` and its index, so a run is reproducible and a
    resumed run (`dataset.skip(steps)`) sees the same batches as an uninterrupted one.

    >>> from unilmv2_tf import assets
    >>> from unilmv2_tf.preprocessing import Seq2SeqPacker, WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(assets.BERT_UNCASED_VOCAB)
    >>> packer = Seq2SeqPacker.for_tokenizer(tokenizer, 16, 8)
    >>> data = make_seq2seq_dataset([{"source": "a long text", "target": "short"}], tokenizer,
    ...                             packer, batch_size=1)
    >>> next(iter(data))["token_ids"].shape
    TensorShape([1, 32])
    """
    if not records:
        raise ValueError("No seq2seq records were given.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    sources = tf.constant([r[source_key] for r in records])
    targets = tf.constant([r[target_key] for r in records])
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        dataset = dataset.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder).enumerate()

    def pack(index, batch):
        source, target = batch
        return packer(tokenizer.tokenize(source), tokenizer.tokenize(target),
                      tf.stack([tf.cast(seed, tf.int64), index]))

    return dataset.map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
