"""`Seq2SeqLM`: s2s fine-tuning with pseudo masks, and cached greedy / beam-search generation."""

import functools
import math

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.generation import (KVCacheDecoder, beam_search, computing_in, decoding_policy,
                                   greedy_search)
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.models.task_model import TaskModel
from unilmv2_tf.preprocessing.seq2seq_lm_preprocessor import UniLMv2Seq2SeqLMPreprocessor
from unilmv2_tf.preprocessing.seq2seq_packer import Seq2SeqPacker
from unilmv2_tf.preprocessing.tokenizer import WordPieceTokenizer

FEATURE_KEYS = ("token_ids", "segment_ids", "position_ids", "padding_mask", "step_weights")


def label_smoothed_cross_entropy(labels, logits, weights, smoothing, pad_id=0):
    """s2s-ft's `LabelSmoothingLoss`, in float32: `KL(q || softmax(logits))` per position with
    `q` = `1 - smoothing` on the label and `smoothing / (V - 2)` on every other id except
    `pad_id`. Returns weighted sums over the positions: `(loss_sum, nll_sum, correct_sum,
    weight_sum)` (nll and correct unsmoothed); divide by `weight_sum` for means."""
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    labels = tf.cast(labels, tf.int32)
    weights = tf.cast(weights, tf.float32)
    gold = tf.gather(log_probs, labels, batch_dims=2)
    nll = -gold
    if smoothing > 0:
        vocab = log_probs.shape[-1]
        other = smoothing / (vocab - 2)
        rest = tf.reduce_sum(log_probs, -1) - gold - log_probs[..., pad_id]
        entropy = (1.0 - smoothing) * math.log(1.0 - smoothing) + smoothing * math.log(other)
        losses = entropy - (1.0 - smoothing) * gold - other * rest
    else:
        losses = nll
    correct = tf.cast(tf.equal(tf.argmax(log_probs, -1, output_type=tf.int32), labels),
                      tf.float32)
    return (tf.reduce_sum(losses * weights), tf.reduce_sum(nll * weights),
            tf.reduce_sum(correct * weights), tf.reduce_sum(weights))


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class Seq2SeqLM(TaskModel, keras_hub.models.Seq2SeqLM):
    """UniLMv2 sequence-to-sequence model: one backbone, pseudo masks, a tied LM head.

    Training inputs are the features of `Seq2SeqPacker` (labels inside, so `fit` takes the
    dataset alone): `[source | target | pseudo masks]`; the pseudo mask at target position j
    predicts target token j, with label-smoothed cross-entropy (default 0.1, pad excluded) over
    the real target tokens. Metrics: `loss`, `nll` (unsmoothed), `token_accuracy`.

    `generate` decodes with a key/value cache (greedy, or beam search with length penalty,
    minimum length and n-gram blocking) inside one `tf.function`, optionally XLA-compiled.
    It is this package's own search, not keras-hub's samplers, which have no length penalty,
    n-gram blocking or the early-stop bound of beam search; keras-hub's samplers that draw
    tokens (`"top_k"`, `"top_p"`, `"random"` or instances) pick the token at each step of
    that search when given to `compile(sampler=...)` or `generate(sampler=...)`.

    A keras-hub `Seq2SeqLM`: with a `UniLMv2Seq2SeqLMPreprocessor` as `preprocessor`, `fit`
    takes `{"encoder_text", "decoder_text"}` strings and `generate` takes text with no
    other argument; `save_to_preset(dir)` writes model, tokenizer and preprocessor, and
    `Seq2SeqLM.from_preset(dir)` or `keras_hub.models.Seq2SeqLM.from_preset(dir)` loads it.

    Args:
        backbone: a `UniLMv2Backbone`; its position table must hold
            `max_source_length + max_target_length` rows (`backbone.with_max_positions`).
        max_source_length, max_target_length: `S` and `T` of `Seq2SeqPacker` (special tokens
            included); `T` is also the generation limit.
        label_smoothing: epsilon of the loss.
        tokenizer: optional `WordPieceTokenizer` for text in / text out (not serialized;
            the preprocessor's tokenizer when there is a preprocessor).
        cls_id, sep_id, mask_id, pad_id: special ids; by default the tokenizer's (a given id
            that disagrees with it is an error), else BERT uncased's 101, 102, 103, 0.
        preprocessor: optional `UniLMv2Seq2SeqLMPreprocessor` (serialized with the model).

    Example:
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=200)
    >>> model = Seq2SeqLM(backbone, max_source_length=16, max_target_length=8)
    >>> outputs = model.generate([[7, 8, 9]], beam_size=2)
    >>> len(outputs), len(outputs[0]) <= 8
    (1, True)
    """

    backbone_cls = UniLMv2Backbone
    preprocessor_cls = UniLMv2Seq2SeqLMPreprocessor

    def __init__(self, backbone, max_source_length=464, max_target_length=48,
                 label_smoothing=0.1, tokenizer=None, cls_id=None, sep_id=None, mask_id=None,
                 pad_id=None, target_segment_id=1, preprocessor=None, **kwargs):
        needed = max_source_length + max_target_length
        if needed > backbone.config.max_position_embeddings:
            raise ValueError(
                f"max_source_length + max_target_length = {needed} exceeds the backbone's "
                f"{backbone.config.max_position_embeddings} positions; grow the table with "
                f"backbone.with_max_positions({needed}).")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        if tokenizer is None and preprocessor is not None:
            tokenizer = preprocessor.tokenizer
        super().__init__(backbone, preprocessor=preprocessor, **kwargs)
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.label_smoothing = label_smoothing
        ids = special_ids(tokenizer, cls_id=cls_id, sep_id=sep_id, mask_id=mask_id,
                          pad_id=pad_id)
        self.cls_id, self.sep_id, self.mask_id, self.pad_id = (
            ids["cls_id"], ids["sep_id"], ids["mask_id"], ids["pad_id"])
        self.target_segment_id = target_segment_id
        self.lm_head = self.tied_lm_head()
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.accuracy_tracker = keras.metrics.Mean(name="token_accuracy")
        self._tokenizer = [tokenizer]  # a list keeps the tf.Module out of Keras tracking
        self._search_functions = {}
        self._named_samplers = {}
        self.built = True  # every weight exists (keras-hub's `Task.build` builds nothing)

    def compile(self, optimizer="auto", sampler="greedy", **kwargs):
        """`TaskModel.compile`, plus keras-hub's `sampler`: how `generate` picks tokens
        (`generate(sampler=...)` overrides it for one call). "greedy" (the default here;
        keras-hub's `CausalLM` defaults to "top_k"); "beam" or a
        `keras_hub.samplers.BeamSampler` for beam search with its `num_beams`; or a sampler
        that draws, by name ("top_k", "top_p", "random") or as an instance such as
        `keras_hub.samplers.TopKSampler(k=10, temperature=0.7, seed=0)`."""
        self.sampler = keras_hub_sampler(sampler)
        super().compile(optimizer, **kwargs)

    @classmethod
    def load(cls, model_dir):
        """The model `unilmv2 finetune-seq2seq` saved in `model_dir`, with its tokenizer."""
        folder = ModelFolder(model_dir)
        if not folder.has(folder.SEQ2SEQ_MODEL):
            raise FileNotFoundError(f"No {folder.SEQ2SEQ_MODEL} in {model_dir} (train it with "
                                    f"`unilmv2 finetune-seq2seq --model_dir={model_dir}`).")
        model = cls.load_file(folder.file(folder.SEQ2SEQ_MODEL))
        model.tokenizer = WordPieceTokenizer(folder.file(folder.VOCABULARY))
        return model

    @property
    def tokenizer(self):
        return self._tokenizer[0]

    @tokenizer.setter
    def tokenizer(self, tokenizer):
        self._tokenizer[0] = tokenizer

    def call(self, inputs, training=False):
        features = {key: inputs[key] for key in FEATURE_KEYS}
        sequence = self.backbone(features, training=training)["sequence_output"]
        return self.lm_head(sequence[:, -self.max_target_length:])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss_sum, nll_sum, correct_sum, weight_sum = label_smoothed_cross_entropy(
            x["labels"], y_pred, x["label_weights"], self.label_smoothing, self.pad_id)
        count = tf.maximum(weight_sum, 1.0)
        self.nll_tracker.update_state(nll_sum / count)
        self.accuracy_tracker.update_state(correct_sum / count)
        return self.global_mean(loss_sum, weight_sum)

    def packer(self, **options):
        """The `Seq2SeqPacker` matching this model's lengths and special ids."""
        return Seq2SeqPacker(self.max_source_length, self.max_target_length, self.cls_id,
                             self.sep_id, self.mask_id, self.backbone.config.vocab_size,
                             pad_id=self.pad_id, target_segment_id=self.target_segment_id,
                             **options)

    def target_slots(self, max_length=None):
        """`max_length` checked against `max_target_length` (its default)."""
        max_length = max_length or self.max_target_length
        if not 1 <= max_length <= self.max_target_length:
            raise ValueError(f"max_length must be in [1, {self.max_target_length}], got "
                             f"{max_length}.")
        return max_length

    def decoder(self, max_length=None):
        """The `KVCacheDecoder` over this model (at most `max_length` target tokens)."""
        return KVCacheDecoder(self.backbone, self.lm_head, max_length or self.max_target_length,
                              self.mask_id, self.target_segment_id)

    def decoding_precision(self, dtype_policy="auto"):
        """A function giving a context in which the backbone and LM head compute under the
        decoding policy `dtype_policy` resolves to (`generate`'s argument; nothing changes
        when it is the model's own). Enter the context while a search is traced."""
        policy = decoding_policy(self.backbone.dtype_policy, dtype_policy)
        switched = () if policy == self.backbone.dtype_policy.name else (
            self.backbone, self.lm_head)
        return functools.partial(computing_in, policy, *switched)

    def _search_function(self, max_length, jit_compile, dtype_policy, options):
        # A sampler is keyed by identity: each instance keeps its own random state.
        key = (max_length, jit_compile, dtype_policy, tuple(sorted(options.items())))
        if key not in self._search_functions:
            decoder = self.decoder(max_length)
            options = dict(options)
            beam_size = options.pop("beam_size")
            precision = self.decoding_precision(dtype_policy)
            if beam_size == 1:
                options.pop("length_penalty")  # one hypothesis: nothing to re-rank
            else:
                options.pop("sampler")  # None: `search_choice` allows no sampler with beams

            def search(token_ids, padding_mask):
                source = {"token_ids": token_ids, "padding_mask": padding_mask}
                with precision():  # entered while tracing: the graph keeps the precision
                    if beam_size == 1:
                        return greedy_search(decoder, source, self.sep_id, pad_id=self.pad_id,
                                             **options)
                    return beam_search(decoder, source, self.sep_id, beam_size=beam_size,
                                       **options)

            # Any source width: `generate` trims each batch to its longest source, and one
            # trace serves every width (XLA still compiles once per width it meets).
            spec = tf.TensorSpec([None, None], tf.int32)
            self._search_functions[key] = tf.function(search, jit_compile=jit_compile,
                                                      input_signature=[spec, spec])
        return self._search_functions[key]

    def generate(self, inputs, beam_size=None, length_penalty=0.0, min_length=1, ngram_size=3,
                 ngram_ignore_ids=(), max_length=None, batch_size=16, jit_compile="auto",
                 dtype_policy="auto", return_scores=False, sampler=None):
        """Generates targets for sources.

        Args:
            inputs: a string or list of strings (needs `tokenizer`; returns strings), or a list
                of word-piece id lists / a ragged tensor without `[CLS]`/`[SEP]` (returns id
                lists, `[SEP]` and after removed). Sources longer than `max_source_length - 2`
                pieces are truncated; an empty source is allowed. keras-hub's forms work too:
                a string tensor, `{"encoder_text": ...}`, or a `tf.data.Dataset` of strings,
                of batches of strings or of such dicts (outputs for all its elements, in
                order).
            beam_size: 1 = greedy search; by default the sampler's (`BeamSampler`'s
                `num_beams`, else 1).
            length_penalty: GNMT alpha (0 = raw log-probability).
            min_length: tokens before `[SEP]` may be emitted.
            ngram_size: forbid repeated n-grams of this size (0 = off); `ngram_ignore_ids`
                are exempt (s2s-ft's `--forbid_ignore_word`, e.g. the id of ".").
            max_length: target slots, at most `max_target_length` (the default).
            batch_size: sources decoded together (the last batch is padded; fewer sources
                than `batch_size` are decoded as one batch of their own size).
            jit_compile: XLA-compile the search: True, False, or "auto" (the default): on,
                once compiled the faster setting in every row of `benchmarks/decode.py` on 2
                CPU cores but beam 4 x 16 on short sources (4-7 % slower in two runs, 10 %
                faster in a third): greedy x 1 1.5-1.7x, beam 4 x 1 1.8-2.1x, greedy x 16
                1.3-1.9x the uncompiled search. XLA compiles once per batch size and source
                width (sources are trimmed to the batch's longest, rounded up to 16 slots),
                3-6 s each for `small` there, where the uncompiled search traces once for
                every width (`benchmarks/generate_latency.py`). Pass False for a few one-off
                calls.
            dtype_policy: the precision the search computes in: "auto" (the default):
                float32 on a machine without GPU or TPU, where it decodes up to 1.8x faster
                than mixed_bfloat16 (never slower), else the model's own policy; "model"; or
                "float32", "mixed_bfloat16", "mixed_float16" (see `decoding_policy`). The
                weights are the model's own either way (nothing is copied).
            return_scores: also return each output's score.
            sampler: a keras-hub sampler or its name for this call (see `compile`); by
                default the one `compile` set ("greedy" unless changed). A sampler that draws
                picks every token of a greedy search from the constrained distribution (min
                length and n-gram blocking apply; the score stays the log-probability of the
                drawn tokens); its random state moves on with each call, so a fresh
                `TopKSampler(seed=0)` repeats its draws, the same instance does not.
        """
        if isinstance(sampler, str):  # one instance per name: one trace, one random state
            sampler = self._named_samplers.setdefault(sampler, keras_hub_sampler(sampler))
        beam_size, sampler = search_choice(
            beam_size, getattr(self, "sampler", None) if sampler is None else sampler)
        max_length = self.target_slots(max_length)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        inputs = plain_generate_inputs(inputs)
        texts = isinstance(inputs, str) or (
            isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], str))
        if texts:
            if self.tokenizer is None:
                raise ValueError("Text inputs need a tokenizer: Seq2SeqLM(..., tokenizer=...) "
                                 "or model.tokenizer = WordPieceTokenizer(vocab_file).")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs)
            pieces = self.tokenizer.tokenize(inputs)
        else:
            pieces = inputs if isinstance(inputs, tf.RaggedTensor) else tf.ragged.constant(
                [list(x) for x in inputs], dtype=tf.int32, ragged_rank=1)
        count = int(pieces.nrows())
        if count == 0:
            return ([], np.zeros([0], np.float32)) if return_scores else []
        source = self.packer().pack_source(pieces)
        batch_size = min(batch_size, count)
        if jit_compile == "auto":
            jit_compile = True
        elif not isinstance(jit_compile, bool):
            raise ValueError(f'jit_compile must be True, False or "auto", got {jit_compile!r}.')
        search = self._search_function(max_length, jit_compile, dtype_policy, {
            "beam_size": beam_size, "length_penalty": float(length_penalty),
            "min_length": min_length, "ngram_size": ngram_size,
            "ngram_ignore_ids": tuple(int(i) for i in ngram_ignore_ids), "sampler": sampler})
        token_ids, scores = [], []
        # Padding the last batch keeps one batch shape per call (one XLA compilation), but
        # a call with fewer sources than `batch_size` only decodes its own rows (above):
        # padding one source to 16 made a single `generate("text")` decode 16 rows.
        for start in range(0, count, batch_size):
            rows = tf.range(start, start + batch_size) % count  # pad the last batch
            width = source_width(tf.gather(source["source_length"], rows),
                                 self.max_source_length)
            out = search(tf.gather(source["token_ids"], rows)[:, :width],
                         tf.gather(source["padding_mask"], rows)[:, :width])
            size = min(batch_size, count - start)
            lengths = out["lengths"].numpy()[:size]
            ids = out["token_ids"].numpy()[:size]
            token_ids += [row[:n - 1] if n and row[n - 1] == self.sep_id else row[:n]
                          for row, n in zip(ids, lengths)]
            scores += list(out["scores"].numpy()[:size])
        if texts:
            ragged = tf.ragged.constant([list(x) for x in token_ids], dtype=tf.int32,
                                        ragged_rank=1)
            outputs = [s.decode("utf-8") for s in self.tokenizer.detokenize(ragged).numpy()]
        else:
            outputs = [np.asarray(x).tolist() for x in token_ids]
        return (outputs, np.asarray(scores, np.float32)) if return_scores else outputs

    def get_config(self):
        return {**super().get_config(), "max_source_length": self.max_source_length,
                "max_target_length": self.max_target_length,
                "label_smoothing": self.label_smoothing, "cls_id": self.cls_id,
                "sep_id": self.sep_id, "mask_id": self.mask_id, "pad_id": self.pad_id,
                "target_segment_id": self.target_segment_id}


