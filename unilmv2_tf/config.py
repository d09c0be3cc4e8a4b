"""Model hyperparameters (`UniLMv2Config`) and the named presets."""

import dataclasses
import json

PRESETS = {
    # For tests and the quick-start job: runs in seconds on a laptop CPU.
    "tiny": dict(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128,
                 max_position_embeddings=128),
    # For CPU benchmarks and small experiments.
    "small": dict(hidden_size=256, num_layers=4, num_heads=4, intermediate_size=1024,
                  max_position_embeddings=512),
    # The paper's BASE model (12 x 768 x 12, 30,522 vocabulary, 512 positions).
    "base": dict(hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072,
                 max_position_embeddings=512),
    "large": dict(hidden_size=1024, num_layers=24, num_heads=16, intermediate_size=4096,
                  max_position_embeddings=512),
}


# The backbone's flat constructor arguments (keras-hub's names, `BertBackbone`'s where it has
# one) -> the config fields they set.
BACKBONE_ARGUMENTS = {
    "vocabulary_size": "vocab_size", "num_layers": "num_layers", "num_heads": "num_heads",
    "hidden_dim": "hidden_size", "intermediate_dim": "intermediate_size",
    "max_sequence_length": "max_position_embeddings", "num_segments": "type_vocab_size",
    "dropout": "hidden_dropout", "attention_dropout": "attention_dropout",
    "layer_norm_epsilon": "layer_norm_epsilon", "initializer_range": "initializer_range",
    "use_relative_position_bias": "use_relative_position_bias",
    "relative_position_buckets": "relative_position_buckets",
    "max_relative_distance": "max_relative_distance",
}


@dataclasses.dataclass(frozen=True)
class UniLMv2Config:
    """Hyperparameters of a UniLMv2 Transformer.

    Defaults are the paper's BASE model with the BERT uncased vocabulary.

    Example:
    >>> config = UniLMv2Config.from_preset("tiny", vocab_size=1000)
    >>> config.head_size
    32
    >>> UniLMv2Config.from_json(config.to_json()) == config
    True
    >>> config.backbone_arguments()["hidden_dim"]
    64
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    relative_position_buckets: int = 32
    max_relative_distance: int = 128
    use_relative_position_bias: bool = True
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    layer_norm_epsilon: float = 1e-12
    initializer_range: float = 0.02

    def __post_init__(self):
        positive = ("vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size",
                    "max_position_embeddings")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"UniLMv2Config.{name} must be a positive integer, got {value!r}.")
        if not isinstance(self.type_vocab_size, int) or self.type_vocab_size < 0:
            raise ValueError("UniLMv2Config.type_vocab_size must be a non-negative integer, "
                             f"got {self.type_vocab_size!r}.")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"UniLMv2Config.hidden_size ({self.hidden_size}) must be divisible by "
                             f"num_heads ({self.num_heads}).")
        if self.use_relative_position_bias:
            buckets = self.relative_position_buckets
            if not isinstance(buckets, int) or buckets < 4 or buckets % 2:
                raise ValueError("UniLMv2Config.relative_position_buckets must be an even integer "
                                 f">= 4, got {buckets!r}.")
            if self.max_relative_distance <= buckets // 4:
                raise ValueError(
                    f"UniLMv2Config.max_relative_distance ({self.max_relative_distance}) must be "
                    f"larger than relative_position_buckets // 4 ({buckets // 4}), the largest "
                    "distance with its own bucket.")
        for name in ("hidden_dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"UniLMv2Config.{name} must be in [0, 1), got {value!r}.")
        if self.layer_norm_epsilon <= 0 or self.initializer_range <= 0:
            raise ValueError("UniLMv2Config.layer_norm_epsilon and initializer_range must be > 0.")

    @property
    def head_size(self):
        return self.hidden_size // self.num_heads

    @classmethod
    def from_preset(cls, name, **overrides):
        """Builds the preset `name` ("tiny", "small", "base", "large") with `overrides` applied."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
        return cls(**{**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values):
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown UniLMv2Config keys {unknown}; known keys are "
                             f"{sorted(known)}.")
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)

    def backbone_arguments(self):
        """This config as `UniLMv2Backbone`'s flat keras-hub-style arguments."""
        return {argument: getattr(self, field) for argument, field in BACKBONE_ARGUMENTS.items()}

    @classmethod
    def from_backbone_arguments(cls, arguments):
        """The config of `UniLMv2Backbone(**arguments)` (missing ones take the defaults)."""
        unknown = sorted(set(arguments) - set(BACKBONE_ARGUMENTS))
        if unknown:
            raise ValueError(f"Unknown UniLMv2Backbone arguments {unknown}; known are "
                             f"{sorted(BACKBONE_ARGUMENTS)}.")
        return cls(**{BACKBONE_ARGUMENTS[name]: value for name, value in arguments.items()})

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path):
        """The config in `path`: a plain `UniLMv2Config` dict (`save`), or a keras-hub
        preset's `config.json` (a serialized `UniLMv2Backbone`: flat arguments, or a nested
        `config` as earlier versions wrote it)."""
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
        if isinstance(values, dict) and "class_name" in values:
            if values["class_name"] != "UniLMv2Backbone":
                raise ValueError(f"{path} describes a {values['class_name']}, not a "
                                 f"UniLMv2Backbone.")
            arguments = values["config"]
            if "config" in arguments:
                return cls.from_dict(arguments["config"])
            return cls.from_backbone_arguments(
                {k: v for k, v in arguments.items() if k in BACKBONE_ARGUMENTS})
        return cls.from_dict(values)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)
