"""`UniLMv2Backbone`: the functional Keras model of the UniLMv2 Transformer."""

import keras
from keras import ops
from keras_hub.models import Backbone

from unilmv2_tf.config import PRESETS, UniLMv2Config
from unilmv2_tf.layers import (PseudoMaskAttentionMask, RelativePositionBias, TransformerBlock,
                               UniLMv2Embeddings)
from unilmv2_tf.model_folder import ModelFolder

MASK_INPUTS = ("step_weights", "attention_mask")


def _as_config(config):
    if isinstance(config, UniLMv2Config):
        return config
    if isinstance(config, str):
        return UniLMv2Config.from_preset(config)
    if isinstance(config, dict):
        return UniLMv2Config.from_dict(config)
    raise TypeError(f"`config` must be a UniLMv2Config, a dict or a preset name, got {config!r}.")


@keras.saving.register_keras_serializable(package="unilmv2_tf")
class UniLMv2Backbone(Backbone):
    """The UniLMv2 encoder: embeddings, a shared relative position bias, post-LN blocks.

    A keras-hub `Backbone`: `save_to_preset(dir)` writes a keras-hub preset folder that
    `keras_hub.models.Backbone.from_preset(dir)` (or this class's) loads with its weights, and
    `enable_lora(rank)` freezes every weight and adds trainable LoRA factors to the attention's
    query and value projections. `from_size("tiny")` builds a randomly initialised one.

    Args (keras-hub's names, as `BertBackbone`'s; `UniLMv2Config` holds the same values as
    `backbone.config`, and `UniLMv2Backbone(config)` still builds from one):
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim: the sizes.
        max_sequence_length: rows of the absolute position table (512).
        num_segments: segment (token type) embeddings (2).
        dropout, attention_dropout: 0.1 each.
        layer_norm_epsilon (1e-12), initializer_range (0.02).
        use_relative_position_bias (True), relative_position_buckets (32),
            max_relative_distance (128): the shared T5-style bias.
        mask_input: `"step_weights"` (default) or `"attention_mask"`, see below.

    Inputs (a dict):
        token_ids, segment_ids, position_ids: int `[B, T]`.
        padding_mask: `[B, T]`, 1 for real tokens.
        step_weights: int `[B, T]` (0 main, +s original of step s, -s pseudo mask of step s),
            turned into the pseudo-mask attention mask inside the model; or, with
            `mask_input="attention_mask"`, a ready bool `attention_mask [B, T, T]`.

    Outputs (a dict): `sequence_output [B, T, hidden]`.

    With all step weights 0 the model is a plain bidirectional encoder (NLU fine-tuning).

    Example:
    >>> import numpy as np
    >>> backbone = UniLMv2Backbone(vocabulary_size=200, num_layers=2, num_heads=2, hidden_dim=64,
    ...                            intermediate_dim=128, max_sequence_length=128)
    >>> ids = np.array([[101, 7, 8, 102, 0]])
    >>> out = backbone({"token_ids": ids, "segment_ids": np.zeros_like(ids),
    ...                 "position_ids": np.array([[0, 1, 2, 3, 0]]),
    ...                 "padding_mask": ids > 0, "step_weights": np.zeros_like(ids)})
    >>> tuple(out["sequence_output"].shape)
    (1, 5, 64)
    """

    def __init__(self, vocabulary_size=None, num_layers=None, num_heads=None, hidden_dim=None,
                 intermediate_dim=None, max_sequence_length=512, num_segments=2, dropout=0.1,
                 attention_dropout=0.1, layer_norm_epsilon=1e-12, initializer_range=0.02,
                 use_relative_position_bias=True, relative_position_buckets=32,
                 max_relative_distance=128, mask_input="step_weights", dtype=None, config=None,
                 **kwargs):
        if isinstance(vocabulary_size, (UniLMv2Config, dict, str)):
            config, vocabulary_size = vocabulary_size, None  # `UniLMv2Backbone(config)`
        sizes = dict(vocabulary_size=vocabulary_size, num_layers=num_layers,
                     num_heads=num_heads, hidden_dim=hidden_dim,
                     intermediate_dim=intermediate_dim)
        if config is not None:
            given = sorted(name for name, value in sizes.items() if value is not None)
            if given:
                raise ValueError(f"Pass either `config` or the size arguments, not both "
                                 f"(got config and {given}).")
            config = _as_config(config)
        else:
            missing = sorted(name for name, value in sizes.items() if value is None)
            if missing:
                raise ValueError(f"UniLMv2Backbone needs {missing} (or a `config`; "
                                 f"`UniLMv2Backbone.from_size(name)` for a named size).")
            config = UniLMv2Config.from_backbone_arguments(dict(
                sizes, max_sequence_length=max_sequence_length, num_segments=num_segments,
                dropout=dropout, attention_dropout=attention_dropout,
                layer_norm_epsilon=layer_norm_epsilon, initializer_range=initializer_range,
                use_relative_position_bias=use_relative_position_bias,
                relative_position_buckets=relative_position_buckets,
                max_relative_distance=max_relative_distance))
        if mask_input not in MASK_INPUTS:
            raise ValueError(f"`mask_input` must be one of {MASK_INPUTS}, got {mask_input!r}.")
        # === Layers ===
        embeddings = UniLMv2Embeddings(
            config.vocab_size, config.hidden_size, config.max_position_embeddings,
            type_vocab_size=config.type_vocab_size, dropout=config.hidden_dropout,
            layer_norm_epsilon=config.layer_norm_epsilon,
            initializer_range=config.initializer_range, dtype=dtype, name="embeddings")
        relative_bias = None
        if config.use_relative_position_bias:
            relative_bias = RelativePositionBias(
                config.num_heads, config.relative_position_buckets, config.max_relative_distance,
                initializer_range=config.initializer_range, dtype=dtype,
                name="relative_position_bias")
        mask_layer = PseudoMaskAttentionMask(dtype=dtype, name="pseudo_mask")
        blocks = [TransformerBlock(config.num_heads, config.intermediate_size,
                                   dropout=config.hidden_dropout,
                                   attention_dropout=config.attention_dropout,
                                   layer_norm_epsilon=config.layer_norm_epsilon,
                                   initializer_range=config.initializer_range, dtype=dtype,
                                   name=f"transformer_layer_{i}")
                  for i in range(config.num_layers)]

        # === Functional model ===
        inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name)
                  for name in ("token_ids", "segment_ids", "position_ids", "padding_mask")}
        if mask_input == "step_weights":
            inputs["step_weights"] = keras.Input(shape=(None,), dtype="int32",
                                                 name="step_weights")
            attention_mask = mask_layer(inputs["step_weights"], inputs["padding_mask"])
        else:
            inputs["attention_mask"] = keras.Input(shape=(None, None), dtype="bool",
                                                   name="attention_mask")
            attention_mask = inputs["attention_mask"]
        x = embeddings(inputs["token_ids"], inputs["segment_ids"], inputs["position_ids"])
        bias = relative_bias(inputs["position_ids"]) if relative_bias is not None else None
        for block in blocks:
            x = block(x, attention_mask=attention_mask, attention_bias=bias)
        # keras-hub's Backbone sets the dtype policy, which a functional Model does not.
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        self.mask_input = mask_input
        self.embeddings = embeddings
        self.relative_position_bias = relative_bias
        self.pseudo_mask = mask_layer
        self.transformer_layers = blocks

    @property
    def token_embedding(self):
        """The `keras.layers.Embedding` an LM head ties its decoder to."""
        return self.embeddings.token_embedding

    @classmethod
    def from_size(cls, name, dtype=None, **config_overrides):
        """A randomly initialised backbone of the size `name` (tiny, small, base, large), with
        `config_overrides` (e.g. `vocab_size=...`) applied."""
        return cls(UniLMv2Config.from_preset(name, **config_overrides), dtype=dtype)

    @classmethod
    def from_preset(cls, preset, load_weights=True, dtype=None, **kwargs):
        """The backbone of a keras-hub preset folder (`save_to_preset`), with its weights.

        A size name (tiny, small, base, large) is still read as `from_size(preset, ...)`, as
        in earlier versions: random weights.
        """
        if preset in PRESETS:
            return cls.from_size(preset, dtype=dtype, **kwargs)
        if dtype is not None:
            kwargs["dtype"] = dtype
        return super().from_preset(preset, load_weights=load_weights, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """keras-hub's `save_to_preset`, recording the weights' storage dtype rather than a
        mixed policy, which keras-hub's loader cannot read (`ModelFolder.record_storage_dtype`)."""
        super().save_to_preset(preset_dir, max_shard_size=max_shard_size)
        ModelFolder(preset_dir).record_storage_dtype()

    def enable_lora(self, rank, target_layer_names=None):
        """keras-hub's `enable_lora` (every weight frozen, rank-`rank` factors added to the
        `query` and `value` projections), with the biases of those projections frozen too:
        keras leaves them trainable, and here LoRA training means the LoRA factors alone.
        Saving the model (`.keras`, a preset) merges the factors into the kernels.

        >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=200)
        >>> backbone.enable_lora(4)
        >>> sorted({w.path.split("/")[-1] for w in backbone.trainable_weights})
        ['lora_kernel_a', 'lora_kernel_b']
        """
        super().enable_lora(rank, target_layer_names)
        for layer in self._flatten_layers(include_self=False):
            if getattr(layer, "lora_enabled", False) and layer.bias is not None:
                layer.bias.trainable = False

    def with_max_positions(self, max_positions):
        """A copy of this backbone whose absolute position table has `max_positions` rows.

        New rows tile the trained ones (row `i` copies row `i % old`), as s2s-ft does when
        source + target outgrow the pretrained 512 positions; the relative bias needs no change.
        Returns `self` when the table is already large enough.
        """
        old = self.config.max_position_embeddings
        if max_positions <= old:
            return self
        grown = type(self)(self.config.replace(max_position_embeddings=max_positions),
                           mask_input=self.mask_input, dtype=self.dtype_policy)
        for target, source in zip(grown.weights, self.weights):
            value = ops.convert_to_numpy(source)
            if source is self.embeddings.position_embedding.embeddings:
                value = value[[i % old for i in range(max_positions)]]
            target.assign(value)
        return grown

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": keras.dtype_policies.serialize(self.dtype_policy),
                **self.config.backbone_arguments(), "mask_input": self.mask_input}

    @classmethod
    def from_config(cls, config):
        # Files of earlier versions nest a `UniLMv2Config` dict under "config"; the
        # constructor takes it as it is.
        return cls(**config)

    def init_cache(self, batch_size, max_length):
        """A zero key/value cache: per layer a `(keys, values)` pair, keys
        `[B, heads, head_size, max_length]` and values `[B, heads, max_length, head_size]`
        (the layouts the attention products read; see `RelativeMultiHeadAttention`).
        Separate tensors, so that a step copies only what it updates (one stacked tensor was
        sliced, restacked and transposed every step).
        """
        c = self.config
        keys = (batch_size, c.num_heads, c.head_size, max_length)
        values = (batch_size, c.num_heads, max_length, c.head_size)
        return tuple((ops.zeros(keys, self.compute_dtype), ops.zeros(values, self.compute_dtype))
                     for _ in range(c.num_layers))

    def call_with_cache(self, token_ids, segment_ids, position_ids, attention_mask, cache,
                        cache_update_index, cache_position_ids):
        """Runs new tokens against a key/value cache (the decoding interface).

        The new tokens' keys/values are written to cache slots
        `[cache_update_index, cache_update_index + T)` of every layer, then their queries attend
        over all cache slots.

        Args:
            token_ids, segment_ids, position_ids: int `[B, T]` of the new tokens.
            attention_mask: bool `[B, T, S]` over the cache slots (build it with
                `PseudoMaskAttentionMask` from the new tokens' and the slots' step weights).
            cache: per layer `(keys, values)`, keys `[B, heads, head_size, S]` and values
                `[B, heads, S, head_size]`, from `init_cache`.
            cache_update_index: int scalar.
            cache_position_ids: int `[B, S]`, the position id of every slot (the new tokens'
                included), for the relative bias.

        Returns `(sequence_output [B, T, hidden], updated_cache)`.
        """
        x = self.embeddings(token_ids, segment_ids, position_ids)
        bias = None
        if self.relative_position_bias is not None:
            bias = self.relative_position_bias(position_ids, cache_position_ids)
        layer_caches = []
        for block, layer_cache in zip(self.transformer_layers, cache, strict=True):
            x, layer_cache = block(x, attention_mask=attention_mask, attention_bias=bias,
                                   cache=layer_cache, cache_update_index=cache_update_index)
            layer_caches.append(layer_cache)
        return x, tuple(layer_caches)
