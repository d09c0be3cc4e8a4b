"""`UniLMv2Tokenizer`: the WordPiece tokenizer as a keras-hub tokenizer (preset asset, layer)."""

import keras
import tensorflow as tf
from keras_hub.tokenizers import WordPieceTokenizer as KerasHubWordPieceTokenizer

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.preprocessing.tokenizer import WordPieceTokenizer, load_vocabulary


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2Tokenizer(KerasHubWordPieceTokenizer):
    """The UniLMv2 WordPiece tokenizer on keras-hub's tokenizer base.

    keras-hub gives it the preset machinery (`save_to_preset` writes the vocabulary as
    `assets/tokenizer/vocabulary.txt`, `keras_hub.tokenizers.Tokenizer.from_preset(dir)`
    returns this class) and the special-token attributes (`cls_token_id`, `sep_token_id`,
    `pad_token_id`, `mask_token_id`, `start_token_id`, `end_token_id`), all read from the
    vocabulary. The pieces themselves come from this package's `WordPieceTokenizer`
    (`tensorflow_text.FastBertTokenizer`), so ids are those every `unilmv2` command and
    exported SavedModel produces: keras-hub's own splitter differs from BERT's on some
    punctuation and accents.

    Args:
        vocabulary: a path to a one-token-per-line file or a token list (with `[PAD]`,
            `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`); `None` until a preset's assets load.
        lowercase: lower-case and strip accents first (uncased vocabularies).

    Example:
    >>> from unilmv2_tf import assets
    >>> tokenizer = UniLMv2Tokenizer(assets.BERT_UNCASED_VOCAB)
    >>> tokenizer("Hello world!").numpy().tolist()
    [7592, 2088, 999]
    >>> tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id
    (101, 102, 103)
    >>> tokenizer.detokenize([[7592, 2088, 999]]).numpy().tolist()
    [b'hello world !']
    """

    backbone_cls = UniLMv2Backbone

    def __init__(self, vocabulary=None, lowercase=True, **kwargs):
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[PAD]", "pad_token")
        self._add_special_token("[MASK]", "mask_token")
        self._add_special_token("[UNK]", "unk_token")
        self._add_special_token("[CLS]", "start_token")
        self._add_special_token("[SEP]", "end_token")
        self._wordpiece = None
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)

    def set_vocabulary(self, vocabulary):
        if vocabulary is not None:
            vocabulary = load_vocabulary(vocabulary)  # clear errors for a bad file
        super().set_vocabulary(vocabulary)
        self._wordpiece = (None if vocabulary is None
                           else WordPieceTokenizer(vocabulary, lowercase=self.lowercase))

    @property
    def wordpiece(self):
        """The package's `WordPieceTokenizer` over the same vocabulary (what the data
        pipelines and packers take)."""
        self._check_vocabulary()
        return self._wordpiece

    def tokenize(self, inputs):
        """A string -> int32 ids `[None]`; strings `[N]` -> ragged `[N, None]` (dense
        `[N, sequence_length]`, padded with `[PAD]`, when `sequence_length` is set)."""
        inputs = tf.convert_to_tensor(inputs, tf.string)
        scalar = inputs.shape.rank == 0
        pieces = self.wordpiece.tokenize(inputs[None] if scalar else inputs)
        if self.sequence_length:
            pieces = pieces.to_tensor(self.pad_token_id, shape=[None, self.sequence_length])
        return pieces[0] if scalar else pieces

    def detokenize(self, inputs):
        """Ids `[N, T]` (dense, ragged or nested lists) -> strings `[N]`, special tokens
        dropped; a single id list -> one string."""
        if not isinstance(inputs, tf.RaggedTensor):
            inputs = tf.ragged.constant(inputs, tf.int32) if isinstance(
                inputs, (list, tuple)) else tf.convert_to_tensor(inputs, tf.int32)
        if inputs.shape.rank == 1:
            return self.wordpiece.detokenize(inputs[None])[0]
        return self.wordpiece.detokenize(inputs)