def plain_generate_inputs(inputs):
    """keras-hub's `generate` input forms as a string or a list of strings: a
    `tf.data.Dataset` (its elements concatenated), `{"encoder_text": texts}`, a string
    tensor (rank 0 or 1), bytes. Anything else comes back as it is.

    >>> plain_generate_inputs({"encoder_text": tf.constant([b"a tool", b"fonts"])})
    ['a tool', 'fonts']
    >>> plain_generate_inputs(tf.data.Dataset.from_tensor_slices(["x", "y", "z"]).batch(2))
    ['x', 'y', 'z']
    """
    if isinstance(inputs, tf.data.Dataset):
        texts = []
        for element in inputs.as_numpy_iterator():
            element = plain_generate_inputs(element)
            texts += [element] if isinstance(element, str) else list(element)
        return texts
    if isinstance(inputs, dict):
        if set(inputs) != {"encoder_text"}:
            raise ValueError(
                f"generate takes a dict with the key 'encoder_text' only (UniLMv2 decodes the "
                f"target from its first token; no 'decoder_text' prompt), got {sorted(inputs)}.")
        inputs = inputs["encoder_text"]
    if tf.is_tensor(inputs) and inputs.dtype == tf.string:
        inputs = inputs.numpy()
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "OSU":
        inputs = inputs.item() if inputs.ndim == 0 else inputs.tolist()
    if isinstance(inputs, bytes):
        return inputs.decode("utf-8")
    if isinstance(inputs, list) and inputs and isinstance(inputs[0], bytes):
        return [x.decode("utf-8") for x in inputs]
    return inputs


