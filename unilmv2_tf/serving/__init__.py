"""A local server for exported SavedModels that speaks TF Serving's gRPC and REST protocols."""

from unilmv2_tf.serving.model_server import ModelServer
from unilmv2_tf.serving.servable import Servable
from unilmv2_tf.serving.servable_registry import ServableRegistry

__all__ = ["ModelServer", "Servable", "ServableRegistry"]
