"""Export of the encoder as a SavedModel with text-in `encode` signatures."""

import os

import keras
import tensorflow as tf

from unilmv2_tf.export.saved_model_writer import write_versioned


def export_encoder(backbone, tokenizer, export_base, sequence_length, version=None):
    """Writes `export_base/<version>/` with the signatures

    - `encode` (= `serving_default`): `text` string `[batch]` -> `sequence_output`
      `[batch, sequence_length, hidden]`, `pooled_output` (the `[CLS]` vector), `token_ids`,
      `padding_mask`. Tokenization (tensorflow-text) runs in the graph; longer texts are
      truncated to `sequence_length - 2` word pieces.
    - `encode_ids`: `token_ids`, `segment_ids`, `padding_mask` int32 `[batch, length]` ->
      `sequence_output`, `pooled_output`, for clients that tokenize themselves.

    The tokenizer's vocabulary is compiled into the graph; a copy is written to
    `assets/vocab.txt` for clients that tokenize themselves. Load the result with
    `tf.saved_model.load` after `import unilmv2_tf` (which registers the TF Text ops).
    Returns the version folder.
    """
    if sequence_length > backbone.config.max_position_embeddings:
        raise ValueError(f"sequence_length {sequence_length} exceeds the model's "
                         f"{backbone.config.max_position_embeddings} positions.")

    def run(token_ids, segment_ids, padding_mask):
        length = tf.shape(token_ids)[1]
        positions = tf.broadcast_to(tf.range(length)[None], tf.shape(token_ids))
        outputs = backbone({"token_ids": token_ids, "segment_ids": segment_ids,
                            "position_ids": positions * padding_mask,
                            "padding_mask": padding_mask,
                            "step_weights": tf.zeros_like(token_ids)}, training=False)
        sequence = outputs["sequence_output"]
        return {"sequence_output": sequence, "pooled_output": sequence[:, 0]}

    def encode(text):
        pieces = tokenizer.tokenize(text)[:, : sequence_length - 2]
        batch = pieces.nrows()
        ids = tf.concat([tf.fill([batch, 1], tokenizer.cls_id), pieces,
                         tf.fill([batch, 1], tokenizer.sep_id)], axis=1)
        token_ids = ids.to_tensor(default_value=tokenizer.pad_id,
                                  shape=[None, sequence_length])
        padding_mask = tf.cast(tf.sequence_mask(ids.row_lengths(), sequence_length), tf.int32)
        outputs = run(token_ids, tf.zeros_like(token_ids), padding_mask)
        return {**outputs, "token_ids": token_ids, "padding_mask": padding_mask}

    def write(path):
        archive = keras.export.ExportArchive()
        archive.track(backbone)
        archive.track(tokenizer)
        archive.add_endpoint("encode", encode, input_signature=[
            tf.TensorSpec([None], tf.string, name="text")])
        archive.add_endpoint("encode_ids", run, input_signature=[
            tf.TensorSpec([None, None], tf.int32, name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")])
        archive.write_out(path, verbose=False)
        os.makedirs(os.path.join(path, "assets"), exist_ok=True)
        with open(os.path.join(path, "assets", "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(tokenizer.vocabulary) + "\n")

    return write_versioned(write, export_base, version)
