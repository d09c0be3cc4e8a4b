"""`Servable`: one loaded version of a SavedModel, called with checked numpy inputs."""

import os
import re

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops the exported graphs use)
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2

from unilmv2_tf.export.serving_error import ServingError


def readable_tf_error(error):
    """The useful part of a TF runtime error message (the failed assertion, without the graph
    node dump)."""
    message = getattr(error, "message", str(error))
    found = re.search(r"assertion failed: (.*)", message)
    if found:
        parts = re.findall(r"\[([^\[\]]*)\]", found.group(1))
        return " ".join(p for p in parts if p) or found.group(1)
    return message.strip().splitlines()[0]


class Servable:
    """A SavedModel version loaded for serving: its signatures, their input specs and
    defaults (SignatureDef `defaults`, which TF Serving also honours), and `predict`.

    Example (with an export written by `unilmv2 export`):
    >>> servable = Servable("encoder", 1, "saved_models/encoder/1")  # doctest: +SKIP
    >>> servable.predict("encode", {"text": np.array([b"Hello."], object)})  # doctest: +SKIP
    """

    def __init__(self, name, version, path):
        self.name, self.version, self.path = name, int(version), path
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            saved_model = saved_model_pb2.SavedModel.FromString(f.read())
        meta_graphs = [m for m in saved_model.meta_graphs if "serve" in m.meta_info_def.tags]
        if not meta_graphs:
            raise ValueError(f"{path} has no MetaGraph tagged 'serve'.")
        self.signature_defs = {key: value for key, value in meta_graphs[0].signature_def.items()
                               if not key.startswith("__")}
        self._model = tf.saved_model.load(path, tags=["serve"])
        self._defaults = {key: {name: tf.make_ndarray(proto)
                                for name, proto in signature.defaults.items()}
                          for key, signature in self.signature_defs.items()}

    def input_specs(self, signature_name):
        """`{input name: TensorSpec}` of a signature (NOT_FOUND if there is no such one)."""
        if signature_name not in self.signature_defs:
            raise ServingError("NOT_FOUND", f"Serving signature name: {signature_name!r} not "
                               f"found in signature def; this model has "
                               f"{sorted(self.signature_defs)}.")
        return dict(self._model.signatures[signature_name].structured_input_signature[1])

    def defaults(self, signature_name):
        """`{input name: numpy value}` the signature uses for inputs a request leaves out."""
        self.input_specs(signature_name)
        return self._defaults[signature_name]

    def metadata_json(self):
        """The `signature_def` map in TF Serving's JSON form."""
        return {key: json_format.MessageToDict(value)
                for key, value in sorted(self.signature_defs.items())}

    def _checked_inputs(self, signature_name, inputs):
        specs = self.input_specs(signature_name)
        defaults = self._defaults[signature_name]
        unexpected = sorted(set(inputs) - set(specs))
        if unexpected:
            raise ServingError("INVALID_ARGUMENT", f"unexpected input(s) {unexpected}; "
                               f"signature {signature_name!r} takes {sorted(specs)}.")
        missing = sorted(set(specs) - set(inputs) - set(defaults))
        if missing:
            raise ServingError("INVALID_ARGUMENT", f"missing input(s) {missing} of signature "
                               f"{signature_name!r} (it takes {sorted(specs)}).")
        tensors = {}
        for name, spec in specs.items():
            value = np.asarray(inputs[name]) if name in inputs else defaults[name]
            tensors[name] = self._checked_tensor(name, value, spec)
        return tensors

    @staticmethod
    def _checked_tensor(name, value, spec):
        expected = spec.dtype
        kind = value.dtype.kind
        if expected == tf.string:
            if kind not in "OSU":
                raise ServingError("INVALID_ARGUMENT", f"input {name!r} must be DT_STRING, "
                                   f"got {value.dtype}.")
        elif expected.is_integer:
            if kind not in "iu":
                raise ServingError("INVALID_ARGUMENT", f"input {name!r} must be "
                                   f"{expected.name} (integers), got {value.dtype}.")
        elif expected.is_floating:
            if kind not in "iuf":
                raise ServingError("INVALID_ARGUMENT", f"input {name!r} must be "
                                   f"{expected.name}, got {value.dtype}.")
        if not spec.shape.is_compatible_with(value.shape):
            raise ServingError("INVALID_ARGUMENT", f"input {name!r} must have shape "
                               f"{spec.shape.as_list() if spec.shape.rank is not None else '?'}"
                               f" (None = any size), got {list(value.shape)}.")
        if expected == tf.string and kind == "U":
            value = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(value)
        return tf.constant(value, dtype=expected)

    def predict(self, signature_name, inputs, output_filter=()):
        """Runs a signature on `{name: numpy array}`; returns `{output name: numpy array}`.

        Bad inputs (names, dtypes, shapes, values the graph rejects) raise `ServingError`
        with code INVALID_ARGUMENT and a message naming the input."""
        tensors = self._checked_inputs(signature_name, inputs)
        function = self._model.signatures[signature_name]
        outputs_known = set(self.signature_defs[signature_name].outputs)
        unknown = sorted(set(output_filter) - outputs_known)
        if unknown:
            raise ServingError("INVALID_ARGUMENT", f"output_filter names unknown output(s) "
                               f"{unknown}; signature {signature_name!r} has "
                               f"{sorted(outputs_known)}.")
        try:
            outputs = function(**tensors)
        except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError) as e:
            raise ServingError("INVALID_ARGUMENT", readable_tf_error(e)) from None
        except tf.errors.ResourceExhaustedError as e:
            raise ServingError("RESOURCE_EXHAUSTED", readable_tf_error(e)) from None
        keep = set(output_filter) or outputs_known
        return {name: value.numpy() for name, value in outputs.items() if name in keep}
