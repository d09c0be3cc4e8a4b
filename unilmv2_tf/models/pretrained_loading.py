"""Loading a pretrained backbone (and its LM head) from what `unilmv2` commands write."""

import os

import keras
import tensorflow as tf

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.models.pmlm_pretrainer import PMLMPretrainer


def load_pretrained(path):
    """`(backbone, lm_head_weights or None)` from a `unilmv2 pretrain` / `unilmv2 convert`
    output folder (config.json + checkpoints/: the newest checkpoint, LM head included; or just
    backbone.keras when the source had no head) or a backbone `.keras` file (no head).

    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".keras")
    >>> UniLMv2Backbone.from_size("tiny", vocab_size=50).save(path)
    >>> backbone, head = load_pretrained(path)
    >>> backbone.config.vocab_size, head
    (50, None)
    """
    if os.path.isdir(path):
        folder = ModelFolder(path)
        checkpoint = tf.train.latest_checkpoint(folder.file(folder.CHECKPOINTS))
        if checkpoint is None and folder.has(folder.BACKBONE_MODEL):
            return load_pretrained(folder.file(folder.BACKBONE_MODEL))
        if checkpoint is None or not folder.has(folder.CONFIG):
            raise ValueError(f"{path} is not a `unilmv2 pretrain` / `unilmv2 convert` output "
                             f"(needs config.json and checkpoints/, or backbone.keras).")
        # Uncompiled: a keras-hub task compiles on construction, and its fresh optimizer would
        # be matched against the optimizer state in the checkpoint.
        pretrainer = PMLMPretrainer(UniLMv2Backbone(folder.config()), compile=False)
        tf.train.Checkpoint(model=pretrainer).restore(checkpoint).expect_partial()
        return pretrainer.backbone, pretrainer.lm_head.get_weights()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Pretrained model not found: {path}")
    backbone = keras.saving.load_model(path, compile=False)
    if not isinstance(backbone, UniLMv2Backbone):
        raise ValueError(f"{path} holds a {type(backbone).__name__}, not a UniLMv2Backbone.")
    return backbone, None
