"""Training at scale on CPU: MirroredStrategy parity, gradient accumulation, mixed precision,
XLA, corrupt-checkpoint fallback, kill-and-resume and two-worker training."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURES, REPO
from test_cli import unilmv2
from unilmv2_tf import UniLMv2Backbone, UniLMv2Config
from unilmv2_tf.data import make_pretraining_dataset
from unilmv2_tf.models import Classifier, PMLMPretrainer
from unilmv2_tf.preprocessing import PMLMMasker
from unilmv2_tf.training import (CheckpointManagerCallback, create_optimizer, input_positions,
                                 resumable_fit, worker_index)

SAMPLE = os.path.join(FIXTURES, "sample.txt")
SCRIPT = os.path.join(REPO, "tests", "scripts", "mirrored_losses.py")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def run_losses(devices, optimizer="sgd"):
    result = subprocess.run([sys.executable, SCRIPT, SAMPLE, str(devices), optimizer], env=ENV,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_mirrored_strategy_matches_one_device_on_the_same_global_batch():
    one = run_losses(0)
    for devices in (2, 4):
        mirrored = run_losses(devices)
        assert mirrored["replicas"] == devices
        # SGD, so a wrongly scaled gradient (summed, or averaged twice) would show at once.
        np.testing.assert_allclose(mirrored["losses"], one["losses"], rtol=1e-5)
        np.testing.assert_allclose(mirrored["kernel"], one["kernel"], atol=1e-5)
        assert mirrored["copies_spread"] < 1e-6  # the replicas' copies of a weight agree


def test_fused_adamw_updates_every_replica_as_keras_adamw_does():
    """`FusedAdamW` passes each replica's own copies of the variable and its moments to the
    fused kernel: a wrong handle would leave the copies apart or the weights off. (Compared
    with Keras' AdamW on the same 2 replicas, not on one device: Keras' Adam on the position
    and segment tables' sparse gradients depends on how the rows fall across replicas.)"""
    keras_adamw = run_losses(2, "adamw")
    mirrored = run_losses(2, "fused_adamw")
    assert mirrored["replicas"] == 2 and mirrored["copies_spread"] < 1e-6
    np.testing.assert_allclose(mirrored["losses"], keras_adamw["losses"], rtol=1e-5)
    np.testing.assert_allclose(mirrored["kernel"], keras_adamw["kernel"], atol=1e-6)


def tiny_batches(tokenizer, batch_size, count):
    masker = PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(32))
    return list(make_pretraining_dataset([SAMPLE], tokenizer, masker, 32, batch_size,
                                         seed=0).take(count))


def test_gradient_accumulation_equals_one_larger_batch():
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 2000, (8, 12)).astype("int32")
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    y = rng.integers(0, 3, 8)
    config = UniLMv2Config.from_preset("tiny", hidden_dropout=0.0, attention_dropout=0.0)
    models = []
    for k in (1, 4):
        keras.utils.set_random_seed(0)
        model = Classifier(UniLMv2Backbone(config), 3, dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(0.5, gradient_accumulation_steps=k
                                                     if k > 1 else None),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        size = 8 // k
        for i in range(k):  # k micro-batches of 8 / k: one update
            model.train_on_batch({n: v[i * size:(i + 1) * size] for n, v in x.items()},
                                 y[i * size:(i + 1) * size])
        models.append(model)
    assert int(models[1].optimizer.iterations.numpy()) == 1
    for a, b in zip(models[0].weights, models[1].weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-6)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_without_nans(tokenizer, policy):
    batches = tiny_batches(tokenizer, 4, 3)
    keras.utils.set_random_seed(0)
    model = PMLMPretrainer(UniLMv2Backbone.from_size("tiny", dtype=policy))
    assert model.backbone.compute_dtype == policy.split("_")[1] == model.lm_head.compute_dtype
    assert model.backbone.weights[0].dtype == "float32"  # variables stay float32
    model.compile(optimizer=create_optimizer(1e-3, 10, 0,
                                             loss_scaling=policy == "mixed_float16"))
    losses = [model.train_on_batch(b, return_dict=True)["loss"] for b in batches]
    assert np.isfinite(losses).all() and losses[-1] < losses[0] + 1.0
    logits = model(batches[0])["ae_logits"]
    assert logits.dtype == policy.split("_")[1]


def test_static_shapes_and_xla_training_step(tokenizer):
    batches = tiny_batches(tokenizer, 4, 2)
    masker = PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(32))
    spec = make_pretraining_dataset([SAMPLE], tokenizer, masker, 32, 4).element_spec
    assert all(None not in s.shape.as_list() for s in spec.values())  # what a TPU needs
    keras.utils.set_random_seed(0)
    model = PMLMPretrainer(UniLMv2Backbone.from_size("tiny"))
    model.compile(optimizer=create_optimizer(1e-3, 10, 0), jit_compile=True)
    losses = [model.train_on_batch(b, return_dict=True)["loss"] for b in batches]
    assert np.isfinite(losses).all()


def test_throughput_counts_every_input_position(tokenizer):
    batch = tiny_batches(tokenizer, 4, 1)[0]
    width = 32 + 2 * PMLMMasker.default_max_predictions(32)  # main + appended part
    assert batch["token_ids"].shape == (4, width)
    assert input_positions(batch) == 4 * width  # not the size of another feature, like labels


