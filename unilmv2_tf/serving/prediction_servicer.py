"""`PredictionServicer`: TF Serving's gRPC `PredictionService` (Predict, GetModelMetadata)."""

import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, predict_pb2,
                                     prediction_service_pb2_grpc)

from unilmv2_tf.export.serving_error import ServingError
from unilmv2_tf.serving.grpc_call import answer, requested_version


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`Predict` and `GetModelMetadata` over a `ServableRegistry`, with the protos of
    tensorflow-serving-api; `Classify`, `Regress` and `MultiInference` stay UNIMPLEMENTED
    (the base class's answer), as for a SavedModel without such signatures."""

    def __init__(self, registry):
        self.registry = registry

    def Predict(self, request, context):  # noqa: N802 (gRPC method names)
        return answer(context, lambda: self._predict(request), "Predict")

    def GetModelMetadata(self, request, context):  # noqa: N802
        return answer(context, lambda: self._metadata(request), "GetModelMetadata")

    def _predict(self, request):
        spec = request.model_spec
        servable = self.registry.get(spec.name, requested_version(spec))
        signature = spec.signature_name or "serving_default"
        inputs = {}
        for name, proto in request.inputs.items():
            try:
                inputs[name] = tf.make_ndarray(proto)
            except Exception as e:
                raise ServingError("INVALID_ARGUMENT", f"input {name!r} is not a valid "
                                   f"TensorProto: {e}") from None
        outputs = servable.predict(signature, inputs, tuple(request.output_filter))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    def _metadata(self, request):
        fields = set(request.metadata_field)
        if fields != {"signature_def"}:
            raise ServingError("INVALID_ARGUMENT", f"metadata_field must be ['signature_def'], "
                               f"got {sorted(fields)}.")
        spec = request.model_spec
        servable = self.registry.get(spec.name, requested_version(spec))
        signatures = get_model_metadata_pb2.SignatureDefMap()
        for key, value in servable.signature_defs.items():
            signatures.signature_def[key].CopyFrom(value)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(signatures)
        return response
