"""The PMLM invariances of the spec (section 2) checked on the real backbone."""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from unilmv2_tf import UniLMv2Backbone
from unilmv2_tf.preprocessing import PMLMMasker

PAD, CLS, SEP, MASK = 0, 1, 2, 3
KEYS = ("token_ids", "segment_ids", "position_ids", "padding_mask", "step_weights")


@pytest.fixture(scope="module")
def backbone():
    from unilmv2_tf import UniLMv2Config
    config = UniLMv2Config.from_preset("tiny", vocab_size=50, hidden_size=32, num_heads=2,
                                       intermediate_size=64, max_position_embeddings=64,
                                       hidden_dropout=0.0, attention_dropout=0.0)
    keras.utils.set_random_seed(0)
    return UniLMv2Backbone(config)


def make_example(seed, length=24, budget=8, **masker_options):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, length - 3))
    split = int(rng.integers(3, n - 3))
    ids = np.zeros(length, "int32")
    ids[: n + 3] = [CLS, *rng.integers(4, 50, split), SEP, *rng.integers(4, 50, n - split), SEP]
    segments = np.zeros(length, "int32")
    segments[split + 2: n + 3] = 1
    masker = PMLMMasker(50, MASK, [PAD, CLS, SEP, MASK], budget, mask_rate=0.3,
                        **masker_options)
    features = masker(ids, segments, (ids > 0).astype("int32"), seed=[seed, 7])
    return {k: np.asarray(v) for k, v in features.items()}


def run(backbone, features):
    batch = {k: np.asarray(features[k])[None] for k in KEYS}
    return np.asarray(backbone(batch)["sequence_output"])[0]


def test_ae_invariance_to_appended_tokens(backbone):
    for seed in range(4):
        x = make_example(seed)
        main = x["step_weights"] == 0
        main[len(main) - 16:] = False  # the appended part (2 * budget)
        reference = run(backbone, x)[main]
        changed = dict(x)
        appended = ~main & (x["padding_mask"] > 0)
        changed["token_ids"] = np.where(appended, (x["token_ids"] + 7) % 50, x["token_ids"])
        np.testing.assert_allclose(run(backbone, changed)[main], reference, atol=1e-5)
        order = np.arange(len(main))
        tail = order[24:].copy()
        np.random.default_rng(seed).shuffle(tail)
        order[24:] = tail
        permuted = {k: x[k][order] for k in KEYS}
        np.testing.assert_allclose(run(backbone, permuted)[main], reference, atol=1e-5)
        # Removing the appended part = a plain bidirectional forward over the main part alone.
        alone = {k: x[k][:24] for k in KEYS}
        np.testing.assert_allclose(run(backbone, alone)[main[:24]], reference, atol=1e-5)


def test_par_causality(backbone):
    for seed in range(4):
        x = make_example(seed)
        out = run(backbone, x)
        steps = x["step_weights"]
        real = x["padding_mask"] > 0
        for s in range(1, -steps.min() + 1):
            queries = steps == -s
            hidden = (real & (((steps > 0) & (steps >= s)) | ((steps < 0) & (steps != -s))))
            changed = dict(x)
            changed["token_ids"] = np.where(hidden, (x["token_ids"] + 11) % 50, x["token_ids"])
            np.testing.assert_allclose(run(backbone, changed)[queries], out[queries],
                                       atol=1e-5)
            # And the originals of earlier steps do matter (the mask is not over-blocking).
            earlier = real & (steps > 0) & (steps < s)
            if earlier.any():
                changed["token_ids"] = np.where(earlier, (x["token_ids"] + 5) % 50,
                                                x["token_ids"])
                assert np.abs(run(backbone, changed)[queries] - out[queries]).max() > 1e-4


def test_order_invariance_of_appended_tokens(backbone):
    x = make_example(11)
    out = run(backbone, x)
    order = np.concatenate([np.arange(24), 24 + np.random.default_rng(0).permutation(16)])
    permuted = {k: x[k][order] for k in KEYS}
    real = x["padding_mask"][order] > 0
    np.testing.assert_allclose(run(backbone, permuted)[real], out[order][real], atol=1e-5)


