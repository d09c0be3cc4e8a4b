"""PyTorch UniLMv2 / s2s-ft / BERT state dicts <-> `UniLMv2Backbone` (+ its LM head)."""

import collections
import re

import numpy as np

from unilmv2_tf.backbone import UniLMv2Backbone
from unilmv2_tf.config import UniLMv2Config
from unilmv2_tf.convert.bert_weight_map import bert_weight_map

SOURCES = ("unilm", "s2s-ft", "bert")
# Tensors a checkpoint may carry that the Keras model has no use for.
IGNORED = (r"embeddings\.position_ids", r"pooler\..*", r"cls\.seq_relationship\..*",
           r"crit_mask_lm_smoothed\.one_hot", r"cls\.predictions\.decoder\.bias")
TIED = ("cls.predictions.decoder.weight", "cls.predictions.decoder_weight")

ConvertedCheckpoint = collections.namedtuple("ConvertedCheckpoint",
                                             ["backbone", "pretrainer", "report"])


def canonicalize(state, source):
    """HF BERT names without `bert.` (what `bert_weight_map` uses) from any supported layout.

    Splits UniLMv2's fast-QKV `qkv_linear` [3H, H] into query/key/value with `q_bias`,
    `v_bias` and a zero key bias; renames `encoder.rel_pos_bias` and old `gamma`/`beta`.
    Returns `(tensors, ignored_names)`; tied decoder copies must equal the word embeddings.
    """
    if source not in SOURCES:
        raise ValueError(f"Unknown checkpoint source {source!r}; expected one of {SOURCES}.")
    tensors, ignored = {}, []
    for name, value in state.items():
        name = name[len("bert."):] if name.startswith("bert.") else name
        name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
        name = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)
        name = name.replace("encoder.rel_pos_bias.", "rel_pos_bias.")
        tensors[name] = np.asarray(value)
    if "embeddings.word_embeddings.weight" not in tensors:
        sample = ", ".join(sorted(state)[:5])
        raise ValueError(f"Not a BERT / UniLMv2 checkpoint: no "
                         f"'embeddings.word_embeddings.weight' (first tensors: {sample}).")
    for name in [n for n in tensors if n.endswith(".attention.self.qkv_linear.weight")]:
        prefix = name[:-len("qkv_linear.weight")]
        qkv = tensors.pop(name)
        if qkv.ndim != 2 or qkv.shape[0] != 3 * qkv.shape[1]:
            raise ValueError(f"{name} has shape {qkv.shape}; fast-QKV expects [3H, H].")
        hidden = qkv.shape[1]
        for part, weight in zip(("query", "key", "value"), np.split(qkv, 3, axis=0)):
            tensors[f"{prefix}{part}.weight"] = weight
        for part, bias_name in (("query", "q_bias"), ("value", "v_bias")):
            if prefix + bias_name not in tensors:
                raise ValueError(f"Missing tensor {prefix + bias_name} next to {name}.")
            tensors[f"{prefix}{part}.bias"] = tensors.pop(prefix + bias_name).reshape(-1)
        tensors[f"{prefix}key.bias"] = np.zeros([hidden], qkv.dtype)  # UniLMv2 has none
    for name in TIED:
        if name in tensors:
            tied = tensors.pop(name)
            if not np.array_equal(tied, tensors["embeddings.word_embeddings.weight"]):
                raise ValueError(f"{name} differs from the word embeddings; the Keras LM head "
                                 f"is tied to them and cannot hold a separate decoder.")
            ignored.append(name)
    for name in list(tensors):
        if any(re.fullmatch(pattern, name) for pattern in IGNORED):
            tensors.pop(name)
            ignored.append(name)
    return tensors, sorted(ignored)


def _config_value(config_json, keys, what):
    for key in keys:
        if key in config_json:
            return config_json[key]
    raise ValueError(f"The config JSON has no {' / '.join(repr(k) for k in keys)} ({what}); "
                     f"it cannot be inferred from the tensors.")


