"""Where a training command's model starts: existing weights (--init_checkpoint) or a random
config, and the vocabulary that goes with them. Shared by `pretrain` and every `finetune-*`."""

import os

from absl import flags

from unilmv2_tf import assets

FLAGS = flags.FLAGS


def define_vocab_file_flag():
    flags.DEFINE_string("vocab_file", assets.BERT_UNCASED_VOCAB,
                        "WordPiece vocabulary file. With --init_checkpoint the vocab.txt beside "
                        "it is used, and a --vocab_file that differs from it is refused.")


def _tokens(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def vocabulary_file():
    """The vocabulary to train with: the `vocab.txt` that `pretrain`, `convert` and the
    fine-tuning commands leave beside the model --init_checkpoint names (in its folder, or
    beside its `.keras` file) when there is one, else --vocab_file. A --vocab_file given
    explicitly that holds other tokens than the checkpoint's is refused: ids would silently
    mean other word pieces."""
    if not FLAGS.init_checkpoint:
        return FLAGS.vocab_file
    from unilmv2_tf.model_folder import ModelFolder

    path = FLAGS.init_checkpoint
    own = ModelFolder(path if os.path.isdir(path) else os.path.dirname(path)).file(
        ModelFolder.VOCABULARY)
    if not os.path.isfile(own):
        return FLAGS.vocab_file
    if FLAGS["vocab_file"].present and _tokens(FLAGS.vocab_file) != _tokens(own):
        raise ValueError(f"--vocab_file {FLAGS.vocab_file} differs from {own}, the vocabulary "
                         f"of --init_checkpoint {path}; leave --vocab_file out to use the "
                         f"checkpoint's.")
    return own


def start_backbone(tokenizer, config=None):
    """`(backbone, lm_head_weights or None)` under --dtype_policy: the model --init_checkpoint
    names (a `unilmv2 pretrain` / `convert` output folder or a backbone `.keras` file; its LM
    head too when it has one), else a random backbone of `config` (what `pretrain`'s
    --config_file gave) or of --preset with the tokenizer's vocabulary size. Its vocabulary
    must match `tokenizer`'s. Call it inside the strategy's scope."""
    import keras

    from unilmv2_tf import UniLMv2Backbone, UniLMv2Config
    from unilmv2_tf.cli.training_flags import in_dtype_policy
    from unilmv2_tf.models import load_pretrained

    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.init_checkpoint:
        backbone, head_weights = load_pretrained(FLAGS.init_checkpoint)
        source = FLAGS.init_checkpoint
    else:
        source = f"--config_file {FLAGS.config_file}" if config else f"--preset={FLAGS.preset}"
        config = config or UniLMv2Config.from_preset(FLAGS.preset,
                                                     vocab_size=tokenizer.vocabulary_size)
        backbone, head_weights = UniLMv2Backbone(config, dtype=FLAGS.dtype_policy), None
    if backbone.config.vocab_size != tokenizer.vocabulary_size:
        raise ValueError(f"{source} has vocab_size {backbone.config.vocab_size} but the "
                         f"vocabulary has {tokenizer.vocabulary_size} tokens.")
    return in_dtype_policy(backbone), head_weights
