"""Running one gRPC method body with TF Serving's error behaviour."""

import logging

import grpc

from unilmv2_tf.export.serving_error import ServingError

LOG = logging.getLogger("unilmv2_tf.serving")


def answer(context, body, method):
    """`body()`'s response; a `ServingError` aborts the call with its status code, anything
    else with INTERNAL (logged), so no request can take the server down."""
    try:
        return body()
    except ServingError as e:
        code, message = getattr(grpc.StatusCode, e.code, grpc.StatusCode.UNKNOWN), e.message
    except Exception as e:
        LOG.exception("gRPC %s failed", method)
        code, message = grpc.StatusCode.INTERNAL, f"internal error: {type(e).__name__}: {e}"
    context.abort(code, message)


def requested_version(model_spec):
    """The version a `ModelSpec` asks for (None = the newest); labels are not supported."""
    if model_spec.HasField("version"):
        return model_spec.version.value
    if model_spec.version_label:
        raise ServingError("UNIMPLEMENTED", "version labels are not supported by this server; "
                           "name a version number.")
    return None
