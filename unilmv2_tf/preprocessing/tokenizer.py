"""In-graph WordPiece tokenization over a BERT-style vocabulary (tensorflow-text)."""

import tensorflow as tf
import tensorflow_text as tf_text

from unilmv2_tf import assets

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def load_vocabulary(vocabulary):
    """Returns the token list of `vocabulary` (a path to a one-token-per-line file, or a list)."""
    if isinstance(vocabulary, (list, tuple)):
        tokens, source = list(vocabulary), "the vocabulary list"
    else:
        source = str(vocabulary)
        try:
            with open(source, encoding="utf-8") as f:
                tokens = [line.rstrip("\r\n") for line in f]
        except FileNotFoundError:
            raise FileNotFoundError(f"Vocabulary file not found: {source}") from None
        except UnicodeDecodeError as e:
            raise ValueError(f"Vocabulary file {source} is not valid UTF-8: {e}") from None
        while tokens and not tokens[-1]:
            tokens.pop()
    if not tokens:
        raise ValueError(f"{source} is empty.")
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise ValueError(f"{source} lacks the special tokens {missing}; a UniLMv2 vocabulary "
                         f"needs all of {list(SPECIAL_TOKENS)}.")
    seen = {}
    for index, token in enumerate(tokens):
        if not token:
            raise ValueError(f"{source}: entry {index} is an empty token.")
        if token in seen:
            raise ValueError(f"{source}: token {token!r} appears twice (ids {seen[token]} and "
                             f"{index}).")
        seen[token] = index
    return tokens


class WordPieceTokenizer(tf.Module):
    """WordPiece tokenizer built on `tensorflow_text.FastBertTokenizer`.

    Runs as TF ops, so it works inside `tf.data` and inside exported SavedModels. The special
    token ids come from the vocabulary (`pad_id`, `unk_id`, `cls_id`, `sep_id`, `mask_id`);
    with the bundled BERT uncased vocabulary they are 0, 100, 101, 102, 103.

    Example:
    >>> tokenizer = WordPieceTokenizer()
    >>> tokenizer.tokenize(["Hello world!"]).to_list()
    [[7592, 2088, 999]]
    >>> tokenizer.detokenize([[7592, 2088, 999]]).numpy().tolist()
    [b'hello world !']
    """

    def __init__(self, vocabulary=None, lowercase=True, name=None):
        super().__init__(name=name)
        if vocabulary is None:
            vocabulary = assets.BERT_UNCASED_VOCAB
        self.vocabulary = load_vocabulary(vocabulary)
        self.vocabulary_file = None if isinstance(vocabulary, (list, tuple)) else str(vocabulary)
        self.lowercase = lowercase
        self._tokenizer = tf_text.FastBertTokenizer(
            vocab=self.vocabulary, token_out_type=tf.int32, unknown_token="[UNK]",
            lower_case_nfd_strip_accents=lowercase, support_detokenization=True)
        ids = {token: i for i, token in enumerate(self.vocabulary)}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            ids[t] for t in SPECIAL_TOKENS)
        self.special_ids = tuple(ids[t] for t in SPECIAL_TOKENS)
        self._dropped_ids = (self.pad_id, self.cls_id, self.sep_id, self.mask_id)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def continuation_mask(self):
        """Bool `[vocabulary_size]`: True for `##` word-piece continuations."""
        return tf.constant([t.startswith("##") for t in self.vocabulary])

    def tokenize(self, texts):
        """`texts` (string `[N]`) -> int32 RaggedTensor `[N, None]` of word-piece ids."""
        return self._tokenizer.tokenize(tf.convert_to_tensor(texts, tf.string))

    def tokenize_with_offsets(self, texts):
        """Ids as `tokenize`, plus each piece's start / end **byte** offsets in the input."""
        return self._tokenizer.tokenize_with_offsets(tf.convert_to_tensor(texts, tf.string))

    def detokenize(self, token_ids):
        """Ids `[N, T]` (dense or ragged) -> strings `[N]`; pad/CLS/SEP/MASK ids are dropped."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32) if not isinstance(
            token_ids, tf.RaggedTensor) else token_ids
        if not isinstance(token_ids, tf.RaggedTensor):
            token_ids = tf.RaggedTensor.from_tensor(token_ids)
        keep = tf.ragged.map_flat_values(
            lambda v: tf.reduce_all(tf.not_equal(v[:, None], list(self._dropped_ids)), -1),
            token_ids)
        return self._tokenizer.detokenize(tf.ragged.boolean_mask(token_ids, keep))
