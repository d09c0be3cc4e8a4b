"""Export of a model folder (pretrain or fine-tune output) as a versioned SavedModel."""

import json
import os

import keras
import tensorflow as tf

from unilmv2_tf.export.classifier_module import ClassifierServingModule
from unilmv2_tf.export.encoder_module import EncoderServingModule
from unilmv2_tf.export.generator_module import GeneratorServingModule
from unilmv2_tf.export.qa_module import QAServingModule
from unilmv2_tf.export.saved_model_writer import write_versioned
from unilmv2_tf.preprocessing import WordPieceTokenizer


def serving_module(model_dir, sequence_length=None, **generation_options):
    """The serving module for what `model_dir` holds.

    - `seq2seq.keras` (`unilmv2 finetune-seq2seq`): a `GeneratorServingModule` (`generate`,
      `encode`, `encode_ids`) built with `generation_options` (`beam_size`, `length_penalty`,
      `min_length`, `ngram_size`, `ngram_ignore_ids`, `max_length`).
    - `classifier.keras` + `task.json` (`unilmv2 finetune-classifier`): a
      `ClassifierServingModule` (`classify`) at the task's sequence length.
    - `spanqa.keras` + `qa.json` (`unilmv2 finetune-qa`): a `QAServingModule` (`answer`).
    - `backbone.keras` (`unilmv2 pretrain` or `convert`): an `EncoderServingModule` whose
      sequence length is `sequence_length`, else the pretraining run's, else 128.
    """
    from unilmv2_tf.models import Seq2SeqLM, load_classifier

    if os.path.isfile(os.path.join(model_dir, "seq2seq.keras")):
        return GeneratorServingModule(Seq2SeqLM.load(model_dir), **generation_options)
    if generation_options:
        raise ValueError(f"{model_dir} holds no seq2seq.keras; generation options "
                         f"{sorted(generation_options)} apply to seq2seq models only.")
    vocab = os.path.join(model_dir, "vocab.txt")
    if not os.path.isfile(vocab):
        raise FileNotFoundError(f"No vocab.txt in {model_dir}; the export tokenizes in the "
                                f"graph and needs the model's vocabulary.")
    if os.path.isfile(os.path.join(model_dir, "classifier.keras")):
        return ClassifierServingModule(*load_classifier(model_dir))
    if os.path.isfile(os.path.join(model_dir, "spanqa.keras")):
        return QAServingModule(*_load_span_qa(model_dir, vocab))
    backbone_path = os.path.join(model_dir, "backbone.keras")
    if not os.path.isfile(backbone_path):
        raise FileNotFoundError(f"{model_dir} holds none of seq2seq.keras, classifier.keras, "
                                f"spanqa.keras, backbone.keras (the outputs of `unilmv2 "
                                f"finetune-seq2seq`, `finetune-classifier`, `finetune-qa`, "
                                f"`pretrain`).")
    if sequence_length is None:
        flags_path = os.path.join(model_dir, "flags.json")
        if os.path.isfile(flags_path):
            with open(flags_path, encoding="utf-8") as f:
                sequence_length = json.load(f).get("sequence_length")
    backbone = keras.saving.load_model(backbone_path)
    return EncoderServingModule(backbone, WordPieceTokenizer(vocab), sequence_length or 128)


def _load_span_qa(model_dir, vocab):
    """`(model, tokenizer, settings)` from a `unilmv2 finetune-qa` folder."""
    settings_path = os.path.join(model_dir, "qa.json")
    if not os.path.isfile(settings_path):
        raise FileNotFoundError(f"{model_dir} has spanqa.keras but no qa.json (the settings "
                                f"`unilmv2 finetune-qa` writes beside it).")
    with open(settings_path, encoding="utf-8") as f:
        settings = json.load(f)
    model = keras.saving.load_model(os.path.join(model_dir, "spanqa.keras"), compile=False)
    return model, WordPieceTokenizer(vocab), settings


def save_serving_module(module, export_base, version=None):
    """Writes `module` (with `signatures()` and a `tokenizer`) to `export_base/<version>/`:
    a new integer version by default, never over an existing one, written atomically.
    The vocabulary is also copied to `assets/vocab.txt` for clients that tokenize themselves.
    Returns the version folder."""

    def write(path):
        tf.saved_model.save(module, path, signatures=module.signatures())
        os.makedirs(os.path.join(path, "assets"), exist_ok=True)
        with open(os.path.join(path, "assets", "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(module.tokenizer.vocabulary) + "\n")

    return write_versioned(write, export_base, version)


def export_model(model_dir, export_base, version=None, sequence_length=None,
                 **generation_options):
    """`save_serving_module(serving_module(model_dir, ...), export_base, version)`."""
    module = serving_module(model_dir, sequence_length, **generation_options)
    return save_serving_module(module, export_base, version)


def export_encoder(backbone, tokenizer, export_base, sequence_length, version=None):
    """Writes an `EncoderServingModule` over `backbone` to `export_base/<version>/`."""
    return save_serving_module(EncoderServingModule(backbone, tokenizer, sequence_length),
                               export_base, version)
