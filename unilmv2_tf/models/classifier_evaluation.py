"""Scoring a fine-tuned `Classifier` on a labeled file (used by the CLI and the recipes)."""

import json
import os

import numpy as np

from unilmv2_tf.data import label_ids, make_classification_dataset, read_classification_file
from unilmv2_tf.metrics import accuracy, correlations, f1_scores, matthews_correlation
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.models.classifier import Classifier
from unilmv2_tf.preprocessing import TextPairPacker, WordPieceTokenizer


def load_classifier(model_dir):
    """`(model, tokenizer, task settings)` from a `unilmv2 finetune-classifier` folder
    (`classifier.keras`, `vocab.txt`, the settings; see `ModelFolder`)."""
    folder = ModelFolder(model_dir)
    if not folder.has(folder.CLASSIFIER_MODEL):
        raise FileNotFoundError(f"{model_dir} has no {folder.CLASSIFIER_MODEL} (train it with "
                                f"`unilmv2 finetune-classifier`).")
    task = folder.task_settings()
    model = Classifier.load_file(folder.file(folder.CLASSIFIER_MODEL))
    return model, WordPieceTokenizer(folder.file(folder.VOCABULARY)), task


def read_task_rows(path, task, skip_malformed=False, max_records=None):
    """The rows of `path` read with the columns named in `task` (the classifier settings)."""
    records, skipped = read_classification_file(
        path, task["text_key"], task["label_key"], task["text_pair_key"] or None,
        skip_malformed=skip_malformed, max_records=max_records)
    if skipped:
        print(f"{path}: skipped {skipped} malformed rows.")
    return records


def classifier_logits(model, tokenizer, task, records):
    """`[len(records), classes]` logits of `model` for `read_task_rows` records, packed as in
    training (the sequence length and truncation of `task`)."""
    packer = TextPairPacker.for_tokenizer(tokenizer, task["sequence_length"],
                                          truncation=task["truncation"])
    data = make_classification_dataset(records, tokenizer, packer, task["labels"],
                                       batch_size=64, shuffle=False, repeat=False,
                                       drop_remainder=False)
    return np.concatenate([model(features).numpy() for features, _ in data])


def evaluate_classifier(model, tokenizer, task, path, output_file, skip_malformed=False):
    """Predicts every row of `path`, writes metrics JSON to `output_file` and the predictions
    next to it, and returns the metrics."""
    records = read_task_rows(path, task, skip_malformed)
    labels = task["labels"]
    logits = classifier_logits(model, tokenizer, task, records)
    if labels:
        gold = np.asarray(label_ids(records, labels))
        predicted = logits.argmax(-1)
        f1 = f1_scores(predicted, gold)
        scores = {"accuracy": accuracy(predicted, gold),
                  "matthews_correlation": matthews_correlation(predicted, gold),
                  "macro_f1": f1["macro_f1"]}
        if len(labels) == 2:  # GLUE's F1 (MRPC, QQP): the second label is the positive one
            scores["f1"] = f1["f1"]
        shown = [labels[i] for i in predicted]
    else:
        gold = np.asarray([float(r["label"]) for r in records])
        shown = logits[:, 0].tolist()
        scores = correlations(logits[:, 0], gold)
    scores["examples"] = len(records)
    for name, target in ((output_file, json.dumps(scores, indent=2)),
                         (f"{output_file}.predictions.jsonl",
                          "".join(json.dumps({"prediction": p, "label": r["label"]}) + "\n"
                                  for p, r in zip(shown, records)))):
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            f.write(target)
        os.replace(name + ".tmp", name)
    return scores