def test_corrupt_newest_checkpoint_falls_back_with_a_warning(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.build(model.trainable_variables)
    callback = CheckpointManagerCallback(model, str(tmp_path), max_to_keep=3)
    for _ in range(2):
        model.train_on_batch(np.ones((1, 2)), np.ones((1, 1)))
        callback.save()
    newest = callback.manager.latest_checkpoint
    data = newest + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    model.train_on_batch(np.ones((1, 2)), np.ones((1, 1)))
    with pytest.warns(UserWarning, match="cannot be restored"):
        assert callback.restore_latest() == 1


def test_training_stops_at_train_steps_between_checkpoint_intervals(tmp_path):
    """5 updates with a checkpoint every 3 (and 2 batches per update) end at update 5, not 6;
    a rerun to 7 resumes there and stops at 7."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.01, gradient_accumulation_steps=2),
                  loss="mse")
    data = tf.data.Dataset.from_tensors((np.ones((1, 2)), np.ones((1, 1)))).repeat()
    resumable_fit(model, data, str(tmp_path), train_steps=5, checkpoint_every=3)
    assert int(model.optimizer.iterations.numpy()) == 5
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-5")
    start, _ = resumable_fit(model, data, str(tmp_path), train_steps=7, checkpoint_every=3)
    assert start == 5 and int(model.optimizer.iterations.numpy()) == 7
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-7")


def test_worker_index_reads_tf_config(monkeypatch):
    cluster = {"worker": ["a:1", "b:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster,
                                                "task": {"type": "worker", "index": 1}}))
    assert worker_index() == (1, False, 2)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {**cluster, "chief": ["c:3"]},
                                                "task": {"type": "chief", "index": 0}}))
    assert worker_index() == (0, True, 3)
    monkeypatch.delenv("TF_CONFIG")
    assert worker_index() == (0, True, 1)


PRETRAIN = ["--sequence_length=32", "--batch_size=4", "--checkpoint_every=2",
            "--export_dir=", f"--train_files={SAMPLE}"]


def backbone_weights(path):
    return [w.numpy() for w in keras.saving.load_model(path).weights]


def assert_killed_run_resumes_to_the_same_weights(root, *flags):
    """`pretrain` with `flags`, killed (SIGKILL) after its step-4 checkpoint and rerun, ends
    with the weights of an uninterrupted run."""
    reference = unilmv2("pretrain", f"--model_dir={root / 'ref'}", "--train_steps=8", *flags)
    assert reference.returncode == 0, reference.stderr[-3000:]
    killed_dir = root / "killed"
    args = [sys.executable, "-m", "unilmv2_tf.cli.main", "pretrain",
            f"--model_dir={killed_dir}", "--train_steps=8", *flags]
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed_dir / "checkpoints" / "ckpt-4.index").exists():
        assert time.time() < deadline and process.poll() is None, "no checkpoint appeared"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = unilmv2("pretrain", f"--model_dir={killed_dir}", "--train_steps=8", *flags)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from step" in resumed.stdout and "Trained to step 8" in resumed.stdout
    for a, b in zip(backbone_weights(root / "ref" / "backbone.keras"),
                    backbone_weights(killed_dir / "backbone.keras")):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_weights(tmp_path):
    assert_killed_run_resumes_to_the_same_weights(tmp_path, *PRETRAIN)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_workers(model_dir, *flags):
    """`[(returncode, stdout, stderr)]` of `unilmv2 pretrain` on two localhost workers."""
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                               "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "unilmv2_tf.cli.main", "pretrain", f"--model_dir={model_dir}",
             "--train_steps=4", "--distribution_strategy=multi_worker_mirrored", *PRETRAIN,
             *flags], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=600) for p in processes]
    return [(p.returncode, out, err) for p, (out, err) in zip(processes, outputs)]


@pytest.mark.slow
def test_two_workers_train_and_agree(tmp_path):
    outputs = run_two_workers(tmp_path / "model")
    for returncode, out, err in outputs:
        assert returncode == 0, err[-3000:]
    info = json.loads((tmp_path / "model" / "run_info.json").read_text())
    # tf.distribute.MultiWorkerMirroredStrategy is the class CollectiveAllReduceStrategy.
    assert info["strategy"] == "CollectiveAllReduceStrategy" and info["replicas"] == 2
    for _, out, _ in outputs:
        assert "Trained to step 4" in out
    chief = backbone_weights(tmp_path / "model" / "backbone.keras")
    other = backbone_weights(tmp_path / "model" / "worker_1" / "backbone.keras")
    for a, b in zip(chief, other):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_jit_compile_over_several_replicas_is_refused_up_front(tmp_path):
    for returncode, _, err in run_two_workers(tmp_path / "model", "--jit_compile"):
        assert returncode == 1
        assert "--jit_compile does not work with --distribution_strategy=multi_worker" in err
    assert not (tmp_path / "model" / "checkpoints").exists()


def test_resume_says_on_the_console_which_checkpoint_it_skipped(tmp_path, capsys):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = tf.data.Dataset.from_tensors((np.ones((1, 2)), np.ones((1, 1)))).repeat()
    resumable_fit(model, data, str(tmp_path), train_steps=4, checkpoint_every=2)
    newest = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
    assert newest.endswith("ckpt-4")
    with open(newest + ".data-00000-of-00001", "r+b") as f:
        f.truncate(3)
    capsys.readouterr()
    with pytest.warns(UserWarning, match="cannot be restored"):
        start, _ = resumable_fit(model, data, str(tmp_path), train_steps=6, checkpoint_every=2)
    out = capsys.readouterr().out
    assert start == 2 and int(model.optimizer.iterations.numpy()) == 6
    assert "Checkpoint ckpt-4 in" in out and "cannot be restored" in out
    assert out.index("ckpt-4") < out.index("Resuming from step 2.")
