"""`ModelFolder`: file names in one place, the preset layout, and folders of the version before."""

import json
import os
import shutil

import numpy as np
import pytest

from conftest import FIXTURES
from unilmv2_tf import UniLMv2Backbone, UniLMv2Config
from unilmv2_tf.model_folder import ModelFolder
from unilmv2_tf.models import evaluate_classifier, load_classifier
from unilmv2_tf.preprocessing import UniLMv2Tokenizer

OLD_CLASSIFIER = os.path.join(FIXTURES, "classifier_folder_v0")


def test_a_classifier_folder_of_the_version_before_still_loads_and_predicts(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(OLD_CLASSIFIER, folder)
    model, tokenizer, task = load_classifier(str(folder))
    assert task["labels"] == ["fonts", "games", "net", "science"] and task["sequence_length"] == 32
    assert ModelFolder(folder).config() == UniLMv2Config.from_dict(
        json.loads((folder / "config.json").read_text()))
    output = tmp_path / "valid.json"
    scores = evaluate_classifier(model, tokenizer, task,
                                 os.path.join(FIXTURES, "sections_valid.jsonl"), str(output))
    predicted = (tmp_path / "valid.json.predictions.jsonl").read_text().splitlines()
    recorded = (folder / "valid_metrics.json.predictions.jsonl").read_text().splitlines()
    assert predicted == recorded
    assert len({json.loads(line)["prediction"] for line in recorded}) == 3  # not one constant
    assert scores["accuracy"] == pytest.approx(0.6375)


def test_config_reads_both_forms_and_names_a_wrong_class(tmp_path):
    folder = ModelFolder(tmp_path)
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=60)
    folder.write_config(backbone)
    written = folder.read_json(folder.CONFIG)
    assert written["class_name"] == "UniLMv2Backbone" and "build_config" not in written
    assert folder.config() == backbone.config
    backbone.config.save(folder.file(folder.CONFIG))  # the plain form of earlier versions
    assert folder.config() == backbone.config
    folder.write_json(folder.CONFIG, {**written, "class_name": "BertBackbone"})
    with pytest.raises(ValueError, match="describes a BertBackbone, not a UniLMv2Backbone"):
        folder.config()
    # A run under a mixed policy records the weights' float32, as its preset will.
    folder.write_config(UniLMv2Backbone.from_size("tiny", dtype="mixed_bfloat16"))
    assert folder.read_json(folder.CONFIG)["config"]["dtype"]["config"]["name"] == "float32"


def test_task_settings_never_mistakes_keras_hubs_task_config(tmp_path):
    folder = ModelFolder(tmp_path)
    folder.write_json(folder.LEGACY_TASK_SETTINGS, {"class_name": "Classifier", "config": {}})
    with pytest.raises(FileNotFoundError, match="no task_settings.json"):
        folder.task_settings()
    folder.write_json(folder.TASK_SETTINGS, {"labels": ["a", "b"]})
    assert folder.task_settings() == {"labels": ["a", "b"]}


def test_save_preset_replaces_the_preset_whole_or_not_at_all(tmp_path):
    folder = ModelFolder(tmp_path)
    first = UniLMv2Backbone.from_size("tiny", vocab_size=60)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(55)]
    folder.save_preset(first, tokenizer=UniLMv2Tokenizer(vocabulary))
    before = {name: (tmp_path / name).read_bytes() for name in ("config.json",
                                                                 "model.weights.h5")}

    class Failing:
        def save_to_preset(self, path):
            os.makedirs(path)
            (open(os.path.join(path, "config.json"), "w")).close()
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        folder.save_preset(Failing())
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert not (tmp_path / ".preset.partial").exists()

    import keras_hub
    second = UniLMv2Backbone.from_size("tiny", vocab_size=60)
    folder.save_preset(second)
    loaded = keras_hub.models.Backbone.from_preset(str(tmp_path))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), second.get_weights()))
    assert (tmp_path / "assets" / "tokenizer" / "vocabulary.txt").exists()  # kept from before
