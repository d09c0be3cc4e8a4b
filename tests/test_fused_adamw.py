"""FusedAdamW: Adam's update in one TF kernel per variable, the same updates as
keras.optimizers.AdamW and the same saved state (checkpoints of runs trained with Keras' AdamW
resume with it)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config
from unilmv2_tf.models import Classifier
from unilmv2_tf.training import CheckpointManagerCallback, FusedAdamW, create_optimizer


def classification_batch():
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 2000, (8, 12)).astype("int32")
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    return x, rng.integers(0, 3, 8)


def trained_classifier(optimizer, steps):
    """A tiny classifier after `steps` updates (biases and LayerNorm weights not decayed).
    Clipping and accumulation make every gradient dense: the case where Keras' Adam is Adam."""
    keras.utils.set_random_seed(0)
    model = Classifier(UniLMv2Backbone(UniLMv2Config.from_preset("tiny")), 3, dropout=0.0)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = classification_batch()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model


@pytest.mark.parametrize("options", [{"clipnorm": 1.0}, {"gradient_accumulation_steps": 2}],
                         ids=["clipped", "accumulated"])
def test_dense_updates_match_keras_adamw(options):
    models = [trained_classifier(create_optimizer(3e-3, 10, 2, fused=fused, **options), 6)
              for fused in (False, True)]
    assert type(models[1].optimizer) is FusedAdamW
    assert type(models[0].optimizer) is keras.optimizers.AdamW
    pairs = list(zip(models[0].weights + models[0].optimizer.variables,
                     models[1].weights + models[1].optimizer.variables))
    assert len(pairs) > 40
    for keras_variable, fused_variable in pairs:
        assert keras_variable.name == fused_variable.name
        np.testing.assert_allclose(fused_variable.numpy(), keras_variable.numpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=keras_variable.path)
    before = trained_classifier(create_optimizer(3e-3, 10, 2, **options), 0)
    still = [a.path for a, b in zip(before.weights, models[1].weights)
             if np.allclose(a.numpy(), b.numpy())]
    # Every weight was updated, so the comparison above means something; but the key bias,
    # whose gradient is zero (it adds the same q.b to every score of a query).
    assert still == [f"transformer_layer_{i}/attention/key/bias" for i in (0, 1)]


def test_a_dense_update_is_adam():
    """Against Adam written out in numpy (Kingma and Ba's faster form, end of section 2, with
    epsilon hat), two steps from zero moments."""
    variable = keras.Variable(np.zeros((2, 2), "float32"))
    optimizer = FusedAdamW(0.1, weight_decay=0.0)
    optimizer.build([variable])
    gradient = np.array([[3.0, -4.0], [1e-3, 0.0]], "float32")
    step = tf.function(lambda: optimizer.apply([tf.constant(gradient)], [variable]))
    m, v, expected = np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2))
    for t in (1, 2):
        step()
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient.astype("float64") ** 2
        expected -= 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    # float32 against float64 (v's update subtracts nearly equal numbers): rtol 1e-4.
    np.testing.assert_allclose(optimizer._momentums[0].numpy(), m, rtol=1e-4)
    np.testing.assert_allclose(optimizer._velocities[0].numpy(), v, rtol=1e-4)
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-4)


def test_a_sparse_gradient_takes_keras_update():
    """An embedding lookup's gradient repeats a row once per occurrence; Keras' update squares
    each slice before summing (`v` gets 1 + 4, not 9, in the first column), and FusedAdamW
    keeps that, so runs before and after it train the same."""
    results = []
    for optimizer in (keras.optimizers.AdamW(0.1), FusedAdamW(0.1)):
        variable = keras.Variable(np.ones((4, 2), "float32"))
        optimizer.build([variable])
        gradient = tf.IndexedSlices(tf.constant([[1.0, 1.0], [2.0, -5.0]]),
                                    tf.constant([1, 1]), tf.constant([4, 2]))
        optimizer.apply([gradient], [variable])
        results.append([variable.numpy(), optimizer._velocities[0].numpy()])
    np.testing.assert_allclose(results[1][1][1], [0.005, 0.026], rtol=1e-5)
    for keras_value, fused_value in zip(*results):
        np.testing.assert_array_equal(fused_value, keras_value)


def test_the_update_is_one_resource_apply_adam_per_variable():
    variables = [keras.Variable(np.ones((3, 2), "float32")), keras.Variable(np.ones(2, "float32"))]
    optimizer = FusedAdamW(0.1, weight_decay=0.01)
    optimizer.build(variables)
    step = tf.function(lambda *grads: optimizer.apply(list(grads), variables))
    graph = step.get_concrete_function(tf.TensorSpec((3, 2)), tf.TensorSpec((2,))).graph
    types = [op.type for op in graph.get_operations()]
    assert types.count("ResourceApplyAdam") == 2
    assert "Sqrt" not in types and "RealDiv" not in types  # Keras' unfused update is gone


def test_a_checkpoint_written_with_keras_adamw_resumes_with_the_fused_one(tmp_path):
    trained = trained_classifier(create_optimizer(3e-3, 10, 2, fused=False), 3)
    CheckpointManagerCallback(trained, str(tmp_path)).save()
    resumed = trained_classifier(create_optimizer(3e-3, 10, 2), 0)
    resumed.optimizer.build(resumed.trainable_variables)
    assert CheckpointManagerCallback(resumed, str(tmp_path)).restore_latest() == 3
    for a, b in zip(trained.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_serializes_as_itself():
    optimizer = create_optimizer(3e-3, 10, 2)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is FusedAdamW
    assert restored.get_config() == optimizer.get_config()