def test_position_sharing(backbone):
    x = make_example(5, append_last_block_originals=True)
    weights = x["label_weights"] > 0
    for mask_pos, par_pos in zip(x["mask_positions"][weights], x["par_positions"][weights]):
        pseudo_weight = x["step_weights"][par_pos]  # -s
        assert x["position_ids"][par_pos] == mask_pos
        assert x["position_ids"][mask_pos] == mask_pos
        pseudo = np.flatnonzero((x["step_weights"] == pseudo_weight)
                                & (x["position_ids"] == mask_pos))
        original = np.flatnonzero((x["step_weights"] == -pseudo_weight)
                                  & (x["position_ids"] == mask_pos))
        assert len(pseudo) == 1 and len(original) == 1
        assert x["segment_ids"][par_pos] == x["segment_ids"][mask_pos]
        assert x["segment_ids"][original[0]] == x["segment_ids"][mask_pos]
    bias = np.asarray(backbone.relative_position_bias(x["position_ids"][None]))[0]
    table = np.asarray(backbone.relative_position_bias.bias_table)
    par = x["par_positions"][weights][0]
    np.testing.assert_allclose(bias[:, par, x["mask_positions"][weights][0]], table[0])


def test_attention_mask_input_equals_step_weights(backbone, tmp_path):
    x = make_example(3)
    with_mask = UniLMv2Backbone(backbone.config, mask_input="attention_mask")
    with_mask.set_weights(backbone.get_weights())
    mask = np.asarray(backbone.pseudo_mask(x["step_weights"][None], x["padding_mask"][None]))
    batch = {k: x[k][None] for k in KEYS if k != "step_weights"}
    np.testing.assert_allclose(with_mask({**batch, "attention_mask": mask})["sequence_output"][0],
                               run(backbone, x), atol=1e-6)


def test_keras_round_trip(backbone, tmp_path):
    x = make_example(4)
    backbone.save(tmp_path / "backbone.keras")
    loaded = keras.saving.load_model(tmp_path / "backbone.keras")
    assert loaded.config == backbone.config
    np.testing.assert_allclose(run(loaded, x), run(backbone, x), atol=1e-6)


def test_keras_hub_preset_round_trip(backbone, tmp_path):
    x = make_example(5)
    backbone.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_hub.models.Backbone.from_preset(str(tmp_path / "preset"))
    assert type(loaded) is UniLMv2Backbone and loaded.config == backbone.config
    np.testing.assert_allclose(run(loaded, x), run(backbone, x), atol=1e-6)
    in_bf16 = UniLMv2Backbone.from_preset(str(tmp_path / "preset"), dtype="mixed_bfloat16")
    assert in_bf16.dtype_policy.name == "mixed_bfloat16"
    # A size name still builds random weights (what from_preset did before presets).
    sized = UniLMv2Backbone.from_preset("tiny", vocab_size=50)
    assert sized.config == UniLMv2Backbone.from_size("tiny", vocab_size=50).config


def test_flat_keras_hub_arguments_build_the_same_model_and_old_configs_still_load(backbone):
    flat = UniLMv2Backbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=32,
                           intermediate_dim=64, max_sequence_length=64, dropout=0.0,
                           attention_dropout=0.0)
    assert flat.config == backbone.config
    config = backbone.get_config()
    assert {"vocabulary_size": 50, "hidden_dim": 32, "intermediate_dim": 64,
            "max_sequence_length": 64, "num_segments": 2}.items() <= config.items()
    flat.set_weights(backbone.get_weights())
    x = make_example(6)
    np.testing.assert_allclose(run(flat, x), run(backbone, x), atol=1e-6)
    # What earlier versions wrote in `.keras` files and presets: the config nested.
    nested = {k: v for k, v in config.items() if k in ("name", "trainable", "dtype", "mask_input")}
    rebuilt = UniLMv2Backbone.from_config({**nested, "config": backbone.config.to_dict()})
    assert rebuilt.config == backbone.config
    with pytest.raises(ValueError, match=r"needs \['hidden_dim', 'intermediate_dim'"):
        UniLMv2Backbone(vocabulary_size=50, num_layers=2, num_heads=2)
    with pytest.raises(ValueError, match="either `config` or the size arguments"):
        UniLMv2Backbone(vocabulary_size=50, config=backbone.config)


def test_mixed_precision_policy_keeps_float32_variables():
    model = UniLMv2Backbone.from_size("tiny", vocab_size=30, dtype="mixed_bfloat16")
    x = make_example(2)
    x["token_ids"] = x["token_ids"] % 30
    out = model({k: tf.constant(x[k][None]) for k in KEYS})["sequence_output"]
    assert out.dtype == tf.bfloat16
    assert all(v.dtype == "float32" for v in model.weights)