def infer_config(tensors, config_json):
    """`UniLMv2Config` from the tensor shapes, and from `config_json` what shapes cannot tell
    (heads without a relative bias, max relative distance, LayerNorm epsilon, dropout)."""
    vocab, hidden = tensors["embeddings.word_embeddings.weight"].shape
    layers = 1 + max((int(m.group(1)) for m in (re.match(r"encoder\.layer\.(\d+)\.", n)
                                                 for n in tensors) if m), default=-1)
    if layers == 0:
        raise ValueError("The checkpoint has no encoder.layer.* tensors.")
    intermediate = tensors["encoder.layer.0.intermediate.dense.weight"].shape[0] \
        if "encoder.layer.0.intermediate.dense.weight" in tensors else None
    if intermediate is None:
        raise ValueError("Missing tensor encoder.layer.0.intermediate.dense.weight.")
    relative = tensors.get("rel_pos_bias.weight")
    options = {}
    if relative is not None:
        heads, buckets = relative.shape
        options = {"relative_position_buckets": int(buckets),
                   "max_relative_distance": int(_config_value(
                       config_json, ["max_rel_pos"], "the relative bias' max distance"))}
        if config_json.get("num_attention_heads", heads) != heads:
            raise ValueError(f"The config JSON says {config_json['num_attention_heads']} heads "
                             f"but rel_pos_bias.weight {relative.shape} has {heads}.")
    else:
        heads = _config_value(config_json, ["num_attention_heads"], "the number of heads")
    for key, value in (("vocab_size", vocab), ("hidden_size", hidden),
                       ("num_hidden_layers", layers), ("intermediate_size", intermediate)):
        if key in config_json and config_json[key] != value:
            raise ValueError(f"The config JSON says {key}={config_json[key]} but the tensors "
                             f"have {value}.")
    if config_json.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"Unsupported hidden_act {config_json['hidden_act']!r}; UniLMv2 and "
                         f"BERT use exact 'gelu'.")
    segments = tensors.get("embeddings.token_type_embeddings.weight")
    return UniLMv2Config(
        vocab_size=int(vocab), hidden_size=int(hidden), num_layers=layers,
        num_heads=int(heads), intermediate_size=int(intermediate),
        max_position_embeddings=int(tensors["embeddings.position_embeddings.weight"].shape[0]),
        type_vocab_size=0 if segments is None else int(segments.shape[0]),
        use_relative_position_bias=relative is not None,
        hidden_dropout=float(config_json.get("hidden_dropout_prob", 0.1)),
        attention_dropout=float(config_json.get("attention_probs_dropout_prob", 0.1)),
        layer_norm_epsilon=float(_config_value(config_json, ["layer_norm_eps",
                                                             "layer_norm_epsilon"],
                                               "the LayerNorm epsilon")),
        **options)


def convert_checkpoint(state, source, config_json):
    """A `ConvertedCheckpoint(backbone, pretrainer, report)` from a PyTorch state dict.

    Every tensor is mapped or listed as ignored, every Keras weight is set, shapes are checked;
    anything else is a `ValueError` naming the tensors. `pretrainer` is a `PMLMPretrainer`
    holding the checkpoint's LM head (`cls.predictions.*`), or None when it has none.

    >>> import numpy as np
    >>> from unilmv2_tf import UniLMv2Backbone
    >>> backbone = UniLMv2Backbone.from_size("tiny", vocab_size=50)
    >>> state = backbone_to_state_dict(backbone)
    >>> converted = convert_checkpoint(state, "unilm", {"max_rel_pos": 128,
    ...                                                  "layer_norm_eps": 1e-12})
    >>> converted.report["mapped"] == len(state)
    True
    """
    from unilmv2_tf.models import PMLMPretrainer

    tensors, ignored = canonicalize(state, source)
    config = infer_config(tensors, config_json)
    backbone = UniLMv2Backbone(config)
    has_head = any(name.startswith("cls.predictions.") for name in tensors)
    pretrainer = PMLMPretrainer(backbone) if has_head else None
    pairs = bert_weight_map(backbone, pretrainer.lm_head if has_head else None)
    missing = [name for name, _, _ in pairs if name not in tensors]
    if missing:
        raise ValueError(f"Missing tensors ({len(missing)}): {', '.join(missing[:8])}")
    unexpected = sorted(set(tensors) - {name for name, _, _ in pairs})
    if unexpected:
        raise ValueError(f"Unexpected tensors ({len(unexpected)}), neither mapped nor known to "
                         f"be ignorable: {', '.join(unexpected[:8])}")
    for name, variable, transpose in pairs:
        value = tensors[name].T if transpose else tensors[name]
        if tuple(value.shape) != tuple(variable.shape):
            shown = tensors[name].shape
            raise ValueError(f"Shape mismatch for {name}: checkpoint {tuple(shown)}, Keras "
                             f"{tuple(variable.shape)}{' (transposed)' if transpose else ''}.")
        variable.assign(value.astype(variable.dtype))
    report = {"source": source, "mapped": len(pairs), "ignored": ignored,
              "lm_head": has_head, "config": config.to_dict()}
    return ConvertedCheckpoint(backbone, pretrainer, report)


def backbone_to_state_dict(backbone, lm_head=None):
    """The reverse: a PyTorch-layout state dict (HF BERT names with `bert.`, the relative bias
    as `bert.rel_pos_bias.weight [heads, buckets]`, `cls.predictions.*` for the head)."""
    state = {}
    for name, variable, transpose in bert_weight_map(backbone, lm_head):
        value = np.asarray(variable.numpy(), np.float32)
        state[name if name.startswith("cls.") else f"bert.{name}"] = value.T if transpose \
            else value
    return state