def keras_hub_sampler(identifier):
    """`keras_hub.samplers.get(identifier)`, with an unknown name a ValueError (keras-hub
    returns the string as it is)."""
    try:
        sampler = keras_hub.samplers.get(identifier)
    except KeyError as error:  # an upper-case name
        raise ValueError(str(error)) from None
    if not isinstance(sampler, keras_hub.samplers.Sampler):
        raise ValueError(f"Unknown sampler {identifier!r}: give a keras_hub.samplers.Sampler "
                         f"or one of 'greedy', 'beam', 'top_k', 'top_p', 'random'.")
    return sampler


def search_choice(beam_size, sampler):
    """`(beam_size, sampler)` for the search from `generate`'s arguments: a
    `keras_hub.samplers.BeamSampler` gives its `num_beams`, a greedy one no sampler (the
    search's own argmax), a sampler that draws itself, for a greedy search.

    >>> search_choice(None, "beam"), search_choice(4, "greedy"), search_choice(None, None)
    ((5, None), (4, None), (1, None))
    """
    sampler = keras_hub_sampler(sampler) if sampler is not None else None
    if isinstance(sampler, keras_hub.samplers.BeamSampler):
        if sampler.return_all_beams:
            raise ValueError("BeamSampler(return_all_beams=True) is not supported: generate "
                             "returns the best hypothesis of each source.")
        if beam_size not in (None, sampler.num_beams):
            raise ValueError(f"beam_size={beam_size} disagrees with the BeamSampler's "
                             f"num_beams={sampler.num_beams}.")
        return sampler.num_beams, None
    if sampler is None or isinstance(sampler, keras_hub.samplers.GreedySampler):
        return (1 if beam_size is None else beam_size), None
    if isinstance(sampler, (keras_hub.samplers.ContrastiveSampler,
                            keras_hub.samplers.SpeculativeSampler)):
        raise ValueError(f"{type(sampler).__name__} is not supported: it needs keras-hub's own "
                         f"decoding loop (hidden states, a draft model).")
    if beam_size not in (None, 1):
        raise ValueError(f"beam_size={beam_size} with the sampler "
                         f"{type(sampler).__name__}: a sampler that draws tokens decodes one "
                         f"hypothesis per source (beam_size=1), beam search takes no sampler.")
    return 1, sampler


