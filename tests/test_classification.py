"""Text-pair packing, the classification loaders and metrics, and Classifier end to end."""

import json
import os
import subprocess
import sys

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURES, REPO
from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.data import label_ids, make_classification_dataset, read_classification_file
from unilmv2_tf.metrics import accuracy, correlations, f1_scores, matthews_correlation
from unilmv2_tf.models import Classifier, classifier_logits, evaluate_classifier
from unilmv2_tf.models.classifier import encoder_features
from unilmv2_tf.preprocessing import TextPairPacker
from unilmv2_tf.training.precision import cpu_has_bfloat16

TRAIN = os.path.join(FIXTURES, "sections_train.jsonl")
VALID = os.path.join(FIXTURES, "sections_valid.jsonl")


@pytest.mark.parametrize("truncation, first, second", [
    ("longest_first", [1, 2], [7, 8, 9]),     # the longer segment gives way (ties: the first)
    ("only_second", [1, 2, 3, 4, 5], []),     # the first is kept whole while it fits
    ("round_robin", [1, 2, 3], [7, 8]),       # pieces taken alternately
])
def test_pair_truncation_strategies(truncation, first, second):
    packer = TextPairPacker(8, cls_id=101, sep_id=102, truncation=truncation)
    x = packer(tf.ragged.constant([[1, 2, 3, 4, 5, 6]]), tf.ragged.constant([[7, 8, 9]]))
    want = [101] + first + [102] + second + [102]
    want += [0] * (8 - len(want))
    assert x["token_ids"].numpy()[0].tolist() == want
    assert x["segment_ids"].numpy()[0].tolist()[:len(first) + len(second) + 3] == (
        [0] * (len(first) + 2) + [1] * (len(second) + 1))
    assert x["padding_mask"].numpy()[0].sum() == len(first) + len(second) + 3


def test_single_text_packing_and_bad_options():
    x = TextPairPacker(5, cls_id=101, sep_id=102)(tf.ragged.constant([[1, 2, 3, 4], [9]]))
    assert x["token_ids"].numpy().tolist() == [[101, 1, 2, 3, 102], [101, 9, 102, 0, 0]]
    assert x["position_ids"].numpy().tolist() == [[0, 1, 2, 3, 4], [0, 1, 2, 0, 0]]
    with pytest.raises(ValueError, match="truncation"):
        TextPairPacker(8, 101, 102, truncation="middle")


def test_loaders_read_jsonl_and_tsv_and_report_bad_rows(tmp_path):
    records, skipped = read_classification_file(TRAIN, "text", "label")
    assert len(records) == 320 and skipped == 0
    tsv = tmp_path / "train.tsv"
    tsv.write_text("id\tsentence1\tsentence2\tlabel\n1\ta b\tc d\t1\n2\tonly two\n"
                   "3\te f\t\t0\n4\tg h\ti j\t0\n")
    with pytest.raises(ValueError, match="train.tsv:3: 2 columns, the header has 4"):
        read_classification_file(str(tsv), "sentence1", "label", "sentence2")
    records, skipped = read_classification_file(str(tsv), "sentence1", "label", "sentence2",
                                                skip_malformed=True)
    assert [r["text_pair"] for r in records] == ["c d", "i j"] and skipped == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "a"}\n{"text": "y"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: missing field 'label'"):
        read_classification_file(str(bad), "text", "label")
    with pytest.raises(ValueError, match=r"Labels not seen in training: \['zzz'\]"):
        label_ids([{"label": "zzz"}], ["a", "b"])


def test_metrics_on_known_cases():
    predictions, labels = [1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1]
    assert accuracy(predictions, labels) == pytest.approx(4 / 6)
    # tp 2, fp 1, fn 1: F1 = 2*2 / (3 + 3).
    assert f1_scores(predictions, labels)["f1"] == pytest.approx(4 / 6)
    # Binary MCC = (tp*tn - fp*fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = (4 - 1) / 9.
    assert matthews_correlation(predictions, labels) == pytest.approx(3 / 9)
    assert matthews_correlation([0, 1, 2, 0], [0, 1, 2, 0]) == pytest.approx(1.0)
    scores = correlations([1, 2, 2, 5], [2, 3, 3, 1])
    assert scores["pearson"] == pytest.approx(np.corrcoef([1, 2, 2, 5], [2, 3, 3, 1])[0, 1])
    # Ranks with ties: x -> [1, 2.5, 2.5, 4], y -> [2, 3.5, 3.5, 1].
    assert scores["spearman"] == pytest.approx(
        np.corrcoef([1, 2.5, 2.5, 4], [2, 3.5, 3.5, 1])[0, 1])
    with pytest.raises(ValueError, match="equal length"):
        accuracy([1], [1, 0])


def test_classifier_heads_and_round_trip(tmp_path):
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=300)
    ids = np.array([[101, 7, 8, 102, 0, 0]])
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": (ids > 0) * 1}
    for model, width in ((Classifier(backbone, 5, use_pooler=True), 5),
                         (Classifier(backbone, 1), 1)):
        assert model(inputs).shape == (1, width)
        model.save(tmp_path / "model.keras")
        loaded = keras.saving.load_model(tmp_path / "model.keras")
        np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)
    # Padding is invisible: more pad columns give the same logits.
    wide = {k: np.pad(v, [(0, 0), (0, 4)]) for k, v in inputs.items()}
    np.testing.assert_allclose(model(wide), model(inputs), atol=1e-5)
    with pytest.raises(ValueError, match="num_classes"):
        Classifier(backbone, 0)
    with pytest.raises(ValueError, match="pooling"):
        Classifier(backbone, 2, pooling="max")


