import math

import keras
import numpy as np
import pytest

from unilmv2_tf.layers import RelativePositionBias, relative_position_bucket

# Test vectors of the spec (section 5): key - query distance -> bucket, 32 buckets, max 128.
SPEC_VECTORS = {0: 0, -1: 1, -7: 7, -8: 8, -12: 9, -16: 10, -32: 12, -64: 14, -91: 15, -128: 15,
                -500: 15, 1: 17, 7: 23, 8: 24, 16: 26, 32: 28, 64: 30, 128: 31, 500: 31}


def reference_bucket(rel, num_buckets=32, max_distance=128):
    """The s2s-ft function, written from the spec with numpy float32 arithmetic."""
    half = num_buckets // 2
    max_exact = half // 2
    ret = half if rel > 0 else 0
    n = abs(rel)
    if n < max_exact:
        return ret + n
    scaled = np.log(np.float32(n) / np.float32(max_exact)) / np.float32(
        math.log(max_distance / max_exact)) * np.float32(half - max_exact)
    return ret + min(half - 1, max_exact + int(scaled))


def test_spec_test_vectors_exactly():
    rel = np.array(list(SPEC_VECTORS))
    assert np.asarray(relative_position_bucket(rel)).tolist() == list(SPEC_VECTORS.values())


@pytest.mark.parametrize("buckets, distance", [(32, 128), (64, 256), (8, 20)])
def test_matches_reference_over_a_wide_range(buckets, distance):
    rel = np.arange(-1100, 1101)
    expected = [reference_bucket(int(r), buckets, distance) for r in rel]
    assert np.asarray(relative_position_bucket(rel, buckets, distance)).tolist() == expected


def test_bias_uses_position_ids_not_indices():
    layer = RelativePositionBias(num_heads=3)
    positions = np.array([[0, 1, 2, 3, 1, 1, 3]])  # appended tokens repeat positions 1 and 3
    bias = np.asarray(layer(positions))
    assert bias.shape == (1, 3, 7, 7)
    table = np.asarray(layer.bias_table)
    for q in range(7):
        for k in range(7):
            bucket = reference_bucket(int(positions[0, k] - positions[0, q]))
            np.testing.assert_allclose(bias[0, :, q, k], table[bucket])
    # A pseudo mask and its original share the position of their slot: bucket 0, same bias.
    np.testing.assert_allclose(bias[0, :, 4, 1], table[0])
    np.testing.assert_allclose(bias[0, :, 4, :], bias[0, :, 1, :])


def test_keras_round_trip(tmp_path):
    positions = keras.Input((None,), dtype="int32")
    model = keras.Model(positions, RelativePositionBias(num_heads=2, num_buckets=16,
                                                        max_distance=32)(positions))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.array([[0, 5, 40, 2]])
    np.testing.assert_array_equal(model(x), loaded(x))
    assert loaded.layers[-1].get_config()["max_distance"] == 32
