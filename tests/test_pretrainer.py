"""PMLMPretrainer: a short fit on real text, checkpoint reload, objectives, serialization."""

import keras
import numpy as np
import pytest

from unilmv2_tf import UniLMv2Backbone, UniLMv2Config, assets
from unilmv2_tf.data import make_pretraining_dataset
from unilmv2_tf.models import PMLMPretrainer
from unilmv2_tf.preprocessing import PMLMMasker
from unilmv2_tf.training import CheckpointManagerCallback, WarmupLinearDecay, create_optimizer

LENGTH, BATCH = 32, 8


def config():
    return UniLMv2Config.from_preset("tiny", hidden_size=32, num_heads=2, intermediate_size=64,
                                     max_position_embeddings=64, hidden_dropout=0.0,
                                     attention_dropout=0.0)


def masker(tokenizer, **options):
    return PMLMMasker.for_tokenizer(tokenizer, PMLMMasker.default_max_predictions(LENGTH),
                                    **options)


def eval_data(tokenizer, **options):
    return make_pretraining_dataset([assets.DEFAULT_CORPUS], tokenizer,
                                    masker(tokenizer, **options), LENGTH, BATCH, seed=99,
                                    shuffle=False).take(4).cache()


@pytest.fixture(scope="module")
def trained(tokenizer):
    keras.utils.set_random_seed(1)
    model = PMLMPretrainer(UniLMv2Backbone(config()))
    model.compile(optimizer=create_optimizer(3e-3, total_steps=60, warmup_steps=5))
    evaluation = eval_data(tokenizer)
    before = model.evaluate(evaluation, return_dict=True, verbose=0)
    train = make_pretraining_dataset([assets.DEFAULT_CORPUS], tokenizer, masker(tokenizer),
                                     LENGTH, BATCH, seed=0)
    history = model.fit(train, steps_per_epoch=30, epochs=2, verbose=0)
    after = model.evaluate(evaluation, return_dict=True, verbose=0)
    return model, evaluation, before, after, history


def test_fit_lowers_both_losses(trained):
    _, _, before, after, history = trained
    assert set(history.history) == {"loss", "ae_loss", "par_loss", "ae_accuracy",
                                     "par_accuracy"}
    assert after["ae_loss"] < before["ae_loss"] - 1.0
    assert after["par_loss"] < before["par_loss"] - 1.0
    np.testing.assert_allclose(after["loss"], after["ae_loss"] + after["par_loss"], rtol=1e-5)


def test_checkpoint_reload_gives_the_same_loss(trained, tmp_path):
    model, evaluation, _, after, _ = trained
    saved = CheckpointManagerCallback(model, str(tmp_path))
    saved.save()
    fresh = PMLMPretrainer(UniLMv2Backbone(config()))
    fresh.compile(optimizer=create_optimizer(3e-3, total_steps=60, warmup_steps=5))
    fresh(next(iter(evaluation)))
    fresh.optimizer.build(fresh.trainable_variables)
    assert CheckpointManagerCallback(fresh, str(tmp_path)).restore_latest() == 60
    reloaded = fresh.evaluate(evaluation, return_dict=True, verbose=0)
    np.testing.assert_allclose(reloaded["loss"], after["loss"], rtol=1e-6)


def test_keras_round_trip(trained, tmp_path):
    model, evaluation, _, after, _ = trained
    model.save(tmp_path / "pretrainer.keras")
    loaded = keras.saving.load_model(tmp_path / "pretrainer.keras")
    assert loaded.lm_head.token_embedding is loaded.backbone.token_embedding
    loaded.compile(optimizer="sgd")
    np.testing.assert_allclose(loaded.evaluate(evaluation, return_dict=True, verbose=0)["loss"],
                               after["loss"], rtol=1e-6)


def test_objectives_share_the_losses(trained, tokenizer):
    model, evaluation, _, after, _ = trained
    for objective, expected in (("mlm", {"ae_loss"}), ("par", {"par_loss"})):
        other = PMLMPretrainer(model.backbone, objective=objective)
        other.lm_head.set_weights(model.lm_head.get_weights())
        other.compile(optimizer="sgd")
        result = other.evaluate(evaluation, return_dict=True, verbose=0)
        assert not {"ae_loss", "par_loss"} - expected & set(result)
        # "mlm" cuts the appended part off; AE invariance makes its loss identical.
        for key in expected:
            np.testing.assert_allclose(result[key], after[key], rtol=1e-5)
    with pytest.raises(ValueError, match="objective must be one of"):
        PMLMPretrainer(model.backbone, objective="clm")


def test_last_block_originals_change_no_loss(trained, tokenizer):
    model, _, _, after, _ = trained
    with_originals = eval_data(tokenizer, append_last_block_originals=True)
    result = model.evaluate(with_originals, return_dict=True, verbose=0)
    np.testing.assert_allclose(result["loss"], after["loss"], rtol=1e-5)


def test_schedule_and_optimizer():
    schedule = WarmupLinearDecay(6e-4, total_steps=100, warmup_steps=10)
    values = [float(schedule(s)) for s in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0, 3e-4, 6e-4, 3e-4, 0, 0], atol=1e-9)
    optimizer = create_optimizer(6e-4, 100, 10)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.98, 1e-6)
    assert optimizer.weight_decay == 0.01
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupLinearDecay(1e-3, 10, 20)