def test_mean_pooling_averages_the_real_tokens_only(tmp_path):
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=300)
    model = Classifier(backbone, 3, pooling="mean", dropout=0.0)
    ids = np.array([[101, 7, 8, 102, 0, 0], [101, 9, 102, 0, 0, 0]])
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": (ids > 0) * 1}
    features = {k: tf.convert_to_tensor(v) for k, v in encoder_features(inputs).items()}
    states = backbone(features)["sequence_output"].numpy()
    dense = model.output_dense
    model(inputs)
    for row, length in ((0, 4), (1, 3)):  # an independent mean, then the same linear layer
        expected = states[row, :length].mean(axis=0) @ dense.kernel.numpy() + dense.bias.numpy()
        np.testing.assert_allclose(model(inputs)[row], expected, atol=1e-5)
    assert not np.allclose(Classifier(backbone, 3, dropout=0.0)(inputs), 0)  # [CLS] differs
    wide = {k: np.pad(v, [(0, 0), (0, 4)]) for k, v in inputs.items()}
    np.testing.assert_allclose(model(wide), model(inputs), atol=1e-5)
    model.save(tmp_path / "mean.keras")
    loaded = keras.saving.load_model(tmp_path / "mean.keras")
    assert loaded.pooling == "mean"
    np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)


