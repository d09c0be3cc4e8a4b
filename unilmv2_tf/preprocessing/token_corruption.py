"""The BERT-style 80/10/10 corruption shared by the PMLM masker and the seq2seq packer."""

import tensorflow as tf


def corrupt_tokens(token_ids, seed, vocabulary_size, mask_id, mask_token_rate=0.8,
                   random_token_rate=0.1):
    """Replaces each id by `mask_id` (`mask_token_rate`), a uniform random id
    (`random_token_rate`) or keeps it (the rest), with a stateless int `[2]` seed.

    >>> corrupt_tokens(tf.constant([7, 8]), [0, 1], 100, 103, mask_token_rate=1.0).numpy()
    array([103, 103], dtype=int32)
    """
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    seed = tf.cast(seed, tf.int64)
    u = tf.random.stateless_uniform(tf.shape(token_ids), seed)
    random_ids = tf.random.stateless_uniform(
        tf.shape(token_ids), tf.random.experimental.stateless_fold_in(seed, 1), 0,
        vocabulary_size, dtype=tf.int32)
    replaced = tf.where(u < mask_token_rate + random_token_rate, random_ids, token_ids)
    return tf.where(u < mask_token_rate, mask_id, replaced)
