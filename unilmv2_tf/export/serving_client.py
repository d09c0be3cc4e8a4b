"""`ServingClient`: predict, status and metadata calls to TF Serving (or `unilmv2 serve`)."""

import base64
import json
import urllib.error
import urllib.request

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from unilmv2_tf.export.serving_error import HTTP_STATUS, ServingError

# The inverse of HTTP_STATUS; where codes share a status, the first listed one wins.
CODE_OF_HTTP_STATUS = {status: code for code, status in reversed(HTTP_STATUS.items())}


def _json_value(array):
    """A numpy array as JSON: valid UTF-8 strings as text, other bytes as `{"b64": ...}`."""
    if array.dtype.kind in "OSU":
        def convert(value):
            value = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return {"b64": base64.b64encode(value).decode("ascii")}
        return np.vectorize(convert, otypes=[object])(array).tolist() if array.size else []
    return array.tolist()


class ServingClient:
    """A client for TF Serving's PredictionService and ModelService, over gRPC (the
    tensorflow-serving-api stubs) or REST; the same calls work against
    `tensorflow_model_server` and `unilmv2 serve`.

    Inputs are cast to the dtypes the signature declares (read once from the model's
    metadata), so plain Python lists and numbers work; outputs come back as numpy arrays
    (strings as bytes) under both protocols. Failures raise `ServingError` with the
    server's status code and message.

    Args:
        address: `host:port` (TF Serving's defaults: 8500 gRPC, 8501 REST).
        protocol: `"grpc"` or `"rest"`.
        timeout: seconds per call.

    Example (with `unilmv2 serve` running):
    >>> client = ServingClient("localhost:8500")                        # doctest: +SKIP
    >>> client.predict("summarizer", {"text": ["A long story."]})       # doctest: +SKIP
    {'generated_text': array([b'a story .'], dtype=object), ...}
    """

    def __init__(self, address, protocol="grpc", timeout=60.0, max_message_bytes=64 << 20):
        if protocol not in ("grpc", "rest"):
            raise ValueError(f"protocol must be 'grpc' or 'rest', got {protocol!r}.")
        self.address, self.protocol, self.timeout = address, protocol, timeout
        self._signatures = {}
        self._channel = None
        if protocol == "grpc":
            self._channel = grpc.insecure_channel(address, options=[
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.max_receive_message_length", max_message_bytes)])
            self._predictions = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
            self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def close(self):
        if self._channel is not None:
            self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport -------------------------------------------------------------------------
    def _grpc(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise ServingError(e.code().name, e.details()) from None

    def _rest(self, path, body=None):
        url = f"http://{self.address}/v1/models/{path}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", e.reason)
            except (ValueError, AttributeError):
                message = str(e.reason)
            raise ServingError(CODE_OF_HTTP_STATUS.get(e.code, "UNKNOWN"), message) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            raise ServingError("UNAVAILABLE", f"{url}: {getattr(e, 'reason', e)}") from None

    @staticmethod
    def _model_path(model_name, version):
        return model_name + (f"/versions/{int(version)}" if version is not None else "")

    @staticmethod
    def _spec(spec, model_name, version, signature_name=None):
        spec.name = model_name
        if version is not None:
            spec.version.value = int(version)
        if signature_name:
            spec.signature_name = signature_name

    # --- calls -----------------------------------------------------------------------------
    def signature_defs(self, model_name, version=None):
        """`{signature name: SignatureDef proto}` from the model's metadata."""
        if self.protocol == "grpc":
            request = get_model_metadata_pb2.GetModelMetadataRequest(
                metadata_field=["signature_def"])
            self._spec(request.model_spec, model_name, version)
            response = self._grpc(self._predictions.GetModelMetadata, request)
            signatures = get_model_metadata_pb2.SignatureDefMap()
            response.metadata["signature_def"].Unpack(signatures)
        else:
            body = self._rest(self._model_path(model_name, version) + "/metadata")
            signatures = json_format.ParseDict(body["metadata"]["signature_def"],
                                               get_model_metadata_pb2.SignatureDefMap(),
                                               ignore_unknown_fields=True)
        return dict(signatures.signature_def)

    def model_status(self, model_name, version=None):
        """`[{"version", "state", "error_message"}]` of the model's versions."""
        if self.protocol == "rest":
            body = self._rest(self._model_path(model_name, version))
            return [{"version": int(s["version"]), "state": s["state"],
                     "error_message": s.get("status", {}).get("error_message", "")}
                    for s in body["model_version_status"]]
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, model_name, version)
        response = self._grpc(self._models.GetModelStatus, request)
        states = get_model_status_pb2.ModelVersionStatus.State
        return [{"version": s.version, "state": states.Name(s.state),
                 "error_message": s.status.error_message} for s in response.model_version_status]

    def _signature(self, model_name, version, signature_name):
        key = (model_name, version, signature_name)
        if key not in self._signatures:
            signatures = self.signature_defs(model_name, version)
            if signature_name not in signatures:
                raise ServingError("NOT_FOUND", f"model {model_name!r} has no signature "
                                   f"{signature_name!r} (it has {sorted(signatures)}).")
            self._signatures[key] = signatures[signature_name]
        return self._signatures[key]

    def predict(self, model_name, inputs, signature_name="serving_default", version=None):
        """Runs a signature: `inputs` maps input names to arrays / lists / scalars (inputs
        with defaults may be left out); returns `{output name: numpy array}`."""
        signature = self._signature(model_name, version, signature_name)
        arrays = {}
        for name, value in inputs.items():
            info = signature.inputs.get(name)
            dtype = tf.dtypes.as_dtype(info.dtype) if info is not None else None
            if dtype is not None and dtype != tf.string:
                value = np.asarray(value)
                if value.dtype.kind in "iu" and dtype.is_integer and value.size and (
                        value.min() < dtype.min or value.max() > dtype.max):
                    raise ValueError(f"input {name!r} does not fit {dtype.name}.")
                if value.dtype.kind in "iuf" and (dtype.is_floating or value.dtype.kind != "f"):
                    value = value.astype(dtype.as_numpy_dtype)  # the declared width
            value = np.asarray(value)
            if value.dtype.kind in "SU":  # tensor protos take strings as an object array
                value = value.astype(object)
            arrays[name] = value
        if self.protocol == "grpc":
            request = predict_pb2.PredictRequest()
            self._spec(request.model_spec, model_name, version, signature_name)
            for name, value in arrays.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            response = self._grpc(self._predictions.Predict, request)
            return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
        body = self._rest(self._model_path(model_name, version) + ":predict", {
            "signature_name": signature_name,
            "inputs": {name: _json_value(value) for name, value in arrays.items()}})
        outputs = body["outputs"]
        if not isinstance(outputs, dict) or len(signature.outputs) == 1:
            outputs = {next(iter(signature.outputs)): outputs}
        result = {}
        for name, value in outputs.items():
            dtype = tf.dtypes.as_dtype(signature.outputs[name].dtype)
            if dtype == tf.string:
                decode = np.vectorize(
                    lambda v: base64.b64decode(v["b64"]) if isinstance(v, dict)
                    else v.encode("utf-8"), otypes=[object])
                array = np.asarray(value, dtype=object)
                result[name] = decode(array) if array.size else array
            else:
                result[name] = np.asarray(value, dtype=dtype.as_numpy_dtype)
        return result