SOURCE_BUCKET = 16


def source_width(source_lengths, max_source_length):
    """The source slots a batch decodes over: its longest source rounded up to a multiple of
    `SOURCE_BUCKET` (at most `max_source_length`). Padding slots are masked out of attention,
    so trimming them changes nothing but the cost: every step attends over fewer slots.

    >>> source_width([40, 23], 128), source_width([127], 128)
    (48, 128)
    """
    longest = int(np.max(source_lengths))
    return min(max_source_length, -(-longest // SOURCE_BUCKET) * SOURCE_BUCKET)


BERT_UNCASED_SPECIAL_IDS = {"cls_id": 101, "sep_id": 102, "mask_id": 103, "pad_id": 0}


def special_ids(tokenizer, **given):
    """The special ids: each given one, else the tokenizer's, else BERT uncased's. A given id
    that the tokenizer contradicts is a ValueError (the model would write the wrong tokens)."""
    ids = {}
    for name, default in BERT_UNCASED_SPECIAL_IDS.items():
        # This package's WordPieceTokenizer says `cls_id`, keras-hub's tokenizers
        # `cls_token_id` (None until a preset's vocabulary has loaded).
        own = getattr(tokenizer, name, getattr(tokenizer, name[:-2] + "token_id", None))
        own = None if own is None else int(own)
        value = given.get(name)
        if value is not None and own is not None and int(value) != own:
            raise ValueError(f"{name}={value} but the tokenizer's is {own}.")
        ids[name] = int(value if value is not None else own if own is not None else default)
    return ids
