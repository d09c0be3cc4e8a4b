"""`ModelStatusServicer`: TF Serving's gRPC `ModelService.GetModelStatus`."""

from tensorflow.core.protobuf import error_codes_pb2
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from unilmv2_tf.serving.grpc_call import answer, requested_version


class ModelStatusServicer(model_service_pb2_grpc.ModelServiceServicer):
    """`GetModelStatus` over a `ServableRegistry` (AVAILABLE versions, and END with the error
    for versions that failed to load); `HandleReloadConfigRequest` stays UNIMPLEMENTED."""

    def __init__(self, registry):
        self.registry = registry

    def GetModelStatus(self, request, context):  # noqa: N802 (gRPC method names)
        return answer(context, lambda: self._status(request), "GetModelStatus")

    def _status(self, request):
        spec = request.model_spec
        response = get_model_status_pb2.GetModelStatusResponse()
        states = get_model_status_pb2.ModelVersionStatus.State
        for version, state, message in self.registry.status(spec.name,
                                                            requested_version(spec)):
            entry = response.model_version_status.add()
            entry.version = version
            entry.state = states.Value(state)
            entry.status.error_code = error_codes_pb2.UNKNOWN if message else error_codes_pb2.OK
            entry.status.error_message = message
        return response
