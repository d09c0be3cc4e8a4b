import itertools

import keras
import numpy as np

from unilmv2_tf.layers import PseudoMaskAttentionMask

MAIN, P, O, PAD = "MAIN", "P", "O", "PAD"

# The spec's worked example (order 4,5 -> 2): x1 M2 x3 M4 M5 x6 P4 P5 o4 o5 P2 o2.
EXAMPLE_WEIGHTS = [0, 0, 0, 0, 0, 0, -1, -1, 1, 1, -2, 2]
EXAMPLE_MATRIX = """
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 0 0 0 0 0 0
1 1 1 1 1 1 1 1 0 0 0 0
1 1 1 1 1 1 1 1 0 0 0 0
1 1 1 1 1 1 0 0 1 1 0 0
1 1 1 1 1 1 0 0 1 1 0 0
1 1 1 1 1 1 0 0 1 1 1 0
1 1 1 1 1 1 0 0 1 1 0 1
"""


def build_mask(step_weights, padding_mask):
    return np.asarray(PseudoMaskAttentionMask()(np.asarray(step_weights),
                                                np.asarray(padding_mask)))


def rule_allows(query, key):
    """R1-R4 stated over (type, step), independent of the step-weight encoding."""
    (q_type, q_step), (k_type, k_step) = query, key
    if k_type == PAD:
        return False  # R4
    if q_type in (MAIN, PAD):
        return k_type == MAIN  # R1 (padding queries behave as main tokens)
    if q_type == P:
        return k_type == MAIN or (k_type == O and k_step < q_step) or (
            k_type == P and k_step == q_step)  # R2
    return k_type == MAIN or (k_type == O and k_step <= q_step)  # R3


def random_tokens(rng, length):
    tokens = []
    num_steps = rng.integers(1, 6)
    for _ in range(length):
        kind = rng.choice([MAIN, P, O, PAD], p=[0.4, 0.25, 0.25, 0.1])
        tokens.append((kind, int(rng.integers(1, num_steps + 1)) if kind in (P, O) else 0))
    return tokens


def encode(tokens):
    weights = [{MAIN: 0, PAD: 0, P: -s, O: s}[kind] for kind, s in tokens]
    padding = [int(kind != PAD) for kind, _ in tokens]
    return weights, padding


def test_spec_worked_example_verbatim():
    expected = np.array([row.split() for row in EXAMPLE_MATRIX.strip().splitlines()], int)
    mask = build_mask([EXAMPLE_WEIGHTS], [[1] * 12])[0]
    np.testing.assert_array_equal(mask.astype(int), expected)


def test_rules_r1_to_r4_on_random_step_weights():
    rng = np.random.default_rng(0)
    for _ in range(200):
        tokens = random_tokens(rng, int(rng.integers(2, 20)))
        weights, padding = encode(tokens)
        mask = build_mask([weights], [padding])[0]
        expected = [[rule_allows(q, k) for k in tokens] for q in tokens]
        np.testing.assert_array_equal(mask, np.array(expected), err_msg=str(tokens))


def test_batched_and_query_key_split_agree():
    rng = np.random.default_rng(1)
    batch = [encode(random_tokens(rng, 9)) for _ in range(4)]
    weights = np.array([w for w, _ in batch])
    padding = np.array([p for _, p in batch])
    full = build_mask(weights, padding)
    split = np.asarray(PseudoMaskAttentionMask()(weights[:, 5:], padding[:, 5:], weights,
                                                 padding))
    np.testing.assert_array_equal(split, full[:, 5:, :])


def test_no_multi_layer_leakage():
    rng = np.random.default_rng(2)
    for _ in range(100):
        tokens = [t for t in random_tokens(rng, 16) if t[0] != PAD]
        weights, padding = encode(tokens)
        allowed = build_mask([weights], [padding])[0] | np.eye(len(tokens), dtype=bool)
        # Closed under composition: two hops reach nothing one hop does not.
        two_hops = (allowed.astype(int) @ allowed.astype(int)) > 0
        assert not (two_hops & ~allowed).any()
        reach = allowed.copy()
        for _ in range(12):  # 12 layers
            reach = (reach.astype(int) @ allowed.astype(int)) > 0
        for q, (q_kind, q_step) in enumerate(tokens):
            if q_kind == P:
                for k, (k_kind, k_step) in enumerate(tokens):
                    assert not (reach[q, k] and k_kind == O and k_step >= q_step)
            if q_kind == MAIN:
                assert all(reach[q, k] == (k_kind == MAIN) for k, (k_kind, _) in
                           enumerate(tokens))


def test_every_pair_of_kinds_for_three_steps():
    tokens = [(MAIN, 0)] + [(kind, s) for kind, s in itertools.product([P, O], [1, 2, 3])]
    weights, padding = encode(tokens)
    mask = build_mask([weights], [padding])[0]
    for (qi, q), (ki, k) in itertools.product(enumerate(tokens), repeat=2):
        assert mask[qi, ki] == rule_allows(q, k), (q, k)


def test_keras_round_trip(tmp_path):
    steps = keras.Input((None,), dtype="int32")
    padding = keras.Input((None,), dtype="int32")
    model = keras.Model([steps, padding], PseudoMaskAttentionMask()(steps, padding))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = [np.array([EXAMPLE_WEIGHTS]), np.ones((1, 12), "int32")]
    np.testing.assert_array_equal(loaded(x), model(x))
