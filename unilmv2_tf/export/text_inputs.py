"""In-graph checks of the text a serving signature receives."""

import tensorflow as tf


def checked_utf8(text):
    """`text` (string `[batch]`) unchanged, after an in-graph check that every entry is valid
    UTF-8; an invalid entry fails the call with InvalidArgument naming its index (TF Serving
    answers that with HTTP 400 / gRPC INVALID_ARGUMENT)."""
    # Dropping invalid bytes changes exactly the invalid strings, so equality is validity.
    valid = tf.equal(tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="ignore"), text)
    check = tf.debugging.Assert(tf.reduce_all(valid), [
        "input 'text' is not valid UTF-8 at batch index", tf.where(~valid)[:, 0]], summarize=5)
    with tf.control_dependencies([check]):
        return tf.identity(text)
