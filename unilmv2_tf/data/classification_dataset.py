"""tf.data pipeline of `(features, label)` batches for `Classifier`."""

import tensorflow as tf


def label_ids(records, labels):
    """Class indices of `records` under the ordered `labels`; an unknown label is an error."""
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({r["label"] for r in records} - set(index))
    if unknown:
        raise ValueError(f"Labels not seen in training: {unknown[:10]}")
    return [index[r["label"]] for r in records]


def make_classification_dataset(records, tokenizer, packer, labels=None, batch_size=32,
                                seed=0, shuffle=True, repeat=True, drop_remainder=True):
    """Batches of `(TextPairPacker features, label)` from `read_classification_file` records.

    `labels` is the ordered class list (integer targets); `None` means regression (float
    targets parsed from the label strings). Tokenization and packing run in the graph.

    >>> from unilmv2_tf.preprocessing import TextPairPacker, WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer()
    >>> data = make_classification_dataset(
    ...     [{"text": "a game", "label": "games"}], tokenizer,
    ...     TextPairPacker.for_tokenizer(tokenizer, 8), labels=["games"], batch_size=1)
    >>> features, label = next(iter(data))
    >>> features["token_ids"].shape, int(label[0])
    (TensorShape([1, 8]), 0)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if labels is None:
        try:
            targets = [float(r["label"]) for r in records]
        except ValueError as e:
            raise ValueError(f"Regression labels must be numbers: {e}") from None
    else:
        targets = label_ids(records, labels)
    columns = {"text": [r["text"] for r in records]}
    if "text_pair" in records[0]:
        columns["text_pair"] = [r["text_pair"] for r in records]
    dataset = tf.data.Dataset.from_tensor_slices((columns, targets))
    if shuffle:
        dataset = dataset.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()

    def pack(batch, target):
        second = tokenizer.tokenize(batch["text_pair"]) if "text_pair" in batch else None
        return packer(tokenizer.tokenize(batch["text"]), second), target

    return (dataset.batch(batch_size, drop_remainder=drop_remainder)
            .map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
