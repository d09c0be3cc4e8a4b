"""`GeneratorServingModule`: a `Seq2SeqLM` behind a text-in / text-out `generate` signature."""

import tensorflow as tf

from unilmv2_tf.export.encoder_module import EncoderServingModule
from unilmv2_tf.export.text_inputs import checked_utf8
from unilmv2_tf.generation import beam_search, greedy_search


class GeneratorServingModule(tf.Module):
    """A `tf.Module` whose `generate` signature decodes with a key/value cache in the graph.

    `generate`: `text` string `[batch]` -> `generated_text` string `[batch]`, `scores` float32
    `[batch]` (log-probability, length-normalised under beam search), `token_ids` int32
    `[batch, max_length]` (pad after the end). Tokenization, source packing (truncated to the
    model's `max_source_length`), greedy or beam search and detokenization all run in the graph.

    The module also carries an `EncoderServingModule` over the same backbone (`encode`,
    `encode_ids`, with the source length as sequence length).

    The search computes under `dtype_policy` (see `Seq2SeqLM.generate`; "auto" is decided on
    the machine that builds the module: float32 there when it has no GPU or TPU, which suits
    a CPU TF Serving); the `encode` signatures keep the model's own policy.

    `beam_size` and `ngram_size` are fixed here (they set shapes). `max_length`, `min_length`
    and `length_penalty` are also scalar inputs of the signature whose defaults are the values
    given here (recorded as SignatureDef defaults, so requests may leave them out); a request
    may lower `max_length`, never raise it past the export's.

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> from unilmv2_tf.models import Seq2SeqLM
    >>> from unilmv2_tf.preprocessing import WordPieceTokenizer
    >>> model = Seq2SeqLM(UniLMv2Backbone.from_size("tiny"), max_source_length=16,
    ...                   max_target_length=8, tokenizer=WordPieceTokenizer())
    >>> module = GeneratorServingModule(model, beam_size=2)
    >>> module.generate(tf.constant(["Call me Ishmael."]))["token_ids"].shape
    TensorShape([1, 8])
    """

    def __init__(self, model, beam_size=1, length_penalty=0.0, min_length=1, ngram_size=3,
                 ngram_ignore_ids=(), max_length=None, dtype_policy="auto", name=None):
        super().__init__(name=name)
        if model.tokenizer is None:
            raise ValueError("The model needs a tokenizer for text in / text out "
                             "(Seq2SeqLM.load sets it from the model folder's vocab.txt).")
        max_length = model.target_slots(max_length)
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {beam_size}.")
        if length_penalty < 0 or min_length < 0 or ngram_size < 0:
            raise ValueError("length_penalty, min_length and ngram_size must be >= 0.")
        # Track the weights the graph uses, not the Keras model (its Python-side caches
        # are not SavedModel material).
        self.backbone, self.lm_head = model.backbone, model.lm_head
        self.tokenizer = model.tokenizer
        self.sep_id, self.pad_id = model.sep_id, model.pad_id
        self.encoder = EncoderServingModule(model.backbone, model.tokenizer,
                                            model.max_source_length)
        self.beam_size = beam_size
        self.ngram_size = ngram_size
        self.ngram_ignore_ids = tuple(int(i) for i in ngram_ignore_ids)
        self._packer = model.packer()
        self._decoder = model.decoder(max_length)
        precision = model.decoding_precision(dtype_policy)

        def generate(text, max_length=tf.constant(max_length, tf.int32),
                     min_length=tf.constant(min_length, tf.int32),
                     length_penalty=tf.constant(length_penalty, tf.float32)):
            with precision():  # entered while tracing: the graph keeps the precision
                return self._generate(text, max_length, min_length, length_penalty)

        self.generate = tf.function(generate, input_signature=[
            tf.TensorSpec([None], tf.string, name="text"),
            tf.TensorSpec([], tf.int32, name="max_length"),
            tf.TensorSpec([], tf.int32, name="min_length"),
            tf.TensorSpec([], tf.float32, name="length_penalty")])

    def signatures(self):
        """The signature map for `tf.saved_model.save` (`serving_default` is `generate`)."""
        return {"generate": self.generate, **self.encoder.signatures(),
                "serving_default": self.generate}

    def _generate(self, text, max_length, min_length, length_penalty):
        checks = [
            tf.debugging.assert_greater_equal(max_length, 1, message="max_length must be >= 1"),
            tf.debugging.assert_less_equal(
                max_length, self._decoder.max_length,
                message=f"max_length must be <= {self._decoder.max_length} (the export's)"),
            tf.debugging.assert_non_negative(min_length, message="min_length must be >= 0"),
            tf.debugging.assert_non_negative(length_penalty,
                                             message="length_penalty must be >= 0")]
        with tf.control_dependencies(checks):
            source = self._packer.pack_source(self.tokenizer.tokenize(checked_utf8(text)))
        options = {"min_length": min_length, "ngram_size": self.ngram_size,
                   "ngram_ignore_ids": self.ngram_ignore_ids, "max_length": max_length}
        if self.beam_size == 1:
            out = greedy_search(self._decoder, source, self.sep_id,
                                pad_id=self.pad_id, **options)
        else:
            out = beam_search(self._decoder, source, self.sep_id,
                              beam_size=self.beam_size, length_penalty=length_penalty,
                              **options)
        generated = tf.sequence_mask(out["lengths"], self._decoder.max_length)
        token_ids = tf.where(generated, out["token_ids"], self.pad_id)
        text = self.tokenizer.detokenize(tf.ragged.boolean_mask(token_ids, generated))
        return {"generated_text": text, "scores": out["scores"], "token_ids": token_ids}
