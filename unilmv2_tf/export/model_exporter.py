"""Export of a model folder (pretrain or fine-tune output) as a versioned SavedModel."""

import os

import keras
import tensorflow as tf

from unilmv2_tf.export.classifier_module import ClassifierServingModule
from unilmv2_tf.export.encoder_module import EncoderServingModule
from unilmv2_tf.export.generator_module import GeneratorServingModule
from unilmv2_tf.export.qa_module import QAServingModule
from unilmv2_tf.export.saved_model_writer import write_versioned
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.preprocessing import WordPieceTokenizer


def serving_module(model_dir, sequence_length=None, **generation_options):
    """The serving module for what `model_dir` holds.

    - `seq2seq.keras` (`unilmv2 finetune-seq2seq`): a `GeneratorServingModule` (`generate`,
      `encode`, `encode_ids`) built with `generation_options` (`beam_size`, `length_penalty`,
      `min_length`, `ngram_size`, `ngram_ignore_ids`, `max_length`).
    - `classifier.keras` + its settings (`unilmv2 finetune-classifier`): a
      `ClassifierServingModule` (`classify`) at the task's sequence length.
    - `spanqa.keras` + `qa.json` (`unilmv2 finetune-qa`): a `QAServingModule` (`answer`).
    - `backbone.keras` (`unilmv2 pretrain` or `convert`): an `EncoderServingModule` whose
      sequence length is `sequence_length`, else the pretraining run's, else 128.
    """
    from unilmv2_tf.models import Seq2SeqLM, load_classifier

    folder = ModelFolder(model_dir)
    if folder.has(folder.SEQ2SEQ_MODEL):
        return GeneratorServingModule(Seq2SeqLM.load(model_dir), **generation_options)
    if generation_options:
        raise ValueError(f"{model_dir} holds no seq2seq.keras; generation options "
                         f"{sorted(generation_options)} apply to seq2seq models only.")
    vocab = folder.file(folder.VOCABULARY)
    if not os.path.isfile(vocab):
        raise FileNotFoundError(f"No vocab.txt in {model_dir}; the export tokenizes in the "
                                f"graph and needs the model's vocabulary.")
    if folder.has(folder.CLASSIFIER_MODEL):
        return ClassifierServingModule(*load_classifier(model_dir))
    if folder.has(folder.SPAN_QA_MODEL):
        return QAServingModule(*_load_span_qa(folder, vocab))
    backbone_path = folder.file(folder.BACKBONE_MODEL)
    if not os.path.isfile(backbone_path):
        raise FileNotFoundError(f"{model_dir} holds none of seq2seq.keras, classifier.keras, "
                                f"spanqa.keras, backbone.keras (the outputs of `unilmv2 "
                                f"finetune-seq2seq`, `finetune-classifier`, `finetune-qa`, "
                                f"`pretrain`).")
    if sequence_length is None:
        if folder.has(folder.FLAGS):
            sequence_length = folder.read_json(folder.FLAGS).get("sequence_length")
    backbone = keras.saving.load_model(backbone_path)
    return EncoderServingModule(backbone, WordPieceTokenizer(vocab), sequence_length or 128)


def _load_span_qa(folder, vocab):
    """`(model, tokenizer, settings)` from a `unilmv2 finetune-qa` `ModelFolder`."""
    from unilmv2_tf.models import SpanQA

    if not folder.has(folder.QA_SETTINGS):
        raise FileNotFoundError(f"{folder.path} has {folder.SPAN_QA_MODEL} but no "
                                f"{folder.QA_SETTINGS} (the settings `unilmv2 finetune-qa` "
                                f"writes beside it).")
    model = SpanQA.load_file(folder.file(folder.SPAN_QA_MODEL))
    return model, WordPieceTokenizer(vocab), folder.read_json(folder.QA_SETTINGS)


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
