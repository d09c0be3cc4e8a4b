import pytest

from unilmv2_tf import PRESETS, UniLMv2Config


def test_base_preset_is_the_paper_model():
    config = UniLMv2Config.from_preset("base")
    assert (config.num_layers, config.hidden_size, config.num_heads) == (12, 768, 12)
    assert (config.vocab_size, config.max_position_embeddings) == (30522, 512)
    assert (config.relative_position_buckets, config.max_relative_distance) == (32, 128)
    large = UniLMv2Config.from_preset("large")
    assert (large.num_layers, large.hidden_size, large.num_heads) == (24, 1024, 16)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_json_round_trip(name, tmp_path):
    config = UniLMv2Config.from_preset(name, hidden_dropout=0.2)
    assert UniLMv2Config.from_json(config.to_json()) == config
    config.save(tmp_path / "config.json")
    assert UniLMv2Config.load(tmp_path / "config.json") == config


@pytest.mark.parametrize("changes, message", [
    (dict(hidden_size=100, num_heads=12), "divisible by num_heads"),
    (dict(num_layers=0), "num_layers must be a positive integer"),
    (dict(relative_position_buckets=31), "even integer"),
    (dict(max_relative_distance=4), "max_relative_distance"),
    (dict(hidden_dropout=1.5), "hidden_dropout"),
])
def test_inconsistent_values_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        UniLMv2Config(**changes)


def test_unknown_preset_and_keys():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        UniLMv2Config.from_preset("huge")
    with pytest.raises(ValueError, match=r"Unknown UniLMv2Config keys \['hidden'\]"):
        UniLMv2Config.from_dict({"hidden": 3})
