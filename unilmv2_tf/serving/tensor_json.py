"""TF Serving's REST JSON conventions for tensors: row (`instances`/`predictions`) and
columnar (`inputs`/`outputs`) formats, and `{"b64": ...}` for binary strings.

Written here because TF Serving implements them in C++ (`json_tensor.cc`) and no Python
package exposes them; the rules follow its REST API documentation.
"""

import base64
import binascii

import numpy as np

from unilmv2_tf.export.serving_error import ServingError


def _bad(message):
    return ServingError("INVALID_ARGUMENT", message)


def _is_b64(value):
    return isinstance(value, dict) and set(value) == {"b64"}


def _decoded(value, name):
    """Nested lists with `{"b64": ...}` leaves decoded to bytes and str leaves to UTF-8."""
    if isinstance(value, list):
        return [_decoded(v, name) for v in value]
    if _is_b64(value):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, TypeError):
            raise _bad(f"input {name!r}: 'b64' value is not valid base64.") from None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict):
        raise _bad(f"input {name!r}: objects are only allowed as {{\"b64\": ...}} values.")
    return value


def _leaves(value):
    if isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def json_to_array(value, name):
    """A JSON value (scalar or nested lists) as a numpy array; strings become bytes."""
    value = _decoded(value, name)
    leaves = list(_leaves(value))
    if any(v is None for v in leaves):
        raise _bad(f"input {name!r} contains null.")
    strings = [isinstance(v, bytes) for v in leaves]
    if any(strings) and not all(strings):
        raise _bad(f"input {name!r} mixes strings and numbers.")
    try:
        array = np.array(value, dtype=object if all(strings) and leaves else None)
    except ValueError:
        raise _bad(f"input {name!r} is not a rectangular array (rows of different "
                   f"lengths).") from None
    if array.dtype == object and any(isinstance(v, list) for v in array.reshape(-1)):
        raise _bad(f"input {name!r} is not a rectangular array (rows of different lengths).")
    return array


def single_input_name(specs, defaults):
    """The input a bare value feeds: the signature's only input, or its only input without
    a default (e.g. `text` of `generate`); None when the request must name inputs."""
    if len(specs) == 1:
        return next(iter(specs))
    required = [name for name in specs if name not in defaults]
    return required[0] if len(required) == 1 else None


def request_to_inputs(body, specs, defaults):
    """`(inputs, row_format)` from a parsed predict request body, where `inputs` maps input
    names to numpy arrays."""
    formats = [key for key in ("instances", "inputs") if key in body]
    if len(formats) != 1:
        raise _bad("the JSON request must have exactly one of 'instances' (row format) or "
                   "'inputs' (columnar format).")
    single = single_input_name(specs, defaults)
    if formats[0] == "inputs":
        columns = body["inputs"]
        if not (isinstance(columns, dict) and not _is_b64(columns)):
            if single is None:
                raise _bad(f"'inputs' must be an object naming the inputs {sorted(specs)}.")
            columns = {single: columns}
        return {name: json_to_array(value, name) for name, value in columns.items()}, False
    rows = body["instances"]
    if not isinstance(rows, list) or not rows:
        raise _bad("'instances' must be a non-empty list.")
    named = [isinstance(row, dict) and not _is_b64(row) for row in rows]
    if not any(named):
        if single is None:
            raise _bad(f"instances must be objects naming the inputs {sorted(specs)}.")
        return {single: json_to_array(rows, single)}, True
    if not all(named) or len({tuple(sorted(row)) for row in rows}) != 1:
        raise _bad("every instance must be an object with the same input names.")
    return {name: json_to_array([row[name] for row in rows], name) for name in rows[0]}, True


def _to_json(array, name):
    if array.dtype == object or array.dtype.kind == "S":
        if name.endswith("_bytes"):
            encode = np.vectorize(lambda b: {"b64": base64.b64encode(b).decode("ascii")},
                                  otypes=[object])
        else:
            encode = np.vectorize(lambda b: b.decode("utf-8", errors="replace"),
                                  otypes=[object])
        return encode(array).tolist() if array.size else array.tolist()
    return array.tolist()


def outputs_to_json(outputs, row_format):
    """The response body for `{name: numpy array}` outputs."""
    if not row_format:
        if len(outputs) == 1:
            (name, value), = outputs.items()
            return {"outputs": _to_json(value, name)}
        return {"outputs": {name: _to_json(value, name) for name, value in outputs.items()}}
    sizes = {value.shape[0] if value.ndim else None for value in outputs.values()}
    if len(sizes) != 1 or None in sizes:
        raise _bad("the outputs do not share a batch size; use the columnar 'inputs' format.")
    columns = {name: _to_json(value, name) for name, value in outputs.items()}
    if len(columns) == 1:
        return {"predictions": next(iter(columns.values()))}
    size = sizes.pop()
    return {"predictions": [{name: column[i] for name, column in columns.items()}
                            for i in range(size)]}