def test_fine_tune_on_real_sections_lowers_validation_loss(tokenizer, tmp_path):
    train, _ = read_classification_file(TRAIN, "text", "label")
    valid, _ = read_classification_file(VALID, "text", "label")
    labels = sorted({r["label"] for r in train})
    packer = TextPairPacker.for_tokenizer(tokenizer, 64)
    keras.utils.set_random_seed(0)
    model = Classifier(UniLMv2Backbone.from_size("tiny"), len(labels))
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    data = make_classification_dataset(train, tokenizer, packer, labels, 32)
    held_out = make_classification_dataset(valid, tokenizer, packer, labels, 32, shuffle=False,
                                           repeat=False, drop_remainder=False)
    before = model.evaluate(held_out, verbose=0, return_dict=True)
    model.fit(data, steps_per_epoch=40, epochs=1, verbose=0)
    after = model.evaluate(held_out, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"] - 0.2, (before, after)
    task = {"task": "classification", "labels": labels, "text_key": "text",
            "text_pair_key": "", "label_key": "label", "sequence_length": 64,
            "truncation": "longest_first"}
    scores = evaluate_classifier(model, tokenizer, task, VALID, str(tmp_path / "m.json"))
    assert scores["accuracy"] == pytest.approx(after["accuracy"], abs=1e-6)
    assert len((tmp_path / "m.json.predictions.jsonl").read_text().splitlines()) == 80
    logits = classifier_logits(model, tokenizer, task, valid)
    gold = np.array([labels.index(r["label"]) for r in valid])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert -log_probs[np.arange(len(gold)), gold].mean() == pytest.approx(after["loss"], 1e-4)
    written = [json.loads(line)["prediction"]
               for line in (tmp_path / "m.json.predictions.jsonl").read_text().splitlines()]
    assert [labels[i] for i in logits.argmax(-1)] == written


@pytest.mark.slow
def test_glue_recipe_and_evaluate_command(tmp_path):
    env = {**os.environ, "PY": sys.executable, "TRAIN_STEPS": "4", "CHECKPOINT_EVERY": "2",
           "BATCH_SIZE": "8", "SEQUENCE_LENGTH": "32", "TF_CPP_MIN_LOG_LEVEL": "2"}
    model_dir = tmp_path / "sst2"
    result = subprocess.run(["bash", "tasks/glue/run.sh", "SST-2",
                             os.path.join(FIXTURES, "glue_sst2"), str(model_dir)], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((model_dir / "valid_metrics.json").read_text())
    assert {"accuracy", "f1", "matthews_correlation"} <= set(metrics)
    assert metrics["examples"] == 30
    evaluate = subprocess.run(
        [sys.executable, "-m", "unilmv2_tf.cli.main", "evaluate", f"--model_dir={model_dir}",
         f"--input_file={os.path.join(FIXTURES, 'glue_sst2', 'dev.tsv')}",
         f"--output_file={tmp_path / 'again.json'}"], env=env, capture_output=True, text=True,
        timeout=600)
    assert evaluate.returncode == 0, evaluate.stderr[-3000:]
    assert json.loads((tmp_path / "again.json").read_text())["accuracy"] == metrics["accuracy"]

    # The exported `classify` signature gives the same labels as `evaluate`, from raw text.
    export = subprocess.run(
        [sys.executable, "-m", "unilmv2_tf.cli.main", "export", f"--model_dir={model_dir}",
         f"--export_dir={tmp_path / 'saved_models' / 'sst2'}"], env=env, capture_output=True,
        text=True, timeout=600)
    assert export.returncode == 0 and "signatures: classify" in export.stdout, export.stderr
    loaded = tf.saved_model.load(str(tmp_path / "saved_models" / "sst2" / "1"))
    rows = read_classification_file(os.path.join(FIXTURES, "glue_sst2", "dev.tsv"),
                                    "sentence", "label")[0]
    out = loaded.signatures["classify"](text=tf.constant([r["text"] for r in rows]))
    expected = [json.loads(line)["prediction"] for line in
                (tmp_path / "again.json.predictions.jsonl").read_text().splitlines()]
    assert [x.decode() for x in out["label"].numpy()] == expected
    np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, atol=1e-5)

    # The model folder is a keras-hub preset: raw text in, the same labels out.
    classifier = keras_hub.models.TextClassifier.from_preset(str(model_dir))
    assert type(classifier) is Classifier
    names = json.loads((model_dir / "task_settings.json").read_text())["labels"]
    predicted = classifier.predict([r["text"] for r in rows], verbose=0).argmax(-1)
    assert [names[i] for i in predicted] == expected


@pytest.mark.slow
def test_lora_fine_tuning_trains_only_the_lora_factors(tmp_path, tokenizer):
    keras.utils.set_random_seed(0)
    backbone = UniLMv2Backbone.from_size("tiny", vocab_size=tokenizer.vocabulary_size)
    backbone.save(tmp_path / "backbone.keras")
    model_dir = tmp_path / "lora"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-m", "unilmv2_tf.cli.main", "finetune-classifier",
         f"--init_checkpoint={tmp_path / 'backbone.keras'}", f"--model_dir={model_dir}",
         f"--train_file={os.path.join(FIXTURES, 'sections_train.jsonl')}",
         "--sequence_length=32", "--batch_size=8", "--train_steps=4", "--checkpoint_every=2",
         "--learning_rate=1e-2", "--lora_rank=2", "--dtype_policy=auto"], env=env,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # auto resolves to this CPU's faster precision, and flags.json records the choice
    chosen = "mixed_bfloat16" if cpu_has_bfloat16() else "float32"
    assert f"--dtype_policy=auto chose {chosen}" in result.stdout
    assert json.loads((model_dir / "flags.json").read_text())["dtype_policy"] == chosen
    trained = keras.saving.load_model(model_dir / "classifier.keras", compile=False)
    assert not any("lora" in w.path for w in trained.weights)
    before = {w.path: w.numpy() for w in backbone.weights}
    changed = {w.path for w in trained.backbone.weights
               if not np.array_equal(w.numpy(), before[w.path])}
    # The factors are merged into the query / value kernels on save; nothing else moved.
    assert changed == {w.path for w in trained.backbone.weights
                       if w.path.endswith(("/query/kernel", "/value/kernel"))}
    assert json.loads((model_dir / "flags.json").read_text())["lora_rank"] == 2
