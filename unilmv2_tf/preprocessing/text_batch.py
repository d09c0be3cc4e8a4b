"""The preprocessor layers' text inputs as a batch, and their outputs back to one example."""

import tensorflow as tf


def as_text_batch(*texts):
    """`(batches, unbatched)`: each of `texts` (a string, or strings `[N]`) as a string tensor
    `[N]`, and whether they came as single strings (as `ds.map(preprocessor)` hands over
    unbatched elements).

    >>> batches, unbatched = as_text_batch("a", "b")
    >>> [b.shape.as_list() for b in batches], unbatched
    ([[1], [1]], True)
    """
    tensors = [tf.convert_to_tensor(text, tf.string) for text in texts]
    unbatched = tensors[0].shape.rank == 0
    return [t[None] if unbatched else t for t in tensors], unbatched


def first_row(values):
    """One example's outputs (`{key: value[0]}`) from a batch of one; `None` stays `None`."""
    return None if values is None else {key: value[0] for key, value in values.items()}
